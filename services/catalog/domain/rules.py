"""Smart collection rules: what they look like stored, and whether a product matches.

Stored as a JSON list on the collection, one single-key object per rule, all of
which must match:

    {"category": "<id>"}          the product is in it or in a descendant
    {"brand": "<id>"}
    {"tag": "ayurveda"}
    {"attribute": {"key": "dosha", "value": "vata"}}
    {"price_range": {"min": 0, "max": 49900}}   some active variant's price, paise, 0 = open
    {"new_within_days": 30}        published within N days      (read time)
    {"in_stock": true}             some variant in stock         (read time)

Membership is split in two. The STATIC rules (everything but the last two) are
evaluated whenever a product, its variants or a collection's rules change, in
the same transaction, and stored in collection_products. The two TIME/STOCK rules
change without any catalogue write (the clock moves, stock is sold), so they are
applied when the collection is read: `new_within_days` as a query condition,
`in_stock` with the inventory service's availability (cached a few seconds; when
inventory is down the condition is skipped and the listing says stock_unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

READ_TIME_KEYS = frozenset({"new_within_days", "in_stock"})
RULE_KEYS = frozenset({"category", "brand", "tag", "attribute", "price_range"}) | READ_TIME_KEYS


@dataclass(frozen=True)
class ProductFacts:
    """What rules look at, gathered for one product."""

    id: str
    active: bool
    brand_id: str | None
    category_ids: frozenset[str]  # own categories and all their ancestors
    tags: frozenset[str]
    attributes: frozenset[tuple[str, str]]
    prices: Sequence[int] = field(default_factory=tuple)  # active variants


def _rule(rule: Mapping[str, Any]) -> tuple[str, Any]:
    (key, value), *_ = rule.items()
    return key, value


def static_match(rules: Iterable[Mapping[str, Any]], p: ProductFacts) -> bool:
    """Whether `p` belongs in the collection as far as the stored rules go."""
    if not p.active:
        return False
    for rule in rules:
        key, value = _rule(rule)
        if key == "category" and value not in p.category_ids:
            return False
        if key == "brand" and value != p.brand_id:
            return False
        if key == "tag" and value not in p.tags:
            return False
        if key == "attribute" and (value["key"], value["value"]) not in p.attributes:
            return False
        if key == "price_range":
            lo, hi = int(value.get("min") or 0), int(value.get("max") or 0)
            if not any(price >= lo and (hi == 0 or price <= hi) for price in p.prices):
                return False
    return True


def new_since(rules: Iterable[Mapping[str, Any]], now: datetime) -> datetime | None:
    """The earliest publish time a member may have, if a new_within_days rule exists."""
    days = [int(_rule(r)[1]) for r in rules if _rule(r)[0] == "new_within_days"]
    return now - timedelta(days=min(days)) if days else None


def needs_stock(rules: Iterable[Mapping[str, Any]]) -> bool:
    return any(_rule(r)[0] == "in_stock" and bool(_rule(r)[1]) for r in rules)
