"""The queries the handlers share, hiding SQLAlchemy's locking details from them.

Lock order (deadlock freedom on PostgreSQL): a reservation row first, then stock
rows sorted by (variant_id, warehouse_id). Every writer that touches a stock row's
backorders or reservation lines holds that stock row's lock.

The hot path of a checkout (availability, reserve, get, commit) uses the Core
statements at the end of this module, built once at import: no ORM unit of work,
no identity map, no statement construction per call (each of those costs about as
much CPU as the round trip itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, bindparam, func, insert, literal_column, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import UTCDateTime
from services.inventory.models import (
    Adjustment,
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


async def get_stock(s: AsyncSession, variant_id: str, warehouse_id: str) -> Stock | None:
    return await s.scalar(
        select(Stock).where(Stock.variant_id == variant_id, Stock.warehouse_id == warehouse_id)
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


# --- Core statements for the checkout path -------------------------------------------

STOCK = Stock.__table__
WAREHOUSES = Warehouse.__table__
RESERVATIONS = Reservation.__table__
LINES = ReservationLine.__table__
BACKORDERS = Backorder.__table__
ADJUSTMENTS = Adjustment.__table__

_ACTIVE_STOCK = STOCK.join(WAREHOUSES, WAREHOUSES.c.id == STOCK.c.warehouse_id)

# Storefront availability: stock of the variants in active warehouses (no lock).
AVAILABILITY = (
    select(
        STOCK.c.variant_id,
        STOCK.c.on_hand,
        STOCK.c.reserved,
        STOCK.c.safety_stock,
        STOCK.c.reorder_point,
        STOCK.c.backorder_allowed,
        STOCK.c.backorder_limit,
        STOCK.c.backordered,
    )
    .select_from(_ACTIVE_STOCK)
    .where(STOCK.c.variant_id.in_(bindparam("ids", expanding=True)), WAREHOUSES.c.active.is_(True))
)

# ReserveStock: every stock row of the variants in active warehouses, with what
# allocation needs; locked FOR UPDATE in (variant_id, warehouse_id) order, or (the
# optimistic first read on PostgreSQL) not locked.
VARIANT_STOCKS = (
    select(
        STOCK.c.id,
        STOCK.c.variant_id,
        STOCK.c.warehouse_id,
        STOCK.c.on_hand,
        STOCK.c.reserved,
        STOCK.c.safety_stock,
        STOCK.c.reorder_point,
        STOCK.c.backorder_allowed,
        STOCK.c.backorder_limit,
        STOCK.c.backordered,
        STOCK.c.low_stock_alerted,
        WAREHOUSES.c.pincode,
        WAREHOUSES.c.state_code,
    )
    .select_from(_ACTIVE_STOCK)
    .where(STOCK.c.variant_id.in_(bindparam("ids", expanding=True)), WAREHOUSES.c.active.is_(True))
    .order_by(STOCK.c.variant_id, STOCK.c.warehouse_id)
)
LOCK_VARIANT_STOCKS = VARIANT_STOCKS.with_for_update(of=STOCK)

_RESERVATION_COLUMNS = (
    RESERVATIONS.c.id,
    RESERVATIONS.c.request_id,
    RESERVATIONS.c.body_hash,
    RESERVATIONS.c.state,
    RESERVATIONS.c.delivery_pincode,
    RESERVATIONS.c.delivery_state_code,
    RESERVATIONS.c.expire_time,
    RESERVATIONS.c.create_time,
    RESERVATIONS.c.update_time,
)
_LINE_COLUMNS = (
    LINES.c.variant_id,
    LINES.c.warehouse_id,
    LINES.c.quantity,
    LINES.c.backordered_quantity,
)


def _reservation_with_lines(where: object) -> object:
    """A reservation and its lines in one round trip: one row per line (line columns
    NULL for a reservation without lines), lines in (variant_id, warehouse_id) order."""
    return (
        select(*_RESERVATION_COLUMNS, *(c.label(f"line_{c.name}") for c in _LINE_COLUMNS))
        .select_from(RESERVATIONS.outerjoin(LINES, LINES.c.reservation_id == RESERVATIONS.c.id))
        .where(where)
        .order_by(LINES.c.variant_id, LINES.c.warehouse_id)
    )


RESERVATION_BY_ID = _reservation_with_lines(RESERVATIONS.c.id == bindparam("id"))
RESERVATION_BY_REQUEST = _reservation_with_lines(
    RESERVATIONS.c.request_id == bindparam("request_id")
)


def _insert_reservation(dialect_insert: object) -> object:
    """A new reservation unless its request_id exists (the id comes back only if it
    was inserted); on PostgreSQL a concurrent uncommitted duplicate makes it wait
    for that transaction's outcome."""
    return (
        dialect_insert(RESERVATIONS)  # type: ignore[operator]
        .on_conflict_do_nothing(index_elements=[RESERVATIONS.c.request_id])
        .returning(RESERVATIONS.c.id)
    )


