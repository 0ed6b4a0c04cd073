"""The queries the handlers share, hiding SQLAlchemy's locking details from them.

Lock order (deadlock freedom on PostgreSQL): a reservation row first, then stock
rows sorted by (variant_id, warehouse_id). Every writer that touches a stock row's
backorders or reservation lines holds that stock row's lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.models import (
    Backorder,
    Reservation,
    ReservationLine,
    Stock,
    Transfer,
    TransferLine,
    Warehouse,
)

StockKey = tuple[str, str]  # (variant_id, warehouse_id)


async def lock_stocks(s: AsyncSession, keys: Iterable[StockKey]) -> dict[StockKey, Stock]:
    """Stock rows for `keys`, locked FOR UPDATE in a fixed order (fresh from the database)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await s.scalars(
        select(Stock)
        .where(tuple_(Stock.variant_id, Stock.warehouse_id).in_(wanted))
        .order_by(Stock.variant_id, Stock.warehouse_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(r.variant_id, r.warehouse_id): r for r in rows}


async def lock_variant_stocks(
    s: AsyncSession, variant_ids: Iterable[str]
) -> list[tuple[Stock, Warehouse]]:
    """Every stock row of these variants in active warehouses, locked in a fixed order."""
    ids = sorted(set(variant_ids))
    rows = await s.execute(
        select(Stock, Warehouse)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.variant_id.in_(ids), Warehouse.active.is_(True))
        .order_by(Stock.variant_id, Stock.warehouse_id)
        .with_for_update(of=Stock)
        .execution_options(populate_existing=True)
    )
    return [(st, wh) for st, wh in rows.all()]


async def get_stock(s: AsyncSession, variant_id: str, warehouse_id: str) -> Stock | None:
    return await s.scalar(
        select(Stock).where(Stock.variant_id == variant_id, Stock.warehouse_id == warehouse_id)
    )


async def reservation_by_request(s: AsyncSession, request_id: str) -> Reservation | None:
    return await s.scalar(
        select(Reservation)
        .where(Reservation.request_id == request_id)
        .execution_options(populate_existing=True)
    )


async def lock_reservation(s: AsyncSession, reservation_id: str) -> Reservation | None:
    return await s.scalar(
        select(Reservation)
        .where(Reservation.id == reservation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def reservation_lines(s: AsyncSession, reservation_id: str) -> list[ReservationLine]:
    rows = await s.scalars(
        select(ReservationLine)
        .where(ReservationLine.reservation_id == reservation_id)
        .order_by(ReservationLine.variant_id, ReservationLine.warehouse_id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def open_backorders(s: AsyncSession, variant_id: str, warehouse_id: str) -> list[Backorder]:
    """Open backorders of one stock row, oldest first (ids sort by creation time)."""
    rows = await s.scalars(
        select(Backorder)
        .where(
            Backorder.variant_id == variant_id,
            Backorder.warehouse_id == warehouse_id,
            Backorder.state == "OPEN",
        )
        .order_by(Backorder.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def reservation_backorders(s: AsyncSession, reservation_id: str) -> list[Backorder]:
    rows = await s.scalars(
        select(Backorder)
        .where(Backorder.reservation_id == reservation_id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def transfer_lines(s: AsyncSession, transfer_id: str) -> list[TransferLine]:
    rows = await s.scalars(
        select(TransferLine)
        .where(TransferLine.transfer_id == transfer_id)
        .order_by(TransferLine.variant_id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def lock_transfer(s: AsyncSession, transfer_id: str) -> Transfer | None:
    return await s.scalar(
        select(Transfer)
        .where(Transfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def warehouses_by_id(s: AsyncSession, ids: Sequence[str]) -> dict[str, Warehouse]:
    rows = await s.scalars(select(Warehouse).where(Warehouse.id.in_(sorted(set(ids)))))
    return {w.id: w for w in rows}
