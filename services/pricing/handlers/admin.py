"""The admin console's CRUD over coupons, automatic discounts, tiers and gift rules,
and pricing's own settings (the stacking cap).

One generic flow for the four resource kinds (`KINDS`): validate, check the
catalog references, store the document, keep the indexed columns in step, clear
the rules cache. The acting admin (mesh.context identity subject) is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cleanse.pricing.v1 import resources_pb2
from mesh import context as call_context
from mesh.db import Database, decode_page_token, next_page_token, utcnow
from mesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Violations
from mesh.resources import require_name
from services.pricing import convert, models
from services.pricing import repository as repo
from services.pricing.domain import validation
from services.pricing.domain.validation import ELIGIBILITY_LISTS
from services.pricing.handlers.common import Clock
from services.pricing.peers import Peers

# Eligibility lists checked with CheckReferences (the exclude_ lists too).
REFERENCE_KINDS = ("product_ids", "category_ids", "collection_ids", "brand_ids")


@dataclass(frozen=True)
class Kind:
    model: type[models.RuleColumns]
    message: type[Message]
    collection: str
    field: str  # request field name: "coupon", "tier_discount", ...
    validate: Callable[[Any, Violations, str], Any]


KINDS = {
    "coupon": Kind(models.Coupon, resources_pb2.Coupon, "coupons", "coupon", validation.coupon),
    "automatic": Kind(
        models.AutomaticDiscount,
        resources_pb2.AutomaticDiscount,
        "automaticDiscounts",
        "automatic_discount",
        validation.automatic,
    ),
    "tier": Kind(
        models.TierDiscount,
        resources_pb2.TierDiscount,
        "tierDiscounts",
        "tier_discount",
        validation.tier,
    ),
    "gift": Kind(
        models.FreeGiftRule,
        resources_pb2.FreeGiftRule,
        "freeGiftRules",
        "free_gift_rule",
        validation.gift,
    ),
}


def _sync_columns(row: Any, res: Any) -> None:
    row.spec = convert.spec_of(res)
    row.active = res.active
    if isinstance(row, models.Coupon):
        row.code = res.code
        row.listed = res.listed
        row.usage_limit = res.usage_limit
        row.per_customer_limit = res.per_customer_limit


SETTINGS_NAME = "pricingSettings"
SETTINGS_FIELDS = ("stacking_cap_basis_points",)  # updatable


class AdminHandlers:
    def __init__(
        self,
        db: Database,
        peers: Peers,
        on_change: Callable[[], None],
        clock: Clock = utcnow,
        *,
        default_stacking_cap_bp: int = 5000,
    ) -> None:
        self.db = db
        self.peers = peers
        self.on_change = on_change
        self.clock = clock
        self.default_stacking_cap_bp = default_stacking_cap_bp

    # --- pricing settings ------------------------------------------------------------

    def _settings_pb(self, row: models.PricingSettingsRow | None) -> resources_pb2.PricingSettings:
        cap = row.stacking_cap_bp if row is not None else None
        out = resources_pb2.PricingSettings(
            name=SETTINGS_NAME,
            stacking_cap_basis_points=self.default_stacking_cap_bp if cap is None else cap,
            updated_by=row.updated_by if row is not None else "",
        )
        if row is not None and row.update_time is not None:
            out.update_time.CopyFrom(convert.ts(row.update_time))
        return out

    async def get_settings(self) -> resources_pb2.PricingSettings:
        async with self.db.session() as s:
            return self._settings_pb(await repo.pricing_settings(s))

    async def update_settings(
        self, res: resources_pb2.PricingSettings, mask: field_mask_pb2.FieldMask
    ) -> resources_pb2.PricingSettings:
        paths = list(mask.paths) or list(SETTINGS_FIELDS)
        v = Violations()
        v.check(res.name in ("", SETTINGS_NAME), "pricing_settings.name", "must be pricingSettings")
        bad = [p for p in paths if p not in SETTINGS_FIELDS]
        if bad:
            v.add("update_mask", f"cannot update {', '.join(bad)}")
        if "stacking_cap_basis_points" in paths:
            v.check(
                0 <= res.stacking_cap_basis_points <= 10_000,
                "pricing_settings.stacking_cap_basis_points",
                "must be between 0 and 10000 (0-100%)",
            )
        v.raise_if_any()
        async with self.db.transaction() as s:
            row = await repo.pricing_settings(s, lock=True)
            if row is None:  # the migration creates it; a hand-emptied table gets it back
                row = models.PricingSettingsRow(id=models.SETTINGS_ID, updated_by="")
                s.add(row)
            if "stacking_cap_basis_points" in paths:
                row.stacking_cap_bp = res.stacking_cap_basis_points
            row.updated_by = call_context.identity().subject
            row.update_time = self.clock()
        self.on_change()
        return self._settings_pb(row)

    async def _check_references(self, kind: Kind, res: Any) -> None:
        """Ids a rule names must exist in the catalog: variants (BatchGetVariants; a
        gift must be sellable too), products, categories, collections and brands
        (CheckReferences). Catalog unreachable: UNAVAILABLE, nothing stored."""
        v = Violations()
        if hasattr(res, "eligibility"):
            await self._check_eligibility(f"{kind.field}.eligibility", res.eligibility, v)
        await self._check_variants(kind, res, v)
        v.raise_if_any()

    async def _check_eligibility(self, prefix: str, e: Any, v: Violations) -> None:
        fields = {
            name: [f for f in ELIGIBILITY_LISTS if f.removeprefix("exclude_") == name]
            for name in REFERENCE_KINDS
        }
        asked = {name: [i for f in fs for i in getattr(e, f)] for name, fs in fields.items()}
        missing = await self.peers.missing_references(asked)
        for name, fs in fields.items():
            for f in fs:
                for i, ref in enumerate(getattr(e, f)):
                    if ref in missing[name]:
                        v.add(f"{prefix}.{f}[{i}]", f"no catalog {name[:-4]} {ref}")

    async def _check_variants(self, kind: Kind, res: Any, v: Violations) -> None:
        wanted: dict[str, str] = {}
        if kind.field == "free_gift_rule":
            wanted[res.gift_variant_id] = f"{kind.field}.gift_variant_id"
        if hasattr(res, "eligibility"):
            for f in ("variant_ids", "exclude_variant_ids"):
                for i, vid in enumerate(getattr(res.eligibility, f)):
                    wanted.setdefault(vid, f"{kind.field}.eligibility.{f}[{i}]")
        if not wanted:
            return
        found, missing = await self.peers.variants(wanted, fresh=True)
        for vid in missing:
            v.add(wanted[vid], f"no catalog variant {vid}")
        if kind.field == "free_gift_rule" and res.gift_variant_id in found:
            v.check(
                found[res.gift_variant_id].sellable,
                f"{kind.field}.gift_variant_id",
                "the gift variant is not sellable",
            )

    async def _validated(self, kind: Kind, res: Any) -> Any:
        v = Violations()
        out = kind.validate(res, v, kind.field)
        v.raise_if_any()
        if kind.field == "coupon":
            res.code = out
        await self._check_references(kind, res)
        return res

    def _id(self, kind: Kind, name: str) -> str:
        return require_name(name, kind.collection)

    async def create(self, kind: Kind, res: Any) -> Any:
        res = await self._validated(kind, res)
        now = self.clock()
        row = kind.model(created_by=call_context.identity().subject, create_time=now)
        row.update_time = now
        _sync_columns(row, res)
        try:
            async with self.db.transaction() as s:
                if isinstance(row, models.Coupon):
                    taken = await s.scalar(
                        select(func.count())
                        .select_from(models.Coupon)
                        .where(models.Coupon.code == row.code)
                    )
                    if taken:
                        raise AlreadyExists(f"coupon code {row.code} already exists")
                s.add(row)
        except IntegrityError:
            raise AlreadyExists(f"coupon code {res.code} already exists") from None
        self.on_change()
        return convert.resource_of(row, kind.message, kind.collection)

    async def get(self, kind: Kind, name: str) -> Any:
        async with self.db.session() as s:
            row = await s.get(kind.model, self._id(kind, name))
        if row is None:
            raise NotFound(f"{name} not found")
        return convert.resource_of(row, kind.message, kind.collection)

    async def list(
        self, kind: Kind, page_size: int, page_token: str, *, active_only: bool, prefix: str = ""
    ) -> tuple[list[Any], str]:
        filters = {"active_only": active_only, "prefix": prefix.upper()}
        after = decode_page_token(page_token, filters)
        stmt = select(kind.model)
        if active_only:
            stmt = stmt.where(kind.model.active)
        if prefix and kind.model is models.Coupon:
            stmt = stmt.where(models.Coupon.code.startswith(prefix.upper(), autoescape=True))
        if after:
            stmt = stmt.where(kind.model.id > after)
        stmt = stmt.order_by(kind.model.id).limit(page_size + 1)
        async with self.db.session() as s:
            rows = list(await s.scalars(stmt))
        page = [convert.resource_of(r, kind.message, kind.collection) for r in rows[:page_size]]
        return page, next_page_token(rows, page_size, filters)

    async def update(self, kind: Kind, res: Any, mask: field_mask_pb2.FieldMask) -> Any:
        rid = self._id(kind, res.name)
        desc = kind.message.DESCRIPTOR
        bad = [
            p
            for p in mask.paths
            if p.split(".")[0] not in desc.fields_by_name or p in convert.OUTPUT_ONLY
        ]
        if bad:
            raise InvalidArgument({"update_mask": f"cannot update {', '.join(bad)}"})
        async with self.db.session() as s:
            row = await s.get(kind.model, rid)
            if row is None:
                raise NotFound(f"{res.name} not found")
        merged = convert.resource_of(row, kind.message, kind.collection)
        if mask.paths:
            mask.MergeMessage(res, merged, replace_message_field=True, replace_repeated_field=True)
        else:
            keep = kind.message()
            keep.CopyFrom(res)
            merged = keep
        merged = await self._validated(kind, merged)
        try:
            async with self.db.transaction() as s:
                row = await s.get(kind.model, rid, with_for_update=True)
                if row is None:
                    raise NotFound(f"{res.name} not found")
                if isinstance(row, models.Coupon) and merged.code != row.code:
                    clash = await s.scalar(
                        select(models.Coupon.id).where(models.Coupon.code == merged.code)
                    )
                    if clash:
                        raise AlreadyExists(f"coupon code {merged.code} already exists")
                _sync_columns(row, merged)
                row.update_time = self.clock()
        except IntegrityError:
            raise AlreadyExists(f"coupon code {merged.code} already exists") from None
        self.on_change()
        return convert.resource_of(row, kind.message, kind.collection)

    async def delete(self, kind: Kind, name: str) -> None:
        async with self.db.transaction() as s:
            row = await s.get(kind.model, self._id(kind, name), with_for_update=True)
            if row is None:
                raise NotFound(f"{name} not found")
            if isinstance(row, models.Coupon) and (row.times_reserved or row.times_used):
                raise FailedPrecondition(
                    "the coupon has been used: deactivate it instead", reason="COUPON_IN_USE"
                )
            await s.delete(row)
        self.on_change()
