"""Analytics: batched ingest with caps and rate limits, funnel and top-product reports.

Storage: one indexed row per event (`analytics_events`, indexes on (day, type,
session) and (day, type, product)); reports are GROUP BY queries over a day range,
which those indexes serve. A purchase naming several products is stored as one row
per product (same session), so top products count purchases per product while the
funnel counts distinct sessions. At high volume, a nightly rollup table per (day,
type, product) would replace the product query; the contract would not change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cleanse.settings.v1 import analytics_service_pb2 as pb
from mesh.db import Database, new_id
from mesh.errors import InvalidArgument, ResourceExhausted
from services.settings import repository as repo
from services.settings.config import Settings
from services.settings.domain.analytics import IngestLimits, TokenBucket, event_time
from services.settings.handlers.common import Clock

T = pb.AnalyticsEventType
FUNNEL = (
    T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW,
    T.ANALYTICS_EVENT_TYPE_ADD_TO_CART,
    T.ANALYTICS_EVENT_TYPE_CHECKOUT_STEP,
    T.ANALYTICS_EVENT_TYPE_PURCHASE,
)
PRODUCT_EVENTS = (
    T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW,
    T.ANALYTICS_EVENT_TYPE_ADD_TO_CART,
    T.ANALYTICS_EVENT_TYPE_PURCHASE,
)
NEEDS_PRODUCT = (T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, T.ANALYTICS_EVENT_TYPE_ADD_TO_CART)
MAX_REPORT_DAYS = 366


@dataclass(frozen=True)
class IncomingEvent:
    type: int
    anonymous_id: str
    session_id: str
    client_time: datetime | None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FunnelRow:
    day: date | None
    steps: tuple[int, int, int, int]


@dataclass(frozen=True)
class ProductRow:
    product_id: str
    views: int = 0
    adds: int = 0
    purchases: int = 0


def validate_batch(events: Sequence[IncomingEvent], user: str, lim: IngestLimits) -> None:
    v: list[tuple[str, str]] = []
    if not events:
        v.append(("events", "at least one event is required"))
    if len(events) > lim.max_events:
        raise InvalidArgument({"events": f"at most {lim.max_events} events per batch"})
    for i, e in enumerate(events):
        p = f"events[{i}]."
        if e.type not in T.values() or e.type == T.ANALYTICS_EVENT_TYPE_UNSPECIFIED:
            v.append((p + "type", "is required"))
        if not e.session_id or len(e.session_id) > lim.max_id_chars:
            v.append((p + "session_id", f"is required, at most {lim.max_id_chars} characters"))
        if len(e.anonymous_id) > lim.max_id_chars:
            v.append((p + "anonymous_id", f"at most {lim.max_id_chars} characters"))
        if not e.anonymous_id and not user:
            v.append((p + "anonymous_id", "is required without a signed-in user"))
        if len(e.properties) > lim.max_properties:
            v.append((p + "properties", f"at most {lim.max_properties} entries"))
        for k, val in e.properties.items():
            if not k or len(k) > lim.max_key_chars:
                v.append((f"{p}properties[{k[:40]}]", f"keys are 1-{lim.max_key_chars} chars"))
            elif len(val) > lim.max_value_chars:
                v.append((f"{p}properties[{k}]", f"at most {lim.max_value_chars} characters"))
        if e.type in NEEDS_PRODUCT and not e.properties.get("product_id"):
            v.append((p + "properties[product_id]", "is required for this event type"))
    if v:
        raise InvalidArgument(v)


def check_range(start: date, end: date) -> None:
    if end < start:
        raise InvalidArgument({"end_date": "must not be before start_date"})
    if (end - start).days >= MAX_REPORT_DAYS:
        raise InvalidArgument({"end_date": f"a range is at most {MAX_REPORT_DAYS} days"})


class AnalyticsHandlers:
    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.limits = settings.ingest
        self.clock = clock
        self.by_ip = TokenBucket(settings.ip_limit.per_second, settings.ip_limit.burst)
        self.by_anon = TokenBucket(
            settings.anonymous_limit.per_second, settings.anonymous_limit.burst
        )

    def _rate_limit(self, ip: str, per_anon: Counter[str]) -> None:
        """Each event costs one token of its IP's bucket and one of its anonymous id's."""
        keys = [(self.by_ip, f"ip:{ip}", per_anon.total())] if ip else []
        keys += [(self.by_anon, f"anon:{a}", n) for a, n in sorted(per_anon.items()) if a]
        waits = [b.retry_after(k, cost) for b, k, cost in keys]
        worst = max((w for w in waits if w is not None), default=None)
        if worst is not None:
            raise ResourceExhausted(
                "too many analytics events; retry later",
                retry_after_seconds=round(worst + 0.0005, 3),
                metadata={"limit": "analytics_ingest"},
            )
        for b, k, cost in keys:
            b.take(k, cost)

    async def ingest(self, events: Sequence[IncomingEvent], user: str, ip: str) -> int:
        validate_batch(events, user, self.limits)
        self._rate_limit(ip, Counter(e.anonymous_id for e in events))
        now = self.clock()
        rows: list[dict[str, Any]] = []
        for e in events:
            at = event_time(e.client_time, now, self.limits)
            base = {
                "event_type": e.type,
                "day": at.date(),
                "occurred_at": at,
                "received_at": now,
                "session_id": e.session_id,
                "anonymous_id": e.anonymous_id,
                "user_id": user.removeprefix("users/"),
                "properties": dict(e.properties),
            }
            products = [e.properties.get("product_id", "")]
            if e.type == T.ANALYTICS_EVENT_TYPE_PURCHASE and e.properties.get("product_ids"):
                products = [p.strip() for p in e.properties["product_ids"].split(",") if p.strip()]
            for product in products or [""]:
                rows.append({**base, "id": new_id(), "product_id": product[:64]})
        async with self.db.transaction() as s:
            repo.add_events(s, rows)
        return len(events)

    async def funnel(self, start: date, end: date) -> tuple[list[FunnelRow], FunnelRow]:
        check_range(start, end)
        async with self.db.session() as s:
            counts = await repo.funnel_counts(s, start, end, FUNNEL)
            totals = await repo.funnel_totals(s, start, end, FUNNEL)
        by_day: dict[date, dict[int, int]] = {}
        for d, t, n in counts:
            by_day.setdefault(d, {})[t] = n
        days = []
        d = start
        while d <= end:
            c = by_day.get(d, {})
            days.append(FunnelRow(d, tuple(c.get(t, 0) for t in FUNNEL)))  # type: ignore[arg-type]
            d += timedelta(days=1)
        total = FunnelRow(None, tuple(totals.get(t, 0) for t in FUNNEL))  # type: ignore[arg-type]
        return days, total

    async def top_products(
        self, start: date, end: date, rank_by: int, limit: int
    ) -> list[ProductRow]:
        check_range(start, end)
        async with self.db.session() as s:
            counts = await repo.product_counts(s, start, end, PRODUCT_EVENTS)
        stats: dict[str, dict[int, int]] = {}
        for product, t, n in counts:
            stats.setdefault(product, {})[t] = n
        rows = [
            ProductRow(
                p,
                c.get(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, 0),
                c.get(T.ANALYTICS_EVENT_TYPE_ADD_TO_CART, 0),
                c.get(T.ANALYTICS_EVENT_TYPE_PURCHASE, 0),
            )
            for p, c in stats.items()
        ]
        attr = {
            pb.PRODUCT_RANKING_ADDS_TO_CART: "adds",
            pb.PRODUCT_RANKING_PURCHASES: "purchases",
        }.get(rank_by, "views")
        rows.sort(key=lambda r: (-getattr(r, attr), r.product_id))
        return [r for r in rows if getattr(r, attr) > 0][:limit]
