"""The catalogue as CSV, one row per variant, in chunks: the same columns the import reads.

Products are read in pages of 200 by id (keyset), so memory stays bounded however
large the catalogue. Products without variants have no row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from mesh.db import Database
from services.catalog.io.columns import COLUMN_NAMES, format_pairs
from services.catalog.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    ProductCategory,
)

PAGE = 200
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ExportFilters:
    statuses: frozenset[str] = frozenset()
    brand_slugs: frozenset[str] = frozenset()
    category_slugs: frozenset[str] = frozenset()


def _cell(value: object) -> str:
    return "" if value is None else str(value)


async def export_csv(db: Database, filters: ExportFilters) -> AsyncIterator[tuple[bytes, int]]:
    """(chunk, rows so far) pairs; the first chunk starts with the header."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMN_NAMES)
    rows = 0
    after = ""
    async with db.session() as s:
        brands = {b.id: b.slug for b in await s.scalars(select(Brand))}
        categories = {c.id: c for c in await s.scalars(select(Category))}
        ingredients = {i.id: i.slug for i in await s.scalars(select(Ingredient))}
    subtree: list[str] = [c.path for c in categories.values() if c.slug in filters.category_slugs]
    while True:
        async with db.session() as s:
            stmt = (
                select(Product)
                .where(Product.id > after)
                .order_by(Product.id)
                .limit(PAGE)
                .options(
                    selectinload(Product.variants),
                    selectinload(Product.attributes),
                    selectinload(Product.tags),
                    selectinload(Product.category_links),
                    selectinload(Product.ingredient_links),
                )
            )
            if filters.statuses:
                stmt = stmt.where(Product.status.in_(filters.statuses))
            if filters.brand_slugs:
                ids = [bid for bid, slug in brands.items() if slug in filters.brand_slugs]
                stmt = stmt.where(Product.brand_id.in_(ids))
            if filters.category_slugs:
                stmt = stmt.where(
                    Product.id.in_(
                        select(ProductCategory.product_id)
                        .join(Category, Category.id == ProductCategory.category_id)
                        .where(or_(*(Category.path.startswith(p) for p in subtree or ["\0"])))
                    )
                )
            products: Sequence[Product] = list(await s.scalars(stmt))
        if not products:
            break
        after = products[-1].id
        for p in products:
            attrs: dict[str, list[str]] = {}
            for a in sorted(p.attributes, key=lambda a: (a.name, a.value)):
                attrs.setdefault(a.name, []).append(a.value)
            product_cells = {
                "product_slug": p.slug,
                "title": p.title,
                "subtitle": p.subtitle,
                "description_html": p.description_html,
                "brand_slug": brands.get(p.brand_id or "", ""),
                "category_slugs": ";".join(
                    sorted(
                        categories[c.category_id].slug
                        for c in p.category_links
                        if c.category_id in categories
                    )
                ),
                "ingredient_slugs": ";".join(
                    ingredients.get(i.ingredient_id, "")
                    for i in sorted(p.ingredient_links, key=lambda i: i.position)
                ),
                "status": p.status,
                "hsn_code": p.hsn_code,
                "tax_class": p.tax_class,
                "attributes": format_pairs(attrs),
                "tags": ";".join(sorted(t.tag for t in p.tags)),
            }
            for v in p.variants:
                cells = {
                    **product_cells,
                    "sku": v.sku,
                    "variant_title": v.title,
                    "option_values": format_pairs(v.option_values or {}),
                    "mrp_paise": v.mrp,
                    "price_paise": v.price,
                    "cost_price_paise": v.cost_price,
                    "weight_grams": v.weight_grams,
                    "length_mm": v.length_mm,
                    "width_mm": v.width_mm,
                    "height_mm": v.height_mm,
                    "barcode": v.barcode,
                    "variant_status": v.status,
                    "position": v.position,
                    "pieces_per_unit": v.pieces_per_unit,
                }
                writer.writerow([_cell(cells[c]) for c in COLUMN_NAMES])
                rows += 1
            if buf.tell() >= CHUNK_BYTES:
                yield buf.getvalue().encode(), rows
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue().encode(), rows
