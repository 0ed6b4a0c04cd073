"""Turning an event into notification rows, and sending them (the dispatcher).

    trigger = Trigger(event_id, "order.placed", data, [Recipient(email=..., user=...)])
    await notifier.enqueue(session, trigger)      # inside the event's transaction

`enqueue` writes ONE ROW PER (event, channel, recipient) for every active template
of the event type, rendered now with the template's current version (the row
records which). It is idempotent: a row that exists is left alone (unique key).
Marketing messages to a customer who opted out of the channel are recorded as
SUPPRESSED and never sent; transactional ones always go.

The dispatcher (a background task, like the outbox relay) claims due rows with a
lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so replicas share the work), sends them
with no transaction open, then records SENT with the provider's message id, or
RETRYING with exponential backoff, or DEAD_LETTER after `max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, new_id, utcnow
from mesh.outbox import retry_delay
from observability.metrics import counter
from services.engagement import catalogue as cat
from services.engagement import templates as tpl
from services.engagement.channels.email import EmailSender, OutgoingEmail, SendError
from services.engagement.channels.sms import OutgoingSms, SmsProvider
from services.engagement.config import Settings
from services.engagement.contacts import ContactDirectory
from services.engagement.models import Notification, Preferences, Template, TemplateVersion

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


@dataclass
class _Rendered:
    template: Template | None
    version: TemplateVersion | None
    content: tpl.Content | None = None
    error: str = ""


def _address(r: Recipient, channel: str) -> str:
    return r.email if channel == cat.EMAIL else r.phone


def _insert(dialect: str) -> Any:
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return ins(Notification).on_conflict_do_nothing(
        index_elements=["event_id", "channel", "recipient_key"]
    )


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
        self._task: asyncio.Task[None] | None = None

    # --- enqueue --------------------------------------------------------------------

    def base_data(self) -> dict[str, Any]:
        return {"store_name": "Cleanse Ayurveda", "storefront_url": self.settings.storefront_url}

    async def enqueue(self, session: AsyncSession, trigger: Trigger) -> list[str]:
        """Write the trigger's notification rows in `session`; their ids (new or old)."""
        templates = (
            await session.scalars(
                select(Template).where(
                    Template.event_type == trigger.event_type,
                    Template.active.is_(True),
                    Template.channel.in_(trigger.channels),
                )
            )
        ).all()
        if not templates:
            log.warning("no active template", extra={"event_type": trigger.event_type})
            return []
        data = {**self.base_data(), **trigger.data}
        now = self.clock()
        rows: list[dict[str, Any]] = []
        for t in sorted(templates, key=lambda t: t.channel):
            version = await current_version(session, t)
            rendered = _Rendered(t, version)
            if version is None:
                rendered.error = f"{TEMPLATE_ERROR}: template {t.id} has no version {t.version}"
            else:
                try:
                    rendered.content = render_version(version, data)
                except tpl.RenderError as exc:
                    rendered.error = f"{TEMPLATE_ERROR}: {exc}"
            for r in trigger.recipients:
                address = _address(r, t.channel)
                if not address and not r.user:
                    continue
                status, error = PENDING, ""
                if rendered.error:
                    status, error = DEAD_LETTER, rendered.error
                elif t.category == cat.MARKETING and r.user:
                    if not await self.allows_marketing(session, r.user, t.channel):
                        status, error = SUPPRESSED, "customer opted out of marketing"
                content = rendered.content or tpl.Content("", "", "")
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
                        "template_version": version.version if version else 0,
                        "context_json": json.dumps(data, default=str),
                        "subject": content.subject,
                        "text_body": content.text_body,
                        "html_body": content.html_body,
                        "provider_template_id": version.provider_template_id if version else "",
                        "sensitive": trigger.sensitive,
                        "status": status,
                        "attempts": 0,
                        "last_error": error,
                        "provider_message_id": "",
                        "next_attempt_at": now,
                        "create_time": now,
                        "update_time": now,
                    }
                )
        if not rows:
            return []
        for row in rows:
            await session.execute(_insert(self.db.dialect).values(**row))
            if row["status"] == SUPPRESSED:
                NOTIFICATIONS.labels(row["channel"], row["event_type"], "suppressed").inc()
        ids = (
            await session.scalars(
                select(Notification.id).where(
                    Notification.event_id == trigger.event_id,
                    Notification.recipient_key.in_({r["recipient_key"] for r in rows}),
                )
            )
        ).all()
        sa_event.listen(session.sync_session, "after_commit", self._after_commit, once=True)
        return list(ids)

    def _after_commit(self, _session: object) -> None:
        self.wake.set()

    async def allows_marketing(self, session: AsyncSession, user: str, channel: str) -> bool:
        prefs = await session.get(Preferences, user.rsplit("/", 1)[-1])
        if prefs is None:
            return True
        return prefs.email_marketing if channel == cat.EMAIL else prefs.sms_marketing

    # --- dispatcher -----------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="engagement-dispatcher")

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
                handled = await self.dispatch_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch cycle failed")
                handled = 0
            if handled >= s.dispatch_batch:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), s.dispatch_poll_seconds)

    async def dispatch_once(self) -> int:
        """Claim due notifications, send them, record outcomes; how many were tried."""
        rows = await self._claim()
        if not rows:
            return 0
        sem = asyncio.Semaphore(self.settings.dispatch_concurrency)

        async def one(n: Notification) -> None:
            async with sem:
                await self._send_and_record(n)

        await asyncio.gather(*(one(n) for n in rows))
        return len(rows)

    async def _claim(self) -> list[Notification]:
        now = self.clock()
        q = (
            select(Notification)
            .where(Notification.status.in_(DUE), Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(self.settings.dispatch_batch)
        )
        async with self.db.session() as s:
            if (await s.execute(q.with_only_columns(Notification.id).limit(1))).first() is None:
                return []
        async with self.db.transaction() as s:
            if not self.db.is_sqlite:
                q = q.with_for_update(skip_locked=True)
            rows = list((await s.scalars(q)).all())
            if rows:
                lease = now + timedelta(seconds=self.settings.dispatch_lease_seconds)
                await s.execute(
                    update(Notification)
                    .where(Notification.id.in_([n.id for n in rows]))
                    .values(next_attempt_at=lease)
                )
        return rows

    async def _send_and_record(self, n: Notification) -> None:
        recipient = n.recipient
        message_id = ""
        error: SendError | None = None
        suppressed = ""
        try:
            if not recipient:
                recipient = await self._resolve(n)
                if not recipient:
                    suppressed = f"no {'email address' if n.channel == cat.EMAIL else 'phone'}"
            if not suppressed:
                message_id = await asyncio.wait_for(
                    self._send(n, recipient), self.settings.send_timeout_seconds
                )
        except SendError as exc:
            error = exc
        except TimeoutError:
            error = SendError("send timed out")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a contact lookup that failed, a provider bug
            log.warning("send failed", exc_info=True, extra={"notification": n.id})
            error = SendError(f"{type(exc).__name__}: {exc}"[:300])
        await self._record(n, recipient, message_id, error, suppressed)

    async def _resolve(self, n: Notification) -> str:
        contact = await self.contacts.lookup(n.user)
        if contact is None:
            return ""
        return contact.email if n.channel == cat.EMAIL else contact.phone

    async def _send(self, n: Notification, recipient: str) -> str:
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

    async def _record(
        self,
        n: Notification,
        recipient: str,
        message_id: str,
        error: SendError | None,
        suppressed: str,
    ) -> None:
        now = self.clock()
        s = self.settings
        attempts = n.attempts + (0 if suppressed else 1)
        values: dict[str, Any] = {"attempts": attempts, "update_time": now, "recipient": recipient}
        if suppressed:
            outcome = "suppressed"
            values.update(status=SUPPRESSED, last_error=suppressed)
        elif error is None:
            outcome = "sent"
            values.update(status=SENT, provider_message_id=message_id, sent_time=now, last_error="")
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
        if n.sensitive and values["status"] in (SENT, DEAD_LETTER):
            values.update(subject="", text_body="", html_body="", context_json="{}")
        async with self.db.transaction() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == n.id, Notification.status.in_(DUE))
                .values(**values)
            )
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
