"""Abandoned-cart reminders fed by the order service (issue 6).

The scheduler's OrderCartSource calls a fake cleanse.order.v1.CartInternalService
(its own real gRPC server) through mesh.client; reminders go out over the test
SMTP server like the rest of engagement's mail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cleanse.common.v1 import money_pb2
from cleanse.order.v1 import cart_internal_service_pb2 as cpb
from cleanse.order.v1 import cart_internal_service_pb2_grpc as cgrpc
from mesh import client
from mesh.db import Database, new_id, utcnow
from services.engagement.app import build
from services.engagement.carts import NoCartSource, OrderCartSource
from services.engagement.config import Settings
from tests.engagement.conftest import Engagement, unique


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


@dataclass
class FakeOrderCarts(cgrpc.CartInternalServiceServicer):
    """ListAbandonedCarts over a list of carts: idle filter, oldest first, paged."""

    carts: list[cpb.AbandonedCart] = field(default_factory=list)
    requests: list[cpb.ListAbandonedCartsRequest] = field(default_factory=list)

    async def ListAbandonedCarts(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        since = request.idle_since.ToDatetime(tzinfo=UTC)
        due = sorted(
            (c for c in self.carts if c.update_time.ToDatetime(tzinfo=UTC) < since),
            key=lambda c: c.update_time.ToDatetime(tzinfo=UTC),
        )
        start = int(request.page_token or 0)
        size = request.page_size or 100
        page = due[start : start + size]
        more = start + size < len(due)
        return cpb.ListAbandonedCartsResponse(
            carts=page, next_page_token=str(start + size) if more else ""
        )


@dataclass
class Order:
    fake: FakeOrderCarts
    server: grpc.aio.Server


@pytest.fixture
async def order(e: Engagement) -> AsyncIterator[Order]:
    """A fake order service; the scheduler reads carts from it (pages of 2)."""
    fake = FakeOrderCarts()
    server = grpc.aio.server()
    cgrpc.add_CartInternalServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_ORDER_ADDR", f"127.0.0.1:{port}")
    reminders = e.wired.carts
    saved = reminders.source
    reminders.source = OrderCartSource(page_size=2, timeout=2.0)
    client.reset_breakers()
    try:
        yield Order(fake, server)
    finally:
        reminders.source = saved
        await server.stop(0)
        mp.undo()
        client.reset_breakers()


def abandoned(email: str, idle: timedelta, **kw: Any) -> cpb.AbandonedCart:
    return cpb.AbandonedCart(
        cart=f"carts/{new_id()}",
        update_time=ts(utcnow() - idle),
        email=email,
        customer_name=kw.pop("customer_name", "Asha"),
        item_count=kw.pop("item_count", 2),
        subtotal=money_pb2.Money(amount_minor=kw.pop("subtotal", 159800), currency_code="INR"),
        **kw,
    )


async def test_reminders_for_the_carts_order_lists(e: Engagement, order: Order) -> None:
    idle = [f"{unique('idle')}@example.in" for _ in range(3)]
    fresh = f"{unique('fresh')}@example.in"
    order.fake.carts = [abandoned(m, timedelta(hours=2 + i)) for i, m in enumerate(idle)]
    order.fake.carts.append(abandoned(fresh, timedelta(minutes=5)))
    # A customer cart: order names the user, its contact comes from auth's account.
    user = f"users/{unique()}"
    member = f"{unique('member')}@example.in"
    order.fake.carts.append(abandoned(member, timedelta(hours=1, minutes=30), user=user))

    before = utcnow()
    sent = await e.wired.carts.scan_once()
    await e.drain()

    assert sent == 4
    # idle_since = now - cart_idle_minutes (60); every page asked with the same bound.
    first = order.fake.requests[0].idle_since.ToDatetime(tzinfo=UTC)
    assert abs((before - timedelta(minutes=60)) - first) < timedelta(seconds=5)
    assert {r.idle_since.ToDatetime(tzinfo=UTC) for r in order.fake.requests} == {first}
    # Pages of 2, following next_page_token to the end.
    assert [r.page_token for r in order.fake.requests] == ["", "2"]
    for m in [*idle, member]:
        [mail] = e.smtp.to(m)
        assert mail["Subject"] == "You left something in your cart"
    assert e.smtp.to(fresh) == []
    # The cart's figures reach the message.
    body = e.smtp.to(idle[0])[0].get_body(("plain",)).get_content()
    assert "1,598" in body or "1598" in body


async def test_order_down_finds_no_carts_and_the_next_scan_catches_up(
    e: Engagement, order: Order
) -> None:
    email = f"{unique('late')}@example.in"
    order.fake.carts = [abandoned(email, timedelta(hours=3))]
    await order.server.stop(0)
    assert await e.wired.carts.scan_once() == 0  # degraded, not raised
    await e.drain()
    assert e.smtp.to(email) == []

    # order is back (a new server at a new address): the reminder goes out.
    server = grpc.aio.server()
    cgrpc.add_CartInternalServiceServicer_to_server(order.fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CLEANSE_ORDER_ADDR", f"127.0.0.1:{port}")
            client.reset_breakers()
            assert await e.wired.carts.scan_once() == 1
            await e.drain()
    finally:
        await server.stop(0)
    assert len(e.smtp.to(email)) == 1


async def test_limit_stops_paging(e: Engagement, order: Order) -> None:
    order.fake.carts = [
        abandoned(f"{unique('many')}@example.in", timedelta(hours=5 + i)) for i in range(5)
    ]
    got = await OrderCartSource(page_size=2).list_abandoned(utcnow() - timedelta(hours=1), 3)
    assert len(got) == 3
    assert [r.page_size for r in order.fake.requests] == [2, 1]
    assert got[0].update_time < got[1].update_time < got[2].update_time  # oldest first
    assert got[0].subtotal_paise == 159800 and got[0].item_count == 2
    assert got[0].update_time.tzinfo is not None


def test_cart_source_is_chosen_by_configuration(tmp_path) -> None:
    db = Database("engagement", f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
    default = Settings.from_env({})
    assert default.cart_source == "order"
    assert isinstance(build(db, default, background=False).carts.source, OrderCartSource)
    off = Settings.from_env({"CLEANSE_ENGAGEMENT_CART_SOURCE": "none"})
    assert isinstance(build(db, off, background=False).carts.source, NoCartSource)
    with pytest.raises(RuntimeError, match="CLEANSE_ENGAGEMENT_CART_SOURCE"):
        Settings.from_env({"CLEANSE_ENGAGEMENT_CART_SOURCE": "crm"})
