"""The one Alembic env.py every service shares.

A service's ``migrations/env.py`` is three lines (new revisions:
``python -m mesh.migrations auth revision -m "add x" --autogenerate``)::

    from mesh.migrations import run_env
    from services.auth.models import Base
    run_env(Base.metadata)

`Database.migrate()` runs Alembic in-process and hands it an open connection
(``config.attributes["connection"]``). Run from the command line instead
(``alembic -x service=auth ...`` with a config naming the script location), env.py
connects to the URL in the config, or the service's default URL, itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def _configure_and_run(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _offline(target_metadata: MetaData, url: str) -> None:
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online_async(target_metadata: MetaData, url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run, target_metadata)
    finally:
        await engine.dispose()


def run_env(target_metadata: MetaData) -> None:
    """Run migrations for the service whose env.py calls this."""
    config: Any = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, target_metadata)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from mesh.db import database_url

        service = context.get_x_argument(as_dictionary=True).get("service", "")
        if not service:
            raise RuntimeError("no sqlalchemy.url: pass -x service=<name>")
        url = database_url(service)
    if context.is_offline_mode():
        _offline(target_metadata, url)
    else:
        asyncio.run(_online_async(target_metadata, url))


# --- command line: python -m mesh.migrations <service> upgrade|current|revision ---------


async def _cli(service: str, cmd: str, message: str, autogenerate: bool) -> None:
    from alembic import command

    from mesh.db import Database

    db = Database(service)
    try:
        if cmd == "upgrade":
            await db.migrate()
        elif cmd == "current":
            try:
                print(", ".join(sorted(await db.current_revisions())) or "(empty)")
            except Exception as exc:  # no alembic_version table yet, or unreachable
                print(f"(not migrated: {type(exc).__name__})")
        else:
            await db.migrate()  # autogenerate compares the models with a database at head
            versions = db.script_location / "versions"
            rev_id = f"{len(list(versions.glob('*.py'))) + 1:04d}"

            def revision(conn: Any) -> None:
                cfg = db._alembic_config(conn)
                command.revision(cfg, message=message, autogenerate=autogenerate, rev_id=rev_id)

            async with db.engine.begin() as conn:
                await conn.run_sync(revision)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m mesh.migrations",
        description="Migrate a service's database, or write its next Alembic revision.",
    )
    parser.add_argument("service", help="e.g. auth (database from CLEANSE_* variables)")
    parser.add_argument("command", choices=["upgrade", "current", "revision"])
    parser.add_argument("-m", "--message", default="", help="revision message")
    parser.add_argument("--autogenerate", action="store_true", help="diff models vs. database")
    args = parser.parse_args(argv)
    if args.command == "revision" and not args.message:
        parser.error("revision needs -m MESSAGE")
    asyncio.run(_cli(args.service, args.command, args.message, args.autogenerate))


if __name__ == "__main__":
    main()
