"""The settings service's tables. The schema changes only through migrations/.

Money is stored as integer paise (`*_minor`); rates as basis points.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mesh.db import UTCDateTime, new_id, utcnow
from mesh.events import processed_events_table
from mesh.outbox import outbox_table

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


OUTBOX = outbox_table(Base.metadata)
PROCESSED_EVENTS = processed_events_table(Base.metadata)


class Setting(Base):
    """One store setting (the seed's `settings` table): key -> JSON value."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_by: Mapped[str] = mapped_column(String(64), default="")


class TaxRateRule(Base):
    """A GST rate for one key ("hsn:3304" or "class:apparel") from a date on."""

    __tablename__ = "tax_rates"
    __table_args__ = (
        UniqueConstraint("rule_key", "effective_from", name="uq_tax_rates_key_effective_from"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    rule_key: Mapped[str] = mapped_column(String(48), index=True)
    hsn_prefix: Mapped[str] = mapped_column(String(8), default="")
    tax_class: Mapped[str] = mapped_column(String(32), default="")
    # [{"up_to_minor": int (0 = no bound), "rate_bp": int}, ...] in order.
    slabs: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(String(200), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"taxRates/{self.id}"


class PaymentMethodConfig(Base):
    __tablename__ = "payment_methods_config"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    provider: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    min_order_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    max_order_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    description: Mapped[str] = mapped_column(String(300), default="")
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"paymentMethods/{self.code}"


class CustomerSegment(Base):
    __tablename__ = "customer_segments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    # services.settings.domain.segments.Rules as JSON.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"customerSegments/{self.id}"


class CustomerProfile(Base):
    """Per-customer facts for segments: fed by order events, tags set by admins."""

    __tablename__ = "customer_profiles"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    total_spend_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    state_code: Mapped[str] = mapped_column(String(2), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnalyticsEvent(Base):
    """One storefront event as ingested. Reports aggregate over (day, type) ranges."""

    __tablename__ = "analytics_events"
    __table_args__ = (
        Index("ix_analytics_events_day_type_session", "day", "event_type", "session_id"),
        Index("ix_analytics_events_day_type_product", "day", "event_type", "product_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    event_type: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    session_id: Mapped[str] = mapped_column(String(64))
    anonymous_id: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[str] = mapped_column(String(64), default="")
    product_id: Mapped[str] = mapped_column(String(64), default="")
    properties: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
