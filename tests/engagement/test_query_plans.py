"""Engagement's statements on grown tables use their indexes (PostgreSQL).

order.placed closes the customer's open abandoned-cart reminders: with thousands of
reminders written (most closed), the prepared statement's plan, as PostgreSQL settles
on it, must look the customer up in an index, not read every reminder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mesh.db import Database
from services.engagement.sink import close_open_reminders
from tests.conftest import temporary_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with temporary_database("postgres", tmp_path) as url:
        db = Database("engagement", url)
        await db.migrate()
        try:
            yield db
        finally:
            await db.dispose()


async def generic_plan(db: Database, statement: object, args: str) -> str:
    """EXPLAIN of `statement` (compiled for the driver) once PostgreSQL settled on
    its plan for any values (after five runs of the prepared statement)."""
    sql = db.driver_statement(statement).sql
    async with db.reads() as u:
        conn = u.driver  # type: ignore[union-attr]
        await conn.execute("PREPARE probe AS " + sql)
        for _ in range(6):
            await conn.execute(f"EXPLAIN ANALYZE EXECUTE probe({args})")
        rows = await conn.fetch(f"EXPLAIN EXECUTE probe({args})")
        await conn.execute("DEALLOCATE probe")
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize(("user", "email"), [(True, True), (True, False), (False, True)])
async def test_a_placed_order_finds_the_open_reminders_it_closes_by_index(
    db: Database, user: bool, email: bool
) -> None:
    # 20,000 carts reminded, one in twenty still open; the statistics are current.
    await db.fetch(
        'INSERT INTO cart_reminders (cart, "user", email, reminders_sent, closed_at) '
        "SELECT 'c' || g, 'users/u' || g, 'c' || g || '@example.com', 1, "
        "CASE WHEN g % 20 = 0 THEN NULL ELSE now() END FROM generate_series(1, 20000) g"
    )
    await db.fetch("ANALYZE cart_reminders")
    args = ", ".join(
        ["now()", *(["'users/u40'"] if user else []), *(["'c40@example.com'"] if email else [])]
    )
    plan = await generic_plan(db, close_open_reminders(user, email, []), args)
    assert "Seq Scan" not in plan, plan
    assert plan.count("Index Cond") == user + email, plan  # each lookup by its index
    still_open = await db.fetch("SELECT count(*) AS n FROM cart_reminders WHERE closed_at IS NULL")
    assert still_open[0].n == 20000 // 20 - 1  # the probe's runs closed the customer's one
