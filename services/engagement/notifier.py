"""Turning an event into notification rows, and sending them (the dispatcher).

    trigger = Trigger(event_id, "order.placed", data, [Recipient(email=..., user=...)])
    await notifier.enqueue(session, trigger)      # inside the event's transaction

`enqueue` writes ONE ROW PER (event, channel, recipient) for every active template
of the event type, rendered now with the template's current version (the row
records which). It is idempotent: a row that exists is left alone (unique key).
Marketing messages to a customer who opted out of the channel are recorded as
SUPPRESSED and never sent; transactional ones always go. Other writes of the same
unit of work can ride along (`Alongside`): on PostgreSQL they are CTEs of the rows'
INSERT, one statement. `enqueue_event` goes one step further for an event that
makes at most one row: the event's processed-event mark, the row and the alongside
writes as ONE statement in autocommit (see `EngagementEventSink`).

The dispatcher (a background task, like the outbox relay) sends with no transaction
open, then records SENT with the provider's message id, or RETRYING with
exponential backoff, or DEAD_LETTER after `max_attempts` (one UPDATE; what one turn
sent is recorded together, one UPDATE per kind of outcome on PostgreSQL). What it
sends comes from two places:

- rows this process just wrote: `enqueue` writes a new PENDING row already leased
  to this process (`next_attempt_at` = now + the lease) and, once the transaction
  commits, hands it to the local dispatcher, which sends it at once without
  reading it back. Should this process die first, the lease runs out and any
  replica's dispatcher picks the row up from the table;
- the table: due rows (retries, admin retries, leases run out) are claimed with a
  lease in one UPDATE ... RETURNING (PostgreSQL: FOR UPDATE SKIP LOCKED, so
  replicas share the work), when a retry falls due, when asked (`poke`), and
  every `dispatch_poll_seconds` otherwise.

A lease only keeps a row from other replicas while it lasts, so a dispatcher sends
and records within it: a notification is sent only while at least
`send_timeout_seconds` plus a margin (`_LEASE_MARGIN` of the lease: the record's
round trip, clocks of replicas that disagree a little) are left of the shortest
lease of its turn; the rest of the turn is not sent but released (due now) and
claimed again with a fresh lease. The contact lookup counts as part of the send.
Without this, a slow turn (a provider hanging until the send timeout, 8 at a time)
outlived its leases and another replica sent the same rows again, even those this
one had already sent but not yet recorded.

Active templates are cached per event type for `template_cache_seconds` (edits made
through this process drop the cache at once; another replica's edits are seen
within that time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Integer, bindparam, func, literal_column, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import Executable

from cleanse.common.v1 import events_pb2
from mesh.db import Database, new_id, utcnow
from mesh.outbox import retry_delay
from observability.metrics import counter
from services.engagement import catalogue as cat
from services.engagement import templates as tpl
from services.engagement.channels.email import EmailSender, OutgoingEmail, SendError
from services.engagement.channels.sms import OutgoingSms, SmsProvider
from services.engagement.config import Settings
from services.engagement.contacts import ContactDirectory
from services.engagement.models import (
    PROCESSED_EVENTS,
    Notification,
    Preferences,
    Template,
    TemplateVersion,
)

log = logging.getLogger("cleanse.engagement.notifier")

PENDING = "PENDING"
SENT = "SENT"
RETRYING = "RETRYING"
DEAD_LETTER = "DEAD_LETTER"
SUPPRESSED = "SUPPRESSED"
DUE = (PENDING, RETRYING)
TEMPLATE_ERROR = "TEMPLATE_ERROR"

NOTIFICATIONS = counter(
    "notifications_total",
    "Notification attempts by outcome (sent, retrying, dead_letter, suppressed).",
    ["channel", "event_type", "outcome"],
)

Clock = Callable[[], datetime]
T = TypeVar("T")

_N = Notification.__table__
_T = Template.__table__
_V = TemplateVersion.__table__
# "status IN ('PENDING', 'RETRYING')" with the values inline: no expanding parameter
# to post-process on every execution.
_IS_DUE = _N.c.status.in_([literal_column(f"'{s}'") for s in DUE])
# A local hand-off older than this share of the lease is left to the table's poll.
_HANDOFF_MAX_AGE = 0.5
# At most this many notifications wait in the local hand-off queue; past it new
# rows are written due now and go through the table.
_HANDOFF_MAX = 1000
# This share of a lease is kept free at its end: a turn's sends are over and being
# recorded by then (and replicas' clocks may disagree by a little of it).
_LEASE_MARGIN = 0.1


@dataclass(frozen=True)
class Recipient:
    email: str = ""
    phone: str = ""
    # "users/{id}": the address is looked up at send time when not given, and the
    # customer's marketing preferences apply.
    user: str = ""


@dataclass(frozen=True)
class Trigger:
    event_id: str
    event_type: str
    data: dict[str, Any]
    recipients: Sequence[Recipient]
    # Login codes: content wiped once sent or dead-lettered.
    sensitive: bool = False
    # Only these channels (default: every channel with an active template).
    channels: tuple[str, ...] = cat.CHANNELS


@dataclass(frozen=True)
class Alongside:
    """Writes that go with a trigger's rows, in the same unit of work: on PostgreSQL
    as data-modifying CTEs of the rows' INSERT (one statement, one round trip),
    elsewhere as statements of their own.

    `build(dialect, gate)` makes them: (CTEs for PostgreSQL, statements elsewhere);
    with a `gate` (an EXISTS condition) each CTE must write only when it holds.
    What `build` makes depends only on `key` (it is built once per key and gate);
    `params` binds it."""

    key: Any
    build: Callable[[str, Any], tuple[tuple[Any, ...], tuple[Any, ...]]]
    params: dict[str, Any]


@dataclass
class Outgoing:
    """What the dispatcher needs of a notification row to send and record it."""

    id: str
    event_type: str
    channel: str
    recipient: str
    user: str
    subject: str
    text_body: str
    html_body: str
    provider_template_id: str
    context_json: str
    sensitive: bool
    attempts: int
    # monotonic time of a local hand-off (0: claimed from the table)
    handed_over: float = 0.0
    # monotonic time its lease (to this process) runs out
    lease_end: float = 0.0

    @property
    def name(self) -> str:
        return f"notifications/{self.id}"


_OUTGOING_COLUMNS = (
    "id",
    "event_type",
    "channel",
    "recipient",
    "user",
    "subject",
    "text_body",
    "html_body",
    "provider_template_id",
    "context_json",
    "sensitive",
    "attempts",
)


def _outgoing(row: Any, handed_over: float = 0.0, lease_end: float = 0.0) -> Outgoing:
    return Outgoing(
        *(row[c] for c in _OUTGOING_COLUMNS), handed_over=handed_over, lease_end=lease_end
    )


@dataclass(frozen=True)
class Attempt:
    """What came of sending a notification: a provider message id, an error, or
    why it was not sent (`suppressed`)."""

    notification: Outgoing
    recipient: str
    message_id: str
    error: SendError | None
    suppressed: str


@dataclass(frozen=True)
class ActiveTemplate:
    """An active template with its current version's content (None: no such version)."""

    id: str
    channel: str
    category: str
    version: int
    subject: str | None
    text_body: str | None
    html_body: str | None
    provider_template_id: str | None

    @property
    def has_version(self) -> bool:
        return self.text_body is not None


