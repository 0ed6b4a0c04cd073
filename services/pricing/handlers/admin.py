"""The admin console's CRUD over coupons, automatic discounts, tiers and gift rules.

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
from services.pricing.domain import validation
from services.pricing.handlers.common import Clock
from services.pricing.peers import Peers


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


class AdminHandlers:
    def __init__(
        self, db: Database, peers: Peers, on_change: Callable[[], None], clock: Clock = utcnow
    ) -> None:
        self.db = db
        self.peers = peers
        self.on_change = on_change
        self.clock = clock

    async def _check_references(self, kind: Kind, res: Any) -> None:
        """Variant ids a rule names must exist in the catalog."""
        wanted: dict[str, str] = {}
        if kind.field == "free_gift_rule":
            wanted[res.gift_variant_id] = f"{kind.field}.gift_variant_id"
        if hasattr(res, "eligibility"):
            for i, vid in enumerate(res.eligibility.variant_ids):
                wanted.setdefault(vid, f"{kind.field}.eligibility.variant_ids[{i}]")
        if not wanted:
            return
        found, missing = await self.peers.variants(wanted, fresh=True)
        v = Violations()
        for vid in missing:
            v.add(wanted[vid], f"no catalog variant {vid}")
        if kind.field == "free_gift_rule" and res.gift_variant_id in found:
            v.check(
                found[res.gift_variant_id].sellable,
                f"{kind.field}.gift_variant_id",
                "the gift variant is not sellable",
            )
        v.raise_if_any()

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
