"""The pricing service's tables. The schema changes only through migrations/.

Promotion rules are documents: each row keeps the admin's resource (the proto's
JSON form) in `spec`, and as columns only what queries, constraints and counters
need. Pricing reads rules whole, so nothing queries inside a spec.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mesh.db import UTCDateTime, new_id, utcnow
from mesh.events import processed_events_table

ID = String(32)
SETTINGS_ID = "default"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class RuleColumns:
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Coupon(RuleColumns, Base):
    __tablename__ = "coupons"

    # Upper-cased code: unique ignoring case.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    usage_limit: Mapped[int] = mapped_column(Integer, default=0)
    per_customer_limit: Mapped[int] = mapped_column(Integer, default=0)
    # Uses held or committed now (the guarded counter), and committed ones.
    times_reserved: Mapped[int] = mapped_column(Integer, default=0)
    times_used: Mapped[int] = mapped_column(Integer, default=0)


class CustomerCouponUse(Base):
    """Per-customer uses of a coupon (held + committed): the per-customer limit's counter."""

    __tablename__ = "coupon_customer_uses"

    coupon_id: Mapped[str] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class AutomaticDiscount(RuleColumns, Base):
    __tablename__ = "automatic_discounts"


class TierDiscount(RuleColumns, Base):
    __tablename__ = "tier_discounts"


class FreeGiftRule(RuleColumns, Base):
    __tablename__ = "free_gift_rules"


class CouponHold(Base):
    """One checkout's coupon uses (coupon_usages in the seed): HELD -> COMMITTED, or
    RELEASED / EXPIRED with the uses given back."""

    __tablename__ = "coupon_holds"
    __table_args__ = (
        Index("ix_coupon_holds_state_expire", "state", "expire_time"),
        Index("ix_coupon_holds_customer_state", "customer_id", "state"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16))
    codes: Mapped[list] = mapped_column(JSON, default=list)
    coupon_ids: Mapped[list] = mapped_column(JSON, default=list)
    # The PriceBreakdown proto the hold was taken at.
    breakdown: Mapped[bytes] = mapped_column(LargeBinary)
    expire_time: Mapped[datetime] = mapped_column(UTCDateTime)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"couponHolds/{self.id}"


class PricingSettingsRow(Base):
    """Pricing's admin-editable settings: one row, id "default" (migration 0003 creates
    it). A NULL value means "the process default" (the environment's, at start-up)."""

    __tablename__ = "pricing_settings"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=SETTINGS_ID)
    stacking_cap_bp: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    update_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# Events this service has handled (mesh.events.EventSink deduplicates on them).
PROCESSED_EVENTS = processed_events_table(Base.metadata)
