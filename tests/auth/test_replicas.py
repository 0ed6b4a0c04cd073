"""Two auth replicas starting at once on one empty database (SQLite and PostgreSQL):
services/auth/README.md, "Replicas"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from mesh.db import Database
from services.auth.models import AdminUser, Role, SigningKey
from services.auth.seed import CREDENTIALS_FILE, SEED_ROLES, seed
from services.auth.tokens import KeyStore

SECRET = "replica-test-secret-" + "x" * 32


def _credentials_files(folder: Path) -> list[Path]:
    return list(folder.glob(f"replica*/{CREDENTIALS_FILE}"))


async def test_two_replicas_starting_at_once_seed_once_and_sign_with_one_key(
    database_url: str, tmp_path: Path
) -> None:
    dbs = [Database("auth", database_url) for _ in range(2)]
    try:
        await asyncio.gather(*(db.migrate() for db in dbs))
        stores = [KeyStore(db, SECRET, 900) for db in dbs]
        await asyncio.gather(*(k.ensure_key() for k in stores))
        await asyncio.gather(
            *(
                seed(
                    db,
                    admin_email="admin@cleanse.test",
                    data_dir=tmp_path / f"replica{i}",
                    known_permissions=lambda: ["catalog.read", "catalog.write"],
                )
                for i, db in enumerate(dbs)
            )
        )
        async with dbs[1].session() as s:
            assert await s.scalar(select(func.count()).select_from(Role)) == len(SEED_ROLES)
            assert await s.scalar(select(func.count()).select_from(AdminUser)) == 1
            # Both may have made a first key: harmless, both sign with the newest.
            assert 1 <= (await s.scalar(select(func.count()).select_from(SigningKey)) or 0) <= 2
        # One replica wrote the super admin's password (the other's lost the race).
        assert len(_credentials_files(tmp_path)) == 1
        kids = {(await k.current()).kid for k in stores}
        assert len(kids) == 1
        jwks = await stores[0].jwks()
        assert kids <= {k["kid"] for k in jwks}
    finally:
        for db in dbs:
            await db.dispose()
