"""order edits: the order's status when edited, and where removed units go back

An edit of a CONFIRMED order reserves only the units it adds (under its own
reservation); units later put back (the edit's removed units, a return, a
cancellation) go back against the reservation that took them (domain/stock.py), so
each edit records the status it was made in and the plan of its restock.

Existing edits: an edit's status is inferred from what it did (a replaced pending
payment: PENDING_PAYMENT; removed units, a COD order, a balance, a refund, a changed
COD amount: CONFIRMED), else from the order's history (confirmed from pending payment
at or before the edit: CONFIRMED). Their restocks have no recorded plan (`[]`):
those done went back against the order's reservation, as they were sent.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_edits") as batch:
        batch.add_column(
            sa.Column(
                "order_status", sa.String(length=20), nullable=False, server_default="CONFIRMED"
            )
        )
        batch.add_column(
            sa.Column("restock_from", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    op.execute(
        """
        UPDATE order_edits SET order_status = CASE
          WHEN settlement = 'PAYMENT_REPLACED' THEN 'PENDING_PAYMENT'
          WHEN restock_state <> ''
            OR settlement IN ('COD_AMOUNT_CHANGED', 'BALANCE_PAYMENT', 'REFUND',
                              'CASH_BALANCE_DUE')
            THEN 'CONFIRMED'
          WHEN EXISTS (SELECT 1 FROM orders o
                       WHERE o.id = order_edits.order_id AND o.payment_provider = 'COD')
            THEN 'CONFIRMED'
          WHEN EXISTS (SELECT 1 FROM order_status_history h
                       WHERE h.order_id = order_edits.order_id
                         AND h.from_status = 'PENDING_PAYMENT'
                         AND h.to_status = 'CONFIRMED'
                         AND h.time <= order_edits.create_time)
            THEN 'CONFIRMED'
          ELSE 'PENDING_PAYMENT'
        END
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("order_edits") as batch:
        batch.drop_column("restock_from")
        batch.drop_column("order_status")
