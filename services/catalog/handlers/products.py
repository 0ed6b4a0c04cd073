"""Products and their variants, media, attributes, tags, categories, ingredient
links and related products (admin side)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cleanse.catalog.v1 import resources_pb2 as res
from mesh.db import new_id
from mesh.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    Unavailable,
    Violations,
)
from mesh.resources import parse_name, require_name
from services.catalog.convert import (
    MEDIA_KIND,
    PRODUCT_STATUS,
    RELATION_KIND,
    VARIANT_STATUS,
    reverse,
)
from services.catalog.domain import validation as val
from services.catalog.domain.richtext import MAX_LENGTH, sanitize_html
from services.catalog.handlers.common import (
    Deps,
    not_found,
    products_changed,
    unique_write,
)
from services.catalog.handlers.taxonomy import mask_or_set
from services.catalog.models import (
    Brand,
    Category,
    Ingredient,
    Media,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductIngredient,
    ProductTag,
    RelatedProduct,
    Variant,
)
from services.catalog.repository import Repo, unit_of_work

PRODUCT_FIELDS = (
    "slug",
    "title",
    "subtitle",
    "description_html",
    "brand",
    "status",
    "hsn_code",
    "tax_class",
    "attributes",
    "tags",
    "categories",
    "media",
    "ingredients",
    "related_products",
)
VARIANT_FIELDS = (
    "sku",
    "title",
    "option_values",
    "mrp",
    "price",
    "cost_price",
    "weight_grams",
    "dimensions",
    "barcode",
    "status",
    "position",
    "pieces_per_unit",
)
STATUS_NAMES = reverse(PRODUCT_STATUS)
VARIANT_STATUS_NAMES = reverse(VARIANT_STATUS)
MEDIA_NAMES = reverse(MEDIA_KIND)
RELATION_NAMES = reverse(RELATION_KIND)
MAX_VARIANTS = 50
MAX_MEDIA = 20


@dataclass
class ProductInput:
    """A validated product write: scalar columns plus the collections to replace."""

    columns: dict[str, object] = field(default_factory=dict)
    brand_id: str | None = None
    attributes: dict[str, list[str]] | None = None
    tags: list[str] | None = None
    category_ids: list[str] | None = None
    media: list[tuple[str, str, str]] | None = None  # kind, url, alt
    ingredients: list[tuple[str, str]] | None = None  # id, note
    related: list[tuple[str, str]] | None = None  # product id, kind


def _ids(names: Sequence[str], collection: str, v: Violations, f: str) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(names):
        rid = parse_name(name, collection)
        if rid is None:
            v.add(f"{f}[{i}]", f"must look like {collection}/{{id}}")
        elif rid not in out:
            out.append(rid)
    return out


def product_input(p: res.Product, fields: set[str], v: Violations) -> ProductInput:
    out = ProductInput()
    c = out.columns
    if "slug" in fields:
        c["slug"] = val.check_slug(p.slug, v, "product.slug")
    if "title" in fields:
        c["title"] = val.check_text(
            p.title, v, "product.title", required=True, max_len=val.TITLE_MAX
        )
    if "subtitle" in fields:
        c["subtitle"] = val.check_text(
            p.subtitle, v, "product.subtitle", required=False, max_len=300
        )
    if "description_html" in fields:
        if len(p.description_html) > MAX_LENGTH:
            v.add("product.description_html", f"must be at most {MAX_LENGTH} characters")
        c["description_html"] = sanitize_html(p.description_html)
    if "brand" in fields:
        if p.brand:
            out.brand_id = parse_name(p.brand, "brands")
            if out.brand_id is None:
                v.add("product.brand", "must look like brands/{id}")
        c["brand_id"] = out.brand_id
    if "status" in fields:
        status = STATUS_NAMES.get(p.status, "draft" if p.status == 0 else "")
        if not status:
            v.add("product.status", "is not a known status")
        c["status"] = status
    if "hsn_code" in fields:
        c["hsn_code"] = val.check_hsn(p.hsn_code, v, "product.hsn_code")
    if "tax_class" in fields:
        c["tax_class"] = val.check_tax_class(p.tax_class, v, "product.tax_class")
    if "attributes" in fields:
        out.attributes = val.check_attributes(
            ((a.key, a.values) for a in p.attributes), v, "product.attributes"
        )
    if "tags" in fields:
        out.tags = val.check_tags(p.tags, v, "product.tags")
    if "categories" in fields:
        out.category_ids = _ids(p.categories, "categories", v, "product.categories")
    if "media" in fields:
        if len(p.media) > MAX_MEDIA:
            v.add("product.media", f"at most {MAX_MEDIA} items")
        out.media = []
        for i, m in enumerate(p.media):
            kind = MEDIA_NAMES.get(m.kind, "image" if m.kind == 0 else "")
            if not kind:
                v.add(f"product.media[{i}].kind", "is not a known kind")
                continue
            url = val.check_media_url(m.url, kind, v, f"product.media[{i}].url")
            alt = val.check_text(
                m.alt_text, v, f"product.media[{i}].alt_text", required=kind == "image", max_len=250
            )
            out.media.append((kind, url, alt))
    if "ingredients" in fields:
        out.ingredients = []
        seen: set[str] = set()
        for i, link in enumerate(p.ingredients):
            iid = parse_name(link.ingredient, "ingredients")
            if iid is None:
                v.add(f"product.ingredients[{i}].ingredient", "must look like ingredients/{id}")
            elif iid not in seen:
                seen.add(iid)
                note = val.check_text(
                    link.note, v, f"product.ingredients[{i}].note", required=False, max_len=200
                )
                out.ingredients.append((iid, note))
    if "related_products" in fields:
        out.related = []
        for i, link in enumerate(p.related_products):
            rid = parse_name(link.product, "products")
            kind = RELATION_NAMES.get(link.kind)
            if rid is None:
                v.add(f"product.related_products[{i}].product", "must look like products/{id}")
            if kind is None:
                v.add(f"product.related_products[{i}].kind", "is required")
            if rid and kind and (rid, kind) not in out.related:
                out.related.append((rid, kind))
    return out


def variant_input(
    var: res.Variant, fields: set[str], v: Violations, prefix: str, current: Variant | None = None
) -> dict[str, object]:
    c: dict[str, object] = {}
    if "sku" in fields:
        c["sku"] = val.check_sku(var.sku, v, f"{prefix}sku")
    if "title" in fields:
        c["title"] = val.check_text(var.title, v, f"{prefix}title", required=False, max_len=120)
    if "option_values" in fields:
        opts = {k.strip().lower(): x.strip() for k, x in var.option_values.items()}
        for k, x in opts.items():
            if not val.TAG_RE.match(k) or not x or len(x) > 60:
                v.add(
                    f"{prefix}option_values[{k}]",
                    "needs a lower-case key and a value of 1-60 characters",
                )
        c["option_values"] = opts
    for money_field in ("mrp", "price", "cost_price"):
        if money_field in fields:
            m = getattr(var, money_field)
            val.check_currency(m.currency_code, v, f"{prefix}{money_field}.currency_code")
            has = var.HasField(money_field)
            c[money_field] = m.amount_minor if has else None
    if "mrp" in fields or "price" in fields or "cost_price" in fields:
        mrp = c.get("mrp", current.mrp if current else None)
        price = c.get("price", current.price if current else None)
        cost = c.get("cost_price", current.cost_price if current else None)
        if "mrp" in fields and mrp is None:
            v.add(f"{prefix}mrp", "is required")
        elif "price" in fields and price is None:
            v.add(f"{prefix}price", "is required")
        else:
            val.check_prices(int(mrp or 0), int(price or 0), cost, v, prefix)  # type: ignore[arg-type]
    if "weight_grams" in fields:
        val.check_non_negative(var.weight_grams, v, f"{prefix}weight_grams", 100_000)
        c["weight_grams"] = var.weight_grams
    if "dimensions" in fields:
        d = var.dimensions
        for dim in ("length_mm", "width_mm", "height_mm"):
            val.check_non_negative(getattr(d, dim), v, f"{prefix}dimensions.{dim}", 5_000)
            c[dim] = getattr(d, dim)
    if "barcode" in fields:
        c["barcode"] = val.check_barcode(var.barcode, v, f"{prefix}barcode") or None
    if "status" in fields:
        status = VARIANT_STATUS_NAMES.get(var.status, "active" if var.status == 0 else "")
        if not status:
            v.add(f"{prefix}status", "is not a known status")
        c["status"] = status
    if "position" in fields:
        val.check_non_negative(var.position, v, f"{prefix}position", 1000)
        c["position"] = var.position
    if "pieces_per_unit" in fields:
        c["pieces_per_unit"] = val.check_pieces_per_unit(
            var.pieces_per_unit, v, f"{prefix}pieces_per_unit"
        )
    return c


async def check_references(r: Repo, inp: ProductInput, product_id: str) -> None:
    """Every referenced brand, category, ingredient and product exists (else nothing changes)."""
    v = Violations()
    if inp.brand_id and not await r.existing_ids(Brand, [inp.brand_id]):
        v.add("product.brand", f"brands/{inp.brand_id} does not exist")
    if inp.category_ids:
        found = await r.existing_ids(Category, inp.category_ids)
        for cid in inp.category_ids:
            if cid not in found:
                v.add("product.categories", f"categories/{cid} does not exist")
    if inp.ingredients:
        found = await r.existing_ids(Ingredient, [i for i, _ in inp.ingredients])
        for iid, _ in inp.ingredients:
            if iid not in found:
                v.add("product.ingredients", f"ingredients/{iid} does not exist")
    if inp.related:
        found = await r.existing_ids(Product, [p for p, _ in inp.related])
        for pid, _ in inp.related:
            if pid == product_id:
                v.add("product.related_products", "a product cannot be related to itself")
            elif pid not in found:
                v.add("product.related_products", f"products/{pid} does not exist")
    if v:
        raise InvalidArgument(v.items)


async def apply_product(r: Repo, product: Product, inp: ProductInput) -> None:
    """Write the validated input onto a loaded product (collections replaced whole)."""
    for k, value in inp.columns.items():
        setattr(product, k, value)
    if inp.attributes is not None:
        product.attributes = [
            ProductAttribute(name=k, value=x) for k, xs in inp.attributes.items() for x in xs
        ]
    if inp.tags is not None:
        product.tags = [ProductTag(tag=t) for t in inp.tags]
    if inp.category_ids is not None:
        product.category_links = [ProductCategory(category_id=c) for c in inp.category_ids]
    if inp.media is not None:
        product.media = [
            Media(id=new_id(), kind=k, url=u, alt_text=a, position=i)
            for i, (k, u, a) in enumerate(inp.media)
        ]
    if inp.ingredients is not None:
        product.ingredient_links = [
            ProductIngredient(ingredient_id=i, note=n, position=pos)
            for pos, (i, n) in enumerate(inp.ingredients)
        ]
    await r.flush()
    if inp.related is not None:
        await r.replace_related(product.id, inp.related)


def check_publishable(product: Product, v: Violations) -> None:
    if product.status == "active" and (not product.hsn_code or not product.tax_class):
        v.add("product.status", "an active product needs hsn_code and tax_class (GST)")


class ProductHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def list_products(
        self,
        after: str | None,
        limit: int,
        *,
        status: int,
        brand: str,
        category: str,
        collection: str,
        query: str,
    ) -> list[Product]:
        v = Violations()
        status_name = STATUS_NAMES.get(status, "") if status else ""
        if status and not status_name:
            v.add("status", "is not a known status")
        brand_id = parse_name(brand, "brands") if brand else ""
        category_id = parse_name(category, "categories") if category else ""
        collection_id = parse_name(collection, "collections") if collection else ""
        for f, raw, parsed, coll in (
            ("brand", brand, brand_id, "brands"),
            ("category", category, category_id, "categories"),
            ("collection", collection, collection_id, "collections"),
        ):
            if raw and parsed is None:
                v.add(f, f"must look like {coll}/{{id}}")
        v.raise_if_any()
        async with unit_of_work(self.deps.db, write=False) as r:
            path = ""
            if category_id:
                cat = await r.get(Category, category_id)
                if cat is None:
                    return []
                path = cat.path
            return await r.products_page(
                after,
                limit,
                status=status_name,
                brand_id=brand_id or "",
                category_path=path,
                collection_id=collection_id or "",
                query=query.strip(),
            )

    async def get_product(self, name: str) -> tuple[Product, list[RelatedProduct]]:
        pid = require_name(name, "products")
        async with unit_of_work(self.deps.db, write=False) as r:
            product = await r.product(pid)
            if product is None:
                raise not_found(name)
            return product, await r.related(pid)

    async def create_product(self, p: res.Product) -> tuple[Product, list[RelatedProduct]]:
        v = Violations()
        inp = product_input(p, set(PRODUCT_FIELDS), v)
        if len(p.variants) > MAX_VARIANTS:
            v.add("product.variants", f"at most {MAX_VARIANTS} variants")
        variants = [
            variant_input(var, set(VARIANT_FIELDS), v, f"product.variants[{i}].")
            for i, var in enumerate(p.variants)
        ]
        skus = [str(x["sku"]) for x in variants]
        if len(set(skus)) != len(skus):
            v.add("product.variants", "SKUs must be unique")
        await self._check_tax_class(inp, v)
        v.raise_if_any()
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        pid = new_id()
        async with unique_write(self.deps, "product.slug or variant sku/barcode") as r:
            if await r.slug_taken(Product, str(inp.columns["slug"])):
                raise AlreadyExists(f"a product with slug {inp.columns['slug']!r} exists")
            await check_references(r, inp, pid)
            await self._check_variant_uniques(r, variants, "product.variants")
            product = Product(
                id=pid,
                created_by=actor,
                updated_by=actor,
                create_time=now,
                update_time=now,
                variants=[],
                media=[],
                attributes=[],
                tags=[],
                ingredient_links=[],
                category_links=[],
            )
            r.add(product)
            await apply_product(r, product, inp)
            for i, values in enumerate(variants):
                values.setdefault("position", i)
                if not values.get("title"):
                    values["title"] = val.option_title(values.get("option_values") or {})  # type: ignore[arg-type]
                r.add(
                    Variant(
                        id=new_id(),
                        product_id=pid,
                        **values,
                        updated_by=actor,
                        create_time=now,
                        update_time=now,
                    )
                )
            self._publish_checks(product, now)
            await products_changed(self.deps, r, [pid])
        return await self.get_product(product.name)

    async def update_product(
        self, p: res.Product, paths: Sequence[str]
    ) -> tuple[Product, list[RelatedProduct]]:
        v = Violations()
        pid = parse_name(p.name, "products")
        if pid is None:
            v.add("product.name", "must look like products/{id}")
        fields = mask_or_set(p, paths, PRODUCT_FIELDS, v)
        inp = product_input(p, fields, v)
        await self._check_tax_class(inp, v)
        v.raise_if_any()
        assert pid is not None
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        async with unique_write(self.deps, "product.slug") as r:
            product = await r.product(pid)
            if product is None:
                raise not_found(p.name)
            if "slug" in inp.columns and await r.slug_taken(Product, str(inp.columns["slug"]), pid):
                raise AlreadyExists(f"a product with slug {inp.columns['slug']!r} exists")
            await check_references(r, inp, pid)
            await apply_product(r, product, inp)
            product.updated_by, product.update_time = actor, now
            self._publish_checks(product, now)
            await products_changed(self.deps, r, [pid])
        return await self.get_product(p.name)

    async def _check_tax_class(self, inp: ProductInput, v: Violations) -> None:
        """A tax class settings has no GST rule for is a field violation, reported
        with the others (tax_classes.py). Settings down: UNAVAILABLE, unless the
        write is refused for other violations anyway."""
        cls = str(inp.columns.get("tax_class") or "")
        if not cls or any(f == "product.tax_class" for f, _ in v.items):
            return
        try:
            problems = await self.deps.tax_classes.problems([("product.tax_class", cls)])
        except Unavailable:
            if v:
                return
            raise
        for f, message in problems:
            v.add(f, message)

    def _publish_checks(self, product: Product, now: object) -> None:
        v = Violations()
        check_publishable(product, v)
        v.raise_if_any()
        if product.status == "active" and product.publish_time is None:
            product.publish_time = now  # type: ignore[assignment]

    async def delete_product(self, name: str) -> None:
        pid = require_name(name, "products")
        await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            product = await r.product(pid, full=False)
            if product is None:
                raise not_found(name)
            if product.status != "draft":
                raise FailedPrecondition(
                    "only draft products can be deleted; archive it instead",
                    reason="PRODUCT_PUBLISHED",
                )
            await self.deps.indexer.product_removed(r.s, pid)
            await r.delete(product)

    # --- variants ------------------------------------------------------------------

    async def _check_variant_uniques(
        self, r: Repo, variants: list[dict[str, object]], field: str, own_id: str = ""
    ) -> None:
        v = Violations()
        for i, values in enumerate(variants):
            sku = values.get("sku")
            if sku:
                owner = await r.sku_owner(str(sku))
                if owner is not None and owner != own_id:
                    v.add(
                        f"{field}[{i}].sku" if not own_id else f"{field}.sku",
                        f"SKU {sku} is already used",
                    )
            barcode = values.get("barcode")
            if barcode:
                owner = await r.barcode_owner(str(barcode))
                if owner is not None and owner != own_id:
                    v.add(
                        f"{field}[{i}].barcode" if not own_id else f"{field}.barcode",
                        "barcode is already used",
                    )
        if v:
            raise AlreadyExists(
                "; ".join(f"{f}: {d}" for f, d in v.items), reason="DUPLICATE_VARIANT"
            )

    async def create_variant(self, parent: str, var: res.Variant) -> Variant:
        pid = require_name(parent, "products", "parent")
        v = Violations()
        values = variant_input(var, set(VARIANT_FIELDS), v, "variant.")
        v.raise_if_any()
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        async with unique_write(self.deps, "variant.sku") as r:
            product = await r.product(pid, full=True)
            if product is None:
                raise not_found(parent)
            if len(product.variants) >= MAX_VARIANTS:
                raise FailedPrecondition(f"a product has at most {MAX_VARIANTS} variants")
            await self._check_variant_uniques(r, [values], "variant")
            if not values.get("title"):
                values["title"] = val.option_title(values.get("option_values") or {})  # type: ignore[arg-type]
            if not var.position:
                values["position"] = len(product.variants)
            variant = Variant(
                id=new_id(),
                product_id=pid,
                **values,
                updated_by=actor,
                create_time=now,
                update_time=now,
            )
            r.add(variant)
            product.updated_by, product.update_time = actor, now
            await products_changed(self.deps, r, [pid])
        return variant

    async def update_variant(self, var: res.Variant, paths: Sequence[str]) -> Variant:
        v = Violations()
        ids = val.parse_variant_name(var.name)
        if ids is None:
            v.add("variant.name", "must look like products/{product_id}/variants/{variant_id}")
        fields = mask_or_set(var, paths, VARIANT_FIELDS, v)
        v.raise_if_any()
        assert ids is not None
        pid, vid = ids
        actor = await self.deps.admins.acting_admin()
        async with unique_write(self.deps, "variant.sku") as r:
            variant = await r.variant(vid)
            if variant is None or variant.product_id != pid:
                raise not_found(var.name)
            v = Violations()
            values = variant_input(var, fields, v, "variant.", current=variant)
            v.raise_if_any()
            await self._check_variant_uniques(r, [values], "variant", own_id=vid)
            for k, value in values.items():
                setattr(variant, k, value)
            variant.updated_by, variant.update_time = actor, self.deps.clock()
            await products_changed(self.deps, r, [pid])
        return variant

    async def delete_variant(self, name: str) -> None:
        ids = val.parse_variant_name(name)
        if ids is None:
            raise InvalidArgument(
                {"name": "must look like products/{product_id}/variants/{variant_id}"}
            )
        pid, vid = ids
        await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            variant = await r.variant(vid)
            if variant is None or variant.product_id != pid:
                raise not_found(name)
            if await r.bundles_with_variant(vid):
                raise FailedPrecondition(
                    "a bundle contains this variant; archive the variant instead",
                    reason="VARIANT_IN_BUNDLE",
                )
            await r.delete(variant)
            await products_changed(self.deps, r, [pid])
