"""The order service's tables. The schema changes only through migrations/.

Statuses are stored as the proto enum value names without their prefix
("PENDING_PAYMENT"); money as integer paise; JSON columns hold small snapshots
(addresses, coupon codes) that are always read and written whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mesh.db import UTCDateTime, new_id
from mesh.events import processed_events_table
from mesh.leases import lease_table
from mesh.outbox import outbox_table

ID = String(32)
VARIANT = String(64)
MONEY = Integer  # paise; BIGINT would be overkill below Rs 2 crore per order line

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


# --- carts ---------------------------------------------------------------------------


class Cart(Base):
    __tablename__ = "carts"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # "users/{id}" owner id (the id part); NULL for guest carts. One cart per customer.
    customer_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # sha256 hex of the guest's cart token (the token itself is never stored).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # ACTIVE | MERGED
    state: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    merged_into: Mapped[str | None] = mapped_column(ID, nullable=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())
    last_activity_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id", name="uq_cart_items_cart_variant"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[str] = mapped_column(VARIANT)
    quantity: Mapped[int] = mapped_column(Integer)
    add_time: Mapped[datetime] = mapped_column(UTCDateTime())


# --- checkout --------------------------------------------------------------------------


class CheckoutSession(Base):
    __tablename__ = "checkout_sessions"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    cart_id: Mapped[str] = mapped_column(ID, index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Guest sessions: the cart token's hash (the session is reached with the token).
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # No longer written (older rows may hold the saga that was placing the order):
    # a saga names its session (checkout_sagas.session_id), which is what is read.
    saga_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    # OPEN | COMPLETED | EXPIRED
    state: Mapped[str] = mapped_column(String(16), default="OPEN")
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(16), default="")
    shipping_option: Mapped[str] = mapped_column(String(32))
    shipping_rate_minor: Mapped[int] = mapped_column(MONEY)
    shipping_source: Mapped[str] = mapped_column(String(64))
    payment_method: Mapped[str] = mapped_column(String(40))
    coupon_codes: Mapped[list[str]] = mapped_column(JSON)
    # The cart lines the quote and the reservation were made for: [[variant, qty], ...].
    lines: Mapped[list[list[Any]]] = mapped_column(JSON)
    # A serialized cleanse.pricing.v1.PriceBreakdown.
    quote: Mapped[bytes] = mapped_column(LargeBinary)
    quote_total_minor: Mapped[int] = mapped_column(MONEY)
    quote_expire_time: Mapped[datetime] = mapped_column(UTCDateTime())
    reservation_name: Mapped[str] = mapped_column(String(64))
    reservation_request_id: Mapped[str] = mapped_column(String(128))
    reservation_expire_time: Mapped[datetime] = mapped_column(UTCDateTime())
    available_methods: Mapped[list[str]] = mapped_column(JSON)
    degradations: Mapped[list[str]] = mapped_column(JSON)
    order_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckoutSaga(Base):
    """One PlaceOrder run, keyed by the client's request id (README: the saga)."""

    __tablename__ = "checkout_sagas"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(ID, index=True)
    # RUNNING | AWAITING_PAYMENT | COMPLETED | COMPENSATING | FAILED
    state: Mapped[str] = mapped_column(String(20), index=True)
    # Bumped when a FAILED saga is retried with the same request id.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    hold_name: Mapped[str] = mapped_column(String(64), default="")
    reservation_name: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    error_code: Mapped[str] = mapped_column(String(32), default="")
    error_reason: Mapped[str] = mapped_column(String(64), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SagaJournalEntry(Base):
    """What one write of a saga made durable: the steps it took or undid since the
    saga's previous write, in order, each {"step", "status", "detail", "time"} (step:
    start | validate | hold_coupons | lock_price | reserve_stock | create_payment |
    commit_reservation | commit_coupons | create_order | confirm_order | release_* |
    compensate; status: STARTED | DONE | FAILED; time: ISO 8601, UTC). `attempt` is
    the saga's attempt when written. What the sweeper reads to resume
    (`repository.saga_steps`).

    An entry per write, not a row per step: a paid checkout journals 16 steps in two
    writes, and a row per step cost PostgreSQL a row and two index entries each, more
    rows than any other table took per order (services/order/README.md,
    "Performance")."""

    __tablename__ = "saga_journal"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    saga_id: Mapped[str] = mapped_column(
        ForeignKey("checkout_sagas.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    time: Mapped[datetime] = mapped_column(UTCDateTime())


# --- orders --------------------------------------------------------------------------------


class OrderNumberCounter(Base):
    """The last order number handed out per calendar year (row-locked increments)."""

    __tablename__ = "order_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_id_id", "customer_id", "id"),
        Index("ix_orders_status_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_number: Mapped[str] = mapped_column(String(20), unique=True)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(16), default="")
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    subtotal_minor: Mapped[int] = mapped_column(MONEY)
    discount_minor: Mapped[int] = mapped_column(MONEY)
    shipping_minor: Mapped[int] = mapped_column(MONEY)
    cod_fee_minor: Mapped[int] = mapped_column(MONEY)
    taxable_minor: Mapped[int] = mapped_column(MONEY)
    cgst_minor: Mapped[int] = mapped_column(MONEY)
    sgst_minor: Mapped[int] = mapped_column(MONEY)
    igst_minor: Mapped[int] = mapped_column(MONEY)
    tax_minor: Mapped[int] = mapped_column(MONEY)
    total_minor: Mapped[int] = mapped_column(MONEY)
    coupon_codes: Mapped[list[str]] = mapped_column(JSON)
    payment_method: Mapped[str] = mapped_column(String(40))
    # RAZORPAY | COD
    payment_provider: Mapped[str] = mapped_column(String(16))
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    place_of_supply: Mapped[str] = mapped_column(String(2), default="")
    inter_state: Mapped[bool] = mapped_column(Boolean, default=False)
    shipping_option: Mapped[str] = mapped_column(String(32), default="standard")
    shipping_source: Mapped[str] = mapped_column(String(64), default="")
    reservation_name: Mapped[str] = mapped_column(String(64), default="")
    coupon_hold_name: Mapped[str] = mapped_column(String(64), default="")
    session_id: Mapped[str] = mapped_column(ID)
    saga_id: Mapped[str] = mapped_column(ID)
    cart_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The PriceBreakdown the order was charged at (serialized).
    breakdown: Mapped[bytes] = mapped_column(LargeBinary)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    # An admin edit raised the total after payment: still to be paid (paise).
    balance_due_minor: Mapped[int] = mapped_column(MONEY, default=0, server_default="0")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[str] = mapped_column(VARIANT)
    product_id: Mapped[str] = mapped_column(String(64), default="")
    product_name: Mapped[str] = mapped_column(String(300), default="")
    variant_title: Mapped[str] = mapped_column(String(200), default="")
    sku: Mapped[str] = mapped_column(String(64), default="")
    hsn_code: Mapped[str] = mapped_column(String(16), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_mrp_minor: Mapped[int] = mapped_column(MONEY)
    unit_price_minor: Mapped[int] = mapped_column(MONEY)
    discount_minor: Mapped[int] = mapped_column(MONEY)
    taxable_minor: Mapped[int] = mapped_column(MONEY)
    gst_rate_bp: Mapped[int] = mapped_column(Integer)
    cgst_minor: Mapped[int] = mapped_column(MONEY)
    sgst_minor: Mapped[int] = mapped_column(MONEY)
    igst_minor: Mapped[int] = mapped_column(MONEY)
    total_minor: Mapped[int] = mapped_column(MONEY)
    free_gift: Mapped[bool] = mapped_column(Boolean, default=False)
    gift_rule: Mapped[str] = mapped_column(String(64), default="")


class OrderStatusChange(Base):
    __tablename__ = "order_status_history"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(500), default="")
    time: Mapped[datetime] = mapped_column(UTCDateTime())


class Payment(Base):
    """One payment attempt of an order."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    # ORDER (the order's own payment) | BALANCE (the difference after an admin edit)
    kind: Mapped[str] = mapped_column(String(12), default="ORDER", server_default="ORDER")
    method: Mapped[str] = mapped_column(String(40))
    # CREATED | AUTHORIZED | CAPTURED | FAILED | PENDING_ON_DELIVERY | COLLECTED | CANCELLED...
    state: Mapped[str] = mapped_column(String(24))
    amount_minor: Mapped[int] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    provider_order_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    provider_payment_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    error_code: Mapped[str] = mapped_column(String(64), default="")
    error_description: Mapped[str] = mapped_column(String(500), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderEdit(Base):
    """An admin edit of an order before fulfilment (handlers/edits.py)."""

    __tablename__ = "order_edits"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # [[variant_id, quantity], ...] of the paid (non-gift) lines before and after.
    before_lines: Mapped[list[list[Any]]] = mapped_column(JSON)
    after_lines: Mapped[list[list[Any]]] = mapped_column(JSON)
    before_total_minor: Mapped[int] = mapped_column(MONEY)
    after_total_minor: Mapped[int] = mapped_column(MONEY)
    address_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    before_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    # NONE | COD_AMOUNT_CHANGED | BALANCE_PAYMENT | REFUND | PAYMENT_REPLACED | CASH_BALANCE_DUE
    settlement: Mapped[str] = mapped_column(String(24))
    settlement_ref: Mapped[str] = mapped_column(String(120), default="")
    # The balance to pay or the refund to make (paise, >= 0).
    settlement_minor: Mapped[int] = mapped_column(MONEY, default=0)
    notes: Mapped[list[str]] = mapped_column(JSON)
    # The reservation of the added units ("" when none were added).
    reservation_name: Mapped[str] = mapped_column(String(64), default="")
    # Units to put back on the shelf ([[variant, qty], ...]) and whether that was done:
    # "" (nothing) | PENDING | DONE.
    removed_lines: Mapped[list[list[Any]]] = mapped_column(JSON)
    restock_state: Mapped[str] = mapped_column(String(12), default="")
    # A pending-payment order's reservation replaced by the edit, until released.
    replaced_reservation: Mapped[str] = mapped_column(String(64), default="")
    # The order's status when it was edited: CONFIRMED (its units committed; only the
    # added units reserved, under reservation_name) or PENDING_PAYMENT (reservation_name
    # is the order's new hold for every line).
    order_status: Mapped[str] = mapped_column(
        String(20), default="CONFIRMED", server_default="CONFIRMED"
    )
    # Where the removed units go back: [[reservation, variant_id, quantity], ...],
    # planned with the order row locked (domain/stock.py; units no reservation has out
    # under "", sent nowhere); [] when none were removed (or the edit is older than
    # these plans).
    restock_from: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    # Why the restock is still PENDING: inventory down, or its refusal (e.g.
    # RESTOCK_EXCEEDS_RESERVATION); "" once DONE (handlers/restocks.py).
    restock_error: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # A PENDING restock that failed for a reason a retry can change (inventory down,
    # or too slow): the earliest time the sweeper tries it again (None: never by
    # itself, as once DONE or refused for good), and how often it has tried.
    restock_retry_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )
    restock_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderRestock(Base):
    """A cancelled order's units going back on the shelf (handlers/restocks.py
    `Restocks`). Planned and recorded in the cancellation's transaction, with the
    order row locked; sent to inventory after the commit, never inside a
    transaction; a retry (the sweeper, a repeat of the cancel) sends exactly this
    plan again, with the same request ids."""

    __tablename__ = "order_restocks"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # CANCEL (an edit's restock is recorded on its order_edits row, a return's on its
    # lines).
    kind: Mapped[str] = mapped_column(String(12))
    # RestockReturn's request id for the part against `base_reservation`; the part
    # against another reservation goes as `<request_id>-<its id>`
    # (domain/stock.request_ids). One restock per order and kind: cancel-<order id>.
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    # The order's own reservation when planned.
    base_reservation: Mapped[str] = mapped_column(String(64), default="")
    # Where the units go back: [[reservation, variant_id, quantity], ...]
    # (stock.triples; units no reservation has out under "", never sent).
    plan: Mapped[list[list[Any]]] = mapped_column(JSON)
    # RestockReturn's note (part of the request inventory is idempotent on).
    note: Mapped[str] = mapped_column(String(200), default="")
    # PENDING | DONE
    state: Mapped[str] = mapped_column(String(12))
    # Why it is still PENDING: "stock not put back yet: ..." (inventory down or too
    # slow: retried) or inventory's refusal ("stock not put back: ...": not retried
    # by itself); "" once DONE.
    error: Mapped[str] = mapped_column(String(500), default="")
    # The earliest time the sweeper sends it (again); None once DONE or refused.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # Automatic attempts made (the sweeper's).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentWebhookEvent(Base):
    """Provider webhook deliveries already handled (dedupe on the provider's event id)."""

    __tablename__ = "payment_webhook_events"

    event_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # The provider order the event was about ("" when none).
    provider_order_id: Mapped[str] = mapped_column(String(64), default="")
    # applied | ignored | late (captured after the order was given up)
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Refund(Base):
    """Money going back for an order. PENDING and PROCESSED amounts count against what
    may still be refunded (the order row is locked while that sum is taken)."""

    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    # PENDING | PROCESSED | FAILED
    state: Mapped[str] = mapped_column(String(12), index=True)
    # ORIGINAL_PAYMENT | STORE_CREDIT | BANK_TRANSFER
    method: Mapped[str] = mapped_column(String(20))
    # [[variant_id, quantity], ...] for a refund by line.
    lines: Mapped[list[list[Any]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(80))
    provider_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    error: Mapped[str] = mapped_column(String(500), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())


class RefundPart(Base):
    """A refund's share of one captured payment. Razorpay refunds a payment at most
    what it captured, so a refund larger than one payment (an edit collected a
    balance payment) goes out as one provider refund per payment. Decided while the
    order row is locked, with the refund; PENDING and PROCESSED parts count against
    their payment."""

    __tablename__ = "refund_parts"
    __table_args__ = (UniqueConstraint("refund_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    refund_id: Mapped[str] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    # 0, 1, ...: the provider idempotency key is refund-<refund id> for the first
    # part, refund-<refund id>-<position> for the others.
    position: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(MONEY)
    # PENDING | PROCESSED | FAILED
    state: Mapped[str] = mapped_column(String(12))
    provider_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    error: Mapped[str] = mapped_column(String(500), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())


class Return(Base):
    """A customer's return request and its inspection, per line."""

    __tablename__ = "returns"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    # REQUESTED | APPROVED | REJECTED | RECEIVED | COMPLETED
    state: Mapped[str] = mapped_column(String(12))
    # [{"variant_id", "quantity", "reason", "inspection", "note"}, ...]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pickup: Mapped[str] = mapped_column(String(120), default="")
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    refund_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceCounter(Base):
    """The last number of an invoice series ("<prefix>:<financial year>")."""

    __tablename__ = "invoice_counters"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """An issued tax invoice or credit note (the serialized proto is the document)."""

    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # TAX_INVOICE | CREDIT_NOTE | SUPPLEMENTARY
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(16), unique=True)
    financial_year: Mapped[str] = mapped_column(String(7))
    # One credit note per refund; one tax invoice per order.
    refund_id: Mapped[str | None] = mapped_column(ID, unique=True, nullable=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    issue_time: Mapped[datetime] = mapped_column(UTCDateTime())


PROCESSED_EVENTS = processed_events_table(Base.metadata)
# Background work one replica at a time (mesh/leases.py): the sweeper's lease.
LEASES = lease_table(Base.metadata)
