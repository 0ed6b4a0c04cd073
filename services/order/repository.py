"""Queries over the order service's tables (no business rules here)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    BindParameter,
    Insert,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.sql.dml import UpdateBase

from mesh.db import AnyRow, Database, Unit, decode_page_token, new_id, next_page_token
from mesh.errors import InvalidArgument
from services.order.models import (
    Base,
    Cart,
    CartItem,
    CheckoutSaga,
    CheckoutSession,
    Invoice,
    InvoiceCounter,
    Order,
    OrderEdit,
    OrderItem,
    OrderNumberCounter,
    OrderRestock,
    OrderStatusChange,
    Payment,
    SagaJournalEntry,
)

E = TypeVar("E", bound=Base)
S = TypeVar("S")

# --- writing without the unit of work ---------------------------------------------------
#
# Rows that are only written go out as Core statements (no session.add, no flush), and a
# group of writes that must happen together is ONE statement on PostgreSQL: the writes as
# data-modifying CTEs of a single statement, which is atomic on its own (all or nothing,
# foreign keys checked at its end), so it needs no BEGIN/COMMIT. SQLite has no
# data-modifying CTEs: there the same statements run one after the other.
#
# The statements are templates: their SQL depends only on their shape (tables, columns,
# row counts), the values are bound parameters. Each shape is built once, so its cache
# key is computed once and it is compiled once; building a statement with its values
# (`insert().values(...)`) costs more CPU than running it.

_TEMPLATES: dict[Hashable, Any] = {}
_MAX_TEMPLATES = 2000  # shapes: row counts are bounded (50 cart lines), so this is ample


def template(key: Hashable, build: Callable[[], S]) -> S:
    """The statement of shape `key`, built by `build` the first time."""
    stmt = _TEMPLATES.get(key)
    if stmt is None:
        if len(_TEMPLATES) >= _MAX_TEMPLATES:  # pragma: no cover - a safety valve
            _TEMPLATES.clear()
        stmt = _TEMPLATES[key] = build()
    return stmt  # type: ignore[no-any-return]


def values_of(obj: Base) -> dict[str, Any]:
    """A new ORM object's column values as its INSERT writes them. Column defaults it
    does not set (plain values, or callables such as `new_id`) are filled in on `obj`
    first, so it holds exactly what was written (as `Database.insert`)."""
    state = obj.__dict__
    values: dict[str, Any] = {}
    for key, name, default in _insert_columns(type(obj)):
        if key not in state:
            if default is None:
                continue  # left to the database (NULL or a server default)
            setattr(obj, key, default.arg(None) if default.is_callable else default.arg)
        values[name] = state[key]
    return values


@functools.cache
def _insert_columns(model: type[Base]) -> tuple[tuple[str, str, Any], ...]:
    """(attribute, column, Python-side default or None) of each of `model`'s columns,
    read from its mapper once."""
    return tuple(
        (attr.key, attr.columns[0].name, _python_default(attr.columns[0]))
        for attr in sa_inspect(model).column_attrs
    )


def _python_default(column: Any) -> Any:
    """The column's default when Python fills it in (a value or a callable), else None."""
    d = column.default
    return d if d is not None and (d.is_scalar or d.is_callable) else None


def _configured(model: type[E]) -> type[E]:
    """`model` with the mappers configured: `Model(...)` configures them on first use,
    `new_instance()` does not, and an attribute set on an object made before they are
    finds no implementation behind it. Once configured, one attribute read
    (`configure_mappers()` itself walks every registry each time)."""
    if not model.__mapper__.configured:  # type: ignore[attr-defined]
        configure_mappers()
    return model


def make(model: type[E], /, **values: Any) -> E:
    """A new transient ORM object of `model` holding `values` (its attribute names), as
    `model(**values)` gives, without the ORM's constructor: no init event, no
    instrumented attribute set per value (the values go straight into the object's
    dict, as the ORM's loader does). Such an object is still a full ORM instance:
    `Writes.insert` (`values_of`) takes it, and so would `session.add` (a flush
    INSERTs the values it holds). For the hot path's objects that only carry values."""
    obj: E = _configured(model)._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values)
    return obj


def _made(model: type[E], names: Sequence[str], values: Sequence[Any]) -> E:
    """`make` from column names (= attribute names here) and their values."""
    obj: E = _configured(model)._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