INSERT_RESERVATION = {
    "postgresql": _insert_reservation(postgresql.insert),
    "sqlite": _insert_reservation(sqlite.insert),
}
INSERT_LINES = insert(LINES)
INSERT_BACKORDERS = insert(BACKORDERS)

# A reservation's stock taken (the row is locked): relative, so a CHECK constraint
# still has the last word.
RESERVE_STOCK_ROW = (
    update(STOCK)
    .where(STOCK.c.id == bindparam("stock_id"))
    .values(
        reserved=STOCK.c.reserved + bindparam("add_reserved"),
        backordered=STOCK.c.backordered + bindparam("add_backordered"),
        low_stock_alerted=bindparam("alerted"),
        update_time=bindparam("now"),
    )
)

# CommitReservation of a hold without backorders. HELD -> COMMITTED only while it
# holds and has not lapsed (this locks the reservation row: lock order rule 1).
COMMIT_HELD = (
    update(RESERVATIONS)
    .where(
        RESERVATIONS.c.id == bindparam("reservation_id"),
        RESERVATIONS.c.state == "HELD",
        RESERVATIONS.c.expire_time > bindparam("now"),
    )
    .values(state="COMMITTED", update_time=bindparam("now"))
    .returning(RESERVATIONS.c.id)
)
# Held units leave on hand (one statement per stock row, in lock order).
SELL_STOCK_ROW = (
    update(STOCK)
    .where(
        and_(
            STOCK.c.variant_id == bindparam("b_variant_id"),
            STOCK.c.warehouse_id == bindparam("b_warehouse_id"),
        )
    )
    .values(
        on_hand=STOCK.c.on_hand - bindparam("quantity"),
        reserved=STOCK.c.reserved - bindparam("quantity"),
        update_time=bindparam("now"),
    )
)
# The SALE adjustment of a stock row just sold from, with its on hand after.
RECORD_SALE = insert(ADJUSTMENTS).from_select(
    [
        "id",
        "warehouse_id",
        "variant_id",
        "delta",
        "reason",
        "note",
        "actor",
        "on_hand_after",
        "reference",
        "create_time",
    ],
    select(
        bindparam("adjustment_id", type_=ADJUSTMENTS.c.id.type),
        STOCK.c.warehouse_id,
        STOCK.c.variant_id,
        bindparam("delta", type_=ADJUSTMENTS.c.delta.type),
        literal_column("'SALE'"),
        literal_column("''"),
        bindparam("actor", type_=ADJUSTMENTS.c.actor.type),
        STOCK.c.on_hand,
        bindparam("reference", type_=ADJUSTMENTS.c.reference.type),
        bindparam("now", type_=ADJUSTMENTS.c.create_time.type),
    ).where(
        STOCK.c.variant_id == bindparam("b_variant_id"),
        STOCK.c.warehouse_id == bindparam("b_warehouse_id"),
    ),
)

# The expiry sweeper: lapsed holds, oldest first; and how many are held (a gauge).
LAPSED_HOLDS = (
    select(RESERVATIONS.c.id)
    .where(RESERVATIONS.c.state == "HELD", RESERVATIONS.c.expire_time <= bindparam("now"))
    .order_by(RESERVATIONS.c.expire_time)
    .limit(bindparam("limit"))
)
COUNT_HELD = select(func.count()).select_from(RESERVATIONS).where(RESERVATIONS.c.state == "HELD")

