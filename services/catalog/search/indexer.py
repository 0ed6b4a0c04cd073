"""Keeps the search index in step with the catalogue, inside the catalog's transactions.

`SearchIndexer` implements services.catalog.indexer.ProductIndexer: the catalog's
write handlers call `product_changed` / `product_removed` with their own session
after flushing, so the document, its postings and the index version commit (or
roll back) with the catalogue change. Only ACTIVE products are indexed; a product
that becomes draft or archived loses its document.

`reindex_all` rebuilds everything (bulk import, restore, tests); `index_products`
indexes a batch of products with a handful of queries (the CSV import uses it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, utcnow
from services.catalog.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductIngredient,
    Variant,
)
from services.catalog.search.models import SearchDocument, SearchPosting, SearchState
from services.catalog.search.text import strip_html, weighted_terms

# Field weights: title > brand, ingredients > subtitle > description.
TITLE_WEIGHT = 3.0
BRAND_WEIGHT = 2.0
INGREDIENT_WEIGHT = 2.0
SUBTITLE_WEIGHT = 1.5
DESCRIPTION_WEIGHT = 1.0

STATE_KEY = "index"
_BUMPED = "search_index_bumped"
_CHUNK = 500


@dataclass
class _Source:
    product_id: str
    slug: str = ""
    title: str = ""
    subtitle: str = ""
    description_html: str = ""
    status: str = ""
    brand_slug: str = ""
    brand_name: str = ""
    publish_time: datetime | None = None
    create_time: datetime | None = None
    ingredients: list[str] = field(default_factory=list)
    categories: list[list[str]] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    prices: list[tuple[int, int]] = field(default_factory=list)  # (price, mrp)


def _chunks(ids: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


async def bump_version(session: AsyncSession) -> None:
    """Mark the index changed (once per transaction): processes reload their dictionary."""
    tx = session.get_transaction()
    if tx is not None and session.info.get(_BUMPED) is tx:
        return
    await session.execute(
        update(SearchState)
        .where(SearchState.key == STATE_KEY)
        .values(version=SearchState.version + 1)
    )
    session.info[_BUMPED] = tx


async def _load_sources(session: AsyncSession, product_ids: Sequence[str]) -> dict[str, _Source]:
    out: dict[str, _Source] = {}
    if not product_ids:
        return out
    rows = await session.execute(
        select(
            Product.id,
            Product.slug,
            Product.title,
            Product.subtitle,
            Product.description_html,
            Product.status,
            Product.publish_time,
            Product.create_time,
            Brand.slug,
            Brand.name,
        )
        .outerjoin(Brand, Brand.id == Product.brand_id)
        .where(Product.id.in_(product_ids))
    )
    for r in rows:
        out[r[0]] = _Source(
            product_id=r[0],
            slug=r[1],
            title=r[2],
            subtitle=r[3] or "",
            description_html=r[4] or "",
            status=r[5],
            publish_time=r[6],
            create_time=r[7],
            brand_slug=r[8] or "",
            brand_name=r[9] or "",
        )
    active = [pid for pid, s in out.items() if s.status == "active"]
    if not active:
        return out
    ing = await session.execute(
        select(ProductIngredient.product_id, Ingredient.name, Ingredient.scientific_name)
        .join(Ingredient, Ingredient.id == ProductIngredient.ingredient_id)
        .where(ProductIngredient.product_id.in_(active))
        .order_by(ProductIngredient.product_id, ProductIngredient.position)
    )
    for pid, name, sci in ing:
        out[pid].ingredients.append(f"{name} {sci or ''}".strip())
    links = await session.execute(
        select(ProductCategory.product_id, Category.path)
        .join(Category, Category.id == ProductCategory.category_id)
        .where(ProductCategory.product_id.in_(active), Category.active.is_(True))
    )
    paths = [(pid, [p for p in path.split("/") if p]) for pid, path in links]
    cat_ids = sorted({c for _, ids in paths for c in ids})
    names: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(cat_ids):
        for cid, slug, name in await session.execute(
            select(Category.id, Category.slug, Category.name).where(Category.id.in_(chunk))
        ):
            names[cid] = (slug, name)
    for pid, ids in paths:
        have = {c[0] for c in out[pid].categories}
        for cid in ids:
            if cid in names and names[cid][0] not in have:
                have.add(names[cid][0])
                out[pid].categories.append(list(names[cid]))
    attrs = await session.execute(
        select(ProductAttribute.product_id, ProductAttribute.name, ProductAttribute.value)
        .where(ProductAttribute.product_id.in_(active))
        .order_by(ProductAttribute.name, ProductAttribute.value)
    )
    for pid, name, value in attrs:
        out[pid].attributes.setdefault(name, []).append(value)
    prices = await session.execute(
        select(Variant.product_id, Variant.price, Variant.mrp).where(
            Variant.product_id.in_(active), Variant.status == "active"
        )
    )
    for pid, price, mrp in prices:
        out[pid].prices.append((int(price), int(mrp)))
    return out


def _document(src: _Source) -> tuple[dict, dict[str, float]]:
    weights, length = weighted_terms(
        [
            (src.title, TITLE_WEIGHT),
            (src.subtitle, SUBTITLE_WEIGHT),
            (src.brand_name, BRAND_WEIGHT),
            *((i, INGREDIENT_WEIGHT) for i in src.ingredients),
            (strip_html(src.description_html), DESCRIPTION_WEIGHT),
        ]
    )
    cheapest = min(src.prices) if src.prices else None
    doc = {
        "product_id": src.product_id,
        "slug": src.slug,
        "title": src.title,
        "brand_slug": src.brand_slug,
        "brand_name": src.brand_name,
        "categories": sorted(src.categories),
        "attributes": src.attributes,
        "min_price": cheapest[0] if cheapest else None,
        "max_price": max(p for p, _ in src.prices) if src.prices else None,
        "mrp": cheapest[1] if cheapest else None,
        "length": length,
        "publish_time": src.publish_time or src.create_time or utcnow(),
        "index_time": utcnow(),
    }
    return doc, weights


async def index_products(session: AsyncSession, product_ids: Iterable[str]) -> int:
    """(Re)build the documents of `product_ids` in the caller's transaction; returns
    how many are now indexed (active). Missing or inactive products are removed."""
    ids = sorted(set(product_ids))
    indexed = 0
    for chunk in _chunks(ids):
        sources = await _load_sources(session, chunk)
        await session.execute(delete(SearchPosting).where(SearchPosting.product_id.in_(chunk)))
        await session.execute(delete(SearchDocument).where(SearchDocument.product_id.in_(chunk)))
        docs: list[dict] = []
        postings: list[dict] = []
        for pid in chunk:
            src = sources.get(pid)
            if src is None or src.status != "active":
                continue
            doc, weights = _document(src)
            docs.append(doc)
            postings.extend({"term": t, "product_id": pid, "weight": w} for t, w in weights.items())
        if docs:
            await session.execute(insert(SearchDocument), docs)
        for i in range(0, len(postings), 2000):
            await session.execute(insert(SearchPosting), postings[i : i + 2000])
        indexed += len(docs)
    if ids:
        await bump_version(session)
    return indexed


class SearchIndexer:
    """The catalog's ProductIndexer (services/catalog/indexer.py)."""

    async def product_changed(self, session: AsyncSession, product_id: str) -> None:
        await index_products(session, [product_id])

    async def product_removed(self, session: AsyncSession, product_id: str) -> None:
        await session.execute(delete(SearchPosting).where(SearchPosting.product_id == product_id))
        await session.execute(delete(SearchDocument).where(SearchDocument.product_id == product_id))
        await bump_version(session)


async def reindex_all(db: Database, batch_size: int = _CHUNK) -> int:
    """Rebuild the whole index from the catalogue, one transaction per batch of products.

    Documents of products that no longer exist are dropped first.
    """
    async with db.transaction() as s:
        await s.execute(
            delete(SearchDocument).where(SearchDocument.product_id.not_in(select(Product.id)))
        )
        await bump_version(s)
    after = ""
    total = 0
    while True:
        async with db.session() as s:
            ids = list(
                (
                    await s.scalars(
                        select(Product.id)
                        .where(Product.id > after)
                        .order_by(Product.id)
                        .limit(batch_size)
                    )
                ).all()
            )
        if not ids:
            return total
        async with db.transaction() as s:
            total += await index_products(s, ids)
        after = ids[-1]
