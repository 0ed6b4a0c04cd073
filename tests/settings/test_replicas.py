"""Two settings replicas starting at once on one empty database (SQLite and
PostgreSQL): services/settings/README.md, "Replicas"."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from mesh.db import Database
from services.settings.models import PaymentMethodConfig, Setting, TaxRateRule
from services.settings.seed import DEMO_PAYMENT_METHODS, DEMO_TAX_RULES, seed_demo


async def test_two_replicas_seeding_demo_settings_at_once_seed_them_once(
    database_url: str,
) -> None:
    dbs = [Database("settings", database_url) for _ in range(2)]
    try:
        await asyncio.gather(*(db.migrate() for db in dbs))
        done = await asyncio.gather(*(seed_demo(db) for db in dbs))
        assert sorted(done) == [False, True]
        async with dbs[1].session() as s:
            assert (await s.scalar(select(func.count()).select_from(Setting)) or 0) > 0
            rules = await s.scalar(select(func.count()).select_from(TaxRateRule))
            assert rules == len(DEMO_TAX_RULES)
            methods = await s.scalar(select(func.count()).select_from(PaymentMethodConfig))
            assert methods == len(DEMO_PAYMENT_METHODS)
    finally:
        for db in dbs:
            await db.dispose()
