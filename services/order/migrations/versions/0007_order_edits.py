"""order edits, balance due, payment kinds

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_edits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("before_lines", sa.JSON(), nullable=False),
        sa.Column("after_lines", sa.JSON(), nullable=False),
        sa.Column("before_total_minor", sa.Integer(), nullable=False),
        sa.Column("after_total_minor", sa.Integer(), nullable=False),
        sa.Column("address_changed", sa.Boolean(), nullable=False),
        sa.Column("before_address", sa.JSON(), nullable=False),
        sa.Column("settlement", sa.String(length=24), nullable=False),
        sa.Column("settlement_ref", sa.String(length=120), nullable=False),
        sa.Column("settlement_minor", sa.Integer(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("reservation_name", sa.String(length=64), nullable=False),
        sa.Column("removed_lines", sa.JSON(), nullable=False),
        sa.Column("restock_state", sa.String(length=12), nullable=False),
        sa.Column("replaced_reservation", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_edits_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_edits")),
        sa.UniqueConstraint("request_id", name=op.f("uq_order_edits_request_id")),
    )
    op.create_index(op.f("ix_order_edits_order_id"), "order_edits", ["order_id"], unique=False)
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("balance_due_minor", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=12), nullable=False, server_default="ORDER")
        )


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("balance_due_minor")
    op.drop_index(op.f("ix_order_edits_order_id"), table_name="order_edits")
    op.drop_table("order_edits")
