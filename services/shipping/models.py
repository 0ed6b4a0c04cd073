"""The shipping service's tables. The schema changes only through migrations/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mesh.db import UTCDateTime, new_id, utcnow
from mesh.events import processed_events_table
from mesh.outbox import outbox_table

ID = String(32)
SLUG = String(32)

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
PROCESSED = processed_events_table(Base.metadata)


class Zone(Base):
    __tablename__ = "shipping_zones"

    id: Mapped[str] = mapped_column(SLUG, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    state_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    pincode_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [[start, end], ...] inclusive.
    pincode_ranges: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"zones/{self.id}"


class Carrier(Base):
    __tablename__ = "carriers"

    id: Mapped[str] = mapped_column(SLUG, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # MANUAL | AGGREGATOR
    tracking_url_template: Mapped[str] = mapped_column(String(300), default="")
    # Fernet token of the webhook secret (services/shipping/secrets.py), "" if none.
    webhook_secret_encrypted: Mapped[str] = mapped_column(String(500), default="")
    test_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"carriers/{self.id}"


class Method(Base):
    __tablename__ = "shipping_methods"
    __table_args__ = (UniqueConstraint("zone_id", "kind", name="uq_shipping_methods_zone_kind"),)

    id: Mapped[str] = mapped_column(SLUG, primary_key=True)
    zone_id: Mapped[str] = mapped_column(SLUG, ForeignKey("shipping_zones.id"))
    kind: Mapped[str] = mapped_column(String(16))  # STANDARD | EXPRESS
    display_name: Mapped[str] = mapped_column(String(100))
    # [[max_weight_grams, rate_minor], ...] ascending.
    slabs: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    extra_per_500g_minor: Mapped[int] = mapped_column(Integer, default=0)
    free_shipping_threshold_minor: Mapped[int] = mapped_column(Integer, default=0)
    cod_available: Mapped[bool] = mapped_column(Boolean, default=True)
    cod_fee_minor: Mapped[int] = mapped_column(Integer, default=0)
    cod_max_order_value_minor: Mapped[int] = mapped_column(Integer, default=0)
    estimated_days: Mapped[int] = mapped_column(Integer, default=5)
    carrier_id: Mapped[str] = mapped_column(SLUG, ForeignKey("carriers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"methods/{self.id}"


class ConfigVersion(Base):
    """One row (id 1): every admin change to zones, carriers, methods or PINs adds one
    to `version` in its own transaction, so each process's in-memory copy of them
    (services/shipping/cache.py) notices the change."""

    __tablename__ = "shipping_config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Serviceability(Base):
    __tablename__ = "pincode_serviceability"

    pincode: Mapped[str] = mapped_column(String(6), primary_key=True)
    state_code: Mapped[str] = mapped_column(String(2))
    serviceable: Mapped[bool] = mapped_column(Boolean, default=True)
    cod_available: Mapped[bool] = mapped_column(Boolean, default=True)
    estimated_days: Mapped[int] = mapped_column(Integer, default=0)
    carrier_id: Mapped[str | None] = mapped_column(SLUG, ForeignKey("carriers.id"), nullable=True)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"pincodes/{self.pincode}"


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        Index("ix_shipments_order", "order_id", "id"),
        Index("ix_shipments_awb_pending", "awb", "carrier_id"),
        UniqueConstraint("carrier_id", "awb", name="uq_shipments_carrier_awb"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # Idempotency: an admin's request id, "order:<event id>:<warehouse>" for the
    # order.placed consumer, the order service's id for return pickups.
    request_id: Mapped[str] = mapped_column(String(160), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str] = mapped_column(String(40), default="")
    direction: Mapped[str] = mapped_column(String(8))  # FORWARD | RETURN
    return_request: Mapped[str] = mapped_column(String(160), default="")
    warehouse_id: Mapped[str] = mapped_column(String(32))
    carrier_id: Mapped[str] = mapped_column(SLUG, ForeignKey("carriers.id"))
    method_kind: Mapped[str] = mapped_column(String(16), default="STANDARD")
    # NULL until the carrier (or an admin) gives one: NULLs never collide in the
    # (carrier, awb) unique constraint.
    awb: Mapped[str | None] = mapped_column(String(40), nullable=True)
    carrier_shipment_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(24))
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email: Mapped[str] = mapped_column(String(254), default="")
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    cod_amount_minor: Mapped[int] = mapped_column(Integer, default=0)
    label_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Booking with an aggregator failed this many times (the booker retries).
    booking_attempts: Mapped[int] = mapped_column(Integer, default=0)
    booking_error: Mapped[str] = mapped_column(String(500), default="")
    # What the parcel is (items, address, weight, COD amount, carrier) changed this many
    # times (order edits): a booking made from another version is not recorded.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A booker's claim while it calls the carrier, so only one booking call is in
    # flight per shipment across replicas (handlers/shipments.py `_CLAIM`): its token
    # and until when it holds; NULL when nobody is booking. A lapsed lease (the booker
    # died) is taken over by the sweep.
    booking_claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    booking_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"shipments/{self.id}"


class ShipmentItem(Base):
    __tablename__ = "shipment_items"
    __table_args__ = (Index("ix_shipment_items_shipment", "shipment_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    shipment_id: Mapped[str] = mapped_column(ID, ForeignKey("shipments.id"))
    variant_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_weight_grams: Mapped[int] = mapped_column(Integer, default=0)


class StatusChange(Base):
    """A shipment's status timeline; carrier events are unique per carrier."""

    __tablename__ = "shipment_status_history"
    __table_args__ = (
        Index("ix_shipment_status_history_shipment", "shipment_id", "id"),
        UniqueConstraint(
            "carrier_id", "carrier_event_id", name="uq_shipment_status_history_carrier_event"
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    shipment_id: Mapped[str] = mapped_column(ID, ForeignKey("shipments.id"))
    from_status: Mapped[str] = mapped_column(String(24), default="")
    to_status: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(500), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    # Set for webhook updates; NULL otherwise.
    carrier_id: Mapped[str | None] = mapped_column(SLUG, nullable=True)
    carrier_event_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # False for a carrier event that could not be applied (late/out-of-order scan).
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
