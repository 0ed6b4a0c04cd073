"""A shipping service in-process on an ephemeral port (real gRPC), with demo data, its
aggregator carrier pointed at a fake aggregator over real HTTP, once per back end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from cleanse.common.v1 import events_pb2
from cleanse.shipping.v1 import (
    carrier_webhook_service_pb2_grpc,
    shipping_admin_service_pb2_grpc,
    shipping_internal_service_pb2_grpc,
    shipping_service_pb2_grpc,
)
from cleanse.shipping.v1 import events_pb2 as ship_events
from mesh import client
from mesh import server as mesh_server
from mesh.db import Database
from services.shipping.app import ShippingApp, build
from services.shipping.config import Settings
from services.shipping.models import OUTBOX
from tests.conftest import free_address, service_database_fixture
from tests.support.fake_carrier import FakeCarrier
from tests.support.rpc import TestKeys

shipping_database_url = service_database_fixture("shipping")
PERMS = ("shipping.read", "shipping.write")


@dataclass
class Shipping:
    wired: ShippingApp
    fake: FakeCarrier
    channel: grpc.aio.Channel
    keys: TestKeys
    admin: Any = field(init=False)
    public: Any = field(init=False)
    internal: Any = field(init=False)
    webhooks: Any = field(init=False)

    def __post_init__(self) -> None:
        self.admin = shipping_admin_service_pb2_grpc.ShippingAdminServiceStub(self.channel)
        self.public = shipping_service_pb2_grpc.ShippingServiceStub(self.channel)
        self.webhooks = carrier_webhook_service_pb2_grpc.CarrierWebhookServiceStub(self.channel)
        # Internal RPCs need a mesh caller: go through mesh.client (internal token).
        self.internal = client.stub(
            "shipping", shipping_internal_service_pb2_grpc.ShippingInternalServiceStub
        )

    @property
    def db(self) -> Database:
        return self.wired.db

    def md(self, perms: tuple[str, ...] = PERMS) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.keys.mint('admin', perms, ttl=600)}"),)

    async def events(self, shipment: str = "") -> list[ship_events.ShipmentStatusChangedEvent]:
        out = []
        async with self.db.session() as s:
            rows = await s.execute(
                select(OUTBOX.c.event)
                .where(OUTBOX.c.topic == "shipment.status_changed", OUTBOX.c.subscriber == "order")
                .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            )
            for (data,) in rows.all():
                payload = ship_events.ShipmentStatusChangedEvent()
                events_pb2.Event.FromString(data).payload.Unpack(payload)
                if not shipment or payload.shipment == shipment:
                    out.append(payload)
        return out


@pytest.fixture(scope="session")
def fake_carrier() -> Iterator[FakeCarrier]:
    with FakeCarrier.running() as fake:
        yield fake


@pytest.fixture(scope="session")
async def shipping(
    shipping_database_url: str, fake_carrier: FakeCarrier
) -> AsyncIterator[Shipping]:
    mp = pytest.MonkeyPatch()
    # The readiness probe (BEGIN, SELECT version_num, ROLLBACK every 5 s) quiet: tests
    # count the statements a delivery makes (test_order_placed_statement.py).
    mp.setattr(mesh_server, "READINESS_INTERVAL", 3600.0)
    mp.setenv("CLEANSE_SHIPPING_ADDR", str(free_address()))
    mp.setenv("CLEANSE_SHIPPING_METRICS_ADDR", str(free_address()))
    for k, v in fake_carrier.env().items():
        mp.setenv(k, v)
    keys = TestKeys.generate("test")
    db = Database("shipping", shipping_database_url)
    settings = Settings.from_env()
    # Demo data on (the tests use it), the background booker effectively off.
    settings = Settings(**{**settings.__dict__, "booking_interval_seconds": 3600})
    wired = build(db, settings, jwks_source=keys.source)
    await wired.app.start()
    await wired.relay.stop()  # events stay in the outbox where tests read them
    for t in wired._tasks:
        t.cancel()
    saved = client.settings()
    client.configure("order")  # the test process calls as the order service would
    channel = grpc.aio.insecure_channel(str(wired.app.address))
    try:
        yield Shipping(wired, fake_carrier, channel, keys)
    finally:
        await channel.close()
        await wired.app.stop()
        await client.close_all()
        client.update_settings(**saved.__dict__)
        mp.undo()
