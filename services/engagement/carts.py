"""Abandoned-cart reminders (marketing): at most N per cart, none after an order.

The order service owns carts. The scheduler asks a `CartSource` for carts idle
since a moment, with contact details, that have not become an order:
`OrderCartSource` calls the order service's
`cleanse.order.v1.CartInternalService.ListAbandonedCarts` (paged, oldest first) and
is wired in by default (CLEANSE_ENGAGEMENT_CART_SOURCE=order); "none" wires
`NoCartSource`, which finds none. When order does not answer, a scan finds nothing
(named degradation "order.abandoned_carts") and the next scan catches up.

Per cart, `cart_reminders` counts what was sent. A cart gets a reminder when it is
idle longer than `cart_idle_minutes`, fewer than `cart_max_reminders` were sent,
the last one is at least `cart_reminder_gap_minutes` old, and its customer (user
or e-mail) placed no order since the cart's last activity (order.placed events
close the customer's reminders). Reminders are marketing: a customer who opted out
of a channel gets nothing on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from google.protobuf import timestamp_pb2
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from cleanse.order.v1 import cart_internal_service_pb2 as carts_pb2
from cleanse.order.v1 import cart_internal_service_pb2_grpc as carts_grpc
from mesh import client
from mesh.db import utcnow
from services.engagement import catalogue as cat
from services.engagement.models import CartReminder, PlacedOrder
from services.engagement.notifier import Notifier, Recipient, Trigger

log = logging.getLogger("cleanse.engagement.carts")


@dataclass(frozen=True)
class AbandonedCart:
    cart: str  # "carts/{id}"
    update_time: datetime  # last activity
    user: str = ""  # "users/{id}", or "" for a guest
    email: str = ""
    phone: str = ""
    customer_name: str = ""
    item_count: int = 0
    subtotal_paise: int = 0


class CartSource(Protocol):
    async def list_abandoned(self, idle_since: datetime, limit: int) -> Sequence[AbandonedCart]:
        """Carts with items and contact details, last changed before `idle_since`,
        not converted into an order; oldest first, at most `limit`."""
        ...


class NoCartSource:
    async def list_abandoned(self, idle_since: datetime, limit: int) -> Sequence[AbandonedCart]:
        return ()


class OrderCartSource:
    """Abandoned carts from the order service (CartInternalService.ListAbandonedCarts).

    Follows `next_page_token` until `limit` carts are read or the list ends;
    `page_size` per call (order allows at most 500). The order service down
    (UNAVAILABLE, DEADLINE_EXCEEDED, circuit open): no carts this scan.
    """

    POLICY = "order.abandoned_carts"
    MAX_PAGE = 500

    def __init__(self, *, page_size: int = 100, timeout: float | None = None) -> None:
        self.page_size = max(1, min(page_size, self.MAX_PAGE))
        self.timeout = timeout

    async def list_abandoned(self, idle_since: datetime, limit: int) -> Sequence[AbandonedCart]:
        return await client.call_with_fallback(
            lambda: self._read(idle_since, limit), lambda _exc: (), policy=self.POLICY
        )

    async def _read(self, idle_since: datetime, limit: int) -> list[AbandonedCart]:
        stub = client.stub("order", carts_grpc.CartInternalServiceStub)
        since = timestamp_pb2.Timestamp()
        since.FromDatetime(idle_since)
        out: list[AbandonedCart] = []
        token = ""
        while len(out) < limit:
            req = carts_pb2.ListAbandonedCartsRequest(
                idle_since=since, page_size=min(self.page_size, limit - len(out)), page_token=token
            )
            resp = await stub.ListAbandonedCarts(req, timeout=self.timeout)
            out.extend(abandoned_cart(c) for c in resp.carts)
            token = resp.next_page_token
            if not token:
                break
        return out[:limit]


def abandoned_cart(c: carts_pb2.AbandonedCart) -> AbandonedCart:
    return AbandonedCart(
        cart=c.cart,
        update_time=c.update_time.ToDatetime(tzinfo=UTC),
        user=c.user,
        email=c.email,
        phone=c.phone,
        customer_name=c.customer_name,
        item_count=c.item_count,
        subtotal_paise=c.subtotal.amount_minor,
    )


def cart_source(name: str) -> CartSource:
    """CLEANSE_ENGAGEMENT_CART_SOURCE: "order" (the order service) or "none"."""
    return OrderCartSource() if name == "order" else NoCartSource()


class CartReminders:
    def __init__(
        self, notifier: Notifier, source: CartSource, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.notifier = notifier
        self.source = source
        self.clock = clock
        self.settings = notifier.settings
        self._task: asyncio.Task[None] | None = None

    async def scan_once(self, limit: int = 200) -> int:
        """Queue the reminders due now; how many carts got one."""
        s = self.settings
        if s.cart_max_reminders == 0:
            return 0
        now = self.clock()
        carts = await self.source.list_abandoned(
            now - timedelta(minutes=s.cart_idle_minutes), limit
        )
        sent = 0
        for c in carts:
            if await self._remind(c, now):
                sent += 1
        return sent

    async def _remind(self, c: AbandonedCart, now: datetime) -> bool:
        s = self.settings
        email = c.email.lower()
        if not (email or c.phone or c.user):
            return False
        async with self.notifier.db.transaction() as session:
            # The cart's row exists before it is locked: two replicas scanning at once
            # wait on one row lock (the second then sees the first's reminder) instead
            # of both inserting it and one failing its whole scan.
            ins = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
            await session.execute(
                ins(CartReminder)
                .values(cart=c.cart, user=c.user, email=email, reminders_sent=0)
                .on_conflict_do_nothing(index_elements=["cart"])
            )
            row = await session.get(CartReminder, c.cart, with_for_update=True)
            assert row is not None
            if row.closed_at is not None or row.reminders_sent >= s.cart_max_reminders:
                return False
            gap = timedelta(minutes=s.cart_reminder_gap_minutes)
            if row.last_sent_at is not None and now - row.last_sent_at < gap:
                return False
            keys = [k for k in (c.user, email) if k]
            last_order = await session.scalar(
                select(PlacedOrder.last_order_at)
                .where(PlacedOrder.customer_key.in_(keys))
                .order_by(PlacedOrder.last_order_at.desc())
                .limit(1)
            )
            if last_order is not None and last_order >= c.update_time:
                row.closed_at = last_order  # ordered since: this cart is done
                return False
            number = row.reminders_sent + 1
            data = {
                "customer_name": c.customer_name,
                "cart": c.cart,
                "cart_url": f"{s.storefront_url}/cart",
                "item_count": c.item_count,
                "subtotal_paise": c.subtotal_paise,
                "reminder_number": number,
            }
            await self.notifier.enqueue(
                session,
                Trigger(
                    f"cart-reminder:{c.cart}:{number}",
                    cat.CART_ABANDONED,
                    data,
                    [Recipient(email=email, phone=c.phone, user=c.user)],
                ),
            )
            row.reminders_sent = number
            row.last_sent_at = now
            row.user = c.user or row.user
            row.email = email or row.email
        return True

    # --- background -----------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="engagement-cart-reminders")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.scan_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("abandoned-cart scan failed", exc_info=True)
            await asyncio.sleep(self.settings.cart_scan_seconds)
