"""Wiring: the engagement service's database, senders, dispatcher, event sink,
abandoned-cart scheduler and servicers (notifications part)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cleanse.common.v1 import events_pb2_grpc
from cleanse.engagement.v1 import (
    notification_admin_service_pb2_grpc,
    notification_internal_service_pb2_grpc,
    notification_preferences_service_pb2_grpc,
)
from mesh.db import Database, utcnow
from mesh.events import EventSink
from mesh.identity import JwksSource
from mesh.server import ServiceApp
from services.engagement.carts import CartReminders, CartSource, cart_source
from services.engagement.channels.email import EmailSender, SmtpConfig, SmtpEmailSender
from services.engagement.channels.sms import (
    LogSmsProvider,
    Msg91Config,
    Msg91SmsProvider,
    SmsProvider,
)
from services.engagement.config import Settings
from services.engagement.contacts import AuthDirectory, ContactDirectory
from services.engagement.handlers import (
    NotificationHandlers,
    OtpHandlers,
    PreferenceHandlers,
    TemplateHandlers,
)
from services.engagement.models import PROCESSED_EVENTS
from services.engagement.notifier import Notifier
from services.engagement.seed import seed_templates
from services.engagement.servicer import (
    NotificationAdminService,
    NotificationInternalService,
    NotificationPreferencesService,
)
from services.engagement.sink import EngagementEventSink, Handlers

SERVICE = "engagement"


@dataclass
class EngagementApp:
    app: ServiceApp
    db: Database
    settings: Settings
    notifier: Notifier
    sink: EventSink
    carts: CartReminders
    templates: TemplateHandlers
    notifications: NotificationHandlers


def sms_provider(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "msg91":
        return Msg91SmsProvider(Msg91Config.from_env())
    return LogSmsProvider()


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    email: EmailSender | None = None,
    sms: SmsProvider | None = None,
    contacts: ContactDirectory | None = None,
    carts: CartSource | None = None,
    clock: Callable[[], datetime] = utcnow,
    jwks_source: JwksSource | None = None,
    background: bool = True,
) -> EngagementApp:
    """`background=False` leaves the dispatcher and cart scheduler stopped (tests
    drive `notifier.dispatch_once()` and `carts.scan_once()` themselves)."""
    settings = settings or Settings.from_env()
    app = ServiceApp(SERVICE, readiness=db.ready, jwks_source=jwks_source)
    email = email or SmtpEmailSender(SmtpConfig.from_registry(settings))
    sms = sms or sms_provider(settings)
    notifier = Notifier(db, settings, email, sms, contacts or AuthDirectory(), clock)
    sink = EngagementEventSink(db, PROCESSED_EVENTS, notifier)
    Handlers(notifier).register(sink)
    # Abandoned carts from the order service (CLEANSE_ENGAGEMENT_CART_SOURCE=order,
    # the default) or none; tests pass their own.
    reminders = CartReminders(notifier, carts or cart_source(settings.cart_source), clock)
    templates = TemplateHandlers(db, on_change=notifier.templates_changed)
    notifications = NotificationHandlers(db, notifier)
    app.add(
        notification_admin_service_pb2_grpc.add_NotificationAdminServiceServicer_to_server,
        NotificationAdminService(templates, notifications),
    )
    app.add(
        notification_preferences_service_pb2_grpc.add_NotificationPreferencesServiceServicer_to_server,
        NotificationPreferencesService(PreferenceHandlers(db)),
    )
    app.add(
        notification_internal_service_pb2_grpc.add_NotificationInternalServiceServicer_to_server,
        NotificationInternalService(OtpHandlers(db, notifier)),
    )
    app.add(events_pb2_grpc.add_EventSinkServiceServicer_to_server, sink)

    async def startup() -> None:
        await db.migrate()
        if settings.seed_templates:
            await seed_templates(db)
        if background:
            await notifier.start()
            await reminders.start()

    async def shutdown() -> None:
        await reminders.stop()
        await notifier.stop()
        await sms.close()
        close_email = getattr(email, "close", None)
        if close_email is not None:
            await close_email()
        await db.dispose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    return EngagementApp(app, db, settings, notifier, sink, reminders, templates, notifications)