# --- PostgreSQL: one statement where the generic path needs several ------------------
#
# Data-modifying CTEs (PostgreSQL only; SQLite runs the statements above one by one).
# Arrays carry the per-line values, so each is ONE prepared statement whatever the
# number of lines.

# ReserveStock's writes, after LOCK_VARIANT_STOCKS (the rows are locked): the
# reservation unless its request_id exists, and only then its lines and the stock
# rows' new reserved / backordered / alerted. Returns the id if it was inserted.
PG_RESERVE = text(
    """
WITH r AS (
    INSERT INTO inventory_reservations (id, request_id, body_hash, state, delivery_pincode,
        delivery_state_code, expire_time, create_time, update_time)
    VALUES (:id, :request_id, :body_hash, 'HELD', :delivery_pincode, :delivery_state_code,
        :expire_time, :now, :now)
    ON CONFLICT (request_id) DO NOTHING
    RETURNING id
), plan AS (
    SELECT * FROM unnest(
        CAST(:line_ids AS VARCHAR[]), CAST(:stock_ids AS VARCHAR[]),
        CAST(:variant_ids AS VARCHAR[]), CAST(:warehouse_ids AS VARCHAR[]),
        CAST(:quantities AS INTEGER[]), CAST(:backordered AS INTEGER[]),
        CAST(:alerted AS BOOLEAN[])
    ) AS t(line_id, stock_id, variant_id, warehouse_id, quantity, backordered, alerted)
), lines AS (
    INSERT INTO inventory_reservation_lines (id, reservation_id, variant_id, warehouse_id,
        quantity, backordered_quantity)
    SELECT plan.line_id, r.id, plan.variant_id, plan.warehouse_id, plan.quantity,
        plan.backordered
    FROM r CROSS JOIN plan
), stock AS (
    UPDATE inventory SET
        reserved = inventory.reserved + plan.quantity,
        backordered = inventory.backordered + plan.backordered,
        low_stock_alerted = plan.alerted,
        update_time = :now
    FROM r CROSS JOIN plan
    WHERE inventory.id = plan.stock_id
)
SELECT id FROM r
"""
).bindparams(
    bindparam("expire_time", type_=UTCDateTime()),
    bindparam("now", type_=UTCDateTime()),
)

# CommitReservation of a hold without backorders, in one autocommit statement: the
# reservation HELD -> COMMITTED (not lapsed; its row locked first), then its stock
# rows locked in (variant_id, warehouse_id) order, the held units taken off on hand
# and a SALE adjustment each. Returns one row per adjustment: none when the
# reservation no longer held (nothing changed).
PG_COMMIT_HELD = text(
    """
WITH r AS (
    UPDATE inventory_reservations SET state = 'COMMITTED', update_time = :now
    WHERE id = :reservation_id AND state = 'HELD' AND expire_time > :now
    RETURNING id
), sold AS (
    SELECT * FROM unnest(
        CAST(:variant_ids AS VARCHAR[]), CAST(:warehouse_ids AS VARCHAR[]),
        CAST(:quantities AS INTEGER[]), CAST(:adjustment_ids AS VARCHAR[])
    ) AS t(variant_id, warehouse_id, quantity, adjustment_id)
), locked AS (
    SELECT inventory.id, sold.quantity, sold.adjustment_id
    FROM inventory
    JOIN sold ON inventory.variant_id = sold.variant_id
        AND inventory.warehouse_id = sold.warehouse_id
    WHERE EXISTS (SELECT 1 FROM r)
    ORDER BY inventory.variant_id, inventory.warehouse_id
    FOR UPDATE OF inventory
), stock AS (
    UPDATE inventory SET
        on_hand = inventory.on_hand - locked.quantity,
        reserved = inventory.reserved - locked.quantity,
        update_time = :now
    FROM locked
    WHERE inventory.id = locked.id
    RETURNING inventory.variant_id, inventory.warehouse_id, inventory.on_hand,
        locked.quantity, locked.adjustment_id
)
INSERT INTO inventory_adjustments (id, warehouse_id, variant_id, delta, reason, note, actor,
    on_hand_after, reference, create_time)
SELECT stock.adjustment_id, stock.warehouse_id, stock.variant_id, -stock.quantity, 'SALE', '',
    CAST(:actor AS VARCHAR), stock.on_hand, CAST(:reference AS VARCHAR), :now
FROM stock
RETURNING id
"""
).bindparams(bindparam("now", type_=UTCDateTime()))

