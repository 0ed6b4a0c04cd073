"""GST tax rate rules: admin create/list/delete, resolution for pricing, place of supply."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mesh.db import Database, new_id
from mesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from mesh.india import is_valid_pincode, state_for_pincode
from observability.metrics import counter
from services.settings import repository as repo
from services.settings.domain import tax
from services.settings.handlers.common import TAX_RATES, Changes, Clock
from services.settings.models import TaxRateRule

log = logging.getLogger("cleanse.settings.tax")
# Resolutions that fell back to the standard rate, by reason: "hsn_not_covered" (no
# HSN rule covers the code and the class has none of its own) or "unknown_tax_class"
# (the class names no rule; the HSN code or the standard rate decided). Alerted on in
# observability/prometheus/rules.yml (CleanseTaxRateFallback).
HSN_NOT_COVERED = "hsn_not_covered"
UNKNOWN_TAX_CLASS = "unknown_tax_class"
FALLBACK_REASONS = (HSN_NOT_COVERED, UNKNOWN_TAX_CLASS)
FALLBACKS = counter(
    "tax_rate_fallbacks_total",
    "GST rate resolutions that used the standard fallback or named an unknown tax class.",
    ["reason"],
)
# Both series exported from the start, at 0: a labelled series that first appears at 1
# is invisible to increase()/rate() (no earlier sample), so the first fallback after a
# start would never alert.
for _reason in FALLBACK_REASONS:
    FALLBACKS.labels(_reason)


@dataclass(frozen=True)
class NewRule:
    hsn_prefix: str
    tax_class: str
    slabs: tuple[tax.Slab, ...]
    effective_from: datetime | None
    description: str


@dataclass(frozen=True)
class TaxQuery:
    key: str
    hsn_code: str
    tax_class: str
    unit_price_minor: int


@dataclass(frozen=True)
class ResolvedRate:
    key: str
    rate_bp: int
    rule: str  # "taxRates/{id}"
    slabs: tuple[tax.Slab, ...] = ()  # every slab of that rule
    fallback: bool = False
    unknown_class: bool = False


class TaxHandlers:
    def __init__(self, db: Database, changes: Changes, clock: Clock) -> None:
        self.db = db
        self.changes = changes
        self.clock = clock

    async def create(self, new: NewRule) -> TaxRateRule:
        p = "tax_rate_rule."
        hsn = tax.clean_hsn(new.hsn_prefix)
        cls = new.tax_class.strip()
        v = tax.key_problems(hsn, cls, p) + tax.slab_problems(new.slabs, p + "slabs")
        if len(new.description) > 200:
            v.append((p + "description", "must be at most 200 characters"))
        if v:
            raise InvalidArgument(v)
        key = tax.hsn_key(hsn) if hsn else tax.class_key(cls)
        row = TaxRateRule(
            id=new_id(),
            rule_key=key,
            hsn_prefix=hsn,
            tax_class=cls,
            slabs=[{"up_to_minor": s.up_to_minor, "rate_bp": s.rate_bp} for s in new.slabs],
            effective_from=new.effective_from or self.clock(),
            description=new.description.strip(),
            create_time=self.clock(),
        )
        async with self.db.transaction() as s:
            existing = await repo.list_tax_rules(s, key=key, after=None, limit=10_000)
            if any(r.effective_from == row.effective_from for r in existing):
                raise AlreadyExists(
                    f"a rule for {key} effective from {row.effective_from.isoformat()} exists"
                )
            s.add(row)
            await self.changes.record(s, TAX_RATES)
        return row

    async def get(self, rule_id: str) -> TaxRateRule:
        async with self.db.session() as s:
            row = await s.get(TaxRateRule, rule_id)
        if row is None:
            raise NotFound(f"taxRates/{rule_id} does not exist")
        return row

    async def list(
        self, *, hsn_prefix: str, tax_class: str, after: tuple[str, str, str] | None, limit: int
    ) -> Sequence[TaxRateRule]:
        key = None
        if hsn_prefix:
            key = tax.hsn_key(tax.clean_hsn(hsn_prefix))
        elif tax_class:
            key = tax.class_key(tax_class.strip())
        async with self.db.session() as s:
            return await repo.list_tax_rules(s, key=key, after=after, limit=limit)

    async def delete(self, rule_id: str) -> None:
        async with self.db.transaction() as s:
            row = await s.get(TaxRateRule, rule_id)
            if row is None:
                raise NotFound(f"taxRates/{rule_id} does not exist")
            if row.effective_from <= self.clock():
                raise FailedPrecondition(
                    f"taxRates/{rule_id} is in effect: add a new rule to change the rate",
                    reason="RULE_IN_EFFECT",
                )
            await s.delete(row)
            await self.changes.record(s, TAX_RATES)

    async def resolve(self, queries: Sequence[TaxQuery], at: datetime | None) -> list[ResolvedRate]:
        when = at or self.clock()
        async with self.db.session() as s:
            active = tax.in_force(await repo.tax_rules(s), when)
        out: list[ResolvedRate] = []
        missing: list[tuple[str, str]] = []
        for i, q in enumerate(queries):
            found = tax.resolve(active, q.hsn_code, q.tax_class)
            if found is None:
                missing.append((f"queries[{i}]", "no tax rate rule matches its HSN or tax class"))
                continue
            rule = found.rule
            slab = tax.pick_slab(rule, q.unit_price_minor)
            out.append(
                ResolvedRate(
                    q.key,
                    slab.rate_bp,
                    f"taxRates/{rule.id}",
                    rule.slabs,
                    found.fallback,
                    found.unknown_class,
                )
            )
            _report(q, found)
        if missing:
            raise FailedPrecondition(
                "; ".join(f"{f}: {d}" for f, d in missing), reason="TAX_RATE_NOT_FOUND"
            )
        return out

    async def classes(self) -> list[str]:
        """Every tax class with a rule, in force or from a later date, sorted."""
        async with self.db.session() as s:
            rows = await s.scalars(
                select(TaxRateRule.tax_class).where(TaxRateRule.tax_class != "").distinct()
            )
            return sorted(set(rows))


def _report(q: TaxQuery, found: tax.Resolution) -> None:
    """Make a silent fallback loud: a warning naming the line, and a metric."""
    if not (found.fallback or found.unknown_class):
        return
    extra = {"tax_class": q.tax_class, "hsn_code": q.hsn_code, "rule_key": found.rule.key}
    if found.unknown_class:
        FALLBACKS.labels(UNKNOWN_TAX_CLASS).inc()
        log.warning(
            "tax class %r has no GST rule; %s decided the rate for HSN %r",
            q.tax_class,
            found.rule.key,
            q.hsn_code,
            extra=extra,
        )
    else:
        FALLBACKS.labels(HSN_NOT_COVERED).inc()
        log.warning(
            "no GST rule covers HSN %r (tax class %r): the standard rate applied",
            q.hsn_code,
            q.tax_class,
            extra=extra,
        )


def place_of_supply(pincode: str) -> str:
    pin = pincode.strip()
    if not is_valid_pincode(pin):
        raise InvalidArgument({"pincode": "must be 6 digits, the first not 0"})
    state = state_for_pincode(pin)
    if state is None:
        raise InvalidArgument({"pincode": "belongs to no state (Army Postal Service PIN)"})
    return state
