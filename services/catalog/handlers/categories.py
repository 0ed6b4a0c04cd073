"""The category tree: create, update, move a subtree (no cycles), delete a leaf."""

from __future__ import annotations

from collections.abc import Sequence

from cleanse.catalog.v1 import resources_pb2 as res
from mesh.db import new_id
from mesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument, Violations
from mesh.resources import parse_name, require_name
from services.catalog.domain import categories as tree
from services.catalog.domain import validation as val
from services.catalog.handlers.common import (
    Deps,
    not_found,
    products_changed,
    unique_write,
)
from services.catalog.handlers.taxonomy import mask_or_set
from services.catalog.models import Category
from services.catalog.repository import unit_of_work

CATEGORY_FIELDS = ("slug", "display_name", "description", "position", "active")


def category_values(c: res.Category, fields: set[str], v: Violations) -> dict[str, object]:
    out: dict[str, object] = {}
    if "slug" in fields:
        out["slug"] = val.check_slug(c.slug, v, "category.slug")
    if "display_name" in fields:
        out["name"] = val.check_text(
            c.display_name, v, "category.display_name", required=True, max_len=120
        )
    if "description" in fields:
        out["description"] = val.check_text(
            c.description, v, "category.description", required=False, max_len=5000
        )
    if "position" in fields:
        val.check_non_negative(c.position, v, "category.position", 10_000)
        out["position"] = c.position
    if "active" in fields:
        out["active"] = c.active
    return out


class CategoryHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def all(self) -> list[Category]:
        async with unit_of_work(self.deps.db, write=False) as r:
            return await r.categories()

    async def get(self, name: str) -> tuple[Category, dict[str, Category]]:
        cid = require_name(name, "categories")
        async with unit_of_work(self.deps.db, write=False) as r:
            cat = await r.get(Category, cid)
            if cat is None:
                raise not_found(name)
            return cat, await r.categories_by_ids(cat.ancestor_ids)

    async def create(self, c: res.Category) -> tuple[Category, dict[str, Category]]:
        v = Violations()
        values = category_values(c, set(CATEGORY_FIELDS), v)
        parent_id = parse_name(c.parent, "categories") if c.parent else None
        if c.parent and parent_id is None:
            v.add("category.parent", "must look like categories/{id}")
        v.raise_if_any()
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        cid = new_id()
        async with unique_write(self.deps, "category.slug") as r:
            if await r.slug_taken(Category, str(values["slug"])):
                raise AlreadyExists(f"a category with slug {values['slug']!r} exists")
            parent = None
            if parent_id:
                parent = await r.get(Category, parent_id)
                if parent is None:
                    raise InvalidArgument({"category.parent": f"{c.parent} does not exist"})
                if parent.depth + 1 >= tree.MAX_DEPTH:
                    raise InvalidArgument({"category.parent": "the tree would be too deep"})
            cat = Category(
                id=cid,
                parent_id=parent_id,
                path=tree.child_path(parent.path if parent else None, cid),
                depth=parent.depth + 1 if parent else 0,
                updated_by=actor,
                create_time=now,
                update_time=now,
                **values,
            )
            r.add(cat)
            await r.flush()
        return await self.get(f"categories/{cid}")

    async def update(
        self, c: res.Category, paths: Sequence[str]
    ) -> tuple[Category, dict[str, Category]]:
        v = Violations()
        cid = parse_name(c.name, "categories")
        if cid is None:
            v.add("category.name", "must look like categories/{id}")
        if "parent" in paths:
            v.add("update_mask", "use MoveCategory to change the parent")
        fields = mask_or_set(c, [p for p in paths if p != "parent"], CATEGORY_FIELDS, v)
        values = category_values(c, fields, v)
        v.raise_if_any()
        assert cid is not None
        actor = await self.deps.admins.acting_admin()
        async with unique_write(self.deps, "category.slug") as r:
            cat = await r.get(Category, cid)
            if cat is None:
                raise not_found(c.name)
            if "slug" in values and await r.slug_taken(Category, str(values["slug"]), cid):
                raise AlreadyExists(f"a category with slug {values['slug']!r} exists")
            for k, value in values.items():
                setattr(cat, k, value)
            cat.updated_by, cat.update_time = actor, self.deps.clock()
            await products_changed(self.deps, r, await r.product_ids_in_subtree(cat.path))
        return await self.get(c.name)

    async def move(
        self, name: str, new_parent: str, position: int
    ) -> tuple[Category, dict[str, Category]]:
        v = Violations()
        cid = parse_name(name, "categories")
        if cid is None:
            v.add("name", "must look like categories/{id}")
        parent_id = parse_name(new_parent, "categories") if new_parent else None
        if new_parent and parent_id is None:
            v.add("new_parent", "must look like categories/{id}")
        val.check_non_negative(position, v, "position", 10_000)
        v.raise_if_any()
        assert cid is not None
        actor = await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            cat = await r.get(Category, cid)
            if cat is None:
                raise not_found(name)
            parent = None
            if parent_id:
                parent = await r.get(Category, parent_id)
                if parent is None:
                    raise InvalidArgument({"new_parent": f"{new_parent} does not exist"})
                if tree.is_within(parent.path, cat.path):
                    raise InvalidArgument(
                        {"new_parent": "cannot move a category under itself or its descendant"}
                    )
            old_prefix = cat.path
            new_prefix = tree.child_path(parent.path if parent else None, cid)
            depth_shift = (parent.depth + 1 if parent else 0) - cat.depth
            subtree = await r.subtree(old_prefix)
            if max(n.depth for n in subtree) + depth_shift >= tree.MAX_DEPTH:
                raise InvalidArgument({"new_parent": "the tree would be too deep"})
            now = self.deps.clock()
            for node in subtree:
                node.path = tree.moved_path(node.path, old_prefix, new_prefix)
                node.depth += depth_shift
            cat.parent_id, cat.position = parent_id, position
            cat.updated_by, cat.update_time = actor, now
            await r.flush()
            await products_changed(self.deps, r, await r.product_ids_in_subtree(new_prefix))
        return await self.get(name)

    async def delete(self, name: str) -> None:
        cid = require_name(name, "categories")
        await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            cat = await r.get(Category, cid)
            if cat is None:
                raise not_found(name)
            if await r.has_children(cid):
                raise FailedPrecondition(
                    "the category has subcategories; move or delete them first",
                    reason="CATEGORY_NOT_EMPTY",
                )
            affected = await r.product_ids_in_subtree(cat.path)
            await r.delete(cat)
            await products_changed(self.deps, r, affected)
