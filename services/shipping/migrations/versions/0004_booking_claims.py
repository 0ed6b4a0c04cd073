"""booking claims: a booker claims a shipment (token, lease) before it calls the
carrier, so two replicas (or the sweep and a new shipment's booking) never both book
it; a lapsed lease is taken over by the sweep

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("booking_claim", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("booking_lease_until", mesh.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("booking_lease_until")
        batch.drop_column("booking_claim")