# --- PostgreSQL through the driver (Database.fetch, mesh/db.py) --------------------
#
# The checkout path's statements on PostgreSQL, each ONE autocommit statement run
# straight on asyncpg (`Database.fetch`): `$n` parameters, each cast to its type. They say
# what their Core/ORM counterparts above say (tests run both back ends).

# BatchGetAvailability: AVAILABILITY.
PG_AVAILABILITY = """
SELECT inventory.variant_id, inventory.on_hand, inventory.reserved, inventory.safety_stock,
    inventory.reorder_point, inventory.backorder_allowed, inventory.backorder_limit,
    inventory.backordered
FROM inventory JOIN warehouses ON warehouses.id = inventory.warehouse_id
WHERE inventory.variant_id = ANY($1::varchar[]) AND warehouses.active
"""

_PG_RESERVATION_WITH_LINES = """
SELECT r.id, r.request_id, r.body_hash, r.state, r.delivery_pincode, r.delivery_state_code,
    r.expire_time, r.create_time, r.update_time,
    l.variant_id AS line_variant_id, l.warehouse_id AS line_warehouse_id,
    l.quantity AS line_quantity, l.backordered_quantity AS line_backordered_quantity
FROM inventory_reservations r
LEFT JOIN inventory_reservation_lines l ON l.reservation_id = r.id
WHERE {where}
ORDER BY l.variant_id, l.warehouse_id
"""
# RESERVATION_BY_ID / RESERVATION_BY_REQUEST.
PG_RESERVATION_BY_ID = _PG_RESERVATION_WITH_LINES.format(where="r.id = $1::varchar")
PG_RESERVATION_BY_REQUEST = _PG_RESERVATION_WITH_LINES.format(where="r.request_id = $1::varchar")

# The stock rows allocation reads (VARIANT_STOCKS), as a CTE of the statements below.
_PG_VARIANT_ROWS = """
    SELECT inventory.id, inventory.variant_id, inventory.warehouse_id, inventory.on_hand,
        inventory.reserved, inventory.safety_stock, inventory.reorder_point,
        inventory.backorder_allowed, inventory.backorder_limit, inventory.backordered,
        inventory.low_stock_alerted, warehouses.pincode, warehouses.state_code
    FROM inventory JOIN warehouses ON warehouses.id = inventory.warehouse_id
    WHERE inventory.variant_id = ANY($8::varchar[]) AND warehouses.active
"""

# The write both ReserveStock statements end with, once `plan` (stock_id, variant_id,
# warehouse_id, quantity, line_id) is known: lock the planned rows in (variant_id,
# warehouse_id) order and go ahead only if, on the rows as they are NOW (a row lock
# reads the latest version), every one still has the units AND stays clear of its
# reorder point with no alert pending (then the low-stock ledger has nothing to do:
# no event, no flag to change). Then the reservation unless its request_id exists
# ($1..$7), its lines and the reserved units.
_PG_RESERVE_PLANNED = """
locked AS (
    SELECT inventory.on_hand - inventory.reserved - inventory.safety_stock - plan.quantity
            AS left_after,
        inventory.reorder_point, inventory.low_stock_alerted
    FROM inventory
    JOIN plan ON inventory.id = plan.stock_id
    JOIN warehouses ON warehouses.id = inventory.warehouse_id
    WHERE warehouses.active
    ORDER BY inventory.variant_id, inventory.warehouse_id
    FOR UPDATE OF inventory
), fits AS (
    SELECT count(*) = (SELECT count(*) FROM plan) AND count(*) > 0 AND coalesce(bool_and(
        left_after >= 0 AND NOT low_stock_alerted
        AND (reorder_point <= 0 OR left_after > reorder_point)), false) AS ok
    FROM locked
), r AS (
    INSERT INTO inventory_reservations (id, request_id, body_hash, state, delivery_pincode,
        delivery_state_code, expire_time, create_time, update_time)
    SELECT $1::varchar, $2::varchar, $3::varchar, 'HELD', $4::varchar, $5::varchar,
        $6::timestamptz, $7::timestamptz, $7::timestamptz
    FROM fits WHERE fits.ok
    ON CONFLICT (request_id) DO NOTHING
    RETURNING id
), lines AS (
    INSERT INTO inventory_reservation_lines (id, reservation_id, variant_id, warehouse_id,
        quantity, backordered_quantity)
    SELECT plan.line_id, r.id, plan.variant_id, plan.warehouse_id, plan.quantity, 0
    FROM r CROSS JOIN plan
), stock AS (
    UPDATE inventory SET reserved = inventory.reserved + plan.quantity,
        update_time = $7::timestamptz
    FROM r CROSS JOIN plan
    WHERE inventory.id = plan.stock_id
)
"""

