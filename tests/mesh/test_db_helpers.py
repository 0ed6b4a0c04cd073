"""mesh.db helpers the services share: keyset page tokens, on_conflict, insert."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import String, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mesh.db import (
    Database,
    UTCDateTime,
    decode_page_token,
    encode_page_token,
    new_id,
    next_page_token,
    on_conflict,
    page_after,
    utcnow,
)
from mesh.errors import AlreadyExists, InvalidArgument
from tests.conftest import open_database, temporary_database


def rows(*ids: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(id=i) for i in ids]


def test_page_after_is_none_for_the_first_page() -> None:
    assert page_after("") is None


def test_page_after_reads_a_string_key_bound_to_the_filters() -> None:
    token = encode_page_token("r7", {"q": "x"})
    assert page_after(token, {"q": "x"}) == "r7"
    with pytest.raises(InvalidArgument):
        page_after(token, {"q": "y"})


def test_page_after_refuses_a_key_that_is_not_an_id() -> None:
    with pytest.raises(InvalidArgument) as err:
        page_after(encode_page_token(["r7", 3]))
    assert err.value.violations == [("page_token", "is not a valid page token")]


def test_next_page_token_is_empty_without_the_extra_row() -> None:
    assert next_page_token(rows("a", "b"), 2) == ""
    assert next_page_token(rows("a"), 2) == ""


def test_next_page_token_continues_after_the_last_row_shown() -> None:
    token = next_page_token(rows("a", "b", "c"), 2, {"q": "x"})
    assert decode_page_token(token, {"q": "x"}) == "b"


def test_next_page_token_with_a_key() -> None:
    pairs = [(SimpleNamespace(id="a"), 1), (SimpleNamespace(id="b"), 2)]
    token = next_page_token(pairs, 1, key=lambda r: r[0].id)
    assert decode_page_token(token) == "a"


async def test_on_conflict_turns_a_unique_violation_into_the_error(tmp_path: Path) -> None:
    db = Database("conflicts", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    try:
        async with db.transaction() as s:
            await s.execute(text("CREATE TABLE t (slug TEXT UNIQUE)"))
            await s.execute(text("INSERT INTO t VALUES ('taken')"))
        with pytest.raises(AlreadyExists, match="t/taken already exists"):
            with on_conflict(AlreadyExists("t/taken already exists")):
                async with db.transaction() as s:
                    await s.execute(text("INSERT INTO t VALUES ('taken')"))
        async with db.session() as s:  # the failed write was rolled back
            assert (await s.scalar(text("SELECT count(*) FROM t"))) == 1
    finally:
        await db.dispose()


def test_on_conflict_lets_other_errors_through() -> None:
    with pytest.raises(KeyError):
        with on_conflict(AlreadyExists("x")):
            raise KeyError("k")
    with on_conflict(AlreadyExists("x")):
        pass


def test_pool_limits_keep_the_mesh_under_postgres_default_connections() -> None:
    from mesh import registry
    from mesh.db import pool_limits

    size, overflow = pool_limits("order", env={})
    assert (size + overflow) * len(registry.GRPC_SERVICES) < 100
    assert pool_limits("order", env={"CLEANSE_ORDER_DB_POOL_SIZE": "12"})[0] == 12
    assert pool_limits("order", env={"CLEANSE_DB_POOL_SIZE": "3"})[0] == 3
    assert pool_limits("order", env={"CLEANSE_DB_POOL_OVERFLOW": "0"})[1] == 0


class _Base(DeclarativeBase):
    pass


class _Thing(_Base):
    __tablename__ = "things"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    state: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    note: Mapped[str | None] = mapped_column(String(16), nullable=True)
    made: Mapped[datetime] = mapped_column(UTCDateTime())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_insert_writes_one_object_with_its_defaults(backend: str, tmp_path: Path) -> None:
    async with (
        temporary_database(backend, tmp_path) as url,
        open_database(url, "things", _Base.metadata) as db,
    ):
        made = utcnow()
        thing = _Thing(made=made)
        await db.insert(thing)
        # The defaults were filled in on the object: it holds what was written.
        assert thing.id and thing.state == "ACTIVE" and thing.note is None
        async with db.session() as s:
            got = await s.get(_Thing, thing.id)
        assert got is not None
        assert (got.id, got.state, got.note, got.made) == (thing.id, "ACTIVE", None, made)
        with pytest.raises(IntegrityError):  # the same key again: refused, as with add()
            await db.insert(_Thing(id=thing.id, made=made))
