"""Queries over the order service's tables (no business rules here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, decode_page_token, next_page_token
from mesh.errors import InvalidArgument
from services.order.models import (
    Cart,
    CartItem,
    CheckoutSaga,
    CheckoutSession,
    InvoiceCounter,
    Order,
    OrderEdit,
    OrderItem,
    OrderNumberCounter,
    OrderRestock,
    OrderStatusChange,
    Payment,
    SagaStep,
)


async def cart_items(s: AsyncSession, cart_id: str) -> list[CartItem]:
    rows = await s.scalars(
        select(CartItem).where(CartItem.cart_id == cart_id).order_by(CartItem.add_time, CartItem.id)
    )
    return list(rows)


async def cart_with_items(
    s: AsyncSession, where: ColumnElement[bool]
) -> tuple[Cart | None, list[CartItem]]:
    """The cart `where` selects and its items (as `cart_items` orders them), in one
    query: (None, []) when there is no such cart."""
    rows = (
        await s.execute(
            select(Cart, CartItem)
            .outerjoin(CartItem, CartItem.cart_id == Cart.id)
            .where(where)
            .order_by(CartItem.add_time, CartItem.id)
        )
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [item for _, item in rows if item is not None]


async def cart_by_customer(s: AsyncSession, customer_id: str) -> Cart | None:
    return await s.scalar(select(Cart).where(Cart.customer_id == customer_id))


async def locked(s: AsyncSession, model: type, ident: str, *, lock: bool = True) -> object | None:
    """A row by primary key, locked FOR UPDATE on PostgreSQL (SQLite: writers serialize)."""
    q = select(model).where(model.id == ident)  # type: ignore[attr-defined]
    if lock:
        q = q.with_for_update()
    return await s.scalar(q)


async def saga_by_request(s: AsyncSession, request_id: str) -> CheckoutSaga | None:
    return await s.scalar(select(CheckoutSaga).where(CheckoutSaga.request_id == request_id))


async def sagas_by_request_or_session(
    s: AsyncSession, request_id: str, session_id: str
) -> list[CheckoutSaga]:
    """The saga of `request_id` (of any session) and every saga of `session_id`, in
    one query (both columns are indexed)."""
    rows = await s.scalars(
        select(CheckoutSaga).where(
            or_(CheckoutSaga.request_id == request_id, CheckoutSaga.session_id == session_id)
        )
    )
    return list(rows)


async def saga_steps(s: AsyncSession, saga_id: str) -> list[SagaStep]:
    rows = await s.scalars(
        select(SagaStep).where(SagaStep.saga_id == saga_id).order_by(SagaStep.time, SagaStep.id)
    )
    return list(rows)


async def order_items(s: AsyncSession, order_id: str) -> list[OrderItem]:
    rows = await s.scalars(
        select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.position)
    )
    return list(rows)


async def order_history(s: AsyncSession, order_id: str) -> list[OrderStatusChange]:
    rows = await s.scalars(
        select(OrderStatusChange)
        .where(OrderStatusChange.order_id == order_id)
        .order_by(OrderStatusChange.time, OrderStatusChange.id)
    )
    return list(rows)


def _latest_payment_query(order_id: str) -> Select[tuple[Payment]]:
    return (
        select(Payment)
        .where(Payment.order_id == order_id, Payment.kind == "ORDER")
        .order_by(Payment.create_time.desc(), Payment.id.desc())
        .limit(1)
    )


async def latest_payment(s: AsyncSession, order_id: str) -> Payment | None:
    """The order's own latest payment attempt (not a balance payment of an edit)."""
    return await s.scalar(_latest_payment_query(order_id))


async def order_and_latest_payment(
    s: AsyncSession, order_id: str
) -> tuple[Order | None, Payment | None]:
    """An order and its own latest payment (`latest_payment`) in one query."""
    row = (
        await s.execute(
            select(Order, Payment)
            .outerjoin(Payment, and_(Payment.order_id == Order.id, Payment.kind == "ORDER"))
            .where(Order.id == order_id)
            .order_by(Payment.create_time.desc(), Payment.id.desc())
            .limit(1)
        )
    ).first()
    return (None, None) if row is None else (row[0], row[1])


async def capture_latest_payment(
    s: AsyncSession, order_id: str, provider_payment_id: str, now: datetime
) -> Payment | None:
    """The order's own latest payment marked CAPTURED by `provider_payment_id`, and
    returned as it now is: one UPDATE ... RETURNING instead of a read and a write."""
    latest = _latest_payment_query(order_id).with_only_columns(Payment.id).scalar_subquery()
    return await s.scalar(
        update(Payment)
        .where(Payment.id == latest)
        .values(state="CAPTURED", provider_payment_id=provider_payment_id, update_time=now)
        .returning(Payment)
        .execution_options(synchronize_session=False)
    )


async def payments(s: AsyncSession, order_id: str) -> list[Payment]:
    rows = await s.scalars(
        select(Payment)
        .where(Payment.order_id == order_id)
        .order_by(Payment.create_time, Payment.id)
    )
    return list(rows)


async def order_restocks(s: AsyncSession, order_id: str) -> list[OrderRestock]:
    rows = await s.scalars(
        select(OrderRestock)
        .where(OrderRestock.order_id == order_id)
        .order_by(OrderRestock.create_time, OrderRestock.id)
    )
    return list(rows)


async def order_edits(s: AsyncSession, order_id: str) -> list[OrderEdit]:
    rows = await s.scalars(
        select(OrderEdit)
        .where(OrderEdit.order_id == order_id)
        .order_by(OrderEdit.create_time, OrderEdit.id)
    )
    return list(rows)


