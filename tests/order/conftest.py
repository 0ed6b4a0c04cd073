"""An order service in-process on an ephemeral port, called over real gRPC, with fake
pricing, inventory, settings, catalog and auth peers (tests/order/fakes.py), each
a real grpc.aio server on its own ephemeral port, and the payments engineer's fake
Razorpay HTTP server behind the real Razorpay adapter.

One order server per database back end for the whole session; tests keep out of
each other's way with their own variants, carts and customers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from cleanse.common.v1 import address_pb2, events_pb2
from cleanse.order.v1 import (
    cart_service_pb2,
    cart_service_pb2_grpc,
    checkout_service_pb2,
    checkout_service_pb2_grpc,
    order_admin_service_pb2_grpc,
    order_service_pb2_grpc,
    payment_webhook_service_pb2,
    payment_webhook_service_pb2_grpc,
)
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.order.v1 import resources_pb2 as pb
from mesh import client
from mesh import server as mesh_server
from mesh.db import Database
from services.order.app import OrderApp, build
from services.order.config import Settings
from services.order.models import OUTBOX
from services.order.payments.razorpay import RazorpayConfig, RazorpayGateway
from tests.conftest import free_address, service_database_fixture
from tests.order.fakes import (
    FakeAuth,
    FakeCatalog,
    FakeInventory,
    FakePricing,
    Peer,
    Shop,
    make_peers,
)
from tests.support.fake_razorpay import FakeRazorpay
from tests.support.rpc import TestKeys

order_database_url = service_database_fixture("order")
ADMIN_PERMS = ("orders.read", "orders.write")
Md = tuple[tuple[str, str], ...]


def address(pincode: str = "560001", state: str = "KA") -> address_pb2.PostalAddress:
    return address_pb2.PostalAddress(
        recipient_name="Asha Rao",
        phone="9876543210",
        line1="12 MG Road",
        city="Bengaluru",
        state_code=state,
        pincode=pincode,
    )


@dataclass
class Checkout:
    cart: str
    token: str
    md: Md
    session: pb.CheckoutSession


@dataclass
class OrderEnv:
    wired: OrderApp
    shop: Shop
    peers: dict[str, Peer]
    keys: TestKeys
    razorpay: FakeRazorpay
    channel: grpc.aio.Channel
    backend: str
    webhooks: Any = field(init=False)
    carts: Any = field(init=False)
    checkout: Any = field(init=False)
    orders: Any = field(init=False)
    admin: Any = field(init=False)

    def __post_init__(self) -> None:
        self.carts = cart_service_pb2_grpc.CartServiceStub(self.channel)
        self.checkout = checkout_service_pb2_grpc.CheckoutServiceStub(self.channel)
        self.orders = order_service_pb2_grpc.OrderServiceStub(self.channel)
        self.admin = order_admin_service_pb2_grpc.OrderAdminServiceStub(self.channel)
        self.webhooks = payment_webhook_service_pb2_grpc.PaymentWebhookServiceStub(self.channel)

    async def webhook(self, event: str, *, bad_signature: bool = False, **entities: str) -> str:
        """Deliver a signed Razorpay event as the edge would (raw body, forwarded headers)."""
        from google.api import httpbody_pb2

        raw, sig, event_id = self.razorpay.webhook_body(event, **entities)
        if bad_signature:
            sig = "f" * 64
        await self.webhooks.ReceiveRazorpayWebhook(
            payment_webhook_service_pb2.ReceiveRazorpayWebhookRequest(
                body=httpbody_pb2.HttpBody(content_type="application/json", data=raw)
            ),
            metadata=(("x-razorpay-signature", sig), ("x-razorpay-event-id", event_id)),
        )
        return event_id

    @property
    def pricing(self) -> FakePricing:
        return self.peers["pricing"].registrations[0][1]

    @property
    def inventory(self) -> FakeInventory:
        return self.peers["inventory"].registrations[0][1]

    @property
    def auth(self) -> FakeAuth:
        return self.peers["auth"].registrations[0][1]

    @property
    def catalog(self) -> FakeCatalog:
        return self.peers["catalog"].registrations[0][1]

    async def restart(self, name: str) -> None:
        """Start a stopped peer again and wait until our channel to it reconnects."""
        await self.peers[name].start()
        client.reset_breakers()
        await asyncio.wait_for(client.channel(name).channel_ready(), 10)

    def customer(self, uid: str | None = None) -> Md:
        uid = uid or f"u{secrets.token_hex(5)}"
        return (("authorization", f"Bearer {self.keys.mint('customer', sub=f'users/{uid}')}"),)

    def admin_md(self, perms: tuple[str, ...] = ADMIN_PERMS) -> Md:
        return (("authorization", f"Bearer {self.keys.mint('admin', perms=perms)}"),)

    async def cart_with(self, lines: list[tuple[str, int]], md: Md = ()) -> tuple[str, str]:
        """(cart name, token): a guest cart (md empty) or the customer's, with lines."""
        cart = await self.carts.CreateCart(cart_service_pb2.CreateCartRequest(), metadata=md)
        name = "carts/mine" if md else cart.name
        for vid, qty in lines:
            await self.carts.AddCartLine(
                cart_service_pb2.AddCartLineRequest(
                    name=name, cart_token=cart.cart_token, variant_id=vid, quantity=qty
                ),
                metadata=md,
            )
        return name, cart.cart_token

    async def start_checkout(
        self,
        lines: list[tuple[str, int]],
        *,
        method: str = "cod",
        coupons: tuple[str, ...] = (),
        md: Md | None = None,
        guest: bool = False,
    ) -> Checkout:
        md = () if guest else (md if md is not None else self.customer())
        cart, token = await self.cart_with(lines, md)
        session = await self.checkout.CreateCheckoutSession(
            checkout_service_pb2.CreateCheckoutSessionRequest(
                cart=cart,
                cart_token=token,
                delivery_address=address(),
                email="guest@example.com" if guest else "",
                phone="9876543210" if guest else "",
                payment_method=method,
                coupon_codes=list(coupons),
            ),
            metadata=md,
        )
        return Checkout(cart, token, md, session)

    async def place(self, co: Checkout, request_id: str | None = None) -> pb.Order:
        return await self.checkout.PlaceOrder(
            checkout_service_pb2.PlaceOrderRequest(
                checkout_session=co.session.name,
                request_id=request_id or secrets.token_hex(8),
                cart_token=co.token,
            ),
            metadata=co.md,
        )

    async def outbox_events(self, topic: str = "order.placed", message: Any = None) -> list[Any]:
        """One payload per event (the outbox holds a row per subscriber)."""
        out = []
        seen: set[str] = set()
        async with self.wired.db.session() as s:
            rows = await s.execute(
                select(OUTBOX.c.event_id, OUTBOX.c.event).where(OUTBOX.c.topic == topic)
            )
            for event_id, data in rows.all():
                if event_id in seen:
                    continue
                seen.add(event_id)
                ev = events_pb2.Event.FromString(data)
                payload = (message or order_events.OrderPlacedEvent)()
                ev.payload.Unpack(payload)
                out.append(payload)
        return out