# ReserveStock on PostgreSQL, first try: the whole reservation in ONE statement when
# one warehouse can ship every line (allocation step 1, domain/allocation.py): the
# stock rows are read, the best-ranked warehouse whose available covers every line
# chosen, exactly as `allocation.allocate` ranks them (pincode prefix distance, then
# state differs, then warehouse id in code-point order), and written as
# _PG_RESERVE_PLANNED says. Parameters: $1..$7 the reservation (id, request_id,
# body_hash, pincode, state, expire_time, now); $8 the variant ids, $9 their
# quantities, $10 a line id each (the demand, summed per variant).
# Returns one row: `best` the warehouse chosen (NULL: none can ship everything),
# `fits` (false: nothing written), `reserved_id` (NULL with fits: the request id
# exists). When no warehouse was chosen, one row per stock row read instead (the
# columns of VARIANT_STOCKS), for allocation in Python (splits, backorders).
PG_RESERVE_BEST = (
    """
WITH demand AS (
    SELECT * FROM unnest($8::varchar[], $9::integer[], $10::varchar[])
        AS t(variant_id, quantity, line_id)
), stock_rows AS ("""
    + _PG_VARIANT_ROWS
    + """), best AS (
    SELECT stock_rows.warehouse_id
    FROM stock_rows JOIN demand ON demand.variant_id = stock_rows.variant_id
    WHERE stock_rows.on_hand - stock_rows.reserved - stock_rows.safety_stock
        >= demand.quantity
    GROUP BY stock_rows.warehouse_id, stock_rows.pincode, stock_rows.state_code
    HAVING count(*) = cardinality($8::varchar[])
    ORDER BY
        CASE
            WHEN $4::varchar = '' OR stock_rows.pincode = '' THEN 3
            WHEN left(stock_rows.pincode, 3) = left($4::varchar, 3) THEN 0
            WHEN left(stock_rows.pincode, 2) = left($4::varchar, 2) THEN 1
            WHEN left(stock_rows.pincode, 1) = left($4::varchar, 1) THEN 2
            ELSE 3
        END,
        CASE WHEN $5::varchar <> '' AND stock_rows.state_code = $5::varchar THEN 0 ELSE 1 END,
        stock_rows.warehouse_id COLLATE "C"
    LIMIT 1
), plan AS (
    SELECT stock_rows.id AS stock_id, demand.variant_id, stock_rows.warehouse_id,
        demand.quantity, demand.line_id
    FROM best
    JOIN stock_rows ON stock_rows.warehouse_id = best.warehouse_id
    JOIN demand ON demand.variant_id = stock_rows.variant_id
), """
    + _PG_RESERVE_PLANNED
    + """
SELECT outcome.best, outcome.fits, outcome.reserved_id, stock_rows.*
FROM (
    SELECT (SELECT warehouse_id FROM best) AS best, (SELECT ok FROM fits) AS fits,
        (SELECT id FROM r) AS reserved_id
) outcome
LEFT JOIN stock_rows ON outcome.best IS NULL
ORDER BY stock_rows.variant_id, stock_rows.warehouse_id
"""
)

