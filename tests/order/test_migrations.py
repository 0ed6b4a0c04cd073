"""The order service's data migrations: what was written before them reads the same after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text

from mesh.db import Database, UTCDateTime
from services.order import repository as repo

SAGA = (
    "INSERT INTO checkout_sagas (id, request_id, body_hash, session_id, state, attempt,"
    " hold_name, reservation_name, order_id, error_code, error_reason, error_message,"
    " create_time, update_time) VALUES ('g1', 'r1', '', 's1', 'FAILED', 2, '', '', NULL,"
    " '', '', '', :now, :now)"
)
STEP = (
    "INSERT INTO saga_steps (id, saga_id, attempt, step, status, detail, time)"
    " VALUES (:id, 'g1', :attempt, :step, :status, :detail, :time)"
)


async def _downgrade(db: Database, revision: str) -> None:
    from alembic import command

    async with db._write_engine.begin() as conn:  # as Database.migrate, downwards
        await conn.run_sync(lambda c: command.downgrade(db._alembic_config(c), revision))


async def test_the_saga_journal_keeps_the_steps_written_a_row_each(database_url: str) -> None:
    """0014: the steps of `saga_steps` (a row per step) become journal entries of one
    step each, read back in order with their attempts; the downgrade splits entries
    back into rows."""
    db = Database("order", database_url)
    t0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
    old = [
        ("a", 1, "validate", "STARTED", "", t0),
        ("b", 1, "validate", "DONE", "", t0 + timedelta(seconds=1)),
        ("c", 1, "compensate", "DONE", "OUT_OF_STOCK", t0 + timedelta(seconds=2)),
        ("d", 2, "validate", "STARTED", "again", t0 + timedelta(seconds=3)),
    ]
    try:
        await db.migrate("0013")
        async with db.transaction() as s:
            await s.execute(
                text(SAGA).bindparams(bindparam("now", type_=UTCDateTime())), {"now": t0}
            )
            for sid, attempt, step, status, detail, when in reversed(old):
                await s.execute(
                    text(STEP).bindparams(bindparam("time", type_=UTCDateTime())),
                    {
                        "id": sid,
                        "attempt": attempt,
                        "step": step,
                        "status": status,
                        "detail": detail,
                        "time": when,
                    },
                )
        await db.migrate()
        want = [
            repo.SagaStep(a, step, status, detail, when) for _, a, step, status, detail, when in old
        ]
        async with db.session() as s:
            assert await repo.saga_steps(s, "g1") == want
            entries = await s.execute(text("SELECT count(*) FROM saga_journal"))
            assert entries.scalar() == 4

        await _downgrade(db, "0013")
        async with db.session() as s:
            rows = await s.execute(
                text("SELECT attempt, step, status, detail FROM saga_steps ORDER BY time")
            )
            assert [tuple(r) for r in rows] == [o[1:5] for o in old]
    finally:
        await db.dispose()
