"""How much an offer takes off a set of lines, and each line's share of it.

Working on `Slot`s: one per priced cart line, with what is left of its price
(`net`). Shares never exceed a line's net, so no line goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.pricing.domain.model import Kind, Offer, Variant
from services.pricing.domain.money import allocate, percent_of
from services.pricing.domain.result import Discount


@dataclass
class Slot:
    """A cart line while discounts are applied to it."""

    variant: Variant
    quantity: int
    gross: int
    net: int
    shares: list[Discount] = field(default_factory=list)  # this line's share of each

    @property
    def unit_price(self) -> int:
        return self.variant.price


def proportional(amount: int, slots: list[Slot]) -> list[int]:
    """`amount` (<= the slots' net) spread over slots by net, largest remainder."""
    return allocate(amount, [s.net for s in slots])


def bxgy_shares(offer: Offer, slots: list[Slot]) -> list[int]:
    """Buy X get Y: units sorted by unit price (highest first, then variant id); in
    every complete group of X+Y units the last Y (the cheapest) get the discount."""
    units: list[tuple[int, int]] = []  # (unit price, slot index)
    for i, s in enumerate(slots):
        units.extend([(s.unit_price, i)] * s.quantity)
    units.sort(key=lambda u: (-u[0], slots[u[1]].variant.variant_id))
    group = offer.buy_quantity + offer.get_quantity
    groups = len(units) // group if group > 0 else 0
    if offer.max_applications:
        groups = min(groups, offer.max_applications)
    shares = [0] * len(slots)
    for g in range(groups):
        for price, i in units[g * group + offer.buy_quantity : (g + 1) * group]:
            shares[i] += percent_of(price, offer.get_discount_bp)
    return [min(share, s.net) for share, s in zip(shares, slots, strict=True)]


def offer_shares(offer: Offer, slots: list[Slot], budget: int) -> tuple[list[int], bool]:
    """Each slot's share of what `offer` takes off, and whether the budget trimmed it.

    The total is capped by the offer's max_discount and by `budget` (what the
    stacking cap leaves); a trimmed BXGY total is re-spread over its lines.
    """
    base = sum(s.net for s in slots)
    if offer.kind == Kind.PERCENTAGE:
        wanted = percent_of(base, offer.percent_bp)
    elif offer.kind == Kind.FLAT:
        wanted = offer.amount
    elif offer.kind == Kind.BUY_X_GET_Y:
        raw = bxgy_shares(offer, slots)
        wanted = sum(raw)
    else:
        return [0] * len(slots), False
    amount = min(wanted, base)
    if offer.max_discount:
        amount = min(amount, offer.max_discount)
    capped = amount > budget
    amount = max(min(amount, budget), 0)
    if offer.kind == Kind.BUY_X_GET_Y:
        if amount == sum(raw):
            return raw, capped
        return allocate(amount, raw), capped
    return proportional(amount, slots), capped


def eligible_units(offer: Offer, slots: list[Slot]) -> int:
    return sum(s.quantity for s in slots)