@pytest.fixture(scope="session")
def fake_razorpay() -> Iterator[FakeRazorpay]:
    with FakeRazorpay.running() as f:
        yield f


@pytest.fixture(scope="session")
async def order_peers() -> AsyncIterator[tuple[Shop, dict[str, Peer]]]:
    shop = Shop()
    peers = make_peers(shop)
    for p in peers.values():
        await p.start()
    yield shop, peers
    for p in peers.values():
        await p.stop()


@pytest.fixture(scope="session")
async def order_env(
    order_database_url: str,
    order_peers: tuple[Shop, dict[str, Peer]],
    fake_razorpay: FakeRazorpay,
) -> AsyncIterator[OrderEnv]:
    shop, peers = order_peers
    mp = pytest.MonkeyPatch()
    # Quiet, as the relay and the sweepers are: test_checkout_work.py counts the
    # statements a call makes, and the readiness probe's (BEGIN, SELECT version_num,
    # ROLLBACK every 5 s) would otherwise land in a count now and then.
    mp.setattr(mesh_server, "READINESS_INTERVAL", 3600.0)
    mp.setenv("CLEANSE_ORDER_ADDR", str(free_address()))
    mp.setenv("CLEANSE_ORDER_METRICS_ADDR", str(free_address()))
    for name, peer in peers.items():
        mp.setenv(f"CLEANSE_{name.upper()}_ADDR", peer.address)
    # No shipping service in these tests: a port nobody listens on (never a real one).
    mp.setenv("CLEANSE_SHIPPING_ADDR", str(free_address()))
    keys = TestKeys.generate()
    cfg = dataclasses.replace(
        RazorpayConfig.from_env(fake_razorpay.env()), timeout_seconds=2.0, backoff_seconds=0.01
    )
    db = Database("order", order_database_url)
    wired = build(
        db,
        Settings(sweep_interval_seconds=3600, duplicate_wait_seconds=30.0),
        gateway=RazorpayGateway(cfg),
        jwks_source=keys.source,
    )
    await wired.app.start()
    await wired.relay.stop()  # events stay in the outbox where the tests read them
    saved = client.settings()
    client.update_settings(breaker_reset_timeout=0.1, backoff_base=0.01)
    channel = grpc.aio.insecure_channel(str(wired.app.address))
    backend = "sqlite" if db.is_sqlite else "postgres"
    try:
        yield OrderEnv(wired, shop, peers, keys, fake_razorpay, channel, backend)
    finally:
        await channel.close()
        await wired.app.stop()
        await client.close_all()
        client.update_settings(**saved.__dict__)
        mp.undo()
