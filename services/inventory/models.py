"""The inventory service's tables. The schema changes only through migrations/.

Stock rows carry CHECK constraints as the last line of defence: on hand, reserved,
backordered and in transit never go below zero and reserved never exceeds on hand.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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
from mesh.outbox import outbox_table

ID = String(32)
VARIANT = String(64)
WAREHOUSE = String(32)

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


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[str] = mapped_column(WAREHOUSE, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    recipient_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(16), default="")
    line1: Mapped[str] = mapped_column(String(200), default="")
    line2: Mapped[str] = mapped_column(String(200), default="")
    landmark: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state_code: Mapped[str] = mapped_column(String(2))
    pincode: Mapped[str] = mapped_column(String(6))
    country_code: Mapped[str] = mapped_column(String(2), default="IN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"warehouses/{self.id}"


class Stock(Base):
    """Stock of one variant in one warehouse (the seed's `inventory` table)."""

    __tablename__ = "inventory"
    __table_args__ = (
        UniqueConstraint("variant_id", "warehouse_id", name="uq_inventory_variant_warehouse"),
        Index("ix_inventory_warehouse_id_variant_id", "warehouse_id", "variant_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("backordered >= 0", name="backordered_not_negative"),
        CheckConstraint("in_transit >= 0", name="in_transit_not_negative"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    variant_id: Mapped[str] = mapped_column(VARIANT)
    warehouse_id: Mapped[str] = mapped_column(WAREHOUSE, ForeignKey("warehouses.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    reorder_point: Mapped[int] = mapped_column(Integer, default=0)
    backorder_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    backorder_limit: Mapped[int] = mapped_column(Integer, default=0)
    backordered: Mapped[int] = mapped_column(Integer, default=0)
    in_transit: Mapped[int] = mapped_column(Integer, default=0)
    # A low-stock event was written for the current dip below the reorder point.
    low_stock_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"warehouses/{self.warehouse_id}/stockLevels/{self.variant_id}"


class Reservation(Base):
    __tablename__ = "inventory_reservations"
    __table_args__ = (Index("ix_inventory_reservations_state_expire", "state", "expire_time"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    # sha256 of the canonical request: same request id + other body = mismatch.
    body_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    delivery_pincode: Mapped[str] = mapped_column(String(6), default="")
    delivery_state_code: Mapped[str] = mapped_column(String(2), default="")
    expire_time: Mapped[datetime] = mapped_column(UTCDateTime)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"reservations/{self.id}"


class ReservationLine(Base):
    """Units of one variant a reservation holds (or, committed, took) in one warehouse.
    `restocked_quantity`: how many of them returns put back against the reservation
    (RestockReturn), never more than it took."""

    __tablename__ = "inventory_reservation_lines"
    __table_args__ = (
        Index("ix_inventory_reservation_lines_reservation", "reservation_id"),
        CheckConstraint(
            "restocked_quantity >= 0 AND restocked_quantity <= quantity",
            name="restocked_within_quantity",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    reservation_id: Mapped[str] = mapped_column(ID, ForeignKey("inventory_reservations.id"))
    variant_id: Mapped[str] = mapped_column(VARIANT)
    warehouse_id: Mapped[str] = mapped_column(WAREHOUSE, ForeignKey("warehouses.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    backordered_quantity: Mapped[int] = mapped_column(Integer, default=0)
    restocked_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Backorder(Base):
    __tablename__ = "backorders"
    __table_args__ = (
        Index("ix_backorders_open", "variant_id", "warehouse_id", "state", "id"),
        Index("ix_backorders_reservation", "reservation_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    reservation_id: Mapped[str] = mapped_column(ID, ForeignKey("inventory_reservations.id"))
    variant_id: Mapped[str] = mapped_column(VARIANT)
    warehouse_id: Mapped[str] = mapped_column(WAREHOUSE, ForeignKey("warehouses.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    allocated_quantity: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Adjustment(Base):
    __tablename__ = "inventory_adjustments"
    __table_args__ = (
        Index("ix_inventory_adjustments_variant", "variant_id", "id"),
        Index("ix_inventory_adjustments_warehouse", "warehouse_id", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    warehouse_id: Mapped[str] = mapped_column(WAREHOUSE, ForeignKey("warehouses.id"))
    variant_id: Mapped[str] = mapped_column(VARIANT)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(64), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"adjustments/{self.id}"


class Transfer(Base):
    __tablename__ = "stock_transfers"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    source_warehouse_id: Mapped[str] = mapped_column(WAREHOUSE, ForeignKey("warehouses.id"))
    destination_warehouse_id: Mapped[str] = mapped_column(WAREHOUSE, ForeignKey("warehouses.id"))
    state: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(String(500), default="")
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatch_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    receive_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def name(self) -> str:
        return f"transfers/{self.id}"


class TransferLine(Base):
    __tablename__ = "stock_transfer_lines"
    __table_args__ = (Index("ix_stock_transfer_lines_transfer", "transfer_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    transfer_id: Mapped[str] = mapped_column(ID, ForeignKey("stock_transfers.id"))
    variant_id: Mapped[str] = mapped_column(VARIANT)
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)
    written_off_quantity: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(Base):
    """First responses of retryable RPCs without their own request-id column."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[bytes] = mapped_column(LargeBinary)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
