"""Bundles: a fixed set of variants sold together at one price."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cleanse.catalog.v1 import resources_pb2 as res
from mesh.db import new_id
from mesh.errors import AlreadyExists, InvalidArgument, Violations
from mesh.resources import parse_name, require_name
from services.catalog.convert import BUNDLE_STATUS, reverse
from services.catalog.domain import validation as val
from services.catalog.handlers.common import Deps, not_found, unique_write
from services.catalog.handlers.taxonomy import mask_or_set
from services.catalog.models import Bundle, BundleItem, Product, Variant
from services.catalog.repository import Repo, unit_of_work

BUNDLE_FIELDS = ("slug", "title", "description", "image_url", "price", "status", "items")
STATUS_NAMES = reverse(BUNDLE_STATUS)
MAX_ITEMS = 20


@dataclass(frozen=True)
class BundleCheck:
    """ValidateBundle's answer."""

    bundle: Bundle
    problems: list[str]
    variants: dict[str, Variant]
    products: dict[str, Product]

    @property
    def valid(self) -> bool:
        return not self.problems


def bundle_values(b: res.Bundle, fields: set[str], v: Violations) -> dict[str, object]:
    out: dict[str, object] = {}
    if "slug" in fields:
        out["slug"] = val.check_slug(b.slug, v, "bundle.slug")
    if "title" in fields:
        out["title"] = val.check_text(b.title, v, "bundle.title", required=True, max_len=200)
    if "description" in fields:
        out["description"] = val.check_text(
            b.description, v, "bundle.description", required=False, max_len=5000
        )
    if "image_url" in fields:
        out["image_url"] = val.check_optional_image_url(b.image_url, v, "bundle.image_url")
    if "price" in fields:
        val.check_currency(b.price.currency_code, v, "bundle.price.currency_code")
        if b.price.amount_minor <= 0:
            v.add("bundle.price", "must be more than 0 paise")
        out["price"] = b.price.amount_minor
    if "status" in fields:
        status = STATUS_NAMES.get(b.status, "draft" if b.status == 0 else "")
        if not status:
            v.add("bundle.status", "is not a known status")
        out["status"] = status
    if "items" in fields:
        items: list[tuple[str, int]] = []
        for i, item in enumerate(b.items):
            if not item.variant_id:
                v.add(f"bundle.items[{i}].variant_id", "is required")
            if not 1 <= item.quantity <= 99:
                v.add(f"bundle.items[{i}].quantity", "must be between 1 and 99")
            if any(x == item.variant_id for x, _ in items):
                v.add(f"bundle.items[{i}].variant_id", "is listed twice")
            items.append((item.variant_id, item.quantity))
        if len(items) > MAX_ITEMS:
            v.add("bundle.items", f"at most {MAX_ITEMS} items")
        if sum(q for _, q in items) < 2:
            v.add("bundle.items", "a bundle needs at least two units")
        out["items"] = items
    return out


async def check_bundle_refs(r: Repo, values: dict[str, object], current: Bundle | None) -> None:
    items = values.get("items")
    if items is None:
        return
    found = await r.variants_with_products([vid for vid, _ in items])  # type: ignore[union-attr]
    v = Violations()
    for i, (vid, _) in enumerate(items):  # type: ignore[arg-type]
        if vid not in found:
            v.add(f"bundle.items[{i}].variant_id", f"variant {vid} does not exist")
    price = values.get("price", current.price if current else 0)
    total = sum(found[vid].mrp * q for vid, q in items if vid in found)  # type: ignore[union-attr]
    if not v and price and int(price) > total:  # type: ignore[call-overload]
        v.add("bundle.price", "must not exceed the items' total MRP")
    if v:
        raise InvalidArgument(v.items)


class BundleHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _mrp_total(self, r: Repo, b: Bundle) -> int:
        found = await r.variants_with_products([i.variant_id for i in b.items])
        return sum(found[i.variant_id].mrp * i.quantity for i in b.items if i.variant_id in found)

    async def list(self, after: str | None, limit: int) -> list[tuple[Bundle, int]]:
        from sqlalchemy.orm import selectinload

        async with unit_of_work(self.deps.db, write=False) as r:
            rows = await r.page(Bundle, after, limit, selectinload(Bundle.items))
            return [(b, await self._mrp_total(r, b)) for b in rows]

    async def get(self, name: str) -> tuple[Bundle, int]:
        bid = require_name(name, "bundles")
        async with unit_of_work(self.deps.db, write=False) as r:
            b = await r.bundle(bid)
            if b is None:
                raise not_found(name)
            return b, await self._mrp_total(r, b)

    async def create(self, b: res.Bundle) -> tuple[Bundle, int]:
        v = Violations()
        values = bundle_values(b, set(BUNDLE_FIELDS), v)
        v.raise_if_any()
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        bid = new_id()
        async with unique_write(self.deps, "bundle.slug") as r:
            if await r.slug_taken(Bundle, str(values["slug"])):
                raise AlreadyExists(f"a bundle with slug {values['slug']!r} exists")
            await check_bundle_refs(r, values, None)
            items = values.pop("items")
            bundle = Bundle(id=bid, updated_by=actor, create_time=now, update_time=now, **values)
            bundle.items = [
                BundleItem(variant_id=vid, quantity=q, position=i)
                for i, (vid, q) in enumerate(items)  # type: ignore[arg-type]
            ]
            r.add(bundle)
            await r.flush()
        return await self.get(f"bundles/{bid}")

    async def update(self, b: res.Bundle, paths: Sequence[str]) -> tuple[Bundle, int]:
        v = Violations()
        bid = parse_name(b.name, "bundles")
        if bid is None:
            v.add("bundle.name", "must look like bundles/{id}")
        fields = mask_or_set(b, paths, BUNDLE_FIELDS, v)
        values = bundle_values(b, fields, v)
        v.raise_if_any()
        assert bid is not None
        actor = await self.deps.admins.acting_admin()
        async with unique_write(self.deps, "bundle.slug") as r:
            bundle = await r.bundle(bid)
            if bundle is None:
                raise not_found(b.name)
            if "slug" in values and await r.slug_taken(Bundle, str(values["slug"]), bid):
                raise AlreadyExists(f"a bundle with slug {values['slug']!r} exists")
            if "price" in values and "items" not in values:
                values["items"] = [(i.variant_id, i.quantity) for i in bundle.items]
            await check_bundle_refs(r, values, bundle)
            items = values.pop("items", None)
            for k, value in values.items():
                setattr(bundle, k, value)
            if items is not None:
                bundle.items = [
                    BundleItem(variant_id=vid, quantity=q, position=i)
                    for i, (vid, q) in enumerate(items)  # type: ignore[arg-type]
                ]
            bundle.updated_by, bundle.update_time = actor, self.deps.clock()
            await r.flush()
        return await self.get(b.name)

    async def delete(self, name: str) -> None:
        bid = require_name(name, "bundles")
        await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            b = await r.bundle(bid)
            if b is None:
                raise not_found(name)
            await r.delete(b)

    async def validate(self, bundle_id: str) -> BundleCheck | None:
        """Every item active and sellable now (None: no such bundle)."""
        async with unit_of_work(self.deps.db, write=False) as r:
            b = await r.bundle(bundle_id)
            if b is None:
                return None
            variants = await r.variants_with_products([i.variant_id for i in b.items])
            products = await r.get_many(Product, {x.product_id for x in variants.values()})
        problems: list[str] = []
        if b.status != "active":
            problems.append(f"bundle {b.slug} is {b.status}")
        for item in b.items:
            var = variants.get(item.variant_id)
            if var is None:
                problems.append(f"variant {item.variant_id} no longer exists")
                continue
            if var.status != "active":
                problems.append(f"variant {var.sku} ({var.id}) is {var.status}")
            product = products.get(var.product_id)
            if product is None or product.status != "active":
                status = product.status if product else "missing"
                problems.append(f"product of variant {var.sku} ({var.id}) is {status}")
        return BundleCheck(b, problems, variants, products)
