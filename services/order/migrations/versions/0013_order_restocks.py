"""order restocks: a cancellation's restock recorded, sent after the commit

A cancellation used to plan its restock and send it to inventory inside its
transaction, with the order row locked (on SQLite: every writer waited for
inventory), and a retry after a failure planned again from the order as it was then,
so the same request id could come with another body (IDEMPOTENCY_MISMATCH). Now the
plan is recorded in the cancellation's transaction, one `order_restocks` row per
cancelled order (`request_id` cancel-<order id>, the plan, the base reservation and
note it is sent with), sent after the commit and, while inventory is down, retried by
the order sweeper with backoff (`retry_at`, `attempts`), as an edit's restock is.

Orders cancelled before this migration restocked in their transaction: no rows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_restocks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("base_reservation", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("retry_at", mesh.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_restocks_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_restocks")),
        sa.UniqueConstraint("request_id", name=op.f("uq_order_restocks_request_id")),
    )
    op.create_index(
        op.f("ix_order_restocks_order_id"), "order_restocks", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_order_restocks_retry_at"), "order_restocks", ["retry_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_order_restocks_retry_at"), table_name="order_restocks")
    op.drop_index(op.f("ix_order_restocks_order_id"), table_name="order_restocks")
    op.drop_table("order_restocks")
