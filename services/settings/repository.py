"""Queries of the settings service's tables (the handlers never write SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.settings.domain import tax
from services.settings.models import (
    AnalyticsEvent,
    CustomerProfile,
    CustomerSegment,
    PaymentMethodConfig,
    Setting,
    TaxRateRule,
)


async def settings_rows(s: AsyncSession) -> dict[str, Setting]:
    return {r.key: r for r in (await s.scalars(select(Setting))).all()}


async def tax_rules(s: AsyncSession) -> list[tax.Rule]:
    rows = (await s.scalars(select(TaxRateRule))).all()
    return [to_rule(r) for r in rows]


def to_rule(r: TaxRateRule) -> tax.Rule:
    return tax.Rule(
        id=r.id,
        key=r.rule_key,
        slabs=tuple(tax.Slab(int(x["up_to_minor"]), int(x["rate_bp"])) for x in r.slabs),
        effective_from=r.effective_from,
    )


async def list_tax_rules(
    s: AsyncSession, *, key: str | None, after: tuple[str, str, str] | None, limit: int
) -> Sequence[TaxRateRule]:
    """Ordered by key, then newest effective date first (ties by id)."""
    q = select(TaxRateRule)
    if key:
        q = q.where(TaxRateRule.rule_key == key)
    rows = (await s.scalars(q)).all()
    ordered = sorted(rows, key=lambda r: (r.rule_key, -r.effective_from.timestamp(), r.id))
    if after is not None:
        k = (after[0], -float(after[1]), after[2])
        ordered = [r for r in ordered if (r.rule_key, -r.effective_from.timestamp(), r.id) > k]
    return ordered[: limit + 1]


async def payment_methods(s: AsyncSession) -> list[PaymentMethodConfig]:
    q = select(PaymentMethodConfig).order_by(
        PaymentMethodConfig.display_order, PaymentMethodConfig.code
    )
    return list((await s.scalars(q)).all())


async def segments(
    s: AsyncSession, *, ids: Sequence[str] | None = None, after: str = "", limit: int | None = None
) -> list[CustomerSegment]:
    q = select(CustomerSegment).order_by(CustomerSegment.id)
    if ids is not None:
        q = q.where(CustomerSegment.id.in_(list(ids)))
    if after:
        q = q.where(CustomerSegment.id > after)
    if limit is not None:
        q = q.limit(limit + 1)
    return list((await s.scalars(q)).all())


async def profile(s: AsyncSession, user_id: str, *, lock: bool = False) -> CustomerProfile | None:
    q = select(CustomerProfile).where(CustomerProfile.user_id == user_id)
    if lock:
        q = q.with_for_update()
    return (await s.scalars(q)).first()


async def funnel_counts(
    s: AsyncSession, start: date, end: date, types: Sequence[int]
) -> list[tuple[date, int, int]]:
    """(day, event type, distinct sessions) for the days and types."""
    q = (
        select(
            AnalyticsEvent.day,
            AnalyticsEvent.event_type,
            func.count(func.distinct(AnalyticsEvent.session_id)),
        )
        .where(
            AnalyticsEvent.day >= start,
            AnalyticsEvent.day <= end,
            AnalyticsEvent.event_type.in_(list(types)),
        )
        .group_by(AnalyticsEvent.day, AnalyticsEvent.event_type)
    )
    return [(d, int(t), int(n)) for d, t, n in (await s.execute(q)).all()]


async def funnel_totals(
    s: AsyncSession, start: date, end: date, types: Sequence[int]
) -> dict[int, int]:
    q = (
        select(AnalyticsEvent.event_type, func.count(func.distinct(AnalyticsEvent.session_id)))
        .where(
            AnalyticsEvent.day >= start,
            AnalyticsEvent.day <= end,
            AnalyticsEvent.event_type.in_(list(types)),
        )
        .group_by(AnalyticsEvent.event_type)
    )
    return {int(t): int(n) for t, n in (await s.execute(q)).all()}


async def product_counts(
    s: AsyncSession, start: date, end: date, types: Sequence[int]
) -> list[tuple[str, int, int]]:
    """(product id, event type, events) for events that name a product."""
    q = (
        select(AnalyticsEvent.product_id, AnalyticsEvent.event_type, func.count())
        .where(
            AnalyticsEvent.day >= start,
            AnalyticsEvent.day <= end,
            AnalyticsEvent.event_type.in_(list(types)),
            AnalyticsEvent.product_id != "",
        )
        .group_by(AnalyticsEvent.product_id, AnalyticsEvent.event_type)
    )
    return [(p, int(t), int(n)) for p, t, n in (await s.execute(q)).all()]


def add_events(s: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    s.add_all([AnalyticsEvent(**r) for r in rows])