PAID_STATES = ("CAPTURED", "COLLECTED")


async def paid_amount(s: AsyncSession, order_id: str) -> int:
    """What the customer actually paid: captured online payments (the order's own,
    balance payments of edits, a late capture) and collected cash."""
    return sum(p.amount_minor for p in await payments(s, order_id) if p.state in PAID_STATES)


async def payment_by_provider_order(s: AsyncSession, provider_order_id: str) -> Payment | None:
    return await s.scalar(select(Payment).where(Payment.provider_order_id == provider_order_id))


def _counter_increment(dialect: str, table: type, key: str, key_value: object) -> Any:
    """INSERT the counter at 1, or add 1 to it: one statement, RETURNING the value."""
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = ins(table).values({key: key_value, "last_value": 1})
    return stmt.on_conflict_do_update(
        index_elements=[key], set_={"last_value": table.last_value + 1}
    ).returning(table.last_value)


async def next_order_number(db: Database, year: int) -> int:
    """The next value of the year's order counter, in a statement of its own.

    Not in the order's transaction: the counter row would stay locked until that
    commits, and every placement would queue behind the one before. The increment
    is atomic (row lock on PostgreSQL, the single writer on SQLite), so values are
    distinct; an order whose transaction then fails leaves its number unused (order
    numbers may have gaps; invoice numbers, below, may not).
    """
    rows = await db.execute(_counter_increment(db.dialect, OrderNumberCounter, "year", year))
    return int(rows[0][0])


async def next_invoice_value(s: AsyncSession, dialect: str, series: str) -> int:
    """The next number of an invoice series, inside the caller's transaction: the
    counter row stays locked until the invoice commits, so numbers have no gaps and
    no duplicates. Call it last in the transaction: it serializes invoicing."""
    value = await s.scalar(_counter_increment(dialect, InvoiceCounter, "series", series))
    assert value is not None
    return int(value)


@dataclass(frozen=True)
class OrderFilter:
    customer_id: str | None = None
    statuses: Sequence[str] = ()
    placed_after: datetime | None = None
    placed_before: datetime | None = None
    order_number_prefix: str = ""
    ids: Sequence[str] = field(default_factory=tuple)


def order_query(f: OrderFilter) -> Select[tuple[Order]]:
    q = select(Order)
    if f.customer_id is not None:
        q = q.where(Order.customer_id == f.customer_id)
    if f.statuses:
        q = q.where(Order.status.in_(list(f.statuses)))
    if f.placed_after is not None:
        q = q.where(Order.create_time >= f.placed_after)
    if f.placed_before is not None:
        q = q.where(Order.create_time < f.placed_before)
    if f.order_number_prefix:
        q = q.where(Order.order_number.startswith(f.order_number_prefix, autoescape=True))
    return q


async def list_orders(
    s: AsyncSession, f: OrderFilter, *, after_id: str | None, limit: int
) -> list[Order]:
    """Newest first (ids sort by creation time), keyset after `after_id`."""
    q = order_query(f)
    if after_id:
        q = q.where(Order.id < after_id)
    rows = await s.scalars(q.order_by(Order.id.desc()).limit(limit))
    return list(rows)


async def count_orders(s: AsyncSession) -> int:
    return int(await s.scalar(select(func.count()).select_from(Order)) or 0)


async def stale_sagas(s: AsyncSession, before: datetime, limit: int = 100) -> list[CheckoutSaga]:
    rows = await s.scalars(
        select(CheckoutSaga)
        .where(
            CheckoutSaga.state.in_(["RUNNING", "COMPENSATING"]), CheckoutSaga.update_time < before
        )
        .limit(limit)
    )
    return list(rows)


async def unpaid_orders(s: AsyncSession, before: datetime, limit: int = 100) -> list[Order]:
    rows = await s.scalars(
        select(Order)
        .where(Order.status == "PENDING_PAYMENT", Order.create_time < before)
        .limit(limit)
    )
    return list(rows)


async def session_by_id(s: AsyncSession, session_id: str) -> CheckoutSession | None:
    return await s.get(CheckoutSession, session_id)


# --- pages of an order's refunds, returns and invoices (AIP-158) ----------------------
#
# Oldest first by (time, id): the token holds the last row's time and id, and is bound
# to the order it lists (a token of another order's list is INVALID_ARGUMENT).

TimeKey = tuple[datetime, str]


def time_page_after(token: str, order_id: str) -> TimeKey | None:
    """The (time, id) a page token continues after; None for the first page."""
    key = decode_page_token(token, {"order": order_id})
    if key is None:
        return None
    try:
        at, row_id = key
        when = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        raise InvalidArgument({"page_token": "is not a valid page token"}) from None
    if not isinstance(row_id, str) or when.tzinfo is None:
        raise InvalidArgument({"page_token": "is not a valid page token"})
    return when, row_id


def time_page_token(rows: Sequence[Any], size: int, time_attr: str, order_id: str) -> str:
    """The token after the first `size` of `rows` (fetched size + 1), or ""."""
    return next_page_token(
        rows,
        size,
        {"order": order_id},
        key=lambda r: [getattr(r, time_attr).isoformat(), r.id],
    )


async def page_of_order(
    s: AsyncSession, model: Any, time_attr: str, order_id: str, after: TimeKey | None, limit: int
) -> list[Any]:
    """Up to `limit` rows of `model` for one order, oldest first, after `after`."""
    at = getattr(model, time_attr)
    q = select(model).where(model.order_id == order_id)
    if after is not None:
        when, row_id = after
        q = q.where(or_(at > when, and_(at == when, model.id > row_id)))
    return list(await s.scalars(q.order_by(at, model.id).limit(limit)))
