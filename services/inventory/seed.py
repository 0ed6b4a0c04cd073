"""First-start demo data: three warehouses and stock for the demo catalogue.

Stock rows are keyed by the catalog's deterministic demo variant ids,
"var_<sku lower-cased>", for the SKUs in demo_stock.csv (columns: sku, one
column per warehouse id with its on-hand units, reorder_point, backorder_limit —
above 0 turns backorders on). The SKUs are those of the catalog's demo
(services/catalog/demo/skus.txt), with a few out of stock, a few backorder-only
and a few nearly gone, so the storefront shows every status. The seed skips the
catalog check (the catalog may be starting at the same moment) and changes
nothing once any warehouse exists.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mesh.db import Database, utcnow
from services.inventory.models import Adjustment, Stock, Warehouse

log = logging.getLogger("cleanse.inventory.seed")
DEMO_STOCK = Path(__file__).with_name("demo_stock.csv")

DEMO_WAREHOUSES = (
    dict(
        id="blr-1",
        display_name="Bengaluru fulfilment centre",
        line1="Plot 14, KIADB Industrial Area, Bommasandra",
        city="Bengaluru",
        state_code="KA",
        pincode="560099",
    ),
    dict(
        id="bhw-1",
        display_name="Bhiwandi warehouse",
        line1="Gala 7, Rahnal Village, Mumbai-Nashik Highway",
        city="Bhiwandi",
        state_code="MH",
        pincode="421302",
    ),
    dict(
        id="ggn-1",
        display_name="Gurugram warehouse",
        line1="Khasra 112, Sector 37, Pace City II",
        city="Gurugram",
        state_code="HR",
        pincode="122004",
    ),
)


def demo_variant_id(sku: str) -> str:
    return f"var_{sku.lower()}"


async def seed_demo(db: Database, stock_file: Path = DEMO_STOCK) -> bool:
    """Load the demo data unless warehouses exist; True when it did. Replicas starting
    together: SQLite's BEGIN IMMEDIATE lets one in at a time (the next finds the
    warehouses); on PostgreSQL both may find none, and the later one's warehouse
    inserts wait for the first transaction and then conflict: nothing of it is
    written, and it returns False as if it had found them."""
    try:
        return await _seed(db, stock_file)
    except IntegrityError:  # another replica seeded at the same moment
        return False


async def _seed(db: Database, stock_file: Path) -> bool:
    async with db.transaction() as s:
        if await s.scalar(select(func.count()).select_from(Warehouse)):
            return False
        now = utcnow()
        for w in DEMO_WAREHOUSES:
            s.add(
                Warehouse(
                    **w, recipient_name="Cleanse Ops", active=True, create_time=now, update_time=now
                )
            )
        await s.flush()
        ids = {w["id"] for w in DEMO_WAREHOUSES}
        with stock_file.open(newline="") as f:
            for row in csv.DictReader(f):
                vid = demo_variant_id(row["sku"])
                backorder_limit = int(row.get("backorder_limit") or 0)
                for wid in sorted(ids & set(row)):
                    qty = int(row[wid] or 0)
                    st = Stock(
                        variant_id=vid,
                        warehouse_id=wid,
                        on_hand=qty,
                        reserved=0,
                        safety_stock=0,
                        reorder_point=int(row.get("reorder_point") or 0),
                        backorder_allowed=backorder_limit > 0,
                        backorder_limit=backorder_limit,
                        backordered=0,
                        in_transit=0,
                        low_stock_alerted=False,
                        update_time=now,
                    )
                    s.add(st)
                    if qty:
                        s.add(
                            Adjustment(
                                warehouse_id=wid,
                                variant_id=vid,
                                delta=qty,
                                reason="RECEIVED",
                                note="demo data",
                                actor="inventory",
                                on_hand_after=qty,
                                create_time=now,
                            )
                        )
    log.info("seeded demo warehouses and stock")
    return True
