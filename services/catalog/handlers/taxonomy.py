"""Brands and ingredients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from cleanse.catalog.v1 import resources_pb2 as res
from mesh.errors import AlreadyExists, FailedPrecondition, Violations
from mesh.resources import check_update_mask, parse_name, require_name
from services.catalog.domain import validation as val
from services.catalog.handlers.common import (
    Deps,
    not_found,
    products_changed,
    unique_write,
)
from services.catalog.models import Brand, Ingredient
from services.catalog.repository import Repo, unit_of_work

T = TypeVar("T", Brand, Ingredient)

BRAND_FIELDS = ("slug", "display_name", "description", "logo_url", "active")
INGREDIENT_FIELDS = ("slug", "display_name", "scientific_name", "description", "benefits")


def mask_or_set(
    msg: object, paths: Sequence[str], allowed: Sequence[str], v: Violations
) -> set[str]:
    """The fields an Update touches: the mask, else every allowed field set in `msg`."""
    if paths:
        return set(check_update_mask(paths, allowed, v))
    out = {
        f
        for f in allowed
        if getattr(msg, f) not in ("", 0, False)
        and not (hasattr(getattr(msg, f), "__len__") and len(getattr(msg, f)) == 0)
    }
    if not out:
        v.add("update_mask", "nothing to update")
    return out


def _benefits(items: Sequence[str], v: Violations, field: str) -> list[str]:
    out = []
    for i, b in enumerate(items):
        b = b.strip()
        if not b or len(b) > 200:
            v.add(f"{field}[{i}]", "must be 1 to 200 characters")
        else:
            out.append(b)
    if len(out) > 20:
        v.add(field, "at most 20 benefits")
    return out


class TaxonomyHandlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # --- brands --------------------------------------------------------------------

    async def list_brands(self, after: str | None, limit: int) -> list[Brand]:
        async with unit_of_work(self.deps.db, write=False) as r:
            return await r.page(Brand, after, limit)

    async def get_brand(self, name: str) -> Brand:
        bid = require_name(name, "brands")
        async with unit_of_work(self.deps.db, write=False) as r:
            brand = await r.get(Brand, bid)
        if brand is None:
            raise not_found(name)
        return brand

    def _brand_fields(self, b: res.Brand, fields: set[str], v: Violations) -> dict[str, object]:
        out: dict[str, object] = {}
        if "slug" in fields:
            out["slug"] = val.check_slug(b.slug, v, "brand.slug")
        if "display_name" in fields:
            out["name"] = val.check_text(
                b.display_name, v, "brand.display_name", required=True, max_len=120
            )
        if "description" in fields:
            out["description"] = val.check_text(
                b.description, v, "brand.description", required=False, max_len=5000
            )
        if "logo_url" in fields:
            out["logo_url"] = val.check_optional_image_url(b.logo_url, v, "brand.logo_url")
        if "active" in fields:
            out["active"] = b.active
        return out

    async def create_brand(self, b: res.Brand) -> Brand:
        v = Violations()
        values = self._brand_fields(b, set(BRAND_FIELDS), v)
        v.raise_if_any()
        return await self._create(Brand, values, "brand", "a brand")

    async def update_brand(self, b: res.Brand, paths: Sequence[str]) -> Brand:
        v = Violations()
        bid = parse_name(b.name, "brands")
        if bid is None:
            v.add("brand.name", "must look like brands/{id}")
        fields = mask_or_set(b, paths, BRAND_FIELDS, v)
        values = self._brand_fields(b, fields, v)
        v.raise_if_any()
        assert bid is not None
        return await self._update(
            Brand, bid, b.name, values, "brand", "a brand", lambda r: r.product_ids_of_brand(bid)
        )

    async def delete_brand(self, name: str) -> None:
        bid = require_name(name, "brands")
        await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            brand = await r.get(Brand, bid)
            if brand is None:
                raise not_found(name)
            if await r.product_ids_of_brand(bid):
                raise FailedPrecondition(
                    "the brand still has products; move or delete them first",
                    reason="BRAND_IN_USE",
                )
            await r.delete(brand)

    # --- ingredients ---------------------------------------------------------------

    async def list_ingredients(self, after: str | None, limit: int) -> list[Ingredient]:
        async with unit_of_work(self.deps.db, write=False) as r:
            return await r.page(Ingredient, after, limit)

    async def get_ingredient(self, name: str) -> Ingredient:
        iid = require_name(name, "ingredients")
        async with unit_of_work(self.deps.db, write=False) as r:
            ing = await r.get(Ingredient, iid)
        if ing is None:
            raise not_found(name)
        return ing

    def _ingredient_fields(
        self, i: res.Ingredient, fields: set[str], v: Violations
    ) -> dict[str, object]:
        out: dict[str, object] = {}
        if "slug" in fields:
            out["slug"] = val.check_slug(i.slug, v, "ingredient.slug")
        if "display_name" in fields:
            out["name"] = val.check_text(
                i.display_name, v, "ingredient.display_name", required=True, max_len=120
            )
        if "scientific_name" in fields:
            out["scientific_name"] = val.check_text(
                i.scientific_name, v, "ingredient.scientific_name", required=False, max_len=160
            )
        if "description" in fields:
            out["description"] = val.check_text(
                i.description, v, "ingredient.description", required=False, max_len=5000
            )
        if "benefits" in fields:
            out["benefits"] = _benefits(i.benefits, v, "ingredient.benefits")
        return out

    async def create_ingredient(self, i: res.Ingredient) -> Ingredient:
        v = Violations()
        values = self._ingredient_fields(i, set(INGREDIENT_FIELDS), v)
        v.raise_if_any()
        return await self._create(Ingredient, values, "ingredient", "an ingredient")

    async def update_ingredient(self, i: res.Ingredient, paths: Sequence[str]) -> Ingredient:
        v = Violations()
        iid = parse_name(i.name, "ingredients")
        if iid is None:
            v.add("ingredient.name", "must look like ingredients/{id}")
        fields = mask_or_set(i, paths, INGREDIENT_FIELDS, v)
        values = self._ingredient_fields(i, fields, v)
        v.raise_if_any()
        assert iid is not None
        return await self._update(
            Ingredient,
            iid,
            i.name,
            values,
            "ingredient",
            "an ingredient",
            lambda r: r.product_ids_of_ingredient(iid),
        )

    async def delete_ingredient(self, name: str) -> None:
        iid = require_name(name, "ingredients")
        await self.deps.admins.acting_admin()
        async with unit_of_work(self.deps.db) as r:
            ing = await r.get(Ingredient, iid)
            if ing is None:
                raise not_found(name)
            if await r.product_ids_of_ingredient(iid):
                raise FailedPrecondition(
                    "products still list this ingredient", reason="INGREDIENT_IN_USE"
                )
            await r.delete(ing)

    def _unique(self, field: str) -> AbstractAsyncContextManager[Repo]:
        return unique_write(self.deps, field)

    # --- shared by brands and ingredients ----------------------------------------

    async def _create(self, model: type[T], values: dict[str, object], kind: str, a: str) -> T:
        """Insert a slugged taxonomy row; a taken slug is ALREADY_EXISTS."""
        actor = await self.deps.admins.acting_admin()
        now = self.deps.clock()
        async with self._unique(f"{kind}.slug") as r:
            if await r.slug_taken(model, str(values["slug"])):
                raise AlreadyExists(f"{a} with slug {values['slug']!r} exists")
            row = model(**values, updated_by=actor, create_time=now, update_time=now)
            r.add(row)
            await r.flush()
        return row

    async def _update(
        self,
        model: type[T],
        rid: str,
        name: str,
        values: dict[str, object],
        kind: str,
        a: str,
        product_ids: Callable[[Repo], Awaitable[list[str]]],
    ) -> T:
        """Apply validated values; the products that use the row follow the change."""
        actor = await self.deps.admins.acting_admin()
        async with self._unique(f"{kind}.slug") as r:
            row = await r.get(model, rid)
            if row is None:
                raise not_found(name)
            if "slug" in values and await r.slug_taken(model, str(values["slug"]), rid):
                raise AlreadyExists(f"{a} with slug {values['slug']!r} exists")
            for k, value in values.items():
                setattr(row, k, value)
            row.updated_by, row.update_time = actor, self.deps.clock()
            await products_changed(self.deps, r, await product_ids(r))
        return row