_ACTIVE_TEMPLATES = (
    select(
        _T.c.id,
        _T.c.channel,
        _T.c.category,
        _T.c.version,
        _V.c.subject,
        _V.c.text_body,
        _V.c.html_body,
        _V.c.provider_template_id,
    )
    .select_from(_T.outerjoin(_V, (_V.c.template_id == _T.c.id) & (_V.c.version == _T.c.version)))
    .where(_T.c.event_type == bindparam("event_type"), _T.c.active.is_(True))
    .order_by(_T.c.channel, _T.c.id)
)


class TemplateCache:
    """Active templates per event type, for `ttl` seconds (0: not cached).

    `invalidate()` (after a template edit commits) drops everything; a load that
    was running across an invalidation is not kept."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, tuple[ActiveTemplate, ...]]] = {}
        self._generation = 0

    def invalidate(self) -> None:
        self._generation += 1
        self._entries.clear()

    def cached(self, event_type: str) -> tuple[ActiveTemplate, ...] | None:
        """The event type's templates if cached and fresh (no database), else None."""
        hit = self._entries.get(event_type)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    async def active(self, conn: AsyncConnection, event_type: str) -> tuple[ActiveTemplate, ...]:
        hit = self.cached(event_type)
        if hit is not None:
            return hit
        now = time.monotonic()
        generation = self._generation
        result = await conn.execute(_ACTIVE_TEMPLATES, {"event_type": event_type})
        rows = tuple(ActiveTemplate(*r) for r in result.all())
        if self.ttl > 0 and generation == self._generation:
            self._entries[event_type] = (now, rows)
        return rows


