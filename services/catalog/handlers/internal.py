"""What other services read: variant snapshots, product summaries (order lines), and
whether ids other services store (pricing's promotion rules) name anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mesh.errors import InvalidArgument
from services.catalog.domain import rules as rule_logic
from services.catalog.handlers.common import Deps
from services.catalog.models import Brand, Category, Collection, Product, Variant
from services.catalog.repository import unit_of_work

MAX_IDS = 500


@dataclass(frozen=True)
class VariantFacts:
    variant: Variant
    product: Product
    image_url: str
    category_ids: list[str]
    collection_ids: list[str]


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
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def variants(self, ids: Sequence[str]) -> tuple[list[VariantFacts], list[str]]:
        wanted = check_ids(ids, "variant_ids")
        now = self.deps.clock()
        async with unit_of_work(self.deps.db, write=False) as r:
            variants = await r.variants_with_products(wanted)
            pids = {v.product_id for v in variants.values()}
            products = {
                p.id: p
                for p in await r.s.scalars(
                    select(Product)
                    .where(Product.id.in_(pids))
                    .options(
                        selectinload(Product.tags),
                        selectinload(Product.category_links),
                        selectinload(Product.media),
                    )
                )
            }
            cats = await r.categories_by_ids(
                {c.category_id for p in products.values() for c in p.category_links}
            )
            memberships = await r.collections_of(pids)
            colls = await r.get_many(Collection, {c for cs in memberships.values() for c in cs})
        out: list[VariantFacts] = []
        for vid in wanted:
            var = variants.get(vid)
            if var is None:
                continue
            p = products[var.product_id]
            ancestors: list[str] = []
            for link in p.category_links:
                cat = cats.get(link.category_id)
                for a in cat.ancestor_ids if cat else [link.category_id]:
                    if a not in ancestors:
                        ancestors.append(a)
            members = []
            for cid in memberships.get(p.id, []):
                since = rule_logic.new_since(colls[cid].rules or [], now)
                if since is None or (p.publish_time is not None and p.publish_time >= since):
                    members.append(cid)
            image = next((m.url for m in p.media if m.kind == "image"), "")
            out.append(VariantFacts(var, p, image, ancestors, members))
        missing = [i for i in wanted if i not in variants]
        return out, missing

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
