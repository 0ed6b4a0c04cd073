"""reservation lines: units put back by returns (RestockReturn), per warehouse

A restock against a reservation puts its units back into the warehouses that
reservation took them from (domain/returns.py), never more than each gave; each line
counts what went back (`restocked_quantity`, CHECK 0 <= restocked <= quantity).

Existing restocks: their RETURN_RESTOCK adjustments (reference "reservations/{id}")
are counted on the reservation's lines of that variant: first what went back into a
line's own warehouse (up to its quantity), then the rest (restocks that went into
another warehouse: all of a split variant's units used to go into its first
warehouse) over the lines with room left, in warehouse id order, up to what the
reservation took.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 10:00:00.000000
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "reservations/"


def upgrade() -> None:
    with op.batch_alter_table("inventory_reservation_lines") as batch:
        batch.add_column(
            sa.Column("restocked_quantity", sa.Integer(), nullable=False, server_default="0")
        )
    _count_earlier_restocks()
    with op.batch_alter_table("inventory_reservation_lines") as batch:
        batch.create_check_constraint(
            op.f("ck_inventory_reservation_lines_restocked_within_quantity"),
            "restocked_quantity >= 0 AND restocked_quantity <= quantity",
        )


def _count_earlier_restocks() -> None:
    conn = op.get_bind()
    back: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for ref, variant_id, warehouse_id, units in conn.execute(
        sa.text(
            "SELECT reference, variant_id, warehouse_id, SUM(delta) FROM inventory_adjustments"
            " WHERE reason = 'RETURN_RESTOCK' AND reference LIKE 'reservations/%'"
            " GROUP BY reference, variant_id, warehouse_id"
        )
    ):
        back[(ref[len(PREFIX) :], variant_id)][warehouse_id] = int(units or 0)
    if not back:
        return
    lines: dict[tuple[str, str], list[tuple[str, str, int]]] = defaultdict(list)
    for line_id, rid, variant_id, warehouse_id, quantity in conn.execute(
        sa.text(
            "SELECT id, reservation_id, variant_id, warehouse_id, quantity"
            " FROM inventory_reservation_lines ORDER BY reservation_id, variant_id, warehouse_id"
        )
    ):
        if (rid, variant_id) in back:
            lines[(rid, variant_id)].append((line_id, warehouse_id, quantity))
    updates = []
    for key, own in lines.items():
        by_wh = back[key]
        counted = {lid: min(q, max(by_wh.get(wh, 0), 0)) for lid, wh, q in own}
        rest = sum(by_wh.values()) - sum(counted.values())
        for lid, _, q in own:
            more = max(min(q - counted[lid], rest), 0)
            counted[lid] += more
            rest -= more
        updates += [{"id": lid, "n": n} for lid, n in counted.items() if n]
    if updates:
        conn.execute(
            sa.text(
                "UPDATE inventory_reservation_lines SET restocked_quantity = :n WHERE id = :id"
            ),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_reservation_lines") as batch:
        batch.drop_constraint(
            op.f("ck_inventory_reservation_lines_restocked_within_quantity"), type_="check"
        )
        batch.drop_column("restocked_quantity")
