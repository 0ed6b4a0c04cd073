"""variants: pieces sold as one unit, for GST price slabs that apply per piece

Apparel is 5% up to a transaction value of Rs 2,500 per piece, 18% above; a "Pack of
2" sets sold as one variant is two pieces. Existing variants are one piece each (an
admin sets `pieces_per_unit` on a pack variant of apparel; nothing is guessed from
titles).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product_variants") as batch:
        batch.add_column(
            sa.Column("pieces_per_unit", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("product_variants") as batch:
        batch.drop_column("pieces_per_unit")