async def current_version(
    session: AsyncSession, template: Template, version: int = 0
) -> TemplateVersion | None:
    return await session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template.id,
            TemplateVersion.version == (version or template.version),
        )
    )


def render_version(v: TemplateVersion, data: dict[str, Any]) -> tpl.Content:
    return tpl.render(v.subject, v.text_body, v.html_body, data)


_INSERTS: dict[str, Any] = {}


def _insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id (built once per dialect). Every
    column is bound by name as "n_<column>" (`_bind`): parameters named like
    columns would also be taken as SET values by the DML of CTEs added to it."""
    stmt = _INSERTS.get(dialect)
    if stmt is None:
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            ins(_N)
            .values({c.name: bindparam(f"n_{c.name}") for c in _N.columns})
            .on_conflict_do_nothing(index_elements=["event_id", "channel", "recipient_key"])
            .returning(_N.c.id)
        )
        _INSERTS[dialect] = stmt
    return stmt


def _bind(row: dict[str, Any]) -> dict[str, Any]:
    return {f"n_{k}": v for k, v in row.items()}


def _claim_statement() -> Any:
    due = (
        select(_N.c.id)
        .where(_IS_DUE, _N.c.next_attempt_at <= bindparam("now"))
        .order_by(_N.c.next_attempt_at, _N.c.id)
        .limit(bindparam("n", type_=Integer))
        .with_for_update(skip_locked=True)  # (nothing on SQLite: one writer anyway)
    )
    return (
        update(_N)
        .where(_N.c.id.in_(due.scalar_subquery()), _IS_DUE)
        .values(next_attempt_at=bindparam("lease"))
        .returning(*(_N.c[c] for c in _OUTGOING_COLUMNS))
    )


_CLAIM = _claim_statement()
_ANY_DUE = select(_N.c.id).where(_IS_DUE, _N.c.next_attempt_at <= bindparam("now")).limit(1)
_RECORDS: dict[tuple[str, ...], Any] = {}


def _record_statement(columns: tuple[str, ...]) -> Any:
    """UPDATE notifications SET <columns> WHERE id = :n_id AND status is due."""
    stmt = _RECORDS.get(columns)
    if stmt is None:
        stmt = (
            update(_N)
            .where(_N.c.id == bindparam("n_id"), _IS_DUE)
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        _RECORDS[columns] = stmt
    return stmt


_BUILT: dict[Any, Any] = {}

# The hot path's statements on PostgreSQL run straight on the driver
# (`Database.run`: each compiled ONCE from the same construct the SQLAlchemy path
# executes); recording many sends at once is one hand-written UPDATE ... FROM unnest
# (`Database.fetch`), its arrays cast to the columns' types.
_PG_DIALECT = asyncpg_dialect()


_RECORD_MANY: dict[tuple[str, ...], str] = {}


def _record_many_sql(columns: tuple[str, ...]) -> str:
    """PostgreSQL: `_record_statement(columns)` for many rows as one statement: $1
    the ids, then one array per column, in `columns` order."""
    sql = _RECORD_MANY.get(columns)
    if sql is None:
        names = ("id", *columns)
        arrays = ", ".join(
            f"${i}::{_N.c[c].type.compile(dialect=_PG_DIALECT)}[]" for i, c in enumerate(names, 1)
        )
        sets = ", ".join(f'"{c}" = v."{c}"' for c in columns)
        aliases = ", ".join(f'"{c}"' for c in names)
        due = ", ".join(f"'{s}'" for s in DUE)
        sql = _RECORD_MANY[columns] = (
            f"UPDATE {_N.name} AS n SET {sets} FROM unnest({arrays}) AS v({aliases})"
            f" WHERE n.id = v.id AND n.status IN ({due})"
        )
    return sql


def _pieces(along: Alongside, dialect: str, gated: bool = False) -> tuple[tuple[Any, ...], ...]:
    key = ("pieces", along.key, dialect, gated)
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = along.build(dialect, _gate() if gated else None)
    return built


def _insert_with(along: Alongside) -> Any:
    """The PostgreSQL INSERT of one notification row with `along`'s CTEs."""
    key = ("insert", along.key)
    stmt = _BUILT.get(key)
    if stmt is None:
        ctes, _ = _pieces(along, "postgresql")
        stmt = _BUILT[key] = _insert("postgresql").add_cte(*ctes)
    return stmt


