"""The transactional outbox and the event sink, over real gRPC, on SQLite and PostgreSQL.

A producer writes events in its own transaction; the relay delivers them to the
subscriber's EventSinkService. Proven here: a subscriber that is down keeps its
rows pending (attempts growing, metric up) and loses nothing; once it starts, the
event is handled exactly once; redelivery (also concurrent) is a no-op; one absent
subscriber does not hold up another; a rolled-back change writes no event;
PostgreSQL replicas relaying together deliver each row once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from cleanse.common.v1 import events_pb2, events_pb2_grpc
from cleanse.inventory.v1 import events_pb2 as inventory_events_pb2
from mesh import client, registry
from mesh.db import Database
from mesh.events import EventSink, processed_events_table
from mesh.outbox import Outbox, OutboxRelay, RelaySettings, outbox_table
from mesh.server import ServiceApp
from tests.conftest import free_address

PRODUCER = "inventory"
SUBSCRIBER = "engagement"
ABSENT = "cms"  # subscribed, never started
TOPIC = "testing.stock_low"
TOPICS = {TOPIC: (SUBSCRIBER, ABSENT), "testing.single": (SUBSCRIBER,)}

metadata = MetaData()
OUTBOX = outbox_table(metadata)
PROCESSED = processed_events_table(metadata)
# The subscriber's own effect of handling an event.
RECEIVED = Table(
    "received",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False),
    Column("variant_id", String(64), nullable=False),
)


async def wait_for(predicate: Callable[[], object], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def fast_client() -> None:
    """The test process calls as the producer, with quick retries and breaker resets."""
    client.configure(PRODUCER)
    client.update_settings(backoff_base=0.01, backoff_cap=0.02, breaker_reset_timeout=0.05)


@dataclass
class Subscriber:
    db: Database
    sink: EventSink
    app: ServiceApp | None = None
    deliveries: list[str] = field(default_factory=list)  # raw Deliver RPCs seen

    async def start(self) -> None:
        app = ServiceApp(SUBSCRIBER, grace=0.2)
        app.add(events_pb2_grpc.add_EventSinkServiceServicer_to_server, self.sink)
        await app.start()
        self.app = app
        fast_client()  # ServiceApp.start() configured the client as the subscriber

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None


class CountingSink(EventSink):
    def __init__(self, db: Database, seen: list[str]) -> None:
        super().__init__(db, PROCESSED)
        self.seen = seen

    async def Deliver(self, request, context):  # type: ignore[no-untyped-def]
        self.seen.append(request.event.event_id)
        return await super().Deliver(request, context)


@pytest.fixture
async def env(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Database, Subscriber]]:
    for name in (SUBSCRIBER, ABSENT):
        monkeypatch.setenv(f"CLEANSE_{name.upper()}_ADDR", str(free_address()))
        monkeypatch.setenv(f"CLEANSE_{name.upper()}_METRICS_ADDR", str(free_address()))
    saved_name = client._state.service_name
    fast_client()
    db = Database(PRODUCER, database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    seen: list[str] = []
    sink = CountingSink(db, seen)

    @sink.handler(TOPIC, inventory_events_pb2.LowStockEvent)
    async def on_low(session, payload, event) -> None:  # type: ignore[no-untyped-def]
        await session.execute(
            insert(RECEIVED).values(event_id=event.event_id, variant_id=payload.variant_id)
        )

    sink.register("testing.single", inventory_events_pb2.LowStockEvent, on_low)
    sub = Subscriber(db, sink, deliveries=seen)
    try:
        yield db, sub
    finally:
        await sub.stop()
        await client.close_all()
        await db.dispose()
        if saved_name:
            client.configure(saved_name)


def fast_relay(db: Database, outbox: Outbox) -> OutboxRelay:
    return OutboxRelay(
        db,
        outbox,
        RelaySettings(poll_interval=0.05, backoff_base=0.05, backoff_cap=0.2, call_timeout=1.0),
    )


async def rows(db: Database, **where: str) -> list[dict]:
    q = select(OUTBOX)
    for k, v in where.items():
        q = q.where(OUTBOX.c[k] == v)
    async with db.session() as s:
        return [dict(r._mapping) for r in (await s.execute(q)).all()]


async def received(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.scalars(select(RECEIVED.c.event_id))).all())


def metric(name: str, topic: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": PRODUCER, "topic": topic}) or 0.0


async def test_subscriber_down_then_up_delivers_exactly_once(
    env: tuple[Database, Subscriber],
) -> None:
    db, sub = env
    outbox = Outbox(OUTBOX, PRODUCER, db, topics=TOPICS)
    relay = fast_relay(db, outbox)
    await relay.start()
    delivered_before = metric("outbox_delivered_total", TOPIC)
    try:
        async with db.transaction() as s:
            ev = await outbox.add(
                s, TOPIC, inventory_events_pb2.LowStockEvent(variant_id="var_a", available=2)
            )
        # One row per subscriber; nobody is listening yet.
        assert {r["subscriber"] for r in await rows(db, event_id=ev.event_id)} == {
            SUBSCRIBER,
            ABSENT,
        }

        async def retried() -> bool:
            r = (await rows(db, event_id=ev.event_id, subscriber=SUBSCRIBER))[0]
            return r["attempts"] >= 2

        await wait_for(retried)
        mine = (await rows(db, event_id=ev.event_id, subscriber=SUBSCRIBER))[0]
        assert mine["delivered_at"] is None and mine["last_error"]
        await relay.refresh_metrics()
        assert metric("outbox_pending", TOPIC) == 2

        await sub.start()
        client.reset_breakers()

        async def delivered() -> bool:
            r = (await rows(db, event_id=ev.event_id, subscriber=SUBSCRIBER))[0]
            return r["delivered_at"] is not None

        await wait_for(delivered)
        assert await received(db) == [ev.event_id]
        # Counted once the relay has recorded the delivery (the row is marked first).
        await wait_for(lambda: metric("outbox_delivered_total", TOPIC) >= delivered_before + 1)
        assert metric("outbox_delivered_total", TOPIC) == delivered_before + 1
        # The absent subscriber's row still waits, untouched by the delivery.
        absent = (await rows(db, event_id=ev.event_id, subscriber=ABSENT))[0]
        assert absent["delivered_at"] is None and absent["attempts"] >= 1
        await relay.refresh_metrics()
        assert metric("outbox_pending", TOPIC) == 1

        # At least once: the same event delivered again (also twice at once) is a no-op.
        sink = client.stub(SUBSCRIBER, events_pb2_grpc.EventSinkServiceStub)
        again = await sink.Deliver(events_pb2.DeliverRequest(event=ev))
        assert again.duplicate
        both = await asyncio.gather(
            *(sink.Deliver(events_pb2.DeliverRequest(event=ev)) for _ in range(2))
        )
        assert all(r.duplicate for r in both)
        assert await received(db) == [ev.event_id]
    finally:
        await relay.stop()


async def test_concurrent_first_deliveries_handle_once(env: tuple[Database, Subscriber]) -> None:
    db, sub = env
    await sub.start()
    ev = events_pb2.Event(event_id="evt-concurrent", topic="testing.single", source=PRODUCER)
    ev.payload.Pack(inventory_events_pb2.LowStockEvent(variant_id="var_b"))
    sink = client.stub(SUBSCRIBER, events_pb2_grpc.EventSinkServiceStub)
    results = await asyncio.gather(
        *(sink.Deliver(events_pb2.DeliverRequest(event=ev)) for _ in range(5))
    )
    assert sorted(r.duplicate for r in results) == [False, True, True, True, True]
    assert await received(db) == ["evt-concurrent"]


async def test_rolled_back_change_writes_no_event(env: tuple[Database, Subscriber]) -> None:
    db, _ = env
    outbox = Outbox(OUTBOX, PRODUCER, db, topics=TOPICS)
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await outbox.add(s, "testing.single", inventory_events_pb2.LowStockEvent())
            raise RuntimeError("the business change failed")
    assert await rows(db) == []
    with pytest.raises(KeyError, match="unknown event topic"):
        async with db.transaction() as s:
            await outbox.add(s, "testing.nobody", inventory_events_pb2.LowStockEvent())


async def test_relay_wakes_on_commit(env: tuple[Database, Subscriber]) -> None:
    db, sub = env
    await sub.start()
    outbox = Outbox(OUTBOX, PRODUCER, db, topics=TOPICS)
    relay = OutboxRelay(db, outbox, RelaySettings(poll_interval=30.0))
    await relay.start()
    try:
        await asyncio.sleep(0.1)  # the relay is now asleep for its 30 s poll
        async with db.transaction() as s:
            ev = await outbox.add(s, "testing.single", inventory_events_pb2.LowStockEvent())
        started = time.monotonic()
        await wait_for(lambda: received(db), within=5.0)
        assert time.monotonic() - started < 5.0
        assert await received(db) == [ev.event_id]
    finally:
        await relay.stop()


async def test_replicas_relaying_together_deliver_each_row_once(
    env: tuple[Database, Subscriber],
) -> None:
    db, sub = env
    await sub.start()
    outbox = Outbox(OUTBOX, PRODUCER, db, topics=TOPICS)
    async with db.transaction() as s:
        for i in range(40):
            await outbox.add(
                s, "testing.single", inventory_events_pb2.LowStockEvent(variant_id=f"v{i}")
            )
    relays = [
        OutboxRelay(db, outbox, RelaySettings(poll_interval=0.05, batch_size=5)) for _ in range(3)
    ]
    for r in relays:
        await r.start()
    try:

        async def all_delivered() -> bool:
            async with db.session() as s:
                left = await s.scalar(
                    select(func.count()).select_from(OUTBOX).where(OUTBOX.c.delivered_at.is_(None))
                )
            return left == 0

        await wait_for(all_delivered)
    finally:
        for r in relays:
            await r.stop()
    assert len(await received(db)) == 40
    # Claims never overlapped: every row was sent exactly once.
    assert len(sub.deliveries) == 40 == len(set(sub.deliveries))
    assert all(r["attempts"] == 1 for r in await rows(db))


def test_registry_knows_the_subscribers() -> None:
    from mesh.events import SUBSCRIBERS, subscribers

    for topic in SUBSCRIBERS:
        for name in subscribers(topic):
            assert registry.spec(name).kind == "grpc"


async def test_outbox_rows_are_written_in_the_callers_transaction(
    env: tuple[Database, Subscriber],
) -> None:
    """`add` writes with `Database.run_in` (PostgreSQL: on the driver, in the caller's
    transaction): a rolled back transaction writes none, a committed one a row per
    subscriber holding the event and wakes the relay, and the INSERT of n rows is
    compiled once however often it is used."""
    db, _ = env
    outbox = Outbox(OUTBOX, PRODUCER, db, topics=TOPICS)
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await outbox.add(s, TOPIC, inventory_events_pb2.LowStockEvent(variant_id="v1"))
            raise RuntimeError("the business change failed")
    assert await rows(db) == []
    assert not outbox.wake.is_set()
    compiles = None
    for _ in range(3):
        async with db.transaction() as s:
            ev = await outbox.add(s, TOPIC, inventory_events_pb2.LowStockEvent(variant_id="v1"))
        assert outbox.wake.is_set()
        outbox.wake.clear()
        found = await rows(db, event_id=ev.event_id)
        assert sorted(r["subscriber"] for r in found) == sorted(TOPICS[TOPIC])
        assert len({r["id"] for r in found}) == len(found)
        for r in found:
            assert events_pb2.Event.FromString(r["event"]) == ev
            assert (r["topic"], r["attempts"], r["last_error"], r["delivered_at"]) == (
                TOPIC,
                0,
                None,
                None,
            )
            assert r["created_at"] == r["next_attempt_at"]
            assert r["created_at"].tzinfo is not None
        if compiles is None:
            compiles = db.driver_compiles
        assert db.driver_compiles == compiles  # the statement is reused, not rebuilt
    async with db.transaction() as s:  # one subscriber: the one-row statement
        ev = await outbox.add(s, "testing.single", inventory_events_pb2.LowStockEvent())
    assert [r["subscriber"] for r in await rows(db, event_id=ev.event_id)] == [SUBSCRIBER]
