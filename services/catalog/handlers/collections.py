"""Collections: manual ones (admins pick products) and smart ones (rules)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cleanse.catalog.v1 import resources_pb2 as res
from mesh.db import new_id
from mesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument, Violations
from mesh.resources import parse_name, require_name
from services.catalog.convert import COLLECTION_KIND, reverse
from services.catalog.domain import validation as val
from services.catalog.handlers.common import (
    Deps,
    not_found,
    sync_smart_memberships,
    unique_write,
)
from services.catalog.handlers.taxonomy import mask_or_set
from services.catalog.models import Brand, Category, Collection, CollectionProduct, Product
from services.catalog.repository import Repo, unit_of_work
from services.catalog.versions import catalogue_changed

COLLECTION_FIELDS = ("slug", "title", "description", "image_url", "rules", "active", "position")
KIND_NAMES = reverse(COLLECTION_KIND)
MAX_RULES = 10
MAX_MEMBERS_PER_CALL = 500


def rules_from_pb(rules: Sequence[res.CollectionRule], v: Violations) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if len(rules) > MAX_RULES:
        v.add("collection.rules", f"at most {MAX_RULES} rules")
    for i, rule in enumerate(rules):
        f = f"collection.rules[{i}]"
        which = rule.WhichOneof("rule")
        if which == "category":
            cid = parse_name(rule.category, "categories")
            if cid is None:
                v.add(f"{f}.category", "must look like categories/{id}")
            out.append({"category": cid})
        elif which == "brand":
            bid = parse_name(rule.brand, "brands")
            if bid is None:
                v.add(f"{f}.brand", "must look like brands/{id}")
            out.append({"brand": bid})
        elif which == "tag":
            tags = val.check_tags([rule.tag], v, f"{f}.tag")
            out.append({"tag": tags[0] if tags else ""})
        elif which == "attribute":
            attrs = val.check_attributes(
                [(rule.attribute.key, [rule.attribute.value])], v, f"{f}.attribute"
            )
            for k, values in attrs.items():
                out.extend({"attribute": {"key": k, "value": x}} for x in values)
        elif which == "price_range":
            lo, hi = rule.price_range.min_minor, rule.price_range.max_minor
            if lo < 0 or hi < 0 or (hi and lo > hi) or (lo == 0 and hi == 0):
                v.add(f"{f}.price_range", "needs 0 <= min <= max and at least one bound")
            out.append({"price_range": {"min": lo, "max": hi}})
        elif which == "new_within_days":
            if not 1 <= rule.new_within_days <= 3650:
                v.add(f"{f}.new_within_days", "must be between 1 and 3650")
            out.append({"new_within_days": rule.new_within_days})
        elif which == "in_stock":
            if rule.in_stock:
                out.append({"in_stock": True})
        else:
            v.add(f, "must set one condition")
    return out


async def check_rule_refs(r: Repo, rules: list[dict[str, Any]]) -> None:
    v = Violations()
    for i, rule in enumerate(rules):
        if "category" in rule and not await r.existing_ids(Category, [rule["category"]]):
            v.add(f"collection.rules[{i}].category", "does not exist")
        if "brand" in rule and not await r.existing_ids(Brand, [rule["brand"]]):
            v.add(f"collection.rules[{i}].brand", "does not exist")
    if v:
        raise InvalidArgument(v.items)


def collection_values(
    c: res.Collection, fields: set[str], kind: str, v: Violations
) -> dict[str, object]:
    out: dict[str, object] = {}
    if "slug" in fields:
        out["slug"] = val.check_slug(c.slug, v, "collection.slug")
    if "title" in fields:
        out["title"] = val.check_text(c.title, v, "collection.title", required=True, max_len=200)
    if "description" in fields:
        out["description"] = val.check_text(
            c.description, v, "collection.description", required=False, max_len=5000
        )
    if "image_url" in fields:
        out["image_url"] = val.check_optional_image_url(c.image_url, v, "collection.image_url")
    if "rules" in fields:
        if kind == "manual" and len(c.rules):
            v.add("collection.rules", "only smart collections have rules")
        out["rules"] = rules_from_pb(c.rules, v) if kind == "smart" else []
        if kind == "smart" and not out["rules"]:
            v.add("collection.rules", "a smart collection needs at least one rule")
    if "active" in fields:
        out["active"] = c.active
    if "position" in fields:
        val.check_non_negative(c.position, v, "collection.position", 10_000)
        out["position"] = c.position
    return out


class CollectionHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def list(self, after: str | None, limit: int) -> list[tuple[Collection, int]]:
        async with unit_of_work(self.deps.db, write=False) as r:
            rows = await r.page(Collection, after, limit)
            return [(c, await r.collection_size(c.id)) for c in rows]

    async def get(self, name: str) -> tuple[Collection, int]:
        cid = require_name(name, "collections")
        async with unit_of_work(self.deps.db, write=False) as r:
            c = await r.get(Collection, cid)
            if c is None:
                raise not_found(name)
            return c, await r.collection_size(cid)

    async def create(self, c: res.Collection) -> tuple[Collection, int]:
        v = Violations()
        kind = KIND_NAMES.get(c.kind, "")
        if not kind:
            v.add("collection.kind", "must be MANUAL or SMART")
        values = collection_values(c, set(COLLECTION_FIELDS), kind, v)
        v.raise_if_any()
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        cid = new_id()
        async with unique_write(self.deps, "collection.slug") as r:
            if await r.slug_taken(Collection, str(values["slug"])):
                raise AlreadyExists(f"a collection with slug {values['slug']!r} exists")
            await check_rule_refs(r, values["rules"])  # type: ignore[arg-type]
            r.add(
                Collection(
                    id=cid, kind=kind, updated_by=actor, create_time=now, update_time=now, **values
                )
            )
            await r.flush()
            if kind == "smart":
                await sync_smart_memberships(r, None, now)
            await catalogue_changed(r.s)
        return await self.get(f"collections/{cid}")

    async def update(self, c: res.Collection, paths: Sequence[str]) -> tuple[Collection, int]:
        v = Violations()
        cid = parse_name(c.name, "collections")
        if cid is None:
            v.add("collection.name", "must look like collections/{id}")
        fields = mask_or_set(c, paths, COLLECTION_FIELDS, v)
        v.raise_if_any()
        assert cid is not None
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        async with unique_write(self.deps, "collection.slug") as r:
            coll = await r.get(Collection, cid)
            if coll is None:
                raise not_found(c.name)
            v = Violations()
            values = collection_values(c, fields, coll.kind, v)
            v.raise_if_any()
            if "slug" in values and await r.slug_taken(Collection, str(values["slug"]), cid):
                raise AlreadyExists(f"a collection with slug {values['slug']!r} exists")
            if "rules" in values:
                await check_rule_refs(r, values["rules"])  # type: ignore[arg-type]
            for k, value in values.items():
                setattr(coll, k, value)
            coll.updated_by, coll.update_time = actor, now
            await r.flush()
            if coll.kind == "smart":
                await sync_smart_memberships(r, None, now)
            await catalogue_changed(r.s)  # active, rules: what variants say they are in
        return await self.get(c.name)

    async def delete(self, name: str) -> None:
        cid = require_name(name, "collections")
        await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            c = await r.get(Collection, cid)
            if c is None:
                raise not_found(name)
            await r.delete(c)
            await catalogue_changed(r.s)

    async def change_members(
        self, name: str, products: Sequence[str], *, add: bool
    ) -> tuple[Collection, int]:
        cid = require_name(name, "collections", "collection")
        v = Violations()
        if len(products) > MAX_MEMBERS_PER_CALL:
            v.add("products", f"at most {MAX_MEMBERS_PER_CALL} per call")
        pids: list[str] = []
        for i, p in enumerate(products):
            pid = parse_name(p, "products")
            if pid is None:
                v.add(f"products[{i}]", "must look like products/{id}")
            elif pid not in pids:
                pids.append(pid)
        v.raise_if_any()
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        async with unit_of_work(self.deps.db) as r:
            coll = await r.get(Collection, cid)
            if coll is None:
                raise not_found(name)
            if coll.kind != "manual":
                raise FailedPrecondition(
                    "a smart collection's products follow its rules", reason="SMART_COLLECTION"
                )
            existing = await r.existing_ids(Product, pids)
            unknown = [p for p in pids if p not in existing]
            if add and unknown:
                raise InvalidArgument(
                    {"products": f"unknown: {', '.join('products/' + p for p in unknown)}"}
                )
            have = {p for _, p in await r.memberships(pids, [cid])}
            if add:
                size = await r.collection_size(cid)
                for i, pid in enumerate(p for p in pids if p not in have):
                    r.add(
                        CollectionProduct(
                            collection_id=cid, product_id=pid, position=size + i, add_time=now
                        )
                    )
            else:
                await r.remove_members((cid, p) for p in pids if p in have)
            coll.updated_by, coll.update_time = actor, now
            await r.flush()
            await catalogue_changed(r.s)
        return await self.get(name)
