"""Database.run / run_in: a Core statement straight on asyncpg on PostgreSQL (compiled
once per statement object), SQLAlchemy's path on SQLite, with the same results.

Every column type the order service's tables use is written and read both ways (the
driver and SQLAlchemy) and compared; parameters keep their `$n` order however often
and however many; constraint violations are IntegrityError; a statement object is
compiled once and never shares its compile with another; inside a transaction the
driver path keeps SQLAlchemy's transaction (begun lazily, rolled back as a whole).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, DriverRow, UnsupportedStatement, UTCDateTime
from services.order.models import Base as OrderBase
from services.order.models import Cart
from tests.conftest import open_database, temporary_database

META = MetaData()
THINGS = Table(
    "things",
    META,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=True),
    Column("note", Text, nullable=False, default=""),
    Column("n", Integer, nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("doc", JSON, nullable=False),
    Column("items", JSON, nullable=False),
    Column("blob", LargeBinary, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("maybe_at", UTCDateTime, nullable=True),
)
# The order service's column types: each must be one THINGS covers (Float is the
# leases table's, refused on the driver path: test_what_it_would_not_run_alike).
COVERED = {String, Text, Integer, Boolean, JSON, LargeBinary, UTCDateTime}

P = {c.name: bindparam(f"p_{c.name}", type_=c.type) for c in THINGS.c}
INSERT_THING = insert(THINGS).values({c.name: P[c.name] for c in THINGS.c}).returning(*THINGS.c)
THING = select(THINGS).where(THINGS.c.id == bindparam("id"))
ALL_THINGS = select(THINGS).order_by(THINGS.c.id)

IST = timezone(timedelta(hours=5, minutes=30))


def thing(ident: str, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": ident,
        "name": "Kumkumadi oil ✨",
        "note": "it's 'quoted' and $1",
        "n": -(2**31),
        "flag": True,
        "doc": {"line1": "12 MG Road", "pin": "560001", "nested": {"a": [1, 2.5, None]}},
        "items": [["var_x", 2], ["var_y", 1]],
        "blob": b"\x00\xffquote\x01",
        "at": datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=IST),
        "maybe_at": None,
    }
    values.update(over)
    return {f"p_{k}": v for k, v in values.items()}


@pytest.fixture(params=["postgres", "sqlite"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with (
        temporary_database(request.param, tmp_path) as url,
        open_database(url, "runtest", META) as database,
    ):
        yield database


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[Database]:
    async with (
        temporary_database("postgres", tmp_path) as url,
        open_database(url, "runtest", META) as database,
    ):
        yield database


async def through_sqlalchemy(db: Database, stmt: Any, params: dict[str, Any]) -> list[Any]:
    async with db.engine.begin() as conn:
        result = await conn.execute(stmt, params)
        return list(result.all()) if result.returns_rows else []


def as_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def test_the_table_covers_every_type_of_the_order_service() -> None:
    used = {type(c.type) for t in OrderBase.metadata.sorted_tables for c in t.c}
    assert used - {Float} <= COVERED, used - COVERED


async def test_every_type_round_trips_as_through_sqlalchemy(db: Database) -> None:
    """Written by `run` and read by SQLAlchemy, written by SQLAlchemy and read by
    `run`: the same values, of the same Python types (aware UTC datetimes, decoded
    JSON, bytes), under the same keys."""
    by_driver, by_sa = thing("a"), thing("b", maybe_at=datetime(2026, 1, 2, tzinfo=UTC))
    written = await db.run(INSERT_THING, by_driver)
    await through_sqlalchemy(db, INSERT_THING, by_sa)
    for ident in ("a", "b"):
        [driver] = await db.run(THING, {"id": ident})
        [sa] = await through_sqlalchemy(db, THING, {"id": ident})
        assert as_dict(driver) == as_dict(sa)
        assert {k: type(v) for k, v in as_dict(driver).items()} == {
            k: type(v) for k, v in as_dict(sa).items()
        }
        assert driver.at.tzinfo == UTC and driver.at == by_driver["p_at"]
        assert tuple(driver) == tuple(sa) and driver[2:] == sa[2:]
    assert as_dict(written[0]) == as_dict((await db.run(THING, {"id": "a"}))[0])
    if not db.is_sqlite:
        assert isinstance(written[0], DriverRow) and written[0]["doc"] == by_driver["p_doc"]
    # A JSON value that is a bare string or null, as SQLAlchemy serializes them.
    await db.run(INSERT_THING, thing("c", doc="just text", items=[]))
    [driver] = await db.run(THING, {"id": "c"})
    [sa] = await through_sqlalchemy(db, THING, {"id": "c"})
    assert driver.doc == sa.doc == "just text"
    # Non-ASCII text, and keys that are not strings (written as strings, as json.dumps
    # writes them; mesh.db serializes with orjson).
    await db.run(INSERT_THING, thing("d", doc={"तेल": "कुमकुमादि ✨", 5: [True, None]}))
    [driver] = await db.run(THING, {"id": "d"})
    [sa] = await through_sqlalchemy(db, THING, {"id": "d"})
    assert driver.doc == sa.doc == {"तेल": "कुमकुमादि ✨", "5": [True, None]}
    # A bare number (SQLite hands it back as a number, which must stay one).
    await db.run(INSERT_THING, thing("e", doc=5, items=2.5))
    [driver] = await db.run(THING, {"id": "e"})
    [sa] = await through_sqlalchemy(db, THING, {"id": "e"})
    got = [(as_dict(r)["doc"], as_dict(r)["items"]) for r in (driver, sa)]
    assert got == [(5, 2.5), (5, 2.5)]


async def test_parameters_keep_their_order_repeated_and_many(db: Database) -> None:
    """A parameter used three times, literals between them, and an INSERT ... SELECT
    of several rows with seventy parameters: what SQLAlchemy computes."""
    a, b = bindparam("a", type_=Integer), bindparam("b", type_=Integer)
    stmt = select(
        (b - a).label("d"),
        literal(7).label("seven"),
        (a * 10).label("a10"),
        literal("x").label("x"),
        (a + b).label("s"),
    )
    params = {"a": 3, "b": 100}
    driver, sa = await db.run(stmt, params), await through_sqlalchemy(db, stmt, params)
    assert [as_dict(r) for r in driver] == [as_dict(r) for r in sa]
    assert as_dict(driver[0]) == {"d": 97, "seven": 7, "a10": 30, "x": "x", "s": 103}

    rows = 7
    names = [c.name for c in THINGS.c]
    source = union_all(
        *(
            select(*(bindparam(f"r{i}_{n}", type_=THINGS.c[n].type) for n in names))
            for i in range(rows)
        )
    )
    many = insert(THINGS).from_select(names, source)
    values: dict[str, Any] = {}
    for i in range(rows):
        one = thing(f"m{i}", n=i, flag=i % 2 == 0, doc={"i": i}, blob=bytes([i]))
        values.update({f"r{i}_{k.removeprefix('p_')}": v for k, v in one.items()})
    await db.run(many, values)
    got = await db.run(ALL_THINGS)
    assert [(r.id, r.n, r.flag, r.doc, r.blob) for r in got] == [
        (f"m{i}", i, i % 2 == 0, {"i": i}, bytes([i])) for i in range(rows)
    ]
    assert [as_dict(r) for r in got] == [
        as_dict(r) for r in await through_sqlalchemy(db, ALL_THINGS, {})
    ]


async def test_a_missing_parameter_is_refused_and_defaults_apply(db: Database) -> None:
    with pytest.raises(StatementError, match="A value is required for bind parameter 'id'"):
        await db.run(THING, {})
    optional = select(bindparam("v", value=5, type_=Integer).label("v"))
    assert [r.v for r in await db.run(optional)] == [5]
    assert [r.v for r in await db.run(optional, {"v": 6})] == [6]


async def test_a_violated_constraint_is_an_integrity_error(db: Database) -> None:
    await db.run(INSERT_THING, thing("a"))
    with pytest.raises(IntegrityError):
        await db.run(INSERT_THING, thing("a", n=1))
    # Inside a transaction: IntegrityError, and the block's earlier write is undone.
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            await db.run_in(s, INSERT_THING, thing("b"))
            await db.run_in(s, INSERT_THING, thing("a"))
    assert [r.id for r in await db.run(ALL_THINGS)] == ["a"]


async def test_a_statement_is_compiled_once_and_never_shared(pg: Database) -> None:
    await pg.run(THING, {"id": "x"})
    before = pg.driver_compiles
    for i in range(5):
        await pg.run(THING, {"id": f"x{i}"})
    assert pg.driver_compiles == before  # by the statement object, not per call
    # Two statements with the same SQL ("SELECT $1::INTEGER AS v") and different
    # literal values: each its own compile, each its own answer.
    one, two = select(literal(1).label("v")), select(literal(2).label("v"))
    assert pg.driver_statement(one).sql == pg.driver_statement(two).sql
    assert pg.driver_statement(one) is not pg.driver_statement(two)
    assert [r.v for r in await pg.run(one)] + [r.v for r in await pg.run(two)] == [1, 2]
    assert pg.driver_compiles == before + 2
    # A statement that goes away takes its entry along (an id reused later is not
    # mistaken for it).
    entries = len(pg._driver_statements)
    del one
    gc.collect()
    assert len(pg._driver_statements) == entries - 1


async def test_run_in_keeps_sqlalchemys_transaction(pg: Database) -> None:
    """The first statement of a transaction on the driver begins it (as SQLAlchemy
    would): its writes are invisible to others until COMMIT, undone by a ROLLBACK;
    mixed with SQLAlchemy's statements in one transaction; an autocommit session
    stays autocommit."""

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with pg.transaction() as s:
            await pg.run_in(s, INSERT_THING, thing("gone"))
            assert [r.id for r in await pg.run_in(s, ALL_THINGS)] == ["gone"]
            assert await pg.fetch("SELECT id FROM things") == []  # not committed
            raise Boom()
    assert await pg.run(ALL_THINGS) == []

    async with pg.transaction() as s:
        await pg.run_in(s, INSERT_THING, thing("a"))
        await s.execute(update(THINGS).where(THINGS.c.id == "a").values(n=1))
        await pg.run_in(s, update(THINGS).where(THINGS.c.id == "a").values(n=THINGS.c.n + 1))
        assert (await s.execute(select(THINGS.c.n))).scalar_one() == 2
        assert await pg.fetch("SELECT id FROM things") == []
    assert [r.n for r in await pg.run(ALL_THINGS)] == [2]

    async with pg.session() as s:  # autocommit on PostgreSQL: no BEGIN
        await pg.run_in(s, INSERT_THING, thing("b"))
        assert [r.id for r in await pg.fetch("SELECT id FROM things ORDER BY id")] == ["a", "b"]

    # One session, one transaction after another: each its own connection and BEGIN
    # (the pooled connection a session keeps for run_in is never one of a transaction
    # that ended).
    async with AsyncSession(pg.engine) as s:
        async with s.begin():
            await pg.run_in(s, INSERT_THING, thing("c"))
        with pytest.raises(Boom):
            async with s.begin():
                await pg.run_in(s, INSERT_THING, thing("d"))
                raise Boom()
        async with s.begin():
            await pg.run_in(s, INSERT_THING, thing("e"))
            assert await pg.fetch("SELECT id FROM things WHERE id = 'e'") == []
    assert [r.id for r in await pg.run(ALL_THINGS)] == ["a", "b", "c", "e"]


async def test_what_it_would_not_run_alike_is_refused(pg: Database) -> None:
    with pytest.raises(UnsupportedStatement, match="Core"):
        await pg.run(select(Cart))  # an ORM statement: objects through a session
    with pytest.raises(UnsupportedStatement, match="execution"):
        await pg.run(select(THINGS).where(THINGS.c.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(UnsupportedStatement, match="defaults"):
        await pg.run(insert(THINGS).values(id="z", n=1, flag=True, doc={}, items=[], blob=b""))
    floats = Table("floats", MetaData(), Column("x", Float))
    with pytest.raises(UnsupportedStatement, match="processing"):
        await pg.run(select(floats.c.x))
