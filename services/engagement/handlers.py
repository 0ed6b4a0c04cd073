"""Units of work behind the RPCs: templates (versioned), the notifications log,
retries, customer preferences and login codes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from mesh import context as call_context
from mesh.db import Database, next_page_token, on_conflict, page_after, utcnow
from mesh.errors import AlreadyExists, FailedPrecondition, NotFound, Violations
from mesh.resources import check_update_mask, require_name
from services.engagement import catalogue as cat
from services.engagement import templates as tpl
from services.engagement.models import Notification, Preferences, Template, TemplateVersion
from services.engagement.notifier import (
    DEAD_LETTER,
    PENDING,
    RETRYING,
    TEMPLATE_ERROR,
    Notifier,
    Recipient,
    Trigger,
    current_version,
    render_version,
)

TEMPLATE_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,63}\Z")
PHONE = re.compile(r"\+91[6-9]\d{9}\Z")
CONTENT_FIELDS = ("subject", "text_body", "html_body", "provider_template_id")
UPDATABLE = ("display_name", "category", "active", *CONTENT_FIELDS)


@dataclass(frozen=True)
class TemplateDraft:
    event_type: str = ""
    channel: str = ""
    category: str = ""
    display_name: str = ""
    subject: str = ""
    text_body: str = ""
    html_body: str = ""
    provider_template_id: str = ""
    active: bool = True


@dataclass(frozen=True)
class TemplateView:
    template: Template
    version: TemplateVersion


def actor() -> str:
    return call_context.identity().subject[:64] or "system"


def check_content(d: TemplateDraft, v: Violations, prefix: str = "notification_template.") -> None:
    v.require(d.text_body.strip(), f"{prefix}text_body")
    for fld, html in (("subject", False), ("text_body", False), ("html_body", True)):
        problem = tpl.check(getattr(d, fld), html=html)
        if problem:
            v.add(f"{prefix}{fld}", problem)
    if d.channel == cat.SMS and (d.subject or d.html_body):
        v.add(f"{prefix}subject", "SMS templates have no subject or HTML body")
    if d.channel == cat.EMAIL:
        v.require(d.subject.strip(), f"{prefix}subject")


class TemplateHandlers:
    def __init__(self, db: Database, on_change: Callable[[], None] = lambda: None) -> None:
        self.db = db
        # Called once a create, update or delete committed (the notifier's cache).
        self.on_change = on_change

    async def _get(self, s: Any, name: str, version: int = 0) -> TemplateView:
        tid = require_name(name, "notificationTemplates")
        t = await s.get(Template, tid)
        if t is None:
            raise NotFound(f"{name} does not exist")
        v = await current_version(s, t, version)
        if v is None:
            raise NotFound(f"{name} has no version {version}")
        return TemplateView(t, v)

    async def get(self, name: str, version: int = 0) -> TemplateView:
        async with self.db.session() as s:
            return await self._get(s, name, version)

    async def versions(self, name: str) -> list[TemplateView]:
        async with self.db.session() as s:
            view = await self._get(s, name)
            rows = await s.scalars(
                select(TemplateVersion)
                .where(TemplateVersion.template_id == view.template.id)
                .order_by(TemplateVersion.version.desc())
            )
            return [TemplateView(view.template, v) for v in rows.all()]

    async def list(
        self, page_size: int, page_token: str, event_type: str, channel: str
    ) -> tuple[list[TemplateView], str]:
        filters = {"event_type": event_type, "channel": channel}
        after = page_after(page_token, filters)
        q = select(Template).order_by(Template.id).limit(page_size + 1)
        if after:
            q = q.where(Template.id > after)
        if event_type:
            q = q.where(Template.event_type == event_type)
        if channel:
            q = q.where(Template.channel == channel)
        async with self.db.session() as s:
            rows = list((await s.scalars(q)).all())
            out = []
            for t in rows[:page_size]:
                v = await current_version(s, t)
                if v is not None:
                    out.append(TemplateView(t, v))
        return out, next_page_token(rows, page_size, filters)

    async def create(self, template_id: str, d: TemplateDraft) -> TemplateView:
        v = Violations()
        v.check(
            bool(TEMPLATE_ID.fullmatch(template_id)),
            "notification_template_id",
            "must be 2-64 lower-case letters, digits and '-'",
        )
        v.check(
            d.event_type in cat.EVENT_TYPES,
            "notification_template.event_type",
            f"must be one of {', '.join(sorted(cat.EVENT_TYPES))}",
        )
        v.check(d.channel in cat.CHANNELS, "notification_template.channel", "is required")
        check_content(d, v)
        v.raise_if_any()
        now = utcnow()
        category = d.category or cat.category_of(d.event_type)
        with on_conflict(
            AlreadyExists(f"a template for {d.event_type} on {d.channel} or with this id exists")
        ):
            async with self.db.transaction() as s:
                clash = await s.scalar(
                    select(Template.id).where(
                        (Template.id == template_id)
                        | ((Template.event_type == d.event_type) & (Template.channel == d.channel))
                    )
                )
                if clash:
                    raise AlreadyExists(
                        f"notificationTemplates/{clash} already covers this id or "
                        f"{d.event_type} on {d.channel}"
                    )
                t = Template(
                    id=template_id,
                    event_type=d.event_type,
                    channel=d.channel,
                    category=category,
                    display_name=d.display_name,
                    active=d.active,
                    version=1,
                    create_time=now,
                    update_time=now,
                )
                s.add(t)
                await s.flush()
                ver = TemplateVersion(
                    template_id=template_id,
                    version=1,
                    subject=d.subject,
                    text_body=d.text_body,
                    html_body=d.html_body,
                    provider_template_id=d.provider_template_id,
                    author=actor(),
                    create_time=now,
                )
                s.add(ver)
        self.on_change()
        return TemplateView(t, ver)

    async def update(self, name: str, d: TemplateDraft, paths: Sequence[str]) -> TemplateView:
        v = Violations()
        fields = check_update_mask(paths, UPDATABLE, v)
        if not fields and not v:
            v.add("update_mask", "names no field")
        v.raise_if_any()
        async with self.db.transaction() as s:
            view = await self._get(s, name)
            t, cur = view.template, view.version
            if t is None:
                raise NotFound(name)
            merged = TemplateDraft(
                event_type=t.event_type,
                channel=t.channel,
                subject=d.subject if "subject" in fields else cur.subject,
                text_body=d.text_body if "text_body" in fields else cur.text_body,
                html_body=d.html_body if "html_body" in fields else cur.html_body,
                provider_template_id=d.provider_template_id
                if "provider_template_id" in fields
                else cur.provider_template_id,
            )
            check_content(merged, v)
            if "category" in fields and d.category not in (cat.TRANSACTIONAL, cat.MARKETING):
                v.add("notification_template.category", "must be TRANSACTIONAL or MARKETING")
            v.raise_if_any()
            now = utcnow()
            if "display_name" in fields:
                t.display_name = d.display_name
            if "category" in fields:
                t.category = d.category
            if "active" in fields:
                t.active = d.active
            changed = any(
                getattr(merged, f) != getattr(cur, f) for f in CONTENT_FIELDS if f in fields
            )
            if changed:
                cur = TemplateVersion(
                    template_id=t.id,
                    version=t.version + 1,
                    subject=merged.subject,
                    text_body=merged.text_body,
                    html_body=merged.html_body,
                    provider_template_id=merged.provider_template_id,
                    author=actor(),
                    create_time=now,
                )
                s.add(cur)
                t.version += 1
            t.update_time = now
        self.on_change()
        return TemplateView(t, cur)

    async def delete(self, name: str) -> None:
        async with self.db.transaction() as s:
            view = await self._get(s, name)
            await s.execute(
                delete(TemplateVersion).where(TemplateVersion.template_id == view.template.id)
            )
            await s.delete(view.template)
        self.on_change()

    async def preview(
        self, name: str, data: dict[str, Any], draft: TemplateDraft | None
    ) -> tuple[tpl.Content, int]:
        view = await self.get(name)
        t = view.template
        sample = (
            dict(cat.EVENT_TYPES[t.event_type].sample) if t.event_type in cat.EVENT_TYPES else {}
        )
        values = {**sample, **data}
        if draft is not None:
            v = Violations()
            check_content(
                TemplateDraft(
                    channel=t.channel,
                    subject=draft.subject,
                    text_body=draft.text_body,
                    html_body=draft.html_body,
                ),
                v,
                prefix="draft.",
            )
            v.raise_if_any()
            source = (draft.subject, draft.text_body, draft.html_body)
            version = 0
        else:
            source = (view.version.subject, view.version.text_body, view.version.html_body)
            version = view.version.version
        try:
            return tpl.render(*source, values), version
        except tpl.RenderError as exc:
            raise FailedPrecondition(
                f"the template does not render: {exc}", reason=TEMPLATE_ERROR
            ) from None


@dataclass(frozen=True)
class NotificationFilter:
    status: str = ""
    channel: str = ""
    recipient: str = ""
    event_type: str = ""


class NotificationHandlers:
    def __init__(self, db: Database, notifier: Notifier) -> None:
        self.db = db
        self.notifier = notifier

    async def get(self, name: str) -> Notification:
        nid = require_name(name, "notifications")
        async with self.db.session() as s:
            n = await s.get(Notification, nid)
        if n is None:
            raise NotFound(f"{name} does not exist")
        return n

    async def list(
        self, page_size: int, page_token: str, f: NotificationFilter
    ) -> tuple[list[Notification], str]:
        filters = f.__dict__
        after = page_after(page_token, filters)
        q = select(Notification).order_by(Notification.id.desc()).limit(page_size + 1)
        if after:
            q = q.where(Notification.id < after)
        if f.status:
            q = q.where(Notification.status == f.status)
        if f.channel:
            q = q.where(Notification.channel == f.channel)
        if f.recipient:
            q = q.where(Notification.recipient == f.recipient)
        if f.event_type:
            q = q.where(Notification.event_type == f.event_type)
        async with self.db.session() as s:
            rows = list((await s.scalars(q)).all())
        return rows[:page_size], next_page_token(rows, page_size, filters)

    async def retry(self, name: str) -> Notification:
        nid = require_name(name, "notifications")
        async with self.db.transaction() as s:
            n = await s.get(Notification, nid, with_for_update=True)
            if n is None:
                raise NotFound(f"{name} does not exist")
            if n.status not in (DEAD_LETTER, RETRYING, PENDING):
                raise FailedPrecondition(
                    f"{name} is {n.status.lower()}: only dead-lettered or retrying "
                    "notifications are retried",
                    reason="NOT_RETRYABLE",
                )
            if n.sensitive and not n.text_body:
                raise FailedPrecondition(
                    "login codes are not resent: the customer asks for a new one",
                    reason="NOT_RETRYABLE",
                )
            if n.last_error.startswith(TEMPLATE_ERROR) or not n.text_body:
                await self._rerender(s, n)
            n.status = PENDING
            n.attempts = 0
            n.next_attempt_at = utcnow()
            n.update_time = utcnow()
        self.notifier.poke()
        return n

    async def _rerender(self, s: Any, n: Notification) -> None:
        t = await s.get(Template, n.template_id)
        if t is None:
            raise FailedPrecondition(f"its template {n.template_id} was deleted")
        ver = await current_version(s, t)
        if ver is None:
            raise FailedPrecondition(f"template {t.id} has no current version")
        try:
            content = render_version(ver, json.loads(n.context_json or "{}"))
        except tpl.RenderError as exc:
            raise FailedPrecondition(
                f"the template still does not render: {exc}", reason=TEMPLATE_ERROR
            ) from None
        n.subject, n.text_body, n.html_body = content.subject, content.text_body, content.html_body
        n.template_version = ver.version
        n.provider_template_id = ver.provider_template_id
        n.last_error = ""


class PreferenceHandlers:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: str) -> Preferences:
        async with self.db.session() as s:
            p = await s.get(Preferences, user_id)
        return p or Preferences(
            user_id=user_id, email_marketing=True, sms_marketing=True, update_time=None
        )

    async def update(
        self, user_id: str, email_marketing: bool, sms_marketing: bool, paths: Sequence[str]
    ) -> Preferences:
        v = Violations()
        fields = check_update_mask(paths, ("email_marketing", "sms_marketing"), v)
        if not fields and not v:
            v.add("update_mask", "names no field")
        v.raise_if_any()
        async with self.db.transaction() as s:
            p = await s.get(Preferences, user_id, with_for_update=True)
            if p is None:
                p = Preferences(user_id=user_id, email_marketing=True, sms_marketing=True)
                s.add(p)
            if "email_marketing" in fields:
                p.email_marketing = email_marketing
            if "sms_marketing" in fields:
                p.sms_marketing = sms_marketing
            p.update_time = utcnow()
        return p


class OtpHandlers:
    def __init__(self, db: Database, notifier: Notifier) -> None:
        self.db = db
        self.notifier = notifier

    async def send(
        self, request_id: str, phone: str, code: str, expire_time: datetime | None
    ) -> Notification:
        v = Violations()
        v.check(len(request_id) <= 100, "request_id", "must be at most 100 characters")
        v.check(bool(PHONE.fullmatch(phone)), "phone", "must be an Indian mobile, +91XXXXXXXXXX")
        v.check(code.isascii() and code.isdigit() and 4 <= len(code) <= 8, "code", "4-8 digits")
        v.raise_if_any()
        minutes = 5
        if expire_time is not None:
            minutes = max(1, round((expire_time - utcnow()).total_seconds() / 60))
        event_id = f"otp:{request_id}"
        async with self.db.transaction() as s:
            ids = await self.notifier.enqueue(
                s,
                Trigger(
                    event_id,
                    cat.OTP,
                    {"code": code, "minutes": minutes},
                    [Recipient(phone=phone)],
                    sensitive=True,
                    channels=(cat.SMS,),
                ),
            )
            if not ids:
                raise FailedPrecondition(
                    "no active SMS template for login codes", reason="NO_TEMPLATE"
                )
            n = await s.get(Notification, ids[0])
        assert n is not None
        return n
