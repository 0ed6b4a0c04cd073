"""What other services read: variant snapshots, product summaries (order lines), and
whether ids other services store (pricing's promotion rules) name anything."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mesh.errors import InvalidArgument
from services.catalog.domain import rules as rule_logic
from services.catalog.handlers.common import Deps
from services.catalog.models import Brand, Category, Collection, Product
from services.catalog.repository import unit_of_work
from services.catalog.versions import VersionedCache

MAX_IDS = 500


@dataclass(frozen=True)
class Membership:
    collection_id: str
    rules: tuple[dict[str, Any], ...]  # the collection's rules (new_within_days applies on read)


@dataclass(frozen=True)
class VariantFacts:
    """What BatchGetVariants says about one variant, as plain values: cached per
    catalogue version, so nothing here may depend on the clock (see `collections_at`)."""

    variant_id: str
    product_id: str
    sku: str
    product_title: str
    variant_title: str
    product_slug: str
    image_url: str
    mrp: int
    price: int
    currency_code: str
    hsn_code: str
    tax_class: str
    weight_grams: int
    pieces_per_unit: int
    sellable: bool
    category_ids: tuple[str, ...]  # own categories and their ancestors, root first
    brand_id: str
    tags: tuple[str, ...]  # sorted
    publish_time: datetime | None
    memberships: tuple[Membership, ...]  # active collections, by id

    def collections_at(self, now: datetime) -> list[str]:
        """Member collections as of `now`: a new_within_days rule is evaluated here,
        at read time, against the product's publish time."""
        out = []
        for m in self.memberships:
            since = rule_logic.new_since(m.rules, now) if m.rules else None
            if since is None or (self.publish_time is not None and self.publish_time >= since):
                out.append(m.collection_id)
        return out


def check_ids(ids: Sequence[str], field: str) -> list[str]:
    if len(ids) > MAX_IDS:
        raise InvalidArgument({field: f"at most {MAX_IDS} ids"})
    return list(dict.fromkeys(i for i in ids if i))


# CheckReferences: request field -> the table its ids name.
REFERENCE_KINDS = (
    ("product_ids", Product),
    ("category_ids", Category),
    ("collection_ids", Collection),
    ("brand_ids", Brand),
)


class InternalHandlers:
    def __init__(self, deps: Deps, cache: VersionedCache[VariantFacts]) -> None:
        self.deps = deps
        self.cache = cache

    async def variants(
        self, ids: Sequence[str]
    ) -> tuple[list[tuple[VariantFacts, list[str]]], list[str]]:
        """The variants that exist (request order), each with its collections as of now,
        and the ids that name no variant.

        Served from the per-process cache while the catalogue version is unchanged
        (versions.py: every write that changes a fact bumps it, and the version is read
        after the request arrived, so no fact older than the last commit is served, in
        this process or another one). Clock-dependent parts are applied per call.
        """
        wanted = check_ids(ids, "variant_ids")
        found = await self.cache.get_many(wanted, self._load)
        now = self.deps.clock()
        return (
            [(found[i], found[i].collections_at(now)) for i in wanted if i in found],
            [i for i in wanted if i not in found],
        )

    async def _load(self, ids: list[str]) -> dict[str, VariantFacts]:
        """Two queries: the variants with their products, then what hangs off them."""
        async with unit_of_work(self.deps.db, write=False) as r:
            rows = await r.variant_snapshot_rows(ids)
            links = await r.product_links({row.product_id for row in rows})
        categories: dict[str, list[str]] = {}
        collections: dict[str, list[Membership]] = {}
        images: dict[str, str] = {}
        tags: dict[str, list[str]] = {}
        for kind, pid, value, extra in links:
            if kind == "category":
                own = categories.setdefault(pid, [])
                own.extend(a for a in value.split("/") if a and a not in own)
            elif kind == "collection":
                rules = json.loads(extra) if extra else []
                timed = tuple(x for x in rules or [] if "new_within_days" in x)
                collections.setdefault(pid, []).append(Membership(value, timed))
            elif kind == "image":
                images.setdefault(pid, value)  # lowest position first
            else:
                tags.setdefault(pid, []).append(value)
        return {
            row.id: VariantFacts(
                variant_id=row.id,
                product_id=row.product_id,
                sku=row.sku,
                product_title=row.product_title,
                variant_title=row.title,
                product_slug=row.product_slug,
                image_url=images.get(row.product_id, ""),
                mrp=row.mrp,
                price=row.price,
                currency_code=row.currency_code,
                hsn_code=row.hsn_code,
                tax_class=row.tax_class,
                weight_grams=row.weight_grams,
                pieces_per_unit=row.pieces_per_unit,
                sellable=row.product_status == "active" and row.status == "active",
                category_ids=tuple(categories.get(row.product_id, ())),
                brand_id=row.brand_id or "",
                tags=tuple(sorted(tags.get(row.product_id, ()))),
                publish_time=row.publish_time,
                memberships=tuple(collections.get(row.product_id, ())),
            )
            for row in rows
        }

    async def products(self, ids: Sequence[str]) -> tuple[list[tuple[Product, str]], list[str]]:
        wanted = check_ids(ids, "product_ids")
        async with unit_of_work(self.deps.db, write=False) as r:
            products = {
                p.id: p
                for p in await r.s.scalars(
                    select(Product)
                    .where(Product.id.in_(wanted))
                    .options(selectinload(Product.media))
                )
            }
            brands = await r.get_many(Brand, {p.brand_id for p in products.values() if p.brand_id})
        out = []
        for pid in wanted:
            p = products.get(pid)
            if p is not None:
                out.append((p, brands[p.brand_id].name if p.brand_id in brands else ""))
        return out, [i for i in wanted if i not in products]

    async def missing_references(self, lists: dict[str, Sequence[str]]) -> dict[str, list[str]]:
        """Per list ("product_ids", ...), the ids that name no row (whatever its status),
        in request order. Every list is checked for size before anything is read."""
        wanted = {name: check_ids(lists.get(name, ()), name) for name, _ in REFERENCE_KINDS}
        out: dict[str, list[str]] = {}
        async with unit_of_work(self.deps.db, write=False) as r:
            for name, model in REFERENCE_KINDS:
                found = await r.existing_ids(model, wanted[name])
                out[name] = [i for i in wanted[name] if i not in found]
        return out
