"""What every catalogue handler shares: dependencies, the acting admin, and the
work that follows any product change inside the same transaction (prices,
smart-collection membership, the search index)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from mesh.db import Database, on_conflict, utcnow
from mesh.errors import AlreadyExists, NotFound
from services.catalog.admins import AdminDirectory
from services.catalog.availability import Availability
from services.catalog.domain import rules
from services.catalog.indexer import NoopIndexer, ProductIndexer, notify_changed
from services.catalog.models import CollectionProduct
from services.catalog.repository import Repo, unit_of_work
from services.catalog.tax_classes import TaxClasses

Clock = Callable[[], datetime]


@dataclass
class Deps:
    db: Database
    admins: AdminDirectory = field(default_factory=AdminDirectory)
    availability: Availability = field(default_factory=Availability)
    indexer: ProductIndexer = field(default_factory=NoopIndexer)
    clock: Clock = utcnow
    tax_classes: TaxClasses = field(default_factory=TaxClasses)


def not_found(name: str) -> NotFound:
    return NotFound(f"{name} not found")


async def sync_smart_memberships(
    repo: Repo, product_ids: Iterable[str] | None, now: datetime
) -> None:
    """Re-evaluate every smart collection's stored rules for these products (None: all)."""
    smart = await repo.smart_collections()
    if not smart:
        return
    facts = await repo.facts(product_ids)
    pids = None if product_ids is None else set(facts)
    have = await repo.memberships(pids, [c.id for c in smart])
    want = {
        (c.id, p.id)
        for c in smart
        for p in facts.values()
        if c.active and rules.static_match(c.rules or [], p)
    }
    await repo.remove_members(have - want)
    for cid, pid in sorted(want - have):
        repo.add(CollectionProduct(collection_id=cid, product_id=pid, add_time=now))
    await repo.flush()


async def products_changed(deps: Deps, repo: Repo, product_ids: Iterable[str]) -> None:
    """Prices, smart collections and the search index follow a product change."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    await repo.flush()
    await repo.refresh_prices(ids)
    await repo.flush()
    await sync_smart_memberships(repo, ids, deps.clock())
    await notify_changed(deps.indexer, repo.s, ids)


@asynccontextmanager
async def unique_write(deps: Deps, field: str) -> AsyncIterator[Repo]:
    """A write unit of work whose unique-constraint race surfaces as ALREADY_EXISTS."""
    with on_conflict(AlreadyExists(f"{field} is already taken")):
        async with unit_of_work(deps.db) as r:
            yield r
