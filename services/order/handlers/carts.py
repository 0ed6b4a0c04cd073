"""Carts: guest carts reached with their token, customer carts by identity.

Every read re-prices the cart through the pricing service (a client never sends a
price) and asks inventory for stock. Reads degrade rather than fail: pricing down
-> lines without prices ("pricing.cart_unpriced"), inventory down -> stock
unknown ("inventory.stock_unknown"); `Cart.degraded` says so. Writes check the
variant with the catalog first (catalog down: UNAVAILABLE).

Concurrency: a write locks the cart row (PostgreSQL FOR UPDATE; SQLite writers
serialize), so two adds of one variant never lose an update; the unique
(cart_id, variant_id) pair backs it up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.inventory.v1 import availability_service_pb2 as avail_pb2
from cleanse.order.v1 import resources_pb2 as pb
from mesh.db import Database, Unit, utcnow
from mesh.errors import InvalidArgument, Unauthenticated, Unavailable
from observability.metrics import DEGRADED_CALLS
from services.order import convert
from services.order import repository as repo
from services.order.domain import cart as rules
from services.order.handlers.common import Clock, customer_id, id_of, not_found, owns
from services.order.models import Cart, CartItem
from services.order.peers import Peers, pricing_cart

log = logging.getLogger("cleanse.order.carts")
MINE = "carts/mine"
ACTIVITY_GRANULARITY = timedelta(seconds=60)
SELLABLE = (
    avail_pb2.STOCK_STATUS_IN_STOCK,
    avail_pb2.STOCK_STATUS_LOW_STOCK,
    avail_pb2.STOCK_STATUS_BACKORDER,
)


_ITEMS = CartItem.__table__
_DELETE_ITEM = delete(_ITEMS).where(_ITEMS.c.id == bindparam("item_id"))
_SET_QUANTITY = (
    update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id")).values(quantity=bindparam("qty"))
)


class CartHandlers:
    def __init__(self, db: Database, peers: Peers, clock: Clock = utcnow) -> None:
        self.db = db
        self.peers = peers
        self.clock = clock

    # --- access ------------------------------------------------------------------------

    async def resolve(
        self, s: AsyncSession, name: str, token: str, *, lock: bool = False, create: bool = False
    ) -> Cart:
        """The cart `name` names, if the caller may use it (else NOT_FOUND)."""
        if name == MINE:
            cid = customer_id()
            if cid is None:
                raise Unauthenticated("carts/mine needs a customer's access token")
            cart = await s.scalar(
                select(Cart).where(Cart.customer_id == cid).with_for_update()
                if lock
                else select(Cart).where(Cart.customer_id == cid)
            )
            if cart is None:
                if not create:
                    raise not_found(name)
                cart = self._new(cid)
                s.add(cart)
                await s.flush()
            return cart
        cart_id = id_of(name, "carts")
        cart = await repo.locked(s, Cart, cart_id, lock=lock)
        if (
            not isinstance(cart, Cart)
            or cart.state != "ACTIVE"
            or not owns(cart.customer_id, cart.token_hash, token)
        ):
            raise not_found(name)
        return cart

    async def read(self, s: Unit, name: str, token: str) -> tuple[Cart, list[CartItem]]:
        """The cart `name` names, as `resolve` finds it (no lock, never created), with
        its items (as `repo.cart_items` orders them), in one query."""
        if name == MINE:
            cid = customer_id()
            if cid is None:
                raise Unauthenticated("carts/mine needs a customer's access token")
            cart, items = await repo.cart_with_items(self.db, s, "customer_id", cid)
            if cart is None:
                raise not_found(name)
            return cart, items
        cart, items = await repo.cart_with_items(self.db, s, "id", id_of(name, "carts"))
        if (
            cart is None
            or cart.state != "ACTIVE"
            or not owns(cart.customer_id, cart.token_hash, token)
        ):
            raise not_found(name)
        return cart, items

    def _new(self, cid: str | None, token: str = "") -> Cart:
        now = self.clock()
        return repo.make(
            Cart,
            customer_id=cid,
            token_hash=rules.token_hash(token) if token else None,
            state="ACTIVE",
            create_time=now,
            update_time=now,
            last_activity_time=now,
        )

    # --- RPCs ------------------------------------------------------------------------------

    async def create(self) -> pb.Cart:
        cid = customer_id()
        if cid is None:
            token = rules.new_cart_token()
            cart = self._new(None, token)
            await repo.write_at_once(self.db, repo.Writes().insert([cart]))
            view = await self.view(cart, [])
            view.cart_token = token
            return view
        try:
            async with self.db.transaction() as s:
                cart = await self.resolve(s, MINE, "", lock=True, create=True)
        except IntegrityError:  # a concurrent first use created it
            async with self.db.session() as s:
                cart = await self.resolve(s, MINE, "")
        return await self.get(MINE, "")

    async def get(self, name: str, token: str) -> pb.Cart:
        async with self.db.reads() as s:
            cart, items = await self.read(s, name, token)
        now = self.clock()
        if now - cart.last_activity_time > ACTIVITY_GRANULARITY:
            async with self.db.transaction() as s:
                row = await s.get(Cart, cart.id)
                if row is not None:
                    row.last_activity_time = now
            cart.last_activity_time = now
        return await self.view(cart, items)

    async def add_line(self, name: str, token: str, variant_id: str, quantity: int) -> pb.Cart:
        rules.check_line(variant_id, quantity)
        await self._check_variant(variant_id)
        return await self._mutate(name, token, lambda lines: rules.add(lines, variant_id, quantity))

    async def update_line(self, name: str, token: str, variant_id: str, quantity: int) -> pb.Cart:
        rules.check_line(variant_id, quantity, allow_zero=True)
        if quantity:
            await self._check_variant(variant_id)
        return await self._mutate(
            name, token, lambda lines: rules.set_quantity(lines, variant_id, quantity)
        )

    async def remove_line(self, name: str, token: str, variant_id: str) -> pb.Cart:
        rules.check_line(variant_id, 0, allow_zero=True)
        return await self._mutate(
            name, token, lambda lines: rules.set_quantity(lines, variant_id, 0)
        )

    async def merge(self, guest_name: str, token: str) -> pb.Cart:
        cid = customer_id()
        if cid is None:
            raise Unauthenticated("sign in to merge a guest cart")
        guest_id = id_of(guest_name, "carts", "guest_cart")
        notes: list[str] = []
        async with self.db.transaction() as s:
            mine = await self.resolve(s, MINE, "", lock=True, create=True)
            guest = await repo.locked(s, Cart, guest_id)
            if (
                not isinstance(guest, Cart)
                or guest.customer_id is not None
                or not owns(None, guest.token_hash, token)
            ):
                raise not_found(guest_name)
            if guest.state == "MERGED":
                if guest.merged_into != mine.id:
                    raise not_found(guest_name)
            else:
                guest_items = await repo.cart_items(self.db, s, guest.id)
                mine_items = await repo.cart_items(self.db, s, mine.id)
                merged, notes = rules.merge(
                    {i.variant_id: i.quantity for i in mine_items},
                    {i.variant_id: i.quantity for i in guest_items},
                )
                await self._write_lines(s, mine, mine_items, merged)
                await s.execute(delete(CartItem).where(CartItem.cart_id == guest.id))
                guest.state = "MERGED"
                guest.merged_into = mine.id
                guest.update_time = self.clock()
        view = await self.get(MINE, "")
        view.messages.extend(notes)
        return view

    # --- helpers ---------------------------------------------------------------------------

    async def _check_variant(self, variant_id: str) -> None:
        if not await self.peers.sellable(variant_id):
            raise InvalidArgument(
                {"variant_id": "is not a product we sell"}, reason="UNKNOWN_VARIANT"
            )

    async def _mutate(
        self, name: str, token: str, change: Callable[[dict[str, int]], dict[str, int]]
    ) -> pb.Cart:
        now = self.clock()
        async with self.db.unit() as s:
            cart = await self._touch(s, name, token, now)
            items = await repo.cart_items(self.db, s, cart.id)  # read under the cart's lock
            lines = change({i.variant_id: i.quantity for i in items})
            items = await self._write_lines(s, cart, items, lines, now)
        return await self.view(cart, items)

    async def _touch(self, s: Unit, name: str, token: str, now: datetime) -> Cart:
        """The cart `name` names (as `resolve` with lock and create), locked and its
        times set to `now` by one UPDATE ... RETURNING; NOT_FOUND unless the caller
        may use it (the transaction then rolls the UPDATE back)."""
        if name == MINE:
            cid = customer_id()
            if cid is None:
                raise Unauthenticated("carts/mine needs a customer's access token")
            cart = await repo.touch_cart(self.db, s, "customer_id", cid, now)
            if cart is None:
                cart = self._new(cid)
                cart.update_time = cart.last_activity_time = now
                await repo.write_together(s, self.db, repo.Writes().insert([cart]))
            return cart
        cart = await repo.touch_cart(self.db, s, "id", id_of(name, "carts"), now)
        if (
            cart is None
            or cart.state != "ACTIVE"
            or not owns(cart.customer_id, cart.token_hash, token)
        ):
            raise not_found(name)
        return cart

    async def _write_lines(
        self,
        s: Unit,
        cart: Cart,
        items: list[CartItem],
        lines: dict[str, int],
        now: datetime | None = None,
    ) -> list[CartItem]:
        """Make the cart's rows say `lines` (Core statements: `items` are transient,
        as `repo.cart_items` reads them); returns the rows as written (in the order
        `repo.cart_items` reads them: by time added). Sets the cart's times on `cart`
        (written by the caller: `_touch`, or the flush of a cart loaded in `s`)."""
        now = now or self.clock()
        by_variant = {i.variant_id: i for i in items}
        kept: list[CartItem] = []
        gone: list[str] = []
        changed: list[dict[str, object]] = []
        for vid, item in by_variant.items():
            if vid not in lines:
                gone.append(item.id)
                continue
            if item.quantity != lines[vid]:
                item.quantity = lines[vid]
                changed.append({"item_id": item.id, "qty": item.quantity})
            kept.append(item)
        added = [
            CartItem(cart_id=cart.id, variant_id=vid, quantity=qty, add_time=now)
            for vid, qty in lines.items()
            if vid not in by_variant
        ]
        for item_id in gone:  # a line removed: rare, one statement each
            await self.db.run_in(s, _DELETE_ITEM, {"item_id": item_id})
        for change in changed:  # a quantity changed: as rare
            await self.db.run_in(s, _SET_QUANTITY, change)
        if added:
            await repo.write_together(s, self.db, repo.Writes().insert(added))
        kept.extend(added)
        cart.update_time = now
        cart.last_activity_time = now
        return kept

    async def view(self, cart: Cart, items: list[CartItem]) -> pb.Cart:
        """The cart as the storefront shows it: priced now, stock checked now."""
        out = pb.Cart(
            name=f"carts/{cart.id}",
            customer=f"users/{cart.customer_id}" if cart.customer_id else "",
            item_count=sum(i.quantity for i in items),
            all_in_stock=True,
            create_time=convert.ts(cart.create_time),
            update_time=convert.ts(cart.update_time),
            last_activity_time=convert.ts(cart.last_activity_time),
        )
        if not items:
            return out
        lines = {i.variant_id: i.quantity for i in items}
        customer = f"users/{cart.customer_id}" if cart.customer_id else ""
        priced: dict[str, object] = {}
        stock: dict[str, avail_pb2.VariantAvailability] = {}
        # Priced and stock-checked at once: two independent calls.
        breakdown, found = await asyncio.gather(
            self.peers.price(pricing_cart(lines), customer),
            self.peers.availability(lines),
            return_exceptions=True,
        )
        if isinstance(breakdown, Unavailable):
            DEGRADED_CALLS.labels("pricing.cart_unpriced").inc()
            out.degraded = True
            out.messages.append("prices are being updated; they are shown at checkout")
        elif isinstance(breakdown, BaseException):
            raise breakdown
        else:
            out.price.CopyFrom(breakdown)
            priced = {pl.variant_id: pl for pl in breakdown.lines if not pl.free_gift}
            out.messages.extend(breakdown.messages)
        if isinstance(found, Unavailable):
            DEGRADED_CALLS.labels("inventory.stock_unknown").inc()
            out.degraded = True
        elif isinstance(found, BaseException):
            raise found
        else:
            stock = found
        for item in items:
            line = out.lines.add(
                variant_id=item.variant_id,
                quantity=item.quantity,
                add_time=convert.ts(item.add_time),
            )
            pl = priced.get(item.variant_id)
            if pl is not None:
                line.price.CopyFrom(pl)
            a = stock.get(item.variant_id)
            if a is not None:
                line.stock_status = a.status
                line.available = a.available
                enough = a.available >= item.quantity or (
                    a.status == avail_pb2.STOCK_STATUS_BACKORDER
                    and a.available + a.backorder_remaining >= item.quantity
                )
                if a.status not in SELLABLE or not enough:
                    out.all_in_stock = False
        return out
