"""Queries the handlers need, hiding SQLAlchemy from them.

`unit_of_work(db)` opens one session for one use case: committed when the block
ends, rolled back on an exception.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    Integer,
    Row,
    Select,
    Text,
    cast,
    delete,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from mesh.db import Database
from services.catalog.domain.rules import ProductFacts
from services.catalog.models import (
    Base,
    Bundle,
    Category,
    Collection,
    CollectionProduct,
    Media,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductIngredient,
    ProductTag,
    RelatedProduct,
    Variant,
)

M = TypeVar("M", bound=Base)


def product_options() -> list[Any]:
    """Everything a product page or admin view shows, loaded eagerly."""
    return [
        selectinload(Product.brand),
        selectinload(Product.variants),
        selectinload(Product.media),
        selectinload(Product.attributes),
        selectinload(Product.tags),
        selectinload(Product.ingredient_links).selectinload(ProductIngredient.ingredient),
        selectinload(Product.category_links),
    ]


def card_options() -> list[Any]:
    return [
        selectinload(Product.brand),
        selectinload(Product.variants),
        selectinload(Product.media),
    ]


def like_pattern(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def after_id(stmt: Select, column: Any, after: str | None) -> Select:
    if after is not None:
        stmt = stmt.where(column > after)
    return stmt.order_by(column.asc())


class Repo:
    """One unit of work's queries over its session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    # --- generic -----------------------------------------------------------------

    async def get(self, model: type[M], rid: str, *options: Any) -> M | None:
        stmt = select(model).where(model.id == rid)  # type: ignore[attr-defined]
        if options:
            stmt = stmt.options(*options)
        return await self.s.scalar(stmt)

    async def by_slug(self, model: type[M], slug: str, *options: Any) -> M | None:
        stmt = select(model).where(model.slug == slug)  # type: ignore[attr-defined]
        if options:
            stmt = stmt.options(*options)
        return await self.s.scalar(stmt)

    async def slug_taken(self, model: type[Base], slug: str, other_than: str = "") -> bool:
        rid = await self.s.scalar(
            select(model.id).where(model.slug == slug, model.id != other_than)  # type: ignore[attr-defined]
        )
        return rid is not None

    async def page(self, model: type[M], after: str | None, limit: int, *options: Any) -> list[M]:
        stmt = after_id(select(model), model.id, after).limit(limit)  # type: ignore[attr-defined]
        if options:
            stmt = stmt.options(*options)
        return list(await self.s.scalars(stmt))

    async def get_many(self, model: type[M], ids: Iterable[str]) -> dict[str, M]:
        wanted = set(ids)
        if not wanted:
            return {}
        rows = await self.s.scalars(select(model).where(model.id.in_(wanted)))  # type: ignore[attr-defined]
        return {r.id: r for r in rows}  # type: ignore[attr-defined]

    def add(self, obj: Base) -> None:
        self.s.add(obj)

    async def delete(self, obj: Base) -> None:
        await self.s.delete(obj)
        await self.s.flush()

    async def flush(self) -> None:
        await self.s.flush()

    # --- products ------------------------------------------------------------------

    async def product(self, product_id: str, *, full: bool = True) -> Product | None:
        return await self.get(Product, product_id, *(product_options() if full else ()))

    async def products_page(
        self,
        after: str | None,
        limit: int,
        *,
        status: str = "",
        brand_id: str = "",
        category_path: str = "",
        collection_id: str = "",
        query: str = "",
    ) -> list[Product]:
        stmt = select(Product)
        if status:
            stmt = stmt.where(Product.status == status)
        if brand_id:
            stmt = stmt.where(Product.brand_id == brand_id)
        if category_path:
            stmt = stmt.where(Product.id.in_(self.in_category_subtree(category_path)))
        if collection_id:
            stmt = stmt.where(
                Product.id.in_(
                    select(CollectionProduct.product_id).where(
                        CollectionProduct.collection_id == collection_id
                    )
                )
            )
        if query:
            pattern = like_pattern(query)
            stmt = stmt.where(
                or_(
                    func.lower(Product.title).like(pattern, escape="\\"),
                    Product.slug.like(pattern, escape="\\"),
                    Product.id.in_(select(Variant.product_id).where(Variant.sku == query.upper())),
                )
            )
        stmt = after_id(stmt, Product.id, after).limit(limit).options(*product_options())
        return list(await self.s.scalars(stmt))

    def in_category_subtree(self, path: str, *, active_only: bool = False) -> Select:
        cats = select(Category.id).where(Category.path.startswith(path, autoescape=True))
        if active_only:
            cats = cats.where(Category.active.is_(True))
        return select(ProductCategory.product_id).where(ProductCategory.category_id.in_(cats))

    async def variant(self, variant_id: str) -> Variant | None:
        return await self.get(Variant, variant_id)

    async def sku_owner(self, sku: str) -> str | None:
        return await self.s.scalar(select(Variant.id).where(Variant.sku == sku))

    async def barcode_owner(self, barcode: str) -> str | None:
        return await self.s.scalar(select(Variant.id).where(Variant.barcode == barcode))

    async def refresh_prices(self, product_ids: Iterable[str]) -> None:
        """Recompute products.min_price / max_price over active variants."""
        for pid in set(product_ids):
            row = (
                await self.s.execute(
                    select(func.min(Variant.price), func.max(Variant.price)).where(
                        Variant.product_id == pid, Variant.status == "active"
                    )
                )
            ).one()
            product = await self.s.get(Product, pid)
            if product is not None:
                product.min_price, product.max_price = row[0], row[1]

    async def product_ids_of_brand(self, brand_id: str) -> list[str]:
        return list(await self.s.scalars(select(Product.id).where(Product.brand_id == brand_id)))

    async def product_ids_of_ingredient(self, ingredient_id: str) -> list[str]:
        return list(
            await self.s.scalars(
                select(ProductIngredient.product_id).where(
                    ProductIngredient.ingredient_id == ingredient_id
                )
            )
        )

    async def product_ids_in_subtree(self, path: str) -> list[str]:
        return list(await self.s.scalars(self.in_category_subtree(path).distinct()))

    async def all_product_ids(self) -> list[str]:
        return list(await self.s.scalars(select(Product.id)))

    async def existing_ids(self, model: type[Base], ids: Iterable[str]) -> set[str]:
        wanted = set(ids)
        if not wanted:
            return set()
        return set(await self.s.scalars(select(model.id).where(model.id.in_(wanted))))  # type: ignore[attr-defined]

    async def related(self, product_id: str, kind: str = "") -> list[RelatedProduct]:
        stmt = select(RelatedProduct).where(RelatedProduct.product_id == product_id)
        if kind:
            stmt = stmt.where(RelatedProduct.kind == kind)
        return list(
            await self.s.scalars(stmt.order_by(RelatedProduct.kind, RelatedProduct.position))
        )

    async def replace_related(self, product_id: str, links: Sequence[tuple[str, str]]) -> None:
        await self.s.execute(delete(RelatedProduct).where(RelatedProduct.product_id == product_id))
        for i, (other, kind) in enumerate(links):
            self.s.add(
                RelatedProduct(
                    product_id=product_id, related_product_id=other, kind=kind, position=i
                )
            )

    async def first_media(self, product_ids: Iterable[str]) -> dict[str, Media]:
        ids = set(product_ids)
        if not ids:
            return {}
        rows = await self.s.scalars(
            select(Media).where(Media.product_id.in_(ids)).order_by(Media.position.desc())
        )
        return {m.product_id: m for m in rows}  # lowest position wins (last written)

    # --- rule facts ----------------------------------------------------------------

    async def facts(self, product_ids: Iterable[str] | None) -> dict[str, ProductFacts]:
        """What smart-collection rules look at, for some products (None: all)."""
        ids = None if product_ids is None else set(product_ids)
        if ids is not None and not ids:
            return {}

        def only(stmt: Select, col: Any) -> Select:
            return stmt if ids is None else stmt.where(col.in_(ids))

        base = (
            await self.s.execute(
                only(select(Product.id, Product.status, Product.brand_id), Product.id)
            )
        ).all()
        cats: dict[str, set[str]] = {}
        rows = await self.s.execute(
            only(
                select(ProductCategory.product_id, Category.path).join(
                    Category, Category.id == ProductCategory.category_id
                ),
                ProductCategory.product_id,
            )
        )
        for pid, path in rows:
            cats.setdefault(pid, set()).update(p for p in path.split("/") if p)
        tags: dict[str, set[str]] = {}
        for pid, tag in await self.s.execute(
            only(select(ProductTag.product_id, ProductTag.tag), ProductTag.product_id)
        ):
            tags.setdefault(pid, set()).add(tag)
        attrs: dict[str, set[tuple[str, str]]] = {}
        for pid, k, v in await self.s.execute(
            only(
                select(ProductAttribute.product_id, ProductAttribute.name, ProductAttribute.value),
                ProductAttribute.product_id,
            )
        ):
            attrs.setdefault(pid, set()).add((k, v))
        prices: dict[str, list[int]] = {}
        for pid, price in await self.s.execute(
            only(
                select(Variant.product_id, Variant.price).where(Variant.status == "active"),
                Variant.product_id,
            )
        ):
            prices.setdefault(pid, []).append(int(price))
        return {
            pid: ProductFacts(
                id=pid,
                active=status == "active",
                brand_id=brand_id,
                category_ids=frozenset(cats.get(pid, ())),
                tags=frozenset(tags.get(pid, ())),
                attributes=frozenset(attrs.get(pid, ())),
                prices=tuple(prices.get(pid, ())),
            )
            for pid, status, brand_id in base
        }

    async def smart_collections(self) -> list[Collection]:
        return list(await self.s.scalars(select(Collection).where(Collection.kind == "smart")))

    async def memberships(
        self, product_ids: Iterable[str] | None, collection_ids: Iterable[str]
    ) -> set[tuple[str, str]]:
        cids = set(collection_ids)
        if not cids:
            return set()
        stmt = select(CollectionProduct.collection_id, CollectionProduct.product_id).where(
            CollectionProduct.collection_id.in_(cids)
        )
        if product_ids is not None:
            stmt = stmt.where(CollectionProduct.product_id.in_(set(product_ids)))
        return {(c, p) for c, p in await self.s.execute(stmt)}

    async def remove_members(self, pairs: Iterable[tuple[str, str]]) -> None:
        for cid, pid in pairs:
            await self.s.execute(
                delete(CollectionProduct).where(
                    CollectionProduct.collection_id == cid, CollectionProduct.product_id == pid
                )
            )

    async def collection_size(self, collection_id: str) -> int:
        n = await self.s.scalar(
            select(func.count())
            .select_from(CollectionProduct)
            .where(CollectionProduct.collection_id == collection_id)
        )
        return int(n or 0)

    # --- categories ----------------------------------------------------------------

    async def categories(self) -> list[Category]:
        return list(
            await self.s.scalars(
                select(Category).order_by(Category.depth, Category.position, Category.slug)
            )
        )

    async def categories_by_ids(self, ids: Iterable[str]) -> dict[str, Category]:
        return await self.get_many(Category, ids)

    async def subtree(self, path: str) -> list[Category]:
        return list(
            await self.s.scalars(
                select(Category).where(Category.path.startswith(path, autoescape=True))
            )
        )

    async def has_children(self, category_id: str) -> bool:
        return (
            await self.s.scalar(
                select(Category.id).where(Category.parent_id == category_id).limit(1)
            )
        ) is not None

    # --- bundles -------------------------------------------------------------------

    async def bundle(self, bundle_id: str) -> Bundle | None:
        return await self.get(Bundle, bundle_id, selectinload(Bundle.items))

    async def bundles_with_variant(self, variant_id: str) -> bool:
        from services.catalog.models import BundleItem

        return (
            await self.s.scalar(
                select(BundleItem.bundle_id).where(BundleItem.variant_id == variant_id).limit(1)
            )
        ) is not None

    async def variant_snapshot_rows(self, ids: Iterable[str]) -> list[Row[Any]]:
        """Variants with the columns of their product that a snapshot shows: one query."""
        wanted = set(ids)
        if not wanted:
            return []
        return list(
            await self.s.execute(
                select(
                    Variant.id,
                    Variant.product_id,
                    Variant.sku,
                    Variant.title,
                    Variant.mrp,
                    Variant.price,
                    Variant.currency_code,
                    Variant.weight_grams,
                    Variant.pieces_per_unit,
                    Variant.status,
                    Product.title.label("product_title"),
                    Product.slug.label("product_slug"),
                    Product.hsn_code,
                    Product.tax_class,
                    Product.status.label("product_status"),
                    Product.brand_id,
                    Product.publish_time,
                )
                .join(Product, Product.id == Variant.product_id)
                .where(Variant.id.in_(wanted))
            )
        )

    async def product_links(
        self, product_ids: Iterable[str]
    ) -> list[tuple[str, str, str, str | None]]:
        """What hangs off some products, in one query: rows of (kind, product_id, value,
        extra), ordered by kind, product, position:

            ("category", pid, category path, None)       one per category the product is in
            ("collection", pid, collection id, rules)    active collections; rules as JSON text
            ("image", pid, url, None)                    image media, in position order
            ("tag", pid, tag, None)
        """
        ids = set(product_ids)
        if not ids:
            return []

        def kind(name: str) -> Any:
            return literal_column(f"'{name}'", Text).label("kind")

        none = cast(null(), Text).label("extra")
        first = literal_column("0", Integer).label("pos")
        stmt = union_all(
            select(
                kind("category"),
                ProductCategory.product_id,
                Category.path.label("value"),
                none,
                first,
            )
            .join(Category, Category.id == ProductCategory.category_id)
            .where(ProductCategory.product_id.in_(ids)),
            select(
                kind("collection"),
                CollectionProduct.product_id,
                CollectionProduct.collection_id,
                cast(Collection.rules, Text),
                first,
            )
            .join(Collection, Collection.id == CollectionProduct.collection_id)
            .where(CollectionProduct.product_id.in_(ids), Collection.active.is_(True)),
            select(kind("image"), Media.product_id, Media.url, none, Media.position).where(
                Media.product_id.in_(ids), Media.kind == "image"
            ),
            select(kind("tag"), ProductTag.product_id, ProductTag.tag, none, first).where(
                ProductTag.product_id.in_(ids)
            ),
        )
        kind_, pid, value, _, pos = stmt.selected_columns
        rows = await self.s.execute(stmt.order_by(kind_, pid, pos, value))
        return [(k, p, v, x) for k, p, v, x, _ in rows]

    async def variants_with_products(self, ids: Iterable[str]) -> dict[str, Variant]:
        wanted = set(ids)
        if not wanted:
            return {}
        rows = await self.s.scalars(select(Variant).where(Variant.id.in_(wanted)))
        return {v.id: v for v in rows}


@asynccontextmanager
async def unit_of_work(db: Database, *, write: bool = True) -> AsyncIterator[Repo]:
    if write:
        async with db.transaction() as s:
            yield Repo(s)
    else:
        async with db.session() as s:
            yield Repo(s)
