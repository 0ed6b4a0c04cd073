"""The demo seed on SQLite and PostgreSQL: three warehouses and stock for every SKU in
demo_stock.csv under the catalog's deterministic ids, loaded once."""

from __future__ import annotations

import asyncio
import csv

from sqlalchemy import func, select

from mesh.db import Database
from services.inventory.models import Stock, Warehouse
from services.inventory.seed import DEMO_STOCK, demo_variant_id, seed_demo


async def test_demo_seed_loads_once(database_url: str) -> None:
    db = Database("inventory", database_url)
    try:
        await db.migrate()
        assert await seed_demo(db)
        assert not await seed_demo(db)  # later starts change nothing
        with DEMO_STOCK.open(newline="") as f:
            rows = list(csv.DictReader(f))
        async with db.session() as s:
            warehouses = {w.id: w for w in await s.scalars(select(Warehouse))}
            stock_rows = await s.scalar(select(func.count()).select_from(Stock))
            first = demo_variant_id(rows[0]["sku"])
            levels = {
                st.warehouse_id: st.on_hand
                for st in await s.scalars(select(Stock).where(Stock.variant_id == first))
            }
        assert {(w.state_code, w.pincode[:3]) for w in warehouses.values()} == {
            ("KA", "560"),
            ("MH", "421"),
            ("HR", "122"),
        }
        assert stock_rows == 3 * len(rows)
        assert levels == {w: int(rows[0][w]) for w in warehouses}
    finally:
        await db.dispose()


async def test_two_replicas_seeding_at_once_load_it_once(database_url: str) -> None:
    dbs = [Database("inventory", database_url) for _ in range(2)]
    try:
        await dbs[0].migrate()
        done = await asyncio.gather(*(seed_demo(db) for db in dbs))
        assert sorted(done) == [False, True]
        with DEMO_STOCK.open(newline="") as f:
            rows = list(csv.DictReader(f))
        async with dbs[1].session() as s:
            assert await s.scalar(select(func.count()).select_from(Warehouse)) == 3
            assert await s.scalar(select(func.count()).select_from(Stock)) == 3 * len(rows)
    finally:
        for db in dbs:
            await db.dispose()
