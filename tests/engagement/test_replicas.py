"""Two engagement replicas on one database (SQLite and PostgreSQL): two dispatchers,
two cart schedulers, two template seeders at once (services/engagement/README.md,
"Replicas")."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from mesh.db import Database, new_id, utcnow
from services.engagement import catalogue as cat
from services.engagement.carts import AbandonedCart, CartReminders
from services.engagement.channels.email import OutgoingEmail
from services.engagement.channels.sms import LogSmsProvider
from services.engagement.config import Settings
from services.engagement.contacts import Contact
from services.engagement.models import CartReminder, Notification, Template
from services.engagement.notifier import Notifier
from services.engagement.seed import SEEDS, seed_templates


class NoContacts:
    async def lookup(self, user: str) -> Contact | None:
        return None


class RecordingEmail:
    """Sends to "fast@..." at once; "slow@..." hangs (until the send timeout)."""

    def __init__(self, log: list[tuple[str, str, float]], who: str) -> None:
        self.log = log
        self.who = who
        self.first = asyncio.Event()

    async def send(self, email: OutgoingEmail) -> str:
        self.log.append((self.who, email.to, time.monotonic()))
        self.first.set()
        if email.to.startswith("slow"):
            await asyncio.sleep(60)
        return f"<{new_id()}@test>"


class FixedCarts:
    def __init__(self, carts: Sequence[AbandonedCart]) -> None:
        self.carts = list(carts)

    async def list_abandoned(self, idle_since: datetime, limit: int) -> Sequence[AbandonedCart]:
        return self.carts[:limit]


@pytest.fixture
async def dbs(database_url: str) -> AsyncIterator[list[Database]]:
    """Two processes' handles on one fresh database (migrated, templates not seeded)."""
    pair = [Database("engagement", database_url) for _ in range(2)]
    await pair[0].migrate()
    try:
        yield pair
    finally:
        for db in pair:
            await db.dispose()


async def test_two_replicas_seeding_templates_at_once_both_start(dbs: list[Database]) -> None:
    created = await asyncio.gather(*(seed_templates(db) for db in dbs))
    assert sum(created) == len(SEEDS)
    async with dbs[1].session() as s:
        assert await s.scalar(select(func.count()).select_from(Template)) == len(SEEDS)


def _row(recipient: str, now: datetime) -> dict[str, object]:
    return {
        "id": new_id(),
        "event_id": f"evt-{new_id()}",
        "event_type": cat.ORDER_PLACED,
        "channel": cat.EMAIL,
        "category": cat.TRANSACTIONAL,
        "recipient": recipient,
        "recipient_key": recipient,
        "user": "",
        "template_id": "order-placed-email",
        "template_version": 1,
        "context_json": "{}",
        "subject": "Your order",
        "text_body": "Thanks",
        "html_body": "",
        "provider_template_id": "",
        "sensitive": False,
        "status": "PENDING",
        "attempts": 0,
        "last_error": "",
        "provider_message_id": "",
        "next_attempt_at": now,
        "create_time": now,
        "update_time": now,
        "sent_time": None,
    }


async def test_two_dispatchers_send_each_notification_once_even_when_a_turn_is_slow(
    dbs: list[Database],
) -> None:
    # One turn of replica A: a mail that goes at once, then eight that hang until the
    # send timeout, one at a time: longer than the lease. Replica B polls all along.
    # Before the fix B claimed the rows when A's lease ran out and sent them again,
    # the already sent (but not yet recorded) one included.
    settings = Settings(
        storefront_url="https://shop.cleanse.test",
        dispatch_lease_seconds=1.0,
        send_timeout_seconds=0.15,
        dispatch_concurrency=1,
        dispatch_poll_seconds=0.02,
        retry_base_seconds=600,
        retry_cap_seconds=600,
    )
    sent: list[tuple[str, str, float]] = []
    emails = [RecordingEmail(sent, who) for who in ("a", "b")]
    a, b = (
        Notifier(db, settings, email, LogSmsProvider(), NoContacts())
        for db, email in zip(dbs, emails, strict=True)
    )
    now = utcnow()
    rows = [_row("fast@cleanse.test", now)]
    rows += [_row(f"slow{i}@cleanse.test", now) for i in range(8)]
    async with dbs[0].transaction() as s:
        await s.execute(insert(Notification), rows)

    turn = asyncio.create_task(a.dispatch_once())
    await asyncio.wait_for(emails[0].first.wait(), 5)  # A claimed them all

    async def replica_b() -> None:
        stop = time.monotonic() + 2.5
        while time.monotonic() < stop:
            await b.dispatch_once()
            await asyncio.sleep(0.02)

    await asyncio.gather(turn, replica_b())
    counts = Counter(to for _, to, _ in sent)
    assert counts["fast@cleanse.test"] == 1, sent
    # Nothing was retried (long backoff): each row was tried exactly once, by one of them.
    assert set(counts.values()) == {1}, counts
    assert len(counts) == len(rows)
    async with dbs[1].session() as s:
        fast = await s.scalar(
            select(Notification).where(Notification.recipient == "fast@cleanse.test")
        )
        assert fast is not None and fast.status == "SENT"


async def test_two_cart_schedulers_scanning_at_once_remind_each_cart_once(
    dbs: list[Database],
) -> None:
    await seed_templates(dbs[0])
    idle = datetime.now(UTC) - timedelta(hours=5)
    carts = FixedCarts(
        [
            AbandonedCart(
                cart=f"carts/{new_id()}",
                update_time=idle,
                email=f"cart{i}@cleanse.test",
                customer_name="Asha",
                item_count=1,
                subtotal_paise=10_000,
            )
            for i in range(20)
        ]
    )
    settings = Settings(
        storefront_url="https://shop.cleanse.test",
        cart_max_reminders=1,
        cart_reminder_gap_minutes=0,
    )
    schedulers = [
        CartReminders(
            Notifier(db, settings, RecordingEmail([], "x"), LogSmsProvider(), NoContacts()), carts
        )
        for db in dbs
    ]
    reminded = await asyncio.gather(*(c.scan_once() for c in schedulers))
    assert sum(reminded) == len(carts.carts)
    async with dbs[1].session() as s:
        rows = (await s.scalars(select(CartReminder))).all()
        assert sorted(r.reminders_sent for r in rows) == [1] * len(carts.carts)
        notes = await s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.event_type == cat.CART_ABANDONED)
        )
        assert notes == len(carts.carts)
