"""What shoppers read. Only published things: active products with an active
variant, active categories (whose ancestors are active), active collections and
brands, active bundles whose every item is sellable. Anything else is NOT_FOUND.

Listings page with keyset tokens over (sort value, id), so a page never repeats
or skips a product when others are added meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from mesh.db import decode_page_token, encode_page_token
from mesh.errors import InvalidArgument, NotFound, Violations
from services.catalog.domain import rules as rule_logic
from services.catalog.domain.stock import StockInfo, best
from services.catalog.handlers.common import Deps
from services.catalog.models import (
    Brand,
    Bundle,
    Category,
    Collection,
    CollectionProduct,
    Product,
    ProductAttribute,
    Variant,
)
from services.catalog.repository import Repo, card_options, product_options, unit_of_work

SORT_NEWEST, SORT_PRICE_ASC, SORT_PRICE_DESC, SORT_TITLE = 1, 2, 3, 4
SCAN_ROUNDS = 8  # in-stock filtering: at most this many candidate batches per page


@dataclass
class ProductPage:
    product: Product
    variants: list[Variant]
    stock: dict[str, StockInfo]
    stock_known: bool
    breadcrumbs: list[Category]


@dataclass
class Card:
    product: Product
    variants: list[Variant]
    stock_status: int


@dataclass
class Listing:
    cards: list[Card]
    next_page_token: str
    stock_known: bool = True


@dataclass
class ListingQuery:
    page_size: int
    page_token: str = ""
    category: str = ""
    collection: str = ""
    brand: str = ""
    min_price: int = 0
    max_price: int = 0
    attributes: list[str] = field(default_factory=list)
    in_stock_only: bool = False
    order_by: int = 0


@dataclass
class BundleView:
    bundle: Bundle
    variants: dict[str, Variant]
    products: dict[str, Product]
    mrp_total: int
    images: dict[str, str]  # product id -> first image URL


def sellable_variants(p: Product) -> list[Variant]:
    return [v for v in p.variants if v.status == "active"]


def published(p: Product | None) -> bool:
    return p is not None and p.status == "active" and bool(sellable_variants(p))


def parse_attributes(items: list[str], v: Violations) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i, raw in enumerate(items):
        key, sep, value = raw.partition(":")
        if not sep or not key.strip() or not value.strip():
            v.add(f"attributes[{i}]", 'must look like "key:value"')
            continue
        out.setdefault(key.strip().lower(), []).append(value.strip().lower())
    return out


def _sort(stmt: Select, order: int, after: list[Any] | None) -> Select:
    if order == SORT_PRICE_ASC:
        col, desc = Product.min_price, False
    elif order == SORT_PRICE_DESC:
        col, desc = Product.min_price, True
    elif order == SORT_TITLE:
        col, desc = Product.title, False
    else:
        if after is not None:
            stmt = stmt.where(Product.id < after[0])
        return stmt.order_by(Product.id.desc())
    if after is not None:
        value, last_id = after
        if desc:
            stmt = stmt.where(or_(col < value, and_(col == value, Product.id < last_id)))
        else:
            stmt = stmt.where(or_(col > value, and_(col == value, Product.id > last_id)))
    if desc:
        return stmt.order_by(col.desc(), Product.id.desc())
    return stmt.order_by(col.asc(), Product.id.asc())


def _key(p: Product, order: int) -> list[Any]:
    if order in (SORT_PRICE_ASC, SORT_PRICE_DESC):
        return [p.min_price, p.id]
    if order == SORT_TITLE:
        return [p.title, p.id]
    return [p.id]


class StorefrontHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # --- products ------------------------------------------------------------------

    async def published_product(self, slug: str) -> tuple[Product, list[Variant], list[Category]]:
        """The published product by slug, its sellable variants and breadcrumbs (no stock:
        the storefront servicer caches this per catalogue version and merges stock in)."""
        async with unit_of_work(self.deps.db, write=False) as r:
            product = await r.by_slug(Product, slug, *product_options())
            if not published(product):
                raise NotFound(f"product {slug!r} not found")
            assert product is not None
            crumbs = await self._breadcrumbs(r, [c.category_id for c in product.category_links])
        return product, sellable_variants(product), crumbs

    async def product_page(self, slug: str) -> ProductPage:
        product, variants, crumbs = await self.published_product(slug)
        stock, known = await self.deps.availability.get(v.id for v in variants)
        return ProductPage(product, variants, stock, known, crumbs)

    async def _breadcrumbs(self, r: Repo, category_ids: list[str]) -> list[Category]:
        """The path of the product's deepest active category (root first)."""
        cats = await r.categories_by_ids(category_ids)
        if not cats:
            return []
        ancestors = await r.categories_by_ids({a for c in cats.values() for a in c.ancestor_ids})
        visible = [
            c
            for c in cats.values()
            if all(ancestors.get(a) is not None and ancestors[a].active for a in c.ancestor_ids)
        ]
        if not visible:
            return []
        deepest = max(visible, key=lambda c: (c.depth, c.id))
        return [ancestors[a] for a in deepest.ancestor_ids]

    async def _cards(self, products: list[Product]) -> tuple[list[Card], bool]:
        ids = [v.id for p in products for v in sellable_variants(p)]
        stock, known = await self.deps.availability.get(ids)
        cards = []
        for p in products:
            vs = sellable_variants(p)
            status = best([stock[v.id].status for v in vs]) if known else 0
            cards.append(Card(p, vs, status))
        return cards, known

    async def list_products(self, q: ListingQuery) -> Listing:
        v = Violations()
        attrs = parse_attributes(q.attributes, v)
        if q.min_price < 0 or q.max_price < 0 or (q.max_price and q.min_price > q.max_price):
            v.add("max_price_minor", "needs 0 <= min_price_minor <= max_price_minor")
        if q.order_by not in (0, SORT_NEWEST, SORT_PRICE_ASC, SORT_PRICE_DESC, SORT_TITLE):
            v.add("order_by", "is not a known sort")
        v.raise_if_any()
        order = q.order_by or SORT_NEWEST
        filters = {
            "c": q.category,
            "k": q.collection,
            "b": q.brand,
            "lo": q.min_price,
            "hi": q.max_price,
            "a": sorted(q.attributes),
            "s": q.in_stock_only,
            "o": order,
        }
        after = decode_page_token(q.page_token, filters)
        if after is not None and (not isinstance(after, list) or not after):
            raise InvalidArgument({"page_token": "is not a valid page token"})
        stock_filter = q.in_stock_only
        async with unit_of_work(self.deps.db, write=False) as r:
            stmt = select(Product).where(Product.status == "active", Product.min_price.is_not(None))
            if q.category:
                cat = await self._visible_category(r, q.category)
                stmt = stmt.where(Product.id.in_(r.in_category_subtree(cat.path, active_only=True)))
            if q.collection:
                coll = await r.by_slug(Collection, q.collection)
                if coll is None or not coll.active:
                    raise NotFound(f"collection {q.collection!r} not found")
                stmt = stmt.where(
                    Product.id.in_(
                        select(CollectionProduct.product_id).where(
                            CollectionProduct.collection_id == coll.id
                        )
                    )
                )
                since = rule_logic.new_since(coll.rules or [], self.deps.clock())
                if since is not None:
                    stmt = stmt.where(Product.publish_time >= since)
                stock_filter = stock_filter or rule_logic.needs_stock(coll.rules or [])
            if q.brand:
                brand = await r.by_slug(Brand, q.brand)
                if brand is None or not brand.active:
                    raise NotFound(f"brand {q.brand!r} not found")
                stmt = stmt.where(Product.brand_id == brand.id)
            if q.min_price:
                stmt = stmt.where(Product.min_price >= q.min_price)
            if q.max_price:
                stmt = stmt.where(Product.min_price <= q.max_price)
            for key, values in sorted(attrs.items()):
                stmt = stmt.where(
                    Product.id.in_(
                        select(ProductAttribute.product_id).where(
                            ProductAttribute.name == key, ProductAttribute.value.in_(values)
                        )
                    )
                )
            return await self._page(r, stmt, order, after, q.page_size, filters, stock_filter)

    async def _page(
        self,
        r: Repo,
        base: Select,
        order: int,
        after: list[Any] | None,
        size: int,
        filters: dict[str, Any],
        stock_filter: bool,
    ) -> Listing:
        batch = size + 1 if not stock_filter else max(2 * size, 50)
        kept: list[Card] = []
        known = True
        cursor = after
        exhausted = False
        for _ in range(SCAN_ROUNDS if stock_filter else 1):
            raw = list(
                await r.s.scalars(_sort(base, order, cursor).limit(batch).options(*card_options()))
            )
            cards, ok = await self._cards([p for p in raw if sellable_variants(p)])
            known = known and ok
            for card in cards:
                if stock_filter and ok and card.stock_status not in (1, 2, 4):
                    continue
                kept.append(card)
            if len(raw) < batch:
                exhausted = True
                break
            cursor = _key(raw[-1], order)
            if len(kept) > size:
                break
        if len(kept) > size:
            token = encode_page_token(_key(kept[size - 1].product, order), filters)
            return Listing(kept[:size], token, known)
        if not exhausted and cursor is not None and cursor != after:
            # Scanned the round limit without filling the page: continue after the scan.
            return Listing(kept, encode_page_token(cursor, filters), known)
        return Listing(kept, "", known)

    async def related(self, slug: str, kind: str) -> list[tuple[str, Card]]:
        async with unit_of_work(self.deps.db, write=False) as r:
            product = await r.by_slug(Product, slug, selectinload(Product.variants))
            if not published(product):
                raise NotFound(f"product {slug!r} not found")
            assert product is not None
            links = await r.related(product.id, kind)
            others = {
                p.id: p
                for p in await r.s.scalars(
                    select(Product)
                    .where(Product.id.in_({x.related_product_id for x in links}))
                    .options(*card_options())
                )
            }
        pairs = [(x.kind, others.get(x.related_product_id)) for x in links]
        shown = [(k, p) for k, p in pairs if p is not None and published(p)]
        cards, _ = await self._cards([p for _, p in shown])
        return [(k, c) for (k, _), c in zip(shown, cards, strict=True)]

    # --- categories ----------------------------------------------------------------

    async def _visible_category(self, r: Repo, slug: str) -> Category:
        cat = await r.by_slug(Category, slug)
        if cat is not None:
            chain = await r.categories_by_ids(cat.ancestor_ids)
            if all(chain.get(a) is not None and chain[a].active for a in cat.ancestor_ids):
                return cat
        raise NotFound(f"category {slug!r} not found")

    async def categories(self) -> tuple[list[Category], dict[str, Category]]:
        async with unit_of_work(self.deps.db, write=False) as r:
            every = await r.categories()
        by_id = {c.id: c for c in every}
        visible = [
            c
            for c in every
            if all(by_id.get(a) is not None and by_id[a].active for a in c.ancestor_ids)
        ]
        return visible, by_id

    async def category(self, slug: str) -> tuple[Category, dict[str, Category], list[Category]]:
        async with unit_of_work(self.deps.db, write=False) as r:
            cat = await self._visible_category(r, slug)
            chain = await r.categories_by_ids(cat.ancestor_ids)
            children = [c for c in await r.categories() if c.parent_id == cat.id and c.active]
        return cat, chain, sorted(children, key=lambda c: (c.position, c.slug))

    # --- collections, brands, bundles ------------------------------------------------

    async def collections(self) -> list[Collection]:
        async with unit_of_work(self.deps.db, write=False) as r:
            rows = await r.s.scalars(
                select(Collection)
                .where(Collection.active.is_(True))
                .order_by(Collection.position, Collection.slug)
            )
            return list(rows)

    async def collection(self, slug: str) -> Collection:
        async with unit_of_work(self.deps.db, write=False) as r:
            coll = await r.by_slug(Collection, slug)
        if coll is None or not coll.active:
            raise NotFound(f"collection {slug!r} not found")
        return coll

    async def brands(self) -> list[Brand]:
        async with unit_of_work(self.deps.db, write=False) as r:
            rows = await r.s.scalars(
                select(Brand).where(Brand.active.is_(True)).order_by(Brand.name)
            )
            return list(rows)

    async def _bundle_views(self, r: Repo, bundles: list[Bundle]) -> list[BundleView]:
        variants = await r.variants_with_products({i.variant_id for b in bundles for i in b.items})
        products = await r.get_many(Product, {x.product_id for x in variants.values()})
        media = await r.first_media(products)
        out = []
        for b in bundles:
            ok = all(
                i.variant_id in variants
                and variants[i.variant_id].status == "active"
                and products.get(variants[i.variant_id].product_id) is not None
                and products[variants[i.variant_id].product_id].status == "active"
                for i in b.items
            )
            if b.status == "active" and ok:
                total = sum(variants[i.variant_id].mrp * i.quantity for i in b.items)
                images = {pid: m.url for pid, m in media.items()}
                out.append(BundleView(b, variants, products, total, images))
        return out

    async def bundles(self) -> list[BundleView]:
        async with unit_of_work(self.deps.db, write=False) as r:
            rows = list(
                await r.s.scalars(
                    select(Bundle)
                    .where(Bundle.status == "active")
                    .options(selectinload(Bundle.items))
                    .order_by(Bundle.slug)
                )
            )
            return await self._bundle_views(r, rows)

    async def bundle(self, slug: str) -> BundleView:
        async with unit_of_work(self.deps.db, write=False) as r:
            b = await r.by_slug(Bundle, slug, selectinload(Bundle.items))
            views = await self._bundle_views(r, [b]) if b is not None else []
        if not views:
            raise NotFound(f"bundle {slug!r} not found")
        return views[0]
