"""open cart reminders by user and by e-mail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:15:00

order.placed closes the customer's open abandoned-cart reminders, found by user
name or e-mail: without these partial indexes every placed order read every
reminder ever written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    for column in ("user", "email"):
        op.create_index(
            op.f(f"ix_cart_reminders_open_{column}"),
            "cart_reminders",
            [column],
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        )


def downgrade() -> None:
    for column in ("email", "user"):
        op.drop_index(op.f(f"ix_cart_reminders_open_{column}"), table_name="cart_reminders")
