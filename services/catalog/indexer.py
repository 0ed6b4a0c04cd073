"""The hook search (services/catalog/search) uses to keep its index current.

Every catalog write handler calls the indexer INSIDE its own transaction, after
the change is flushed, so the index and the catalogue commit (or roll back)
together:

- `product_changed(session, product_id)`: the product, one of its variants, its
  brand, an ingredient linked to it, or a category it is in changed (or it was
  just created). Called once per affected product per unit of work.
- `product_removed(session, product_id)`: the product was deleted.

The session is the unit of work's `AsyncSession`; an implementation may read
and write its own tables through it, and must not commit. The default does
nothing; services/catalog/app.py wires the search engineer's implementation
(services/catalog/search/indexer.py) when it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class ProductIndexer(Protocol):
    async def product_changed(self, session: AsyncSession, product_id: str) -> None: ...

    async def product_removed(self, session: AsyncSession, product_id: str) -> None: ...


class NoopIndexer:
    """The default: no search index to keep."""

    async def product_changed(self, session: AsyncSession, product_id: str) -> None:
        return None

    async def product_removed(self, session: AsyncSession, product_id: str) -> None:
        return None


async def notify_changed(
    indexer: ProductIndexer, session: AsyncSession, product_ids: Iterable[str]
) -> None:
    """Tell the indexer about each product once (in a stable order)."""
    await session.flush()
    for pid in sorted(set(product_ids)):
        await indexer.product_changed(session, pid)
