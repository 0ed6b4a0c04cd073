"""The CSV import: validate rows, upsert products by slug and variants by SKU, in batches.

Rows stream in; every `batch_size` valid-or-not rows one write transaction applies
the batch's valid rows, then everything that follows a product change runs in the
same transaction (min/max prices, smart-collection membership, the search index).
An invalid row is skipped and reported (line, column, message); the rest of the
file still applies. A tax class settings has no GST rule for is such a row error
(asked of settings when the header has a tax_class column, then before each
batch's transaction; settings down fails the import with UNAVAILABLE: nothing
written when it is down from the start, earlier batches kept when it goes down
mid-file). A dry run does exactly the same work and rolls every batch
back, so its report is what a real run would do.

Counting: a product is counted once, at its first row (created / updated /
unchanged; upgraded to "updated" if a later batch changes it); a variant once
per SKU (a SKU may appear only once in a file).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from mesh.db import Database, utcnow
from services.catalog.domain.validation import option_title
from services.catalog.handlers.common import sync_smart_memberships
from services.catalog.io.columns import HeaderError, Row, check_header, parse_row
from services.catalog.io.reader import CsvFormatError, Record
from services.catalog.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductIngredient,
    ProductTag,
    Variant,
)
from services.catalog.repository import Repo
from services.catalog.search.indexer import index_products
from services.catalog.tax_classes import TaxClassLookup

BATCH_SIZE = 500
MAX_REPORTED_ERRORS = 1000
PRODUCT_COLUMNS = {
    "title": "title",
    "subtitle": "subtitle",
    "description_html": "description_html",
    "status": "status",
    "hsn_code": "hsn_code",
    "tax_class": "tax_class",
}
VARIANT_INTS = {
    "weight_grams": "weight_grams",
    "length_mm": "length_mm",
    "width_mm": "width_mm",
    "height_mm": "height_mm",
    "position": "position",
    "pieces_per_unit": "pieces_per_unit",
}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str
    sku: str = ""


@dataclass
class Summary:
    dry_run: bool
    rows_total: int = 0
    rows_failed: int = 0
    products: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0}
    )
    variants: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0}
    )
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0


@dataclass
class Progress:
    rows_processed: int
    errors_so_far: int
    new_errors: list[RowError]


class _DryRun(Exception):
    """Raised at the end of a dry-run batch to roll its transaction back."""


class Importer:
    def __init__(
        self,
        db: Database,
        actor: str,
        *,
        dry_run: bool,
        tax_classes: TaxClassLookup,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.db = db
        self.actor = actor
        self.tax_classes = tax_classes
        self.batch_size = batch_size
        self.summary = Summary(dry_run=dry_run)
        self._header: list[str] | None = None
        self._sku_lines: dict[str, int] = {}
        self._barcodes: dict[str, str] = {}
        self._products: dict[str, str] = {}  # slug -> outcome so far
        self._pending_errors: list[RowError] = []

    # --- errors --------------------------------------------------------------------

    def _error(self, line: int, column: str, message: str, sku: str = "") -> None:
        err = RowError(line, column, message, sku)
        self.summary.error_count += 1
        if len(self.summary.errors) < MAX_REPORTED_ERRORS:
            self.summary.errors.append(err)
            self._pending_errors.append(err)

    def _progress(self) -> Progress:
        new, self._pending_errors = self._pending_errors, []
        return Progress(self.summary.rows_total, self.summary.error_count, new)

    # --- driving -------------------------------------------------------------------

    async def run(self, records: AsyncIterable[Record]) -> AsyncIterator[Progress]:
        """Consume records; yield progress after each batch. Summary in `self.summary`."""
        batch: list[Row] = []
        try:
            async for rec in records:
                if self._header is None:
                    try:
                        self._header = check_header(rec.fields)
                    except HeaderError as exc:
                        self._error(rec.line, "", str(exc))
                        break
                    if "tax_class" in self._header:
                        await self.tax_classes.known()  # settings down: fail before writing
                    continue
                self.summary.rows_total += 1
                row, v = parse_row(self._header, rec.fields, rec.line)
                if v:
                    self.summary.rows_failed += 1
                    for column, message in v.items:
                        self._error(rec.line, column, message, row.sku)
                    continue
                batch.append(row)
                if len(batch) >= self.batch_size:
                    await self._apply(batch)
                    batch = []
                    yield self._progress()
        except CsvFormatError as exc:
            self._error(exc.line, "", exc.message)
        if batch:
            await self._apply(batch)
        if self._header is None and not self.summary.errors:
            self._error(1, "", "the file is empty (no header row)")
        yield self._progress()

    async def _apply(self, rows: list[Row]) -> None:
        classes = {r.tax_class for r in rows if r.has("tax_class") and r.tax_class}
        unknown, known = await self.tax_classes.unknown(classes)
        try:
            async with self.db.transaction() as s:
                await _Batch(self, s, set(unknown), known).apply(rows)
                if self.summary.dry_run:
                    raise _DryRun
        except _DryRun:
            pass

    def _count_product(self, slug: str, outcome: str) -> None:
        before = self._products.get(slug)
        if before is None:
            self._products[slug] = outcome
            self.summary.products[outcome] += 1
        elif before == "unchanged" and outcome == "updated":
            self._products[slug] = outcome
            self.summary.products["unchanged"] -= 1
            self.summary.products["updated"] += 1


class _Batch:
    def __init__(
        self,
        imp: Importer,
        session: AsyncSession,
        unknown_classes: set[str],
        known_classes: frozenset[str],
    ) -> None:
        self.imp = imp
        self.s = session
        self.now = utcnow()
        self.unknown_classes = unknown_classes
        self.known_classes = ", ".join(sorted(known_classes)) or "none"

    async def _by_slug(self, model: type, slugs: set[str]) -> dict[str, str]:
        if not slugs:
            return {}
        rows = await self.s.execute(select(model.slug, model.id).where(model.slug.in_(slugs)))
        return {slug: rid for slug, rid in rows}

    def _fail(self, row: Row, column: str, message: str) -> None:
        self.imp.summary.rows_failed += 1
        self.imp._error(row.line, column, message, row.sku)

    async def apply(self, rows: list[Row]) -> None:
        imp = self.imp
        brands = await self._by_slug(Brand, {r.brand_slug for r in rows if r.brand_slug})
        cats = await self._by_slug(Category, {c for r in rows for c in r.category_slugs})
        ings = await self._by_slug(Ingredient, {i for r in rows for i in r.ingredient_slugs})
        slugs = {r.slug for r in rows}
        products = {
            p.slug: p
            for p in await self.s.scalars(
                select(Product)
                .where(Product.slug.in_(slugs))
                .options(
                    selectinload(Product.attributes),
                    selectinload(Product.tags),
                    selectinload(Product.category_links),
                    selectinload(Product.ingredient_links),
                )
            )
        }
        variants = {
            v.sku: v
            for v in await self.s.scalars(
                select(Variant).where(Variant.sku.in_({r.sku for r in rows}))
            )
        }
        barcodes = {r.barcode for r in rows if r.barcode}
        barcode_owner: dict[str, str] = {}
        if barcodes:
            for sku, code in await self.s.execute(
                select(Variant.sku, Variant.barcode).where(Variant.barcode.in_(barcodes))
            ):
                barcode_owner[code] = sku
        owners: dict[str, str] = {}  # product id -> slug, for SKU ownership messages
        pids = {v.product_id for v in variants.values()}
        if pids:
            for pid, slug in await self.s.execute(
                select(Product.id, Product.slug).where(Product.id.in_(pids))
            ):
                owners[pid] = slug

        # Row-level checks that need the database or the rest of the file.
        valid: list[Row] = []
        for r in rows:
            first = imp._sku_lines.get(r.sku)
            if first is not None:
                self._fail(r, "sku", f"duplicate SKU: already on line {first}")
                continue
            imp._sku_lines[r.sku] = r.line
            existing = variants.get(r.sku)
            if existing is not None and owners.get(existing.product_id) != r.slug:
                self._fail(r, "sku", f"belongs to product {owners.get(existing.product_id, '?')!r}")
                continue
            if r.brand_slug and r.brand_slug not in brands:
                self._fail(r, "brand_slug", f"no brand {r.brand_slug!r}")
                continue
            missing = [c for c in r.category_slugs if c not in cats]
            if missing:
                self._fail(r, "category_slugs", f"no category {missing[0]!r}")
                continue
            missing = [i for i in r.ingredient_slugs if i not in ings]
            if missing:
                self._fail(r, "ingredient_slugs", f"no ingredient {missing[0]!r}")
                continue
            if r.slug not in products and not r.title:
                self._fail(r, "title", "is required for a new product")
                continue
            if r.has("tax_class") and r.tax_class in self.unknown_classes:
                self._fail(
                    r,
                    "tax_class",
                    f"settings has no GST rule for tax class {r.tax_class!r}"
                    f" (known: {self.known_classes})",
                )
                continue
            if existing is None and (r.mrp is None or r.price is None):
                column = "mrp_paise" if r.mrp is None else "price_paise"
                self._fail(r, column, "is required for a new variant")
                continue
            if existing is not None:
                mrp = r.mrp if r.mrp is not None else existing.mrp
                price = r.price if r.price is not None else existing.price
                if price > mrp:
                    self._fail(r, "price_paise", "must not exceed the MRP")
                    continue
            if r.status == "active" and r.has("status"):
                hsn = (
                    r.hsn_code
                    if r.has("hsn_code")
                    else getattr(products.get(r.slug), "hsn_code", "")
                )
                tax = (
                    r.tax_class
                    if r.has("tax_class")
                    else getattr(products.get(r.slug), "tax_class", "")
                )
                if not hsn or not tax:
                    self._fail(r, "status", "an active product needs hsn_code and tax_class (GST)")
                    continue
            if r.barcode:
                holder = barcode_owner.get(r.barcode) or imp._barcodes.get(r.barcode)
                if holder is not None and holder != r.sku:
                    self._fail(r, "barcode", f"already used by SKU {holder}")
                    continue
                imp._barcodes[r.barcode] = r.sku
            valid.append(r)

        # Products: the last row of each product in the batch carries its columns.
        last: dict[str, Row] = {}
        for r in valid:
            last[r.slug] = r
        changed: set[str] = set()
        for slug, r in last.items():
            product = products.get(slug)
            if product is None:
                product = Product(
                    slug=slug,
                    title=r.title,
                    created_by=imp.actor,
                    updated_by=imp.actor,
                    create_time=self.now,
                    update_time=self.now,
                    attributes=[],
                    tags=[],
                    category_links=[],
                    ingredient_links=[],
                )
                self.s.add(product)
                self._write_product(product, r, brands, cats, ings)
                await self.s.flush()
                products[slug] = product
                imp._count_product(slug, "created")
                changed.add(product.id)
            elif self._write_product(product, r, brands, cats, ings):
                product.updated_by, product.update_time = imp.actor, self.now
                imp._count_product(slug, "updated")
                changed.add(product.id)
            else:
                imp._count_product(slug, "unchanged")
            if product.status == "active" and product.publish_time is None:
                product.publish_time = self.now

        # Variants.
        for r in valid:
            product = products[r.slug]
            v = variants.get(r.sku)
            if v is None:
                v = Variant(
                    product_id=product.id,
                    sku=r.sku,
                    mrp=r.mrp,
                    price=r.price,
                    updated_by=imp.actor,
                    create_time=self.now,
                    update_time=self.now,
                )
                self._write_variant(v, r)
                self.s.add(v)
                imp.summary.variants["created"] += 1
                changed.add(product.id)
            elif self._write_variant(v, r):
                v.updated_by, v.update_time = imp.actor, self.now
                imp.summary.variants["updated"] += 1
                changed.add(product.id)
            else:
                imp.summary.variants["unchanged"] += 1
        if changed:
            await self.s.flush()
            await refresh_prices(self.s, changed)
            await sync_smart_memberships(Repo(self.s), sorted(changed), self.now)
            await index_products(self.s, changed)

    def _write_product(
        self,
        p: Product,
        r: Row,
        brands: dict[str, str],
        cats: dict[str, str],
        ings: dict[str, str],
    ) -> bool:
        dirty = False
        for column, attr in PRODUCT_COLUMNS.items():
            if r.has(column):
                value = getattr(r, attr)
                if column == "title" and not value:
                    continue
                if getattr(p, attr) != value:
                    setattr(p, attr, value)
                    dirty = True
        if r.has("brand_slug"):
            brand_id = brands.get(r.brand_slug) if r.brand_slug else None
            if p.brand_id != brand_id:
                p.brand_id = brand_id
                dirty = True
        if r.has("attributes"):
            want = {(k, x) for k, xs in r.attributes.items() for x in xs}
            if {(a.name, a.value) for a in p.attributes} != want:
                p.attributes = [ProductAttribute(name=k, value=x) for k, x in sorted(want)]
                dirty = True
        if r.has("tags"):
            if {t.tag for t in p.tags} != set(r.tags):
                p.tags = [ProductTag(tag=t) for t in r.tags]
                dirty = True
        if r.has("category_slugs"):
            want_c = {cats[c] for c in r.category_slugs}
            if {c.category_id for c in p.category_links} != want_c:
                p.category_links = [ProductCategory(category_id=c) for c in sorted(want_c)]
                dirty = True
        if r.has("ingredient_slugs"):
            want_i: list[str] = []
            for slug in r.ingredient_slugs:
                if ings[slug] not in want_i:
                    want_i.append(ings[slug])
            have = [link.ingredient_id for link in sorted(p.ingredient_links, key=_position)]
            if have != want_i:
                p.ingredient_links = [
                    ProductIngredient(ingredient_id=i, position=n) for n, i in enumerate(want_i)
                ]
                dirty = True
        return dirty

    def _write_variant(self, v: Variant, r: Row) -> bool:
        updates: dict[str, object] = {}
        if r.mrp is not None:
            updates["mrp"] = r.mrp
        if r.price is not None:
            updates["price"] = r.price
        if r.has("cost_price_paise"):
            updates["cost_price"] = r.cost_price
        if r.has("option_values"):
            updates["option_values"] = r.option_values
        if r.has("variant_title") or r.has("option_values"):
            options = r.option_values if r.has("option_values") else (v.option_values or {})
            updates["title"] = r.variant_title or option_title(options)
        for column, attr in VARIANT_INTS.items():
            if column in r.ints:
                updates[attr] = r.ints[column]
        if r.has("barcode"):
            updates["barcode"] = r.barcode
        if r.has("variant_status"):
            updates["status"] = r.variant_status
        dirty = False
        for attr, value in updates.items():
            if getattr(v, attr, None) != value:
                setattr(v, attr, value)
                dirty = True
        return dirty


def _position(link: ProductIngredient) -> int:
    return link.position


async def refresh_prices(session: AsyncSession, product_ids: set[str]) -> None:
    """products.min_price / max_price over active variants, for many products at once."""
    ids = sorted(product_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = await session.execute(
            select(Variant.product_id, func.min(Variant.price), func.max(Variant.price))
            .where(Variant.product_id.in_(chunk), Variant.status == "active")
            .group_by(Variant.product_id)
        )
        prices = {pid: (lo, hi) for pid, lo, hi in rows}
        for p in await session.scalars(select(Product).where(Product.id.in_(chunk))):
            p.min_price, p.max_price = prices.get(p.id, (None, None))
    await session.flush()
