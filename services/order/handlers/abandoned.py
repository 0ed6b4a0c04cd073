"""Abandoned carts for engagement's reminders (CartInternalService.ListAbandonedCarts).

A cart is abandoned when it is ACTIVE, has items, its last activity is before
`idle_since`, and no checkout session of it placed an order at or after that last
activity (the cart is kept after an order; a change after the order makes it a
new shopping trip). Oldest first, keyset-paged on (last activity, id).

Contact: the cart's latest checkout session (guests give email and phone there;
the delivery address names the recipient); customer carts fill what is missing
from auth's BatchGetUsers (auth down: what the sessions gave). Carts with neither
an email nor a phone are skipped. Subtotal: the catalog's unit prices (catalog
down: zero).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select

from cleanse.order.v1 import cart_internal_service_pb2 as internal_pb2
from mesh.db import Database, decode_page_token, encode_page_token, utcnow
from mesh.errors import InvalidArgument, ServiceError
from services.order import convert
from services.order.handlers.common import Clock
from services.order.models import Cart, CartItem, CheckoutSession
from services.order.peers import Peers

log = logging.getLogger("cleanse.order.abandoned")
DEFAULT_PAGE = 100
MAX_PAGE = 500


class AbandonedCarts:
    def __init__(self, db: Database, peers: Peers, clock: Clock = utcnow) -> None:
        self.db = db
        self.peers = peers
        self.clock = clock

    async def list(
        self, req: internal_pb2.ListAbandonedCartsRequest
    ) -> internal_pb2.ListAbandonedCartsResponse:
        if req.page_size < 0:
            raise InvalidArgument({"page_size": "must not be negative"})
        size = min(req.page_size or DEFAULT_PAGE, MAX_PAGE)
        now = self.clock()
        idle = req.idle_since.ToDatetime(tzinfo=now.tzinfo) if req.HasField("idle_since") else now
        digest = {"idle": idle.isoformat()}
        after = decode_page_token(req.page_token, digest)
        converted = exists().where(
            and_(
                CheckoutSession.cart_id == Cart.id,
                CheckoutSession.order_id.is_not(None),
                CheckoutSession.update_time >= Cart.last_activity_time,
            )
        )
        has_items = exists().where(CartItem.cart_id == Cart.id)
        q = (
            select(Cart)
            .where(Cart.state == "ACTIVE", Cart.last_activity_time < idle, has_items, ~converted)
            .order_by(Cart.last_activity_time, Cart.id)
            .limit(size + 1)
        )
        if after is not None:
            t = datetime.fromisoformat(after[0])
            q = q.where(
                (Cart.last_activity_time > t)
                | and_(Cart.last_activity_time == t, Cart.id > after[1])
            )
        async with self.db.session() as s:
            carts = list(await s.scalars(q))
            more = len(carts) > size
            carts = carts[:size]
            ids = [c.id for c in carts]
            items = list(await s.scalars(select(CartItem).where(CartItem.cart_id.in_(ids))))
            latest = (
                select(CheckoutSession.cart_id, func.max(CheckoutSession.create_time).label("t"))
                .where(CheckoutSession.cart_id.in_(ids))
                .group_by(CheckoutSession.cart_id)
                .subquery()
            )
            sessions = list(
                await s.scalars(
                    select(CheckoutSession).join(
                        latest,
                        and_(
                            CheckoutSession.cart_id == latest.c.cart_id,
                            CheckoutSession.create_time == latest.c.t,
                        ),
                    )
                )
            )
        by_cart: dict[str, list[CartItem]] = {}
        for i in items:
            by_cart.setdefault(i.cart_id, []).append(i)
        contact = {
            x.cart_id: (x.email, x.phone, x.address.get("recipient_name", "")) for x in sessions
        }
        users = await self._users([c.customer_id for c in carts if c.customer_id])
        prices = await self._prices({i.variant_id for i in items})
        out = internal_pb2.ListAbandonedCartsResponse()
        for c in carts:
            email, phone, name = contact.get(c.id, ("", "", ""))
            user = users.get(c.customer_id or "")
            if user is not None:
                email = email or user.email
                phone = phone or user.phone
                name = name or user.full_name
            if not email and not phone:
                continue
            lines = by_cart.get(c.id, [])
            out.carts.add(
                cart=f"carts/{c.id}",
                update_time=convert.ts(c.last_activity_time),
                user=f"users/{c.customer_id}" if c.customer_id else "",
                email=email,
                phone=phone,
                customer_name=name,
                item_count=sum(i.quantity for i in lines),
                subtotal=convert.money(
                    sum(prices.get(i.variant_id, 0) * i.quantity for i in lines)
                ),
            )
        if more and carts:
            last = carts[-1]
            out.next_page_token = encode_page_token(
                [last.last_activity_time.isoformat(), last.id], digest
            )
        return out

    async def _users(self, ids: list[str]) -> dict[str, Any]:
        if not ids:
            return {}
        try:
            found = await self.peers.users([f"users/{i}" for i in ids])
        except ServiceError:
            log.warning("auth unavailable: abandoned carts without account contacts")
            return {}
        return {u.name.rsplit("/", 1)[-1]: u for u in found}

    async def _prices(self, variant_ids: set[str]) -> dict[str, int]:
        if not variant_ids:
            return {}
        try:
            found, _ = await self.peers.variants(variant_ids)
        except ServiceError:
            return {}
        return {v: snap.price.amount_minor for v, snap in found.items()}
