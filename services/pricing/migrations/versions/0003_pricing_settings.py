"""pricing settings: the admin-editable stacking cap

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "pricing_settings",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("stacking_cap_bp", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_settings")),
    )
    # The one row, its values NULL: "the process default" until an admin sets them.
    # Updates lock this row; nobody races to insert it.
    op.bulk_insert(table, [{"id": "default", "stacking_cap_bp": None, "updated_by": ""}])


def downgrade() -> None:
    op.drop_table("pricing_settings")