def entity(model: type[E], row: AnyRow) -> E:
    """A transient ORM object holding a Core row of `model`'s table (read or RETURNING),
    made as `make` makes one."""
    obj: E = _configured(model)._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(row._mapping)
    return obj


def _insert_template(table: Table, names: tuple[str, ...], rows: int, tag: str) -> Insert:
    """INSERT of `rows` rows of `names`, parameters `<tag><row>_<name>`. Several rows
    as INSERT ... SELECT of a UNION ALL (a multi-row VALUES is never cached)."""

    def param(i: int, n: str) -> BindParameter[Any]:
        return bindparam(f"{tag}{i}_{n}", type_=table.c[n].type)

    if rows == 1:
        return insert(table).values({n: param(0, n) for n in names})
    source = union_all(*(select(*(param(i, n) for n in names)) for i in range(rows)))
    return insert(table).from_select(list(names), source)


def _update_template(table: Table, names: tuple[str, ...], tag: str) -> Update:
    """UPDATE of the row whose primary key is `<tag>key`, setting `<tag>_<name>`."""
    return (
        update(table)
        .where(table.c.id == bindparam(f"{tag}key", type_=table.c.id.type))
        .values({n: bindparam(f"{tag}_{n}", type_=table.c[n].type) for n in names})
    )


