"""The engagement service's notification tables. The schema changes only through
migrations/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mesh.db import UTCDateTime, new_id, utcnow
from mesh.events import processed_events_table

ID = String(32)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Events this service has handled (mesh.events.EventSink deduplicates on them).
PROCESSED_EVENTS = processed_events_table(Base.metadata)


class Template(Base):
    """A template's identity and current version (notification_templates)."""

    __tablename__ = "notification_templates"
    __table_args__ = (
        UniqueConstraint("event_type", "channel", name="uq_notification_templates_event_channel"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))  # EMAIL | SMS
    category: Mapped[str] = mapped_column(String(16))  # TRANSACTIONAL | MARKETING
    display_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"notificationTemplates/{self.id}"


class TemplateVersion(Base):
    """The content of one version of a template; versions are never edited."""

    __tablename__ = "notification_template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "version", name="uq_notification_template_versions"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    template_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("notification_templates.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text, default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    provider_template_id: Mapped[str] = mapped_column(String(64), default="")
    author: Mapped[str] = mapped_column(String(64), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """One message to one recipient on one channel for one event (notifications)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "channel", "recipient_key", name="uq_notifications_event_channel_recipient"
        ),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_recipient", "recipient", "id"),
        Index("ix_notifications_event_type", "event_type", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(16))
    # The address, or "" until resolved from `user` at send time.
    recipient: Mapped[str] = mapped_column(String(254), default="")
    # What makes the row unique per event and channel: the address, else the user.
    recipient_key: Mapped[str] = mapped_column(String(254))
    user: Mapped[str] = mapped_column(String(64), default="")
    template_id: Mapped[str] = mapped_column(String(64), default="")
    template_version: Mapped[int] = mapped_column(Integer, default=0)
    # The variables the template was rendered with (JSON), for a re-render.
    context_json: Mapped[str] = mapped_column(Text, default="{}")
    subject: Mapped[str] = mapped_column(Text, default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    provider_template_id: Mapped[str] = mapped_column(String(64), default="")
    # Content wiped once sent or dead-lettered (login codes).
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider_message_id: Mapped[str] = mapped_column(String(255), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def name(self) -> str:
        return f"notifications/{self.id}"


class Preferences(Base):
    """A customer's marketing opt-outs per channel (no row: opted in)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email_marketing: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_marketing: Mapped[bool] = mapped_column(Boolean, default=True)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CartReminder(Base):
    """Abandoned-cart reminders sent for one cart, and whether the cart is done."""

    __tablename__ = "cart_reminders"

    cart: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when an order was placed by the cart's customer: no reminder after that.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # order.placed closes the customer's open reminders by user or by e-mail.
    __table_args__ = tuple(
        Index(
            f"ix_cart_reminders_open_{column}",
            column,
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        )
        for column in ("user", "email")
    )


class PlacedOrder(Base):
    """The last order each customer (user or e-mail) placed, from order.placed."""

    __tablename__ = "customer_last_orders"

    customer_key: Mapped[str] = mapped_column(String(254), primary_key=True)
    last_order_at: Mapped[datetime] = mapped_column(UTCDateTime)