# ReserveStock on PostgreSQL, second try (no one warehouse could ship everything): the
# plan allocation made in Python from the rows PG_RESERVE_BEST returned, written as
# _PG_RESERVE_PLANNED says. $1..$7 as above; $8 line ids, $9 stock ids, $10 variant
# ids, $11 warehouse ids, $12 quantities (one per planned stock row). Returns `fits`
# (false: nothing written) and `reserved_id` (NULL with fits: the request id exists).
PG_RESERVE_IF_FITS = (
    """
WITH plan AS (
    SELECT * FROM unnest(
        $8::varchar[], $9::varchar[], $10::varchar[], $11::varchar[], $12::integer[]
    ) AS t(line_id, stock_id, variant_id, warehouse_id, quantity)
), """
    + _PG_RESERVE_PLANNED
    + """
SELECT (SELECT ok FROM fits) AS fits, (SELECT id FROM r) AS reserved_id
"""
)

# CommitReservation on PostgreSQL, first try: the whole commit of a hold without
# backorders in ONE autocommit statement, read included. Its lines cannot change
# (only backorder fills edit lines), so they are read in the same statement; the
# SALE adjustments take their ids from $3 in (variant_id, warehouse_id) order, so a
# hold with more lines than ids given (or a line without its stock row) is left
# alone. $1 the reservation id, $2 now, $3 adjustment ids, $4 actor, $5 reference.
# Returns the committed reservation with its lines, one row per line (the columns of
# RESERVATION_BY_ID); nothing: nothing changed (not held, lapsed, backorders, too many
# lines, gone).
PG_COMMIT_SIMPLE = """
WITH r AS (
    UPDATE inventory_reservations SET state = 'COMMITTED', update_time = $2::timestamptz
    WHERE id = $1::varchar AND state = 'HELD' AND expire_time > $2::timestamptz
        AND NOT EXISTS (
            SELECT 1 FROM inventory_reservation_lines l
            LEFT JOIN inventory s
                ON s.variant_id = l.variant_id AND s.warehouse_id = l.warehouse_id
            WHERE l.reservation_id = $1::varchar
                AND (l.backordered_quantity > 0 OR l.quantity <= 0 OR s.id IS NULL))
        AND (SELECT count(*) FROM inventory_reservation_lines l
            WHERE l.reservation_id = $1::varchar)
            <= cardinality($3::varchar[])
    RETURNING id, request_id, body_hash, state, delivery_pincode, delivery_state_code,
        expire_time, create_time, update_time
), held AS (
    SELECT l.variant_id, l.warehouse_id, l.quantity, l.backordered_quantity
    FROM inventory_reservation_lines l
    WHERE l.reservation_id = (SELECT id FROM r)
), locked AS (
    SELECT inventory.id, held.quantity
    FROM inventory
    JOIN held ON inventory.variant_id = held.variant_id
        AND inventory.warehouse_id = held.warehouse_id
    ORDER BY inventory.variant_id, inventory.warehouse_id
    FOR UPDATE OF inventory
), stock AS (
    UPDATE inventory SET
        on_hand = inventory.on_hand - locked.quantity,
        reserved = inventory.reserved - locked.quantity,
        update_time = $2::timestamptz
    FROM locked
    WHERE inventory.id = locked.id
    RETURNING inventory.variant_id, inventory.warehouse_id, inventory.on_hand, locked.quantity
), sales AS (
    INSERT INTO inventory_adjustments (id, warehouse_id, variant_id, delta, reason, note,
        actor, on_hand_after, reference, create_time)
    SELECT ($3::varchar[])[CAST(
            row_number() OVER (ORDER BY stock.variant_id, stock.warehouse_id) AS INTEGER)],
        stock.warehouse_id, stock.variant_id, -stock.quantity, 'SALE', '',
        $4::varchar, stock.on_hand, $5::varchar, $2::timestamptz
    FROM stock
)
SELECT r.id, r.request_id, r.body_hash, r.state, r.delivery_pincode, r.delivery_state_code,
    r.expire_time, r.create_time, r.update_time,
    held.variant_id AS line_variant_id, held.warehouse_id AS line_warehouse_id,
    held.quantity AS line_quantity, held.backordered_quantity AS line_backordered_quantity
FROM r LEFT JOIN held ON true
ORDER BY held.variant_id, held.warehouse_id
"""
# Ids offered to PG_COMMIT_SIMPLE: enough for any usual cart.
COMMIT_SIMPLE_MAX_LINES = 8
