"""The transactional outbox: events leave a service at least once, never lost.

A producing service has its own `outbox` table (its migration creates it):

    outbox_rows = outbox_table(Base.metadata)               # models.py
    outbox = Outbox(outbox_rows, "inventory", db)
    async with db.transaction() as s:                       # the business change...
        stock.reserved += qty
        await outbox.add(s, "inventory.low_stock", LowStockEvent(...))  # ...and its event

    relay = OutboxRelay(db, outbox)
    app.on_startup(relay.start); app.on_shutdown(relay.stop)

`add` writes ONE ROW PER SUBSCRIBER (mesh.events.SUBSCRIBERS) in the caller's
transaction: the event exists if and only if the change committed, and a slow or
absent subscriber never holds up the others. A subscriber listed with a filter
(`mesh.events.Only`) gets a row only for the events its filter wants; a filter
that cannot tell raises `EventFilterError` from `add` (the transaction fails, no
event is silently dropped). An event no subscriber wants writes nothing. The rows
go in as one INSERT through `Database.run_in` (on PostgreSQL straight on the driver,
inside the caller's transaction), built once per number of rows.

The relay delivers due rows to each subscriber's
`cleanse.common.v1.EventSinkService/Deliver` through `mesh.client` (internal
token, deadline, breaker). How a row moves:

- claim: a short transaction picks due rows (`delivered_at IS NULL AND
  next_attempt_at <= now`) — on PostgreSQL `FOR UPDATE SKIP LOCKED`, so replicas
  relaying together take different rows; on SQLite writers are serialized by
  BEGIN IMMEDIATE — and pushes their `next_attempt_at` one lease ahead. No
  transaction stays open during the network calls; a relay that dies mid-delivery
  simply lets the lease run out and someone delivers again (at least once);
- deliver, concurrently;
- record: delivered rows get `delivered_at`; failed rows `attempts + 1`,
  `last_error` and `next_attempt_at = now + backoff` (exponential, capped, with
  jitter). A subscriber that is down or does not serve EventSinkService yet just
  keeps its rows waiting.

It wakes as soon as a transaction that added events commits (same process), and
polls every `poll_interval` otherwise (other replicas, retries). Metrics:
`outbox_pending{service,topic}` (gauge: rows not yet delivered) and
`outbox_delivered_total{service,topic}`. Delivered rows are purged after
`retention`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc
from google.protobuf.message import Message
from sqlalchemy import (
    ARRAY,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.common.v1 import events_pb2, events_pb2_grpc
from mesh import client
from mesh.db import Database, Unit, UTCDateTime, after_commit, new_id, utcnow
from mesh.events import SubscriberTable, recipients, subscribers
from mesh.timestamps import ts
from observability.metrics import counter, gauge

log = logging.getLogger("mesh.outbox")

PENDING = gauge(
    "outbox_pending", "Outbox rows not yet delivered to their subscriber.", ["service", "topic"]
)
DELIVERED = counter(
    "outbox_delivered_total", "Outbox rows delivered to their subscriber.", ["service", "topic"]
)


def outbox_table(metadata: MetaData, name: str = "outbox") -> Table:
    """The producer's outbox: one row per (event, subscriber)."""
    return Table(
        name,
        metadata,
        Column("id", String(32), primary_key=True),
        Column("event_id", String(32), nullable=False),
        Column("topic", String(100), nullable=False),
        Column("subscriber", String(40), nullable=False),
        # A serialized cleanse.common.v1.Event.
        Column("event", LargeBinary, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("next_attempt_at", UTCDateTime(), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        Column("delivered_at", UTCDateTime(), nullable=True),
        Index(f"ix_{name}_due", "delivered_at", "next_attempt_at"),
    )


_ROW_COLUMNS = (
    "id",
    "event_id",
    "topic",
    "subscriber",
    "event",
    "created_at",
    "next_attempt_at",
    "attempts",
)


class Outbox:
    """Writes events into a service's outbox table, in the caller's transaction."""

    def __init__(
        self,
        table: Table,
        source: str,
        db: Database,
        *,
        topics: SubscriberTable | None = None,
    ) -> None:
        """`db`: the service's database; the rows are written with `Database.run_in`
        (on PostgreSQL straight on the driver), in the caller's transaction."""
        self.table = table
        self.source = source
        self._topics = topics
        self.db = db
        # The INSERT of n rows, by n: built once, so it is compiled once.
        self._inserts: dict[int, Any] = {}
        # Set after a transaction that added events commits: the relay wakes at once.
        self.wake = asyncio.Event()

    def subscribers(self, topic: str) -> tuple[str, ...]:
        """Every service subscribed to `topic`, filtered or not."""
        return subscribers(topic, self._topics)

    def recipients(self, topic: str, payload: Message) -> tuple[str, ...]:
        """The subscribers of `topic` that want this `payload` (their filters)."""
        return recipients(topic, payload, self._topics)

    async def add(
        self, session: AsyncSession, topic: str, payload: Message, *, event_id: str | None = None
    ) -> events_pb2.Event:
        """Write `payload` as an event on `topic` for every subscriber that wants it
        (mesh.events filters); returns the event (also when nobody wants it)."""
        ev, rows = self.rows(topic, payload, event_id=event_id)
        if rows:
            params = {f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()}
            await self.db.run_in(session, self._insert_of(len(rows)), params)
            self.written(session)
        return ev

    def rows(
        self, topic: str, payload: Message, *, event_id: str | None = None
    ) -> tuple[events_pb2.Event, list[dict[str, Any]]]:
        """The event `add` writes and its outbox rows (column -> value, one per
        subscriber that wants it), for a caller that writes them with its own
        statement: it then calls `written(session)` in that transaction."""
        subs = self.recipients(topic, payload)
        now = utcnow()
        ev = events_pb2.Event(
            event_id=event_id or new_id(), topic=topic, occurred_at=ts(now), source=self.source
        )
        ev.payload.Pack(payload)
        if not subs:
            return ev, []
        data = ev.SerializeToString()
        return ev, [
            {
                "id": new_id(),
                "event_id": ev.event_id,
                "topic": topic,
                "subscriber": sub,
                "event": data,
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
            for sub in subs
        ]

    def written(self, unit: Unit) -> None:
        """Rows were written in `unit`'s transaction (a session or a DriverUnit): the
        relay wakes when it commits."""
        after_commit(unit, self.wake.set)

    def _insert_of(self, n: int) -> Any:
        """INSERT of `n` rows, parameters `<column>_<row>` (a template: built once)."""
        stmt = self._inserts.get(n)
        if stmt is None:
            c = self.table.c
            stmt = self._inserts[n] = insert(self.table).values(
                [
                    {k: bindparam(f"{k}_{i}", type_=c[k].type) for k in _ROW_COLUMNS}
                    for i in range(n)
                ]
            )
        return stmt


@dataclass(frozen=True)
class _Due:
    id: str
    topic: str
    subscriber: str
    event: bytes
    attempts: int


@dataclass(frozen=True)
class RelaySettings:
    poll_interval: float = 1.0
    batch_size: int = 100
    # How long a claimed row is left to its relay before another may retry it.
    lease_seconds: float = 30.0
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    call_timeout: float = 5.0
    concurrency: int = 16
    retention: timedelta = timedelta(days=7)


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: in [d/2, d], d = min(cap, base * 2^(attempts-1))."""
    d = min(cap, base * (2 ** max(attempts - 1, 0)))
    return random.uniform(d / 2, d)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details() or ''}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


class OutboxRelay:
    """Delivers a service's outbox rows to their subscribers (a background task)."""

    def __init__(self, db: Database, outbox: Outbox, settings: RelaySettings | None = None) -> None:
        self.db = db
        self.outbox = outbox
        self.table = outbox.table
        self.service = outbox.source
        self.settings = settings or RelaySettings()
        self._task: asyncio.Task[None] | None = None
        self._known_topics: set[str] = set()
        self._last_purge = 0.0
        self._last_metrics = 0.0
        # PostgreSQL: the claim and the delivered mark, built once (Database.run
        # compiles a statement for the driver once per statement object).
        t = self.table
        due = (
            select(t.c.id)
            .where(t.c.delivered_at.is_(None), t.c.next_attempt_at <= bindparam("now"))
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(self.settings.batch_size)
            .with_for_update(skip_locked=True)
        )
        self._claim_statement = (
            update(t)
            .where(t.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=bindparam("lease"))
            .returning(t.c.id, t.c.topic, t.c.subscriber, t.c.event, t.c.attempts)
        )
        self._delivered_statement = (
            update(t)
            .where(t.c.id == any_(bindparam("ids", type_=ARRAY(String))))
            .values(delivered_at=bindparam("now"), attempts=t.c.attempts + 1, last_error=None)
        )

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        s = self.settings
        while True:
            try:
                handled = await self.run_once()
                # The pending gauge is a COUNT over the table: at most about once a
                # second, not once per delivered batch.
                if time.monotonic() - self._last_metrics >= s.poll_interval:
                    self._last_metrics = time.monotonic()
                    await self.refresh_metrics()
                await self._maybe_purge()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay cycle failed", extra={"service": self.service})
                handled = 0
            if handled >= s.batch_size:
                continue  # more may be due right now
            self.outbox.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.wake.wait(), s.poll_interval)

    # --- one cycle ------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim due rows, deliver them, record the outcomes; the number attempted."""
        rows = await self._claim()
        if not rows:
            return 0
        sem = asyncio.Semaphore(self.settings.concurrency)

        async def deliver(row: _Due) -> BaseException | None:
            async with sem:
                try:
                    await self._deliver(row)
                    return None
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    return exc

        outcomes = await asyncio.gather(*(deliver(r) for r in rows))
        await self._record(rows, outcomes)
        return len(rows)

    def _due_query(self, now: datetime) -> Select[Any]:
        t = self.table
        return (
            select(t.c.id, t.c.topic, t.c.subscriber, t.c.event, t.c.attempts)
            .where(t.c.delivered_at.is_(None), t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(self.settings.batch_size)
        )

    async def _claim(self) -> list[_Due]:
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        t = self.table
        if not self.db.is_sqlite:
            # One statement: lock due rows other relays have not (SKIP LOCKED), push
            # their next attempt one lease ahead, return them.
            claimed = await self.db.run(self._claim_statement, {"now": now, "lease": lease})
            return sorted((_Due(*r) for r in claimed), key=lambda r: r.id)
        # A cheap read first: on SQLite a claim takes the write lock.
        async with self.db.session() as s:
            if (await s.execute(self._due_query(now).limit(1))).first() is None:
                return []
        async with self.db.transaction() as s:
            rows = [_Due(*r) for r in (await s.execute(self._due_query(now))).all()]
            if rows:
                await s.execute(
                    update(t).where(t.c.id.in_([r.id for r in rows])).values(next_attempt_at=lease)
                )
        return rows

    async def _deliver(self, row: _Due) -> None:
        sink = client.stub(row.subscriber, events_pb2_grpc.EventSinkServiceStub)
        await sink.Deliver(
            events_pb2.DeliverRequest(event=events_pb2.Event.FromString(row.event)),
            timeout=self.settings.call_timeout,
        )

    async def _record(self, rows: Sequence[_Due], outcomes: Sequence[BaseException | None]) -> None:
        now = utcnow()
        t = self.table
        s = self.settings
        delivered = [r for r, err in zip(rows, outcomes, strict=True) if err is None]
        if delivered and not self.db.is_sqlite:
            ids = [r.id for r in delivered]
            await self.db.run(self._delivered_statement, {"ids": ids, "now": now})
        elif delivered:
            await self.db.execute(
                update(t)
                .where(t.c.id.in_([r.id for r in delivered]))
                .values(delivered_at=now, attempts=t.c.attempts + 1, last_error=None)
            )
        failed = [(r, err) for r, err in zip(rows, outcomes, strict=True) if err is not None]
        if failed:
            async with self.db.transaction() as session:
                for row, err in failed:
                    attempts = row.attempts + 1
                    delay = retry_delay(attempts, s.backoff_base, s.backoff_cap)
                    await session.execute(
                        update(t)
                        .where(t.c.id == row.id)
                        .values(
                            attempts=attempts,
                            last_error=_describe(err),
                            next_attempt_at=now + timedelta(seconds=delay),
                        )
                    )
        for row in delivered:
            DELIVERED.labels(self.service, row.topic).inc()
        for row, err in failed:
            log.warning(
                "event delivery failed, will retry",
                extra={
                    "service": self.service,
                    "topic": row.topic,
                    "subscriber": row.subscriber,
                    "attempts": row.attempts + 1,
                    "error": _describe(err),
                },
            )

    async def refresh_metrics(self) -> dict[str, int]:
        """Set outbox_pending from the table; returns {topic: pending rows}."""
        t = self.table
        async with self.db.session() as s:
            rows = await s.execute(
                select(t.c.topic, func.count())
                .where(t.c.delivered_at.is_(None))
                .group_by(t.c.topic)
            )
            pending = {topic: int(n) for topic, n in rows.all()}
        for topic in self._known_topics | set(pending):
            PENDING.labels(self.service, topic).set(pending.get(topic, 0))
        self._known_topics |= set(pending)
        return pending

    async def _maybe_purge(self) -> None:
        if time.monotonic() - self._last_purge < 3600:
            return
        self._last_purge = time.monotonic()
        cutoff = utcnow() - self.settings.retention
        async with self.db.transaction() as s:
            await s.execute(
                delete(self.table).where(
                    self.table.c.delivered_at.is_not(None), self.table.c.delivered_at < cutoff
                )
            )
