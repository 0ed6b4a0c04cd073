"""refund parts: a refund split over the captured payments

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refund_parts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("refund_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("payment_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_refund_parts_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_refund_parts_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["refunds.id"],
            name=op.f("fk_refund_parts_refund_id_refunds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_parts")),
        sa.UniqueConstraint("provider_refund_id", name=op.f("uq_refund_parts_provider_refund_id")),
        sa.UniqueConstraint("refund_id", "position", name=op.f("uq_refund_parts_refund_id")),
    )
    op.create_index(op.f("ix_refund_parts_order_id"), "refund_parts", ["order_id"], unique=False)
    op.create_index(op.f("ix_refund_parts_refund_id"), "refund_parts", ["refund_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refund_parts_refund_id"), table_name="refund_parts")
    op.drop_index(op.f("ix_refund_parts_order_id"), table_name="refund_parts")
    op.drop_table("refund_parts")
