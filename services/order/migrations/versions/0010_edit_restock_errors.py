"""order edits: why an edit's restock is still pending

An edit's removed units go back through inventory's RestockReturn after the edit is
recorded. Inventory may be down (a retry of the edit's request id sends it again) or
refuse it for good (RESTOCK_EXCEEDS_RESERVATION, RESERVATION_NOT_COMMITTED, ...:
its books and the order's disagree). Either way the restock stays PENDING and
`restock_error` says why ("" once it is done, and for edits before this column).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_edits") as batch:
        batch.add_column(
            sa.Column("restock_error", sa.String(length=500), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("order_edits") as batch:
        batch.drop_column("restock_error")
