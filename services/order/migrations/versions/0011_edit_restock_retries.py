"""order edits: automatic retries of a pending restock

An edit's restock that failed for a reason a retry can change (inventory down or
too slow) is retried by the order service's sweeper, with backoff:
`restock_retry_at` is the earliest time of the next automatic attempt (NULL: none,
as for a restock DONE or refused by inventory for good), `restock_attempts` counts
the automatic attempts made. Pending restocks recorded before this column whose
reason is not a refusal (refusals read "stock not put back: ...") are due at once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-11 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_edits") as batch:
        batch.add_column(
            sa.Column("restock_retry_at", mesh.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("restock_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_order_edits_restock_retry_at", ["restock_retry_at"])
    edits = sa.table(
        "order_edits",
        sa.column("restock_state", sa.String),
        sa.column("restock_error", sa.String),
        sa.column("restock_retry_at", mesh.db.UTCDateTime(timezone=True)),
        sa.column("create_time", mesh.db.UTCDateTime(timezone=True)),
    )
    op.execute(
        edits.update()
        .where(
            edits.c.restock_state == "PENDING",
            ~edits.c.restock_error.like("stock not put back: %"),
        )
        .values(restock_retry_at=edits.c.create_time)
    )


def downgrade() -> None:
    with op.batch_alter_table("order_edits") as batch:
        batch.drop_index("ix_order_edits_restock_retry_at")
        batch.drop_column("restock_attempts")
        batch.drop_column("restock_retry_at")
