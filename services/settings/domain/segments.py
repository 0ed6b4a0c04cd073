"""Customer segment rules and their evaluation against one customer's facts. No I/O.

Every condition that is set must hold; an empty rule set matches everyone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Rules:
    min_total_spend_minor: int | None = None
    max_total_spend_minor: int | None = None
    min_order_count: int | None = None
    max_order_count: int | None = None
    state_codes: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    signed_up_within_days: int | None = None
    signed_up_after: datetime | None = None
    signed_up_before: datetime | None = None
    any_tags: tuple[str, ...] = ()
    all_tags: tuple[str, ...] = ()

    @property
    def needs_signup_date(self) -> bool:
        return (
            self.signed_up_within_days is not None
            or self.signed_up_after is not None
            or self.signed_up_before is not None
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if v is None or v == ():
                continue
            out[k] = (
                v.isoformat()
                if isinstance(v, datetime)
                else (list(v) if isinstance(v, tuple) else v)
            )
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rules:
        kw: dict[str, Any] = {}
        for k, v in data.items():
            if k in ("signed_up_after", "signed_up_before"):
                kw[k] = datetime.fromisoformat(v)
            elif isinstance(v, list):
                kw[k] = tuple(v)
            else:
                kw[k] = v
        return cls(**kw)


@dataclass(frozen=True)
class CustomerFacts:
    total_spend_minor: int = 0
    order_count: int = 0
    state_code: str = ""
    city: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    signup_time: datetime | None = None  # None: unknown (no such user at auth)


def _between(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def matches(rules: Rules, c: CustomerFacts, now: datetime) -> bool:
    if not _between(c.total_spend_minor, rules.min_total_spend_minor, rules.max_total_spend_minor):
        return False
    if not _between(c.order_count, rules.min_order_count, rules.max_order_count):
        return False
    if rules.state_codes and c.state_code not in rules.state_codes:
        return False
    if rules.cities and c.city.strip().lower() not in {x.lower() for x in rules.cities}:
        return False
    if rules.any_tags and not (set(rules.any_tags) & c.tags):
        return False
    if rules.all_tags and not set(rules.all_tags) <= c.tags:
        return False
    if rules.needs_signup_date:
        if c.signup_time is None:
            return False
        if rules.signed_up_within_days is not None and c.signup_time < now - timedelta(
            days=rules.signed_up_within_days
        ):
            return False
        if rules.signed_up_after is not None and c.signup_time < rules.signed_up_after:
            return False
        if rules.signed_up_before is not None and c.signup_time >= rules.signed_up_before:
            return False
    return True
