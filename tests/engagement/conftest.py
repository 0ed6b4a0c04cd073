"""An engagement service running in-process on an ephemeral port, called over real
gRPC, sending e-mail to an aiosmtpd server and SMS to a fake HTTP gateway, both on
ephemeral loopback ports.

One server per database back end for the whole session. The dispatcher and the
cart scheduler do not run in the background: tests call `drain()` and
`carts.scan_once()`, so every assertion sees a settled state. Tests keep out of
each other's way with their own event ids, addresses and carts.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cleanse.common.v1 import events_pb2, events_pb2_grpc
from cleanse.engagement.v1 import (
    notification_admin_service_pb2 as admin_pb2,
)
from cleanse.engagement.v1 import (
    notification_admin_service_pb2_grpc as admin_grpc,
)
from cleanse.engagement.v1 import (
    notification_internal_service_pb2_grpc as internal_grpc,
)
from cleanse.engagement.v1 import (
    notification_preferences_service_pb2_grpc as prefs_grpc,
)
from cleanse.engagement.v1 import resources_pb2 as pb
from mesh import client
from mesh.db import Database, new_id, utcnow
from services.engagement.app import EngagementApp, build
from services.engagement.carts import AbandonedCart
from services.engagement.channels.sms import Msg91Config, Msg91SmsProvider
from services.engagement.config import Settings
from services.engagement.contacts import Contact
from services.engagement.smtp_sink import SmtpSink
from tests.conftest import free_address, service_database_fixture
from tests.support.fake_sms import FakeSms
from tests.support.rpc import TestKeys

engagement_database_url = service_database_fixture("engagement")

ADMIN_PERMS = ("engagement.read", "engagement.write")
ADMIN_EMAILS = ("ops@cleanse.test", "buyer@cleanse.test")
TERMINAL = (
    pb.NOTIFICATION_STATUS_SENT,
    pb.NOTIFICATION_STATUS_DEAD_LETTER,
    pb.NOTIFICATION_STATUS_SUPPRESSED,
)


class FakeContacts:
    def __init__(self) -> None:
        self.users: dict[str, Contact] = {}

    async def lookup(self, user: str) -> Contact | None:
        return self.users.get(user)


class FakeCarts:
    def __init__(self) -> None:
        self.carts: dict[str, AbandonedCart] = {}

    async def list_abandoned(self, idle_since: datetime, limit: int) -> Sequence[AbandonedCart]:
        due = [c for c in self.carts.values() if c.update_time < idle_since]
        return sorted(due, key=lambda c: c.update_time)[:limit]


def unique(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_hex(5)}"


@dataclass
class Engagement:
    wired: EngagementApp
    smtp: SmtpSink
    sms: FakeSms
    contacts: FakeContacts
    carts: FakeCarts
    channel: grpc.aio.Channel
    keys: TestKeys
    backend: str
    admin: admin_grpc.NotificationAdminServiceStub = field(init=False)
    prefs: prefs_grpc.NotificationPreferencesServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.admin = admin_grpc.NotificationAdminServiceStub(self.channel)
        self.prefs = prefs_grpc.NotificationPreferencesServiceStub(self.channel)

    @property
    def internal(self) -> internal_grpc.NotificationInternalServiceStub:
        return client.stub("engagement", internal_grpc.NotificationInternalServiceStub)

    @property
    def sink(self) -> events_pb2_grpc.EventSinkServiceStub:
        """Called through mesh.client, as the outbox relay would (internal token)."""
        return client.stub("engagement", events_pb2_grpc.EventSinkServiceStub)

    def md(self, perms: tuple[str, ...] = ADMIN_PERMS) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.keys.mint('admin', perms, ttl=600)}"),)

    def customer_md(self, user: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.keys.mint('customer', sub=user, ttl=600)}"),)

    async def deliver(
        self, topic: str, payload: Message, event_id: str | None = None, source: str = "order"
    ) -> events_pb2.DeliverResponse:
        occurred = Timestamp()
        occurred.FromDatetime(utcnow())
        ev = events_pb2.Event(
            event_id=event_id or new_id(), topic=topic, occurred_at=occurred, source=source
        )
        ev.payload.Pack(payload)
        return await self.sink.Deliver(events_pb2.DeliverRequest(event=ev))

    async def notifications(self, **filters: Any) -> list[pb.Notification]:
        resp = await self.admin.ListNotifications(
            admin_pb2.ListNotificationsRequest(page_size=200, **filters), metadata=self.md()
        )
        return list(resp.notifications)

    async def drain(self, rounds: int = 50) -> None:
        """Run the dispatcher until nothing is due (retries included)."""
        n = self.wired.notifier
        for _ in range(rounds):
            if await n.dispatch_once() == 0:
                await asyncio.sleep(0.03)
                if await n.dispatch_once() == 0:
                    return

    async def settle(self, name: str, rounds: int = 100) -> pb.Notification:
        """Dispatch until notification `name` is sent, dead-lettered or suppressed."""
        for _ in range(rounds):
            got = await self.admin.GetNotification(
                admin_pb2.GetNotificationRequest(name=name), metadata=self.md()
            )
            if got.status in TERMINAL:
                return got
            await self.wired.notifier.dispatch_once()
            await asyncio.sleep(0.02)
        raise AssertionError(f"{name} did not settle: {got}")


@pytest.fixture(scope="session")
def fake_sms() -> Iterator[FakeSms]:
    with FakeSms.running() as fake:
        yield fake


@pytest.fixture(scope="session")
async def engagement(engagement_database_url: str, fake_sms: FakeSms) -> AsyncIterator[Engagement]:
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_ENGAGEMENT_ADDR", str(free_address()))
    mp.setenv("CLEANSE_ENGAGEMENT_METRICS_ADDR", str(free_address()))
    smtp_addr = free_address()
    mp.setenv("CLEANSE_SMTP_ADDR", str(smtp_addr))
    keys = TestKeys.generate("test")
    db = Database("engagement", engagement_database_url)
    contacts, carts = FakeContacts(), FakeCarts()
    settings = Settings(
        admin_emails=ADMIN_EMAILS,
        storefront_url="https://shop.cleanse.test",
        max_attempts=3,
        retry_base_seconds=0.01,
        retry_cap_seconds=0.05,
        send_timeout_seconds=3.0,
        cart_idle_minutes=60,
        cart_max_reminders=2,
        cart_reminder_gap_minutes=0,
    )
    sms = Msg91SmsProvider(Msg91Config.from_env(fake_sms.env()))
    wired = build(
        db,
        settings,
        sms=sms,
        contacts=contacts,
        carts=carts,
        jwks_source=keys.source,
        background=False,
    )
    async with SmtpSink.running(smtp_addr) as smtp:
        await wired.app.start()
        saved = client.settings()
        client.configure("order")  # the test process calls as a mesh member would
        channel = grpc.aio.insecure_channel(str(wired.app.address))
        backend = "sqlite" if db.is_sqlite else "postgres"
        try:
            yield Engagement(wired, smtp, fake_sms, contacts, carts, channel, keys, backend)
        finally:
            await channel.close()
            await wired.app.stop()
            await client.close_all()
            client.update_settings(**saved.__dict__)
            mp.undo()


@pytest.fixture
def e(engagement: Engagement) -> Engagement:
    """Short name for the session's engagement harness."""
    return engagement
