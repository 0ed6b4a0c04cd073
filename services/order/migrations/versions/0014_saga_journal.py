"""saga journal: an entry per write of a saga, not a row per step

A paid checkout journals 16 steps (STARTED and DONE of most), made durable by two
writes. As a row per step (`saga_steps`), each cost PostgreSQL a heap row and two
index entries: more rows than any other table took per order. Now each write adds ONE
`saga_journal` row holding the steps it made durable, in order, as JSON
({"step", "status", "detail", "time"}), with the saga's attempt.

The steps journalled before this migration are carried over, an entry per step (as
they were written), and `saga_steps` is dropped. The downgrade splits the entries
back into steps.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-15 10:00:00.000000
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = mesh.db.UTCDateTime(timezone=True)
_STEPS = sa.table(
    "saga_steps",
    sa.column("id", sa.String()),
    sa.column("saga_id", sa.String()),
    sa.column("attempt", sa.Integer()),
    sa.column("step", sa.String()),
    sa.column("status", sa.String()),
    sa.column("detail", sa.Text()),
    sa.column("time", _TIME),
)
_JOURNAL = sa.table(
    "saga_journal",
    sa.column("id", sa.String()),
    sa.column("saga_id", sa.String()),
    sa.column("attempt", sa.Integer()),
    sa.column("steps", sa.JSON()),
    sa.column("time", _TIME),
)
_BATCH = 1000


def _create_steps_table() -> None:
    op.create_table(
        "saga_steps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("saga_id", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saga_id"],
            ["checkout_sagas.id"],
            name=op.f("fk_saga_steps_saga_id_checkout_sagas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saga_steps")),
    )
    op.create_index(op.f("ix_saga_steps_saga_id"), "saga_steps", ["saga_id"], unique=False)


def _drop_steps_table() -> None:
    op.drop_index(op.f("ix_saga_steps_saga_id"), table_name="saga_steps")
    op.drop_table("saga_steps")


def _insert(table: sa.TableClause, values: list[dict[str, object]]) -> None:
    for start in range(0, len(values), _BATCH):
        op.get_bind().execute(table.insert(), values[start : start + _BATCH])


def upgrade() -> None:
    op.create_table(
        "saga_journal",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("saga_id", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["saga_id"],
            ["checkout_sagas.id"],
            name=op.f("fk_saga_journal_saga_id_checkout_sagas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saga_journal")),
    )
    op.create_index(op.f("ix_saga_journal_saga_id"), "saga_journal", ["saga_id"], unique=False)
    _insert(
        _JOURNAL,
        [
            {
                "id": r.id,
                "saga_id": r.saga_id,
                "attempt": r.attempt,
                "steps": [
                    {
                        "step": r.step,
                        "status": r.status,
                        "detail": r.detail,
                        "time": r.time.isoformat(),
                    }
                ],
                "time": r.time,
            }
            for r in op.get_bind().execute(sa.select(_STEPS)).all()
        ],
    )
    _drop_steps_table()


def downgrade() -> None:
    _create_steps_table()
    _insert(
        _STEPS,
        [
            {
                "id": mesh.db.new_id(),
                "saga_id": entry.saga_id,
                "attempt": entry.attempt,
                "step": st["step"],
                "status": st["status"],
                "detail": st["detail"],
                "time": datetime.fromisoformat(st["time"]),
            }
            for entry in op.get_bind().execute(sa.select(_JOURNAL)).all()
            for st in entry.steps
        ],
    )
    op.drop_index(op.f("ix_saga_journal_saga_id"), table_name="saga_journal")
    op.drop_table("saga_journal")
