"""The gRPC face of notifications: protos in, handler calls, protos out.

The contract interceptor (mesh.interceptors) has already authenticated the caller,
enforced each RPC's access policy, checked REQUIRED fields and clamped page_size.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format

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
from mesh import context as call_context
from mesh.timestamps import ts
from services.engagement.handlers import (
    NotificationFilter,
    NotificationHandlers,
    OtpHandlers,
    PreferenceHandlers,
    TemplateDraft,
    TemplateHandlers,
    TemplateView,
)
from services.engagement.models import Notification, Preferences

Ctx = grpc.aio.ServicerContext


def _enum_name(enum: Any, prefix: str, value: int) -> str:
    return enum.Name(value).removeprefix(prefix) if value else ""


def channel_of(value: int) -> str:
    return _enum_name(pb.Channel, "CHANNEL_", value)


def template_pb(v: TemplateView) -> pb.NotificationTemplate:
    t, ver = v.template, v.version
    return pb.NotificationTemplate(
        name=t.name,
        event_type=t.event_type,
        channel=pb.Channel.Value(f"CHANNEL_{t.channel}"),
        category=pb.NotificationCategory.Value(f"NOTIFICATION_CATEGORY_{t.category}"),
        display_name=t.display_name,
        subject=ver.subject,
        text_body=ver.text_body,
        html_body=ver.html_body,
        provider_template_id=ver.provider_template_id,
        active=t.active,
        version=ver.version,
        create_time=ts(t.create_time),
        update_time=ts(ver.create_time),
        updated_by=ver.author,
    )


def notification_pb(n: Notification) -> pb.Notification:
    return pb.Notification(
        name=n.name,
        event_id=n.event_id,
        event_type=n.event_type,
        channel=pb.Channel.Value(f"CHANNEL_{n.channel}"),
        category=pb.NotificationCategory.Value(f"NOTIFICATION_CATEGORY_{n.category}"),
        recipient=n.recipient,
        user=n.user,
        template=f"notificationTemplates/{n.template_id}" if n.template_id else "",
        template_version=n.template_version,
        subject=n.subject,
        status=pb.NotificationStatus.Value(f"NOTIFICATION_STATUS_{n.status}"),
        attempts=n.attempts,
        last_error=n.last_error,
        provider_message_id=n.provider_message_id,
        next_attempt_time=ts(n.next_attempt_at),
        create_time=ts(n.create_time),
        update_time=ts(n.update_time),
        sent_time=ts(n.sent_time),
    )


def preferences_pb(p: Preferences) -> pb.NotificationPreferences:
    return pb.NotificationPreferences(
        name=f"users/{p.user_id}/notificationPreferences",
        email_marketing=p.email_marketing,
        sms_marketing=p.sms_marketing,
        update_time=ts(p.update_time),
    )


def draft_of(t: pb.NotificationTemplate) -> TemplateDraft:
    return TemplateDraft(
        event_type=t.event_type,
        channel=channel_of(t.channel),
        category=_enum_name(pb.NotificationCategory, "NOTIFICATION_CATEGORY_", t.category),
        display_name=t.display_name,
        subject=t.subject,
        text_body=t.text_body,
        html_body=t.html_body,
        provider_template_id=t.provider_template_id,
        active=t.active,
    )


class NotificationAdminService(admin_grpc.NotificationAdminServiceServicer):
    def __init__(self, templates: TemplateHandlers, notifications: NotificationHandlers) -> None:
        self.templates = templates
        self.notifications = notifications

    async def ListNotificationTemplates(self, request: Any, context: Ctx) -> Any:
        rows, token = await self.templates.list(
            request.page_size, request.page_token, request.event_type, channel_of(request.channel)
        )
        return admin_pb2.ListNotificationTemplatesResponse(
            notification_templates=[template_pb(v) for v in rows], next_page_token=token
        )

    async def GetNotificationTemplate(self, request: Any, context: Ctx) -> Any:
        return template_pb(await self.templates.get(request.name, request.version))

    async def ListNotificationTemplateVersions(self, request: Any, context: Ctx) -> Any:
        rows = await self.templates.versions(request.name)
        return admin_pb2.ListNotificationTemplateVersionsResponse(
            versions=[template_pb(v) for v in rows]
        )

    async def CreateNotificationTemplate(self, request: Any, context: Ctx) -> Any:
        # A new template is active; deactivate one with UpdateNotificationTemplate.
        draft = replace(draft_of(request.notification_template), active=True)
        return template_pb(await self.templates.create(request.notification_template_id, draft))

    async def UpdateNotificationTemplate(self, request: Any, context: Ctx) -> Any:
        t = request.notification_template
        return template_pb(
            await self.templates.update(t.name, draft_of(t), list(request.update_mask.paths))
        )

    async def DeleteNotificationTemplate(self, request: Any, context: Ctx) -> Any:
        await self.templates.delete(request.name)
        return empty_pb2.Empty()

    async def PreviewNotificationTemplate(self, request: Any, context: Ctx) -> Any:
        data = json_format.MessageToDict(request.data) if request.HasField("data") else {}
        draft = draft_of(request.draft) if request.HasField("draft") else None
        content, version = await self.templates.preview(request.name, data, draft)
        return admin_pb2.PreviewNotificationTemplateResponse(
            subject=content.subject,
            text_body=content.text_body,
            html_body=content.html_body,
            version=version,
        )

    async def ListNotifications(self, request: Any, context: Ctx) -> Any:
        f = NotificationFilter(
            status=_enum_name(pb.NotificationStatus, "NOTIFICATION_STATUS_", request.status),
            channel=channel_of(request.channel),
            recipient=request.recipient,
            event_type=request.event_type,
        )
        rows, token = await self.notifications.list(request.page_size, request.page_token, f)
        return admin_pb2.ListNotificationsResponse(
            notifications=[notification_pb(n) for n in rows], next_page_token=token
        )

    async def GetNotification(self, request: Any, context: Ctx) -> Any:
        return notification_pb(await self.notifications.get(request.name))

    async def RetryNotification(self, request: Any, context: Ctx) -> Any:
        return notification_pb(await self.notifications.retry(request.name))


class NotificationPreferencesService(prefs_grpc.NotificationPreferencesServiceServicer):
    def __init__(self, prefs: PreferenceHandlers) -> None:
        self.prefs = prefs

    async def GetNotificationPreferences(self, request: Any, context: Ctx) -> Any:
        return preferences_pb(await self.prefs.get(call_context.identity().subject_id))

    async def UpdateNotificationPreferences(self, request: Any, context: Ctx) -> Any:
        p = request.notification_preferences
        return preferences_pb(
            await self.prefs.update(
                call_context.identity().subject_id,
                p.email_marketing,
                p.sms_marketing,
                list(request.update_mask.paths),
            )
        )


class NotificationInternalService(internal_grpc.NotificationInternalServiceServicer):
    def __init__(self, otp: OtpHandlers) -> None:
        self.otp = otp

    async def SendOtp(self, request: Any, context: Ctx) -> Any:
        expire = (
            request.expire_time.ToDatetime(tzinfo=UTC) if request.HasField("expire_time") else None
        )
        return notification_pb(
            await self.otp.send(request.request_id, request.phone, request.code, expire)
        )