@functools.cache
def _tagged(tag: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{tag}{n}" for n in names)


@functools.cache
def _row_params(names: tuple[str, ...], rows: int) -> tuple[str, ...]:
    """`_insert_template`'s parameters (untagged), row after row."""
    return tuple(f"{i}_{n}" for i in range(rows) for n in names)


@functools.cache
def _update_params(names: tuple[str, ...]) -> tuple[str, ...]:
    """`_update_template`'s parameters (untagged): the key, then the values."""
    return ("key", *(f"_{n}" for n in names))


_JOURNAL_PARAMS = ("saga", "id", "steps", "time")  # `_journal_template`'s (untagged)


class SagaStep(NamedTuple):
    """A step a saga took or undid (`SagaJournalEntry` holds them as JSON)."""

    attempt: int
    step: str
    status: str
    detail: str
    time: datetime

    def as_json(self) -> dict[str, str]:
        """The step as an entry's `steps` hold it (its attempt is the entry's)."""
        return {
            "step": self.step,
            "status": self.status,
            "detail": self.detail,
            "time": self.time.isoformat(),
        }

    @classmethod
    def from_json(cls, attempt: int, step: dict[str, str]) -> SagaStep:
        """A step of an entry of `attempt`, as `as_json` wrote it."""
        return cls(
            attempt,
            step["step"],
            step["status"],
            step["detail"],
            datetime.fromisoformat(step["time"]),
        )


def journal_entry(saga_id: str, attempt: int, steps: Sequence[SagaStep]) -> SagaJournalEntry:
    """The journal entry of `steps` (at least one), written as of the last one."""
    return make(
        SagaJournalEntry,
        id=new_id(),
        saga_id=saga_id,
        attempt=attempt,
        steps=[st.as_json() for st in steps],
        time=steps[-1].time,
    )


def _journal_template(tag: str) -> Insert:
    """INSERT of a journal entry of the saga `<tag>saga` with the attempt its row has
    when the statement runs (no row when there is no such saga)."""
    g, t = CheckoutSaga.__table__, SagaJournalEntry.__table__
    source = select(
        bindparam(f"{tag}id", type_=t.c.id.type),
        g.c.id,
        g.c.attempt,
        bindparam(f"{tag}steps", type_=t.c.steps.type),
        bindparam(f"{tag}time", type_=t.c.time.type),
    ).where(g.c.id == bindparam(f"{tag}saga", type_=g.c.id.type))
    return insert(t).from_select(["id", "saga_id", "attempt", "steps", "time"], source)


class Writes:
    """Writes that go together (`write_together`, `write_at_once`), from templates:
    each write's SQL is fixed by its shape, its values are parameters named after its
    position (`w<position>_...`), so a group's combined statement is built once too."""

    def __init__(self) -> None:
        self._shapes: list[Hashable] = []
        self._builds: list[Callable[[], UpdateBase]] = []
        self._params: list[dict[str, Any]] = []

    def _add(
        self,
        shape: Hashable,
        build: Callable[[str], UpdateBase],
        names: tuple[str, ...],
        values: Sequence[Any],
    ) -> None:
        """A write of shape `shape`: its template's parameters are `names` (tagged with
        the write's position, `w<position>_<name>`), bound to `values`."""
        tag = f"w{len(self._shapes)}_"
        self._shapes.append((shape, tag))
        self._builds.append(lambda: build(tag))
        self._params.append(dict(zip(_tagged(tag, names), values, strict=True)))

    def insert(self, objs: Sequence[Base]) -> Writes:
        """INSERT new ORM objects of one class (they stay transient, holding what was
        written: defaults filled in, as `values_of`)."""
        if not objs:
            return self
        table = sa_inspect(type(objs[0])).local_table
        rows = [values_of(o) for o in objs]
        names = tuple(rows[0])
        if any(tuple(r) != names for r in rows):  # pragma: no cover - one class, one shape
            for obj in objs:
                self.insert([obj])
            return self
        return self.insert_rows(table, rows)

    def insert_rows(self, table: Table, rows: Sequence[dict[str, Any]]) -> Writes:
        """INSERT rows of `table` given as column -> value (all with the same columns),
        such as `Outbox.rows` makes."""
        if not rows:
            return self
        names = tuple(rows[0])
        self._add(
            ("insert", table.name, names, len(rows)),
            lambda tag: _insert_template(table, names, len(rows), tag),
            _row_params(names, len(rows)),
            [r[n] for r in rows for n in names],
        )
        return self

    def update(self, model: type[Base], ident: str, **values: Any) -> Writes:
        """UPDATE the row of `model` whose primary key (`id`) is `ident`."""
        table = sa_inspect(model).local_table
        names = tuple(values)
        self._add(
            ("update", table.name, names),
            lambda tag: _update_template(table, names, tag),
            _update_params(names),
            [ident, *values.values()],
        )
        return self

    def journal(self, saga_id: str, steps: Sequence[SagaStep]) -> Writes:
        """INSERT a journal entry of `steps` with the saga row's attempt (none without
        the row, or without steps)."""
        if not steps:
            return self
        values = [saga_id, new_id(), [st.as_json() for st in steps], steps[-1].time]
        self._add(("journal",), _journal_template, _JOURNAL_PARAMS, values)
        return self

    def statements(self) -> list[tuple[UpdateBase, dict[str, Any]]]:
        """Each write alone with its parameters (SQLite)."""
        return [
            (template(shape, build), params)
            for shape, build, params in zip(self._shapes, self._builds, self._params, strict=True)
        ]

    def combined(
        self, main_shape: Hashable | None = None, main: Callable[[], UpdateBase] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """One statement (PostgreSQL): the writes as CTEs of `main` (or of SELECT 1)."""

        def build() -> Any:
            ctes = [b().cte(f"w{i}") for i, b in enumerate(self._builds)]
            return (select(literal(1)) if main is None else main()).add_cte(*ctes)

        params: dict[str, Any] = {}
        for p in self._params:
            params.update(p)
        return template(("combined", tuple(self._shapes), main_shape), build), params


async def write_together(
    s: Unit,
    db: Database,
    writes: Writes,
    main: tuple[Hashable, Callable[[], UpdateBase], dict[str, Any]] | None = None,
) -> AnyRow | None:
    """`writes` (and `main`: (shape, template builder, parameters), whose first
    RETURNING row is returned) in the transaction `s`: on PostgreSQL one statement (the
    writes as CTEs of `main`, or of a SELECT 1), one round trip; on SQLite one after
    the other. The writes must not depend on each other's effects (on PostgreSQL they
    all see the statement's snapshot), bar foreign keys (checked when it ends).
    Statements run with `Database.run_in` (on PostgreSQL straight on the driver)."""
    if db.dialect == "postgresql":
        alone = writes.statements()
        if main is None and len(alone) == 1:
            stmt, params = alone[0]
            await db.run_in(s, stmt, params)
            return None
        if main is None:
            stmt, params = writes.combined()
            await db.run_in(s, stmt, params)
            return None
        shape, build, main_params = main
        stmt, params = writes.combined(shape, build)
        return _first(await db.run_in(s, stmt, {**params, **main_params}))
    for stmt, params in writes.statements():
        await db.run_in(s, stmt, params)
    if main is None:
        return None
    shape, build, main_params = main
    return _first(await db.run_in(s, template(shape, build), main_params))


def _first(rows: list[AnyRow]) -> AnyRow | None:
    return rows[0] if rows else None


async def execute_alone(db: Database, stmt: Any, params: dict[str, Any]) -> list[AnyRow]:
    """One statement with its parameters as a unit of work of its own (`Database.run`):
    on PostgreSQL in autocommit straight on the driver, one round trip (no BEGIN, no
    COMMIT); on SQLite in a BEGIN IMMEDIATE transaction."""
    return await db.run(stmt, params)


async def write_at_once(db: Database, writes: Writes) -> None:
    """`writes` as one unit of work of their own: on PostgreSQL ONE statement in
    autocommit (`execute_alone`: a single statement is atomic on its own), on SQLite
    one transaction (BEGIN IMMEDIATE)."""
    if db.dialect == "postgresql":
        alone = writes.statements()
        stmt, params = alone[0] if len(alone) == 1 else writes.combined()
        await execute_alone(db, stmt, params)
        return
    async with db.transaction() as s:
        await write_together(s, db, writes)


_CART_ITEMS_T = CartItem.__table__
_ITEMS_OF_CART = (
    select(_CART_ITEMS_T)
    .where(_CART_ITEMS_T.c.cart_id == bindparam("cart_id"))
    .order_by(_CART_ITEMS_T.c.add_time, _CART_ITEMS_T.c.id)
)


async def cart_items(db: Database, s: Unit, cart_id: str) -> list[CartItem]:
    """The cart's items by time added, as transient objects (read with Core: changes
    to them are written by the caller's statements, never by a flush)."""
    rows = await db.run_in(s, _ITEMS_OF_CART, {"cart_id": cart_id})
    return [entity(CartItem, row) for row in rows]


_CART_NAMES = [c.name for c in Cart.__table__.c]
_CART_ITEM_NAMES = [c.name for c in CartItem.__table__.c]  # id first


def _cart_with_items_template(by: str) -> Select[Any]:
    carts, items = Cart.__table__, CartItem.__table__
    return (
        select(*carts.c, *(c.label(f"item__{c.name}") for c in items.c))
        .outerjoin(items, items.c.cart_id == carts.c.id)
        .where(carts.c[by] == bindparam("key", type_=carts.c[by].type))
        .order_by(items.c.add_time, items.c.id)
    )


async def cart_with_items(
    db: Database, s: Unit, by: str, key: str
) -> tuple[Cart | None, list[CartItem]]:
    """The cart whose `by` column ("id" or "customer_id") is `key` and its items (as
    `cart_items` orders them), in one query: (None, []) when there is no such cart.
    Transient objects (Core rows)."""
    stmt = template(("cart_with_items", by), lambda: _cart_with_items_template(by))
    rows = await db.run_in(s, stmt, {"key": key})
    if not rows:
        return None, []
    n = len(_CART_NAMES)
    cart = _made(Cart, _CART_NAMES, rows[0][:n])
    found = [
        _made(CartItem, _CART_ITEM_NAMES, row[n:])
        for row in rows
        if row[n] is not None  # the outer join's item id: NULL for a cart without items
    ]
    return cart, found


def _touch_template(by: str) -> Update:
    t = Cart.__table__
    now = bindparam("now", type_=t.c.update_time.type)
    return (
        update(t)
        .where(t.c[by] == bindparam("key", type_=t.c[by].type))
        .values(update_time=now, last_activity_time=now)
        .returning(*t.c)
    )


async def touch_cart(db: Database, s: Unit, by: str, key: str, now: datetime) -> Cart | None:
    """The cart whose `by` column ("id" or "customer_id") is `key`, locked and its
    update and activity times set to `now` by one UPDATE ... RETURNING (a SELECT ...
    FOR UPDATE and an UPDATE before)."""
    stmt = template(("touch_cart", by), lambda: _touch_template(by))
    row = _first(await db.run_in(s, stmt, {"key": key, "now": now}))
    return None if row is None else entity(Cart, row)


async def cart_by_customer(s: AsyncSession, customer_id: str) -> Cart | None:
    return await s.scalar(select(Cart).where(Cart.customer_id == customer_id))


async def locked(s: AsyncSession, model: type, ident: str, *, lock: bool = True) -> object | None:
    """A row by primary key, locked FOR UPDATE on PostgreSQL (SQLite: writers serialize)."""
    q = select(model).where(model.id == ident)  # type: ignore[attr-defined]
    if lock:
        q = q.with_for_update()
    return await s.scalar(q)


def _locked_template(table: Table) -> Select[Any]:
    return select(table).where(table.c.id == bindparam("id")).with_for_update()


async def locked_row(db: Database, s: Unit, model: type[E], ident: str) -> E | None:
    """The row of `model` whose primary key is `ident`, locked FOR UPDATE
    (PostgreSQL; SQLite: writers serialize), read-only (a transient object): `locked`
    for a unit of Core statements."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    stmt = template(("locked_row", table.name), lambda: _locked_template(table))
    row = _first(await db.run_in(s, stmt, {"id": ident}))
    return None if row is None else entity(model, row)


async def saga_by_request(s: AsyncSession, request_id: str) -> CheckoutSaga | None:
    return await s.scalar(select(CheckoutSaga).where(CheckoutSaga.request_id == request_id))


_SAGAS = CheckoutSaga.__table__
# Two index lookups, not `request_id = :r OR session_id = :s`: PostgreSQL plans a
# prepared statement once for any values (its generic plan) after a few runs, and for
# the OR, planned while the table was still small, that plan was a sequential scan,
# kept as the table grew (every PlaceOrder read every saga until an ANALYZE). Each
# branch here is an index scan whatever the table's size.
_SAGAS_BY_REQUEST_OR_SESSION = union_all(
    select(_SAGAS).where(_SAGAS.c.request_id == bindparam("request_id")),
    select(_SAGAS).where(
        _SAGAS.c.session_id == bindparam("sid"),
        _SAGAS.c.request_id != bindparam("request_id"),  # never NULL: the first branch's
    ),
)


async def sagas_by_request_or_session(
    db: Database, s: Unit, request_id: str, session_id: str
) -> list[CheckoutSaga]:
    """The saga of `request_id` (of any session) and every saga of `session_id`, in
    one query (both columns are indexed). Transient objects: a change to one is
    written by the caller's own UPDATE."""
    rows = await db.run_in(
        s, _SAGAS_BY_REQUEST_OR_SESSION, {"request_id": request_id, "sid": session_id}
    )
    return [entity(CheckoutSaga, row) for row in rows]


async def saga_steps(s: AsyncSession, saga_id: str) -> list[SagaStep]:
    """Every step of the saga's journal, in the order taken."""
    t = SagaJournalEntry
    rows = await s.execute(
        select(t.attempt, t.steps).where(t.saga_id == saga_id).order_by(t.time, t.id)
    )
    return [SagaStep.from_json(attempt, st) for attempt, steps in rows for st in steps]


# Reads of the checkout's path, as statements built once (their cache key is computed
# once) with Core rows made into transient objects: read-only uses, never flushed (a
# caller that changes or deletes the rows uses the ORM reads below).
_ITEMS = OrderItem.__table__
_HISTORY = OrderStatusChange.__table__
_EDITS = OrderEdit.__table__
_INVOICES = Invoice.__table__
_ITEMS_OF_ORDER = (
    select(_ITEMS).where(_ITEMS.c.order_id == bindparam("order_id")).order_by(_ITEMS.c.position)
)
_HISTORY_OF_ORDER = (
    select(_HISTORY)
    .where(_HISTORY.c.order_id == bindparam("order_id"))
    .order_by(_HISTORY.c.time, _HISTORY.c.id)
)
_EDITS_OF_ORDER = (
    select(_EDITS)
    .where(_EDITS.c.order_id == bindparam("order_id"))
    .order_by(_EDITS.c.create_time, _EDITS.c.id)
)
_TAX_INVOICE_OF_ORDER = select(_INVOICES).where(
    _INVOICES.c.order_id == bindparam("order_id"), _INVOICES.c.kind == "TAX_INVOICE"
)


_ITEMS_WITH_COUNTS = (
    select(
        _ITEMS,
        select(func.count())
        .select_from(_EDITS)
        .where(_EDITS.c.order_id == bindparam("order_id"))
        .scalar_subquery()
        .label("edit_count"),
        select(func.count())
        .select_from(_INVOICES)
        .where(_INVOICES.c.order_id == bindparam("order_id"), _INVOICES.c.kind == "TAX_INVOICE")
        .scalar_subquery()
        .label("tax_invoice_count"),
    )
    .where(_ITEMS.c.order_id == bindparam("order_id"))
    .order_by(_ITEMS.c.position)
)
_ITEM_NAMES = [c.name for c in _ITEMS.c]


@dataclass(frozen=True)
class ItemsAndCounts:
    items: list[OrderItem]
    edit_count: int | None  # None: not known (an order without items)
    tax_invoiced: bool | None


async def read_order_items_and_counts(db: Database, s: Unit, order_id: str) -> ItemsAndCounts:
    """The order's items (as `read_order_items`) and, in the same query, how many
    edits it has and whether it has a tax invoice: the confirmation reads edits and
    the invoice only when there are any (one round trip instead of three). Read under
    the order's row lock, the counts stay true until the transaction ends (edits and
    invoices are written with that lock held)."""
    rows = await db.run_in(s, _ITEMS_WITH_COUNTS, {"order_id": order_id})
    if not rows:
        return ItemsAndCounts([], None, None)
    n = len(_ITEM_NAMES)
    items = [_made(OrderItem, _ITEM_NAMES, row[:n]) for row in rows]
    return ItemsAndCounts(items, int(rows[0][n]), bool(rows[0][n + 1]))


async def read_order_items(db: Database, s: Unit, order_id: str) -> list[OrderItem]:
    """As `order_items`, read-only (transient objects)."""
    rows = await db.run_in(s, _ITEMS_OF_ORDER, {"order_id": order_id})
    return [entity(OrderItem, row) for row in rows]


async def read_order_history(db: Database, s: Unit, order_id: str) -> list[OrderStatusChange]:
    """As `order_history`, read-only (transient objects)."""
    rows = await db.run_in(s, _HISTORY_OF_ORDER, {"order_id": order_id})
    return [entity(OrderStatusChange, row) for row in rows]


async def read_order_edits(db: Database, s: Unit, order_id: str) -> list[OrderEdit]:
    """As `order_edits`, read-only (transient objects)."""
    rows = await db.run_in(s, _EDITS_OF_ORDER, {"order_id": order_id})
    return [entity(OrderEdit, row) for row in rows]


async def read_tax_invoice(db: Database, s: Unit, order_id: str) -> Invoice | None:
    """The order's tax invoice, if issued, read-only (a transient object)."""
    row = _first(await db.run_in(s, _TAX_INVOICE_OF_ORDER, {"order_id": order_id}))
    return None if row is None else entity(Invoice, row)


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


_ORDERS = Order.__table__
_PAYMENTS = Payment.__table__
_ORDER_NAMES = [c.name for c in _ORDERS.c]
_PAYMENT_NAMES = [c.name for c in _PAYMENTS.c]  # id first
_ORDER_AND_LATEST_PAYMENT = (
    select(*_ORDERS.c, *(c.label(f"payment__{c.name}") for c in _PAYMENTS.c))
    .outerjoin(_PAYMENTS, and_(_PAYMENTS.c.order_id == _ORDERS.c.id, _PAYMENTS.c.kind == "ORDER"))
    .where(_ORDERS.c.id == bindparam("order_id"))
    .order_by(_PAYMENTS.c.create_time.desc(), _PAYMENTS.c.id.desc())
    .limit(1)
)


async def order_and_latest_payment(
    db: Database, s: Unit, order_id: str
) -> tuple[Order | None, Payment | None]:
    """An order and its own latest payment (`latest_payment`) in one query, as
    transient objects (read-only)."""
    row = _first(await db.run_in(s, _ORDER_AND_LATEST_PAYMENT, {"order_id": order_id}))
    if row is None:
        return None, None
    n = len(_ORDER_NAMES)
    order = _made(Order, _ORDER_NAMES, row[:n])
    if row[n] is None:  # no payment (its id is NULL)
        return order, None
    return order, _made(Payment, _PAYMENT_NAMES, row[n:])


MainWrite = tuple[Hashable, Callable[[], UpdateBase], dict[str, Any]]


def _capture_template() -> UpdateBase:
    t = Payment.__table__
    latest = (
        select(t.c.id)
        .where(t.c.order_id == bindparam("m_order"), t.c.kind == "ORDER")
        .order_by(t.c.create_time.desc(), t.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        update(t)
        .where(t.c.id == latest)
        .values(
            state="CAPTURED",
            provider_payment_id=bindparam("m_payment", type_=t.c.provider_payment_id.type),
            update_time=bindparam("m_now", type_=t.c.update_time.type),
        )
        .returning(*t.c)
    )


def capture_latest_payment(order_id: str, provider_payment_id: str, now: datetime) -> MainWrite:
    """The UPDATE that marks the order's own latest payment CAPTURED by
    `provider_payment_id`, RETURNING it as it then is (one statement instead of a read
    and a write; Core, not the ORM's bulk UPDATE: `entity(Payment, row)` makes the
    object), as `write_together` takes its main statement."""
    params = {"m_order": order_id, "m_payment": provider_payment_id, "m_now": now}
    return ("capture_latest_payment", _capture_template, params)


def _pay_order_template(names: tuple[str, ...]) -> Update:
    t = Order.__table__
    return (
        update(t)
        .where(
            t.c.id == bindparam("order_id"),
            t.c.paid.is_(False),
            t.c.status == bindparam("from_status", type_=t.c.status.type),
        )
        .values(paid=True, **{n: bindparam(f"v_{n}", type_=t.c[n].type) for n in names})
        .returning(*t.c)
    )


async def pay_order(
    db: Database, s: Unit, order_id: str, from_status: str, values: dict[str, Any]
) -> Order | None:
    """The order marked paid with `values` (status, ...) if it is still unpaid in
    `from_status`, RETURNING it as it then is: one UPDATE that locks the row, checks
    and writes it (PostgreSQL re-checks the WHERE on the row it waited for). None: not
    unpaid in that status any more (the caller locks and reads it)."""
    names = tuple(values)
    stmt = template(("pay_order", names), lambda: _pay_order_template(names))
    params = {"order_id": order_id, "from_status": from_status}
    params.update({f"v_{n}": v for n, v in values.items()})
    row = _first(await db.run_in(s, stmt, params))
    return None if row is None else entity(Order, row)


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


def _counter_template(dialect: str, model: Any, key: str) -> Any:
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    t = model.__table__  # Core: `Database.run` takes table statements
    stmt = ins(t).values({key: bindparam("key", type_=t.c[key].type), "last_value": 1})
    return stmt.on_conflict_do_update(
        index_elements=[key], set_={"last_value": t.c.last_value + 1}
    ).returning(t.c.last_value)


def _counter_increment(dialect: str, table: Any, key: str) -> Any:
    """INSERT the counter at 1, or add 1 to it: one statement, RETURNING the value; its
    key is the parameter "key" (a template: built once)."""
    return template(
        ("counter", dialect, table.__tablename__), lambda: _counter_template(dialect, table, key)
    )


async def next_order_number(db: Database, year: int) -> int:
    """The next value of the year's order counter, in a statement of its own.

    Not in the order's transaction: the counter row would stay locked until that
    commits, and every placement would queue behind the one before. The increment
    is atomic (row lock on PostgreSQL, the single writer on SQLite), so values are
    distinct; an order whose transaction then fails leaves its number unused (order
    numbers may have gaps; invoice numbers, below, may not).
    """
    stmt = _counter_increment(db.dialect, OrderNumberCounter, "year")
    rows = await execute_alone(db, stmt, {"key": year})
    return int(rows[0][0])


async def write_and_number(db: Database, writes: Writes, year: int) -> int:
    """`writes` and the next value of the year's order counter (`next_order_number`)
    as one unit of work of their own: on PostgreSQL ONE statement in autocommit (the
    writes as CTEs of the counter's upsert: one round trip for both), on SQLite one
    transaction. The counter's row lock lasts that one statement, as it does alone."""
    dialect = db.dialect
    shape = ("counter", dialect, OrderNumberCounter.__tablename__)

    def build() -> UpdateBase:
        return _counter_template(dialect, OrderNumberCounter, "year")  # type: ignore[no-any-return]

    if dialect == "postgresql":
        stmt, params = writes.combined(shape, build)
        rows = await execute_alone(db, stmt, {**params, "key": year})
        return int(rows[0][0])
    async with db.transaction() as s:
        row = await write_together(s, db, writes, (shape, build, {"key": year}))
    assert row is not None  # the upsert always returns its row
    return int(row[0])


async def next_invoice_value(db: Database, s: Unit, series: str) -> int:
    """The next number of an invoice series, inside the caller's transaction: the
    counter row stays locked until the invoice commits, so numbers have no gaps and
    no duplicates. Call it last in the transaction: it serializes invoicing."""
    stmt = _counter_increment(db.dialect, InvoiceCounter, "series")
    rows = await db.run_in(s, stmt, {"key": series})
    return int(rows[0][0])


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
