"""Two catalog replicas starting at once on one empty database (SQLite and
PostgreSQL): services/catalog/README.md, "Replicas"."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from mesh.db import Database
from services.catalog.demo.loader import load_data, load_demo
from services.catalog.models import Product


async def test_two_replicas_loading_the_demo_catalogue_at_once_load_it_once(
    database_url: str,
) -> None:
    dbs = [Database("catalog", database_url) for _ in range(2)]
    try:
        await asyncio.gather(*(db.migrate() for db in dbs))
        done = await asyncio.gather(*(load_demo(db) for db in dbs))
        assert sorted(done) == [False, True]
        async with dbs[1].session() as s:
            products = await s.scalar(select(func.count()).select_from(Product))
            assert products == len(load_data()["products"])
    finally:
        for db in dbs:
            await db.dispose()