async def _write_alongside(conn: AsyncConnection, along: Alongside, dialect: str) -> None:
    """`along` on its own (no notification row to carry it)."""
    ctes, statements = _pieces(along, dialect)
    if ctes:
        key = ("alone", along.key)
        stmt = _BUILT.get(key)
        if stmt is None:
            stmt = _BUILT[key] = select(literal_column("1")).add_cte(*ctes)
        await conn.execute(stmt, along.params)
    for statement in statements:
        await conn.execute(statement, along.params)


# --- an event as ONE statement (PostgreSQL) -----------------------------------------------
#
#   WITH processed_event AS (INSERT INTO processed_events ... ON CONFLICT DO NOTHING
#                            RETURNING event_id),
#        <the alongside writes, each only WHERE EXISTS (SELECT 1 FROM processed_event)>,
#        note AS (INSERT INTO notifications ... SELECT ... WHERE EXISTS (...)
#                 ON CONFLICT DO NOTHING RETURNING id)
#   SELECT (SELECT count(*) FROM processed_event), (SELECT id FROM note)
#
# A statement is atomic: the "done" mark and the effects commit together, as in
# EventSink's transaction, in one round trip (autocommit) instead of four.

_PROCESSED: dict[str, Any] = {}


def _processed_cte() -> Any:
    cte = _PROCESSED.get("cte")
    if cte is None:
        t = PROCESSED_EVENTS
        cte = _PROCESSED["cte"] = (
            postgresql.insert(t)
            .values(
                event_id=bindparam("e_event_id"),
                topic=bindparam("e_topic"),
                source=bindparam("e_source"),
                processed_at=bindparam("e_processed_at"),
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(t.c.event_id)
            .cte("processed_event")
        )
    return cte


def _gate() -> Any:
    gate = _PROCESSED.get("gate")
    if gate is None:
        gate = _PROCESSED["gate"] = (
            select(literal_column("1")).select_from(_processed_cte()).exists()
        )
    return gate


def _event_statement(along: Alongside | None, with_row: bool) -> Any:
    key = ("event", along.key if along is not None else None, with_row)
    stmt = _BUILT.get(key)
    if stmt is not None:
        return stmt
    processed = _processed_cte()
    ctes = _pieces(along, "postgresql", gated=True)[0] if along is not None else ()
    columns = [
        select(func.count()).select_from(processed).scalar_subquery().label("fresh"),
    ]
    if with_row:
        source = select(*(bindparam(f"n_{c.name}", type_=c.type) for c in _N.columns)).where(
            _gate()
        )
        note = (
            postgresql.insert(_N)
            .from_select([c.name for c in _N.columns], source)
            .on_conflict_do_nothing(index_elements=["event_id", "channel", "recipient_key"])
            .returning(_N.c.id)
            .cte("note")
        )
        columns.append(select(note.c.id).scalar_subquery().label("note_id"))
    else:
        columns.append(literal_column("NULL").label("note_id"))
    stmt = _BUILT[key] = select(*columns).add_cte(processed, *ctes)
    return stmt


class Notifier:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        email: EmailSender,
        sms: SmsProvider,
        contacts: ContactDirectory,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.email = email
        self.sms = sms
        self.contacts = contacts
        self.clock = clock
        self.wake = asyncio.Event()
        self.templates = TemplateCache(settings.template_cache_seconds)
        self._task: asyncio.Task[None] | None = None
        # Rows written by this process, committed, not yet sent (the local hand-off).
        self._handoff: deque[Outgoing] = deque()
        # When the dispatcher next reads the table (monotonic; 0: at its next turn).
        self._poll_at = 0.0
        # One statement, one unit of work: autocommit on PostgreSQL (no BEGIN/COMMIT).
        self._autocommit: AsyncEngine | None = (
            None if db.is_sqlite else db.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    # --- enqueue --------------------------------------------------------------------

    def base_data(self) -> dict[str, Any]:
        return {"store_name": "Cleanse Ayurveda", "storefront_url": self.settings.storefront_url}

    async def _read(self, conn: AsyncConnection | None, read: Callable[[Any], Awaitable[T]]) -> T:
        """`read(connection)` on `conn`, or without one on a connection of its own."""
        if conn is not None:
            return await read(conn)
        engine = self._autocommit if self._autocommit is not None else self.db.engine
        async with engine.connect() as own:
            return await read(own)

    async def _rows(self, conn: AsyncConnection | None, trigger: Trigger) -> list[dict[str, Any]]:
        """The trigger's notification rows (rendered; not written). `conn`: where to
        read templates and preferences (None: a connection only when something must
        be read: the templates are usually cached)."""
        active = self.templates.cached(trigger.event_type)
        if active is None:
            active = await self._read(
                conn, partial(self.templates.active, event_type=trigger.event_type)
            )
        templates = [t for t in active if t.channel in trigger.channels]
        if not templates:
            log.warning("no active template", extra={"event_type": trigger.event_type})
            return []
        data = {**self.base_data(), **trigger.data}
        context_json = json.dumps(data, default=str)
        now = self.clock()
        handoff = len(self._handoff) < _HANDOFF_MAX
        lease = now + timedelta(seconds=self.settings.dispatch_lease_seconds)
        rows: list[dict[str, Any]] = []
        for t in templates:  # (ordered by channel)
            content: tpl.Content | None = None
            render_error = ""
            if not t.has_version:
                render_error = f"{TEMPLATE_ERROR}: template {t.id} has no version {t.version}"
            else:
                try:
                    content = tpl.render(
                        t.subject or "", t.text_body or "", t.html_body or "", data
                    )
                except tpl.RenderError as exc:
                    render_error = f"{TEMPLATE_ERROR}: {exc}"
            for r in trigger.recipients:
                address = r.email if t.channel == cat.EMAIL else r.phone
                if not address and not r.user:
                    continue
                status, error = PENDING, ""
                if render_error:
                    status, error = DEAD_LETTER, render_error
                elif t.category == cat.MARKETING and r.user:
                    allows = partial(self.allows_marketing, user=r.user, channel=t.channel)
                    if not await self._read(conn, allows):
                        status, error = SUPPRESSED, "customer opted out of marketing"
                c = content or tpl.Content("", "", "")
                rows.append(
                    {
                        "id": new_id(),
                        "event_id": trigger.event_id,
                        "event_type": trigger.event_type,
                        "channel": t.channel,
                        "category": t.category,
                        "recipient": address,
                        "recipient_key": address or r.user,
                        "user": r.user,
                        "template_id": t.id,
                        "template_version": t.version if t.has_version else 0,
                        "context_json": context_json,
                        "subject": c.subject,
                        "text_body": c.text_body,
                        "html_body": c.html_body,
                        "provider_template_id": t.provider_template_id or "",
                        "sensitive": trigger.sensitive,
                        "status": status,
                        "attempts": 0,
                        "last_error": error,
                        "provider_message_id": "",
                        # A row this process will send is leased to it right away.
                        "next_attempt_at": lease if handoff and status == PENDING else now,
                        "create_time": now,
                        "update_time": now,
                        "sent_time": None,
                    }
                )
        return rows

    def _written(self, rows: list[dict[str, Any]]) -> list[Outgoing]:
        """Rows now in the table: count the suppressed, and what to hand over."""
        outgoing = []
        for row in rows:
            if row["status"] == SUPPRESSED:
                NOTIFICATIONS.labels(row["channel"], row["event_type"], "suppressed").inc()
            elif row["status"] == PENDING and row["next_attempt_at"] > row["create_time"]:
                outgoing.append(_outgoing(row))  # (leased to this process)
        return outgoing

    def _hand_over(self, outgoing: list[Outgoing]) -> None:
        at = time.monotonic()
        # (the lease began when the row was made, a moment before: the margin covers it)
        lease_end = at + self.settings.dispatch_lease_seconds
        for n in outgoing:
            n.handed_over = at
            n.lease_end = lease_end
        self._handoff.extend(outgoing)
        if outgoing:
            self.wake.set()

    async def enqueue(
        self, session: AsyncSession, trigger: Trigger, *, alongside: Alongside | None = None
    ) -> list[str]:
        """Write the trigger's notification rows in `session`; their ids (new or old).
        `alongside`: other writes of the same unit of work, made with the rows."""
        conn = await session.connection()
        rows = await self._rows(conn, trigger)
        dialect = self.db.dialect
        if alongside is not None and dialect == "postgresql" and len(rows) == 1:
            result = await conn.execute(
                _insert_with(alongside), {**_bind(rows[0]), **alongside.params}
            )
        else:
            if alongside is not None:
                await _write_alongside(conn, alongside, dialect)
            if not rows:
                return []
            params = [_bind(r) for r in rows]
            result = await conn.execute(_insert(dialect), params if len(params) > 1 else params[0])
        inserted = set(result.scalars().all())
        ids = [r["id"] for r in rows if r["id"] in inserted]
        if len(ids) < len(rows):  # some existed already (a retried OTP request)
            missing = {r["recipient_key"] for r in rows if r["id"] not in inserted}
            ids += (
                await session.scalars(
                    select(Notification.id).where(
                        Notification.event_id == trigger.event_id,
                        Notification.recipient_key.in_(missing),
                    )
                )
            ).all()
        self._after_commit(session, self._written([r for r in rows if r["id"] in inserted]))
        return ids

    async def enqueue_event(
        self,
        event: events_pb2.Event,
        trigger: Trigger,
        alongside: Alongside | None = None,
    ) -> bool | None:
        """An event's "done" mark, its notification row and `alongside` as ONE
        statement in autocommit (PostgreSQL): True when the event was handled
        before (nothing written), False when handled now. None, with nothing
        written, when it cannot be one statement (SQLite, or more than one row):
        the caller goes the way of a transaction."""
        if self.db.is_sqlite:
            return None
        rows = await self._rows(None, trigger)
        if len(rows) > 1:
            return None
        params: dict[str, Any] = {
            "e_event_id": event.event_id,
            "e_topic": event.topic,
            "e_source": event.source,
            "e_processed_at": utcnow(),
        }
        if rows:
            params.update(_bind(rows[0]))
        if alongside is not None:
            params.update(alongside.params)
        with_row = bool(rows)
        [result] = await self.db.run(_event_statement(alongside, with_row), params)
        fresh, note_id = result[0], result[1]
        if not fresh:
            return True
        self._hand_over(self._written([r for r in rows if r["id"] == note_id]))
        return False

    def _after_commit(self, session: AsyncSession, outgoing: list[Outgoing]) -> None:
        """Once `session` commits: hand `outgoing` to the dispatcher and wake it."""
        info = session.sync_session.info
        pending: list[Outgoing] | None = info.get("engagement.outgoing")
        if pending is None:
            pending = info["engagement.outgoing"] = []

            def committed(_session: object) -> None:
                self._hand_over(list(info.pop("engagement.outgoing", ())))

            def rolled_back(_session: object, _previous: object = None) -> None:
                info.pop("engagement.outgoing", None)

            sa_event.listen(session.sync_session, "after_commit", committed, once=True)
            sa_event.listen(session.sync_session, "after_soft_rollback", rolled_back, once=True)
        pending.extend(outgoing)

    async def allows_marketing(self, conn: AsyncConnection, user: str, channel: str) -> bool:
        row = (
            await conn.execute(
                select(Preferences.email_marketing, Preferences.sms_marketing).where(
                    Preferences.user_id == user.rsplit("/", 1)[-1]
                )
            )
        ).first()
        if row is None:
            return True
        return bool(row[0] if channel == cat.EMAIL else row[1])

    def templates_changed(self) -> None:
        """A template was created, edited or deleted (committed): drop the cache."""
        self.templates.invalidate()

    # --- dispatcher -----------------------------------------------------------------

    def poke(self) -> None:
        """Read the table at the dispatcher's next turn (a row was made due)."""
        self._poll_at = 0.0
        self.wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="engagement-dispatcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._release_handoff()

    async def _release_handoff(self) -> None:
        """Make what was handed over here and not sent due now (at shutdown), so the
        next dispatcher sends it without waiting for the lease to run out."""
        ids = [n.id for n in self._handoff]
        self._handoff.clear()
        await self._release(ids)

    async def _release(self, ids: list[str]) -> None:
        """Make rows leased to this process and not sent due now."""
        if not ids:
            return
        try:
            await self._execute(
                update(_N)
                .where(_N.c.id.in_(ids), _IS_DUE)
                .values(next_attempt_at=bindparam("now")),
                {"now": self.clock()},
            )
        except Exception:
            log.warning("could not release %d handed-over notifications", len(ids), exc_info=True)

    async def _run(self) -> None:
        s = self.settings
        while True:
            try:
                handled = await self.dispatch_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch cycle failed")
                handled = 0
                self._poll_at = time.monotonic() + s.dispatch_poll_seconds
            if handled >= s.dispatch_batch:
                continue
            self.wake.clear()
            if self._handoff:
                continue
            timeout = min(s.dispatch_poll_seconds, self._poll_at - time.monotonic())
            if timeout <= 0:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.wake.wait()

    async def dispatch_once(self) -> int:
        """Send what was handed over and, when the table is due a look, claim the due
        rows; record the outcomes. How many were tried."""
        batch = self.settings.dispatch_batch
        jobs = self._take_handoff(batch)
        if len(jobs) < batch and (not jobs or time.monotonic() >= self._poll_at):
            jobs += await self._claim(batch - len(jobs))
        if not jobs:
            return 0
        s = self.settings
        # Every send of this turn ends, and the turn is recorded, before the shortest
        # of its leases runs out (a replica may claim the rows after that).
        last_start = (
            min(n.lease_end for n in jobs)
            - s.dispatch_lease_seconds * _LEASE_MARGIN
            - s.send_timeout_seconds
        )
        if len(jobs) == 1:
            if time.monotonic() > last_start:
                await self._release([jobs[0].id])
                self._poll_at = 0.0
            else:
                await self._send_and_record(jobs[0])
            return 1
        sem = asyncio.Semaphore(s.dispatch_concurrency)
        late: list[str] = []

        async def one(n: Outgoing) -> Attempt | None:
            async with sem:
                if time.monotonic() > last_start:
                    late.append(n.id)  # not sent: released below
                    return None
                return await self._attempt(n)

        # Sent side by side, recorded together: one UPDATE per kind of outcome.
        done = await asyncio.gather(*(one(n) for n in jobs))
        await self._record_all([a for a in done if a is not None])
        if late:
            await self._release(late)
            self._poll_at = 0.0  # claim them again (fresh lease) at the next turn
        return len(jobs)

    def _take_handoff(self, limit: int) -> list[Outgoing]:
        out: list[Outgoing] = []
        oldest = time.monotonic() - self.settings.dispatch_lease_seconds * _HANDOFF_MAX_AGE
        while self._handoff and len(out) < limit:
            n = self._handoff.popleft()
            if n.handed_over >= oldest:
                out.append(n)
            # else: waited too long here; its lease runs out and the table's poll
            # (here or on a replica) sends it, never both.
        return out

    async def _claim(self, limit: int) -> list[Outgoing]:
        now = self.clock()
        started = time.monotonic()
        self._poll_at = started + self.settings.dispatch_poll_seconds
        lease = now + timedelta(seconds=self.settings.dispatch_lease_seconds)
        lease_end = started + self.settings.dispatch_lease_seconds
        params = {"now": now, "lease": lease, "n": limit}
        if self.db.is_sqlite:
            # A read first: no write lock taken when nothing is due.
            async with self.db.session() as s:
                if (await s.execute(_ANY_DUE, {"now": now})).first() is None:
                    return []
        rows = await self._execute(_CLAIM, params)
        return sorted(
            (_outgoing(r._mapping, lease_end=lease_end) for r in rows), key=lambda n: n.id
        )

    async def _execute(self, statement: Executable, params: dict[str, Any]) -> list[Row[Any]]:
        """One statement as its own unit of work (PostgreSQL: autocommit, one round
        trip; SQLite: a BEGIN IMMEDIATE transaction)."""
        if self._autocommit is None:
            async with self.db.transaction() as s:
                result = await (await s.connection()).execute(statement, params)
                return list(result.all()) if result.returns_rows else []
        async with self._autocommit.connect() as conn:
            result = await conn.execute(statement, params)
            return list(result.all()) if result.returns_rows else []

    async def _send_and_record(self, n: Outgoing) -> None:
        await self._record_all([await self._attempt(n)])

    async def _attempt(self, n: Outgoing) -> Attempt:
        """Send `n` (its address looked up first if need be): what came of it."""
        recipient = n.recipient
        message_id = ""
        error: SendError | None = None
        suppressed = ""
        try:
            # The lookup and the send together: they must end within the lease.
            async with asyncio.timeout(self.settings.send_timeout_seconds):
                if not recipient:
                    recipient = await self._resolve(n)
                    if not recipient:
                        suppressed = f"no {'email address' if n.channel == cat.EMAIL else 'phone'}"
                if not suppressed:
                    message_id = await self._send(n, recipient)
        except SendError as exc:
            error = exc
        except TimeoutError:
            error = SendError("send timed out")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a contact lookup that failed, a provider bug
            log.warning("send failed", exc_info=True, extra={"notification": n.id})
            error = SendError(f"{type(exc).__name__}: {exc}"[:300])
        return Attempt(n, recipient, message_id, error, suppressed)

    async def _resolve(self, n: Outgoing) -> str:
        contact = await self.contacts.lookup(n.user)
        if contact is None:
            return ""
        return contact.email if n.channel == cat.EMAIL else contact.phone

    async def _send(self, n: Outgoing, recipient: str) -> str:
        if n.channel == cat.EMAIL:
            return await self.email.send(
                OutgoingEmail(
                    to=recipient,
                    subject=n.subject,
                    text=n.text_body,
                    html=n.html_body,
                    reference=n.name,
                )
            )
        variables = {}
        try:
            variables = {
                k: str(v)
                for k, v in json.loads(n.context_json or "{}").items()
                if isinstance(v, str | int | float)
            }
        except ValueError:
            variables = {}
        variables["body"] = n.text_body
        return await self.sms.send(
            OutgoingSms(
                phone=recipient,
                text=n.text_body,
                provider_template_id=n.provider_template_id,
                variables=variables,
            )
        )

    def _outcome(self, a: Attempt) -> tuple[str, dict[str, Any]]:
        """An attempt's outcome and the columns that record it."""
        n, error = a.notification, a.error
        now = self.clock()
        s = self.settings
        attempts = n.attempts + (0 if a.suppressed else 1)
        values: dict[str, Any] = {
            "attempts": attempts,
            "update_time": now,
            "recipient": a.recipient,
        }
        if a.suppressed:
            outcome = "suppressed"
            values.update(status=SUPPRESSED, last_error=a.suppressed)
        elif error is None:
            outcome = "sent"
            values.update(
                status=SENT, provider_message_id=a.message_id, sent_time=now, last_error=""
            )
        elif error.permanent or attempts >= s.max_attempts:
            outcome = "dead_letter"
            values.update(status=DEAD_LETTER, last_error=str(error)[:1000])
        else:
            outcome = "retrying"
            delay = retry_delay(attempts, s.retry_base_seconds, s.retry_cap_seconds)
            values.update(
                status=RETRYING,
                last_error=str(error)[:1000],
                next_attempt_at=now + timedelta(seconds=delay),
            )
            # Look at the table again when it falls due.
            self._poll_at = min(self._poll_at, time.monotonic() + delay)
        if n.sensitive and values["status"] in (SENT, DEAD_LETTER):
            values.update(subject="", text_body="", html_body="", context_json="{}")
        return outcome, values

    async def _record_all(self, done: Sequence[Attempt]) -> None:
        """Record attempts (each only while its row is still due): one UPDATE per
        set of columns written (on SQLite, one per row)."""
        groups: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = {}
        outcomes = []
        for a in done:
            outcome, values = self._outcome(a)
            outcomes.append(outcome)
            groups.setdefault(tuple(sorted(values)), []).append((a.notification.id, values))
        for columns, rows in groups.items():
            if self.db.is_sqlite:
                for id_, values in rows:
                    params = {f"v_{c}": values[c] for c in columns}
                    params["n_id"] = id_
                    await self._execute(_record_statement(columns), params)
            elif len(rows) == 1:
                [(id_, values)] = rows
                params = {f"v_{c}": values[c] for c in columns}
                params["n_id"] = id_
                await self.db.run(_record_statement(columns), params)
            else:
                await self.db.fetch(
                    _record_many_sql(columns),
                    [id_ for id_, _ in rows],
                    *([values[c] for _, values in rows] for c in columns),
                )
        for a, outcome in zip(done, outcomes, strict=True):
            self._recorded(a, outcome)

    def _recorded(self, a: Attempt, outcome: str) -> None:
        n, error = a.notification, a.error
        attempts = n.attempts + (0 if a.suppressed else 1)
        NOTIFICATIONS.labels(n.channel, n.event_type, outcome).inc()
        if outcome in ("retrying", "dead_letter"):
            log.warning(
                "notification not sent",
                extra={
                    "notification": n.id,
                    "event_type": n.event_type,
                    "channel": n.channel,
                    "attempts": attempts,
                    "outcome": outcome,
                    "error": str(error),
                },
            )
