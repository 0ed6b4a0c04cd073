"""Shipping rules in plain Python, no I/O: zones, rates, COD, the status timeline."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mesh import india

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
METHOD_KINDS = ("STANDARD", "EXPRESS")
WEIGHT_STEP_GRAMS = 500
RANGE_SPECIFICITY = 7  # a range beats any prefix (at most 6 digits), a prefix beats a state


# --- PIN codes -------------------------------------------------------------------------


class PincodeProblem(Exception):
    """`malformed` (INVALID_ARGUMENT) or `unknown` (NOT_FOUND)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def real_pincode_state(pincode: str, lookup: object = None) -> str:
    """The state code of a real Indian PIN, or PincodeProblem.

    Real means India Post's directory (the `indian-pincode` dataset) lists it; the
    state is mesh.india's answer (prefix table, the dataset within shared districts).
    """
    pincode = pincode.strip()
    if not india.is_valid_pincode(pincode):
        raise PincodeProblem("malformed", "must be 6 digits, the first not 0")
    import indian_pincode

    if not indian_pincode.get_details(pincode):
        raise PincodeProblem("unknown", f"{pincode} is not an Indian PIN code")
    state = india.state_for_pincode(pincode)
    if state is None:
        raise PincodeProblem("unknown", f"{pincode} is not in any state (Army Postal Service?)")
    return state


def pincode_city(pincode: str) -> str:
    """The district India Post files the PIN under, title-cased ("" if unknown)."""
    import indian_pincode

    details = indian_pincode.get_details(pincode) or {}
    districts = details.get("districts") or []
    return str(districts[0]).title() if districts else ""


# --- zones -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneRule:
    id: str
    state_codes: tuple[str, ...]
    prefixes: tuple[str, ...]
    ranges: tuple[tuple[str, str], ...]


def zone_specificity(zone: ZoneRule, pincode: str, state: str) -> int:
    """How specifically `zone` names the PIN: -1 not at all, 0 by state, n by an
    n-digit prefix, RANGE_SPECIFICITY by a range."""
    if any(lo <= pincode <= hi for lo, hi in zone.ranges):
        return RANGE_SPECIFICITY
    best = max((len(p) for p in zone.prefixes if pincode.startswith(p)), default=-1)
    if best >= 0:
        return best
    return 0 if state in zone.state_codes else -1


def match_zone(zones: Iterable[ZoneRule], pincode: str, state: str) -> ZoneRule | None:
    """The most specific zone for the PIN; ties go to the smallest zone id."""
    scored = [(zone_specificity(z, pincode, state), z.id, z) for z in zones]
    scored = [s for s in scored if s[0] >= 0]
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored[0][2]


def check_zone(
    state_codes: Sequence[str], prefixes: Sequence[str], ranges: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Field violations of a zone's coverage."""
    out: list[tuple[str, str]] = []
    for i, code in enumerate(state_codes):
        if india.normalize_state_code(code) is None:
            out.append((f"state_codes[{i}]", f"{code!r} is not a state/UT code"))
    for i, p in enumerate(prefixes):
        if not re.fullmatch(r"[1-9][0-9]{0,5}", p):
            out.append((f"pincode_prefixes[{i}]", "must be 1-6 digits, the first not 0"))
    for i, (lo, hi) in enumerate(ranges):
        if not (india.is_valid_pincode(lo) and india.is_valid_pincode(hi)) or lo > hi:
            out.append((f"pincode_ranges[{i}]", "must be two PIN codes, start <= end"))
    if not (state_codes or prefixes or ranges):
        out.append(("state_codes", "a zone needs states, prefixes or ranges"))
    return out


# --- rates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodRule:
    id: str
    kind: str
    display_name: str
    slabs: tuple[tuple[int, int], ...]  # (max_weight_grams, rate) ascending
    extra_per_500g: int
    free_threshold: int
    cod_available: bool
    cod_fee: int
    cod_max_order_value: int
    estimated_days: int
    carrier_id: str


def check_slabs(slabs: Sequence[tuple[int, int]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not slabs:
        return [("slabs", "at least one weight slab is required")]
    last = 0
    for i, (w, rate) in enumerate(slabs):
        if w <= last:
            out.append((f"slabs[{i}].max_weight_grams", "must be positive and ascending"))
        if rate < 0:
            out.append((f"slabs[{i}].rate_minor", "must not be negative"))
        last = max(last, w)
    return out


def weight_rate(method: MethodRule, weight_grams: int) -> int:
    """The slab rate for a parcel; above the last slab, + extra per started 500 g."""
    for max_w, rate in method.slabs:
        if weight_grams <= max_w:
            return rate
    max_w, rate = method.slabs[-1]
    steps = -(-(weight_grams - max_w) // WEIGHT_STEP_GRAMS)
    return rate + steps * method.extra_per_500g


@dataclass(frozen=True)
class PinRule:
    serviceable: bool
    cod_available: bool
    estimated_days: int
    carrier_id: str


@dataclass(frozen=True)
class Option:
    method: MethodRule
    base_rate: int
    rate: int
    free: bool
    cod_available: bool
    cod_fee: int
    estimated_days: int
    carrier_id: str
    available: bool
    unavailable_reason: str


def quote(
    methods: Iterable[MethodRule],
    pin: PinRule | None,
    weight_grams: int,
    order_value: int,
    wants_cod: bool,
) -> list[Option]:
    """Every method's option for one parcel, cheapest first (then fastest)."""
    if pin is not None and not pin.serviceable:
        return []
    out: list[Option] = []
    for m in methods:
        if not m.slabs:
            continue
        base = weight_rate(m, weight_grams)
        free = m.free_threshold > 0 and order_value >= m.free_threshold
        cod = m.cod_available and (pin is None or pin.cod_available)
        if cod and m.cod_max_order_value and order_value > m.cod_max_order_value:
            cod = False
        days = max(m.estimated_days, pin.estimated_days if pin else 0)
        reason = "COD_NOT_AVAILABLE" if wants_cod and not cod else ""
        out.append(
            Option(
                method=m,
                base_rate=base,
                rate=0 if free else base,
                free=free,
                cod_available=cod,
                cod_fee=m.cod_fee if cod else 0,
                estimated_days=days,
                carrier_id=(pin.carrier_id if pin and pin.carrier_id else m.carrier_id),
                available=not reason,
                unavailable_reason=reason,
            )
        )
    out.sort(key=lambda o: (not o.available, o.rate, o.estimated_days, o.method.id))
    return out


# --- the status timeline ---------------------------------------------------------------

TERMINAL = frozenset({"DELIVERED", "RTO_DELIVERED", "CANCELLED", "LOST"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "CREATED": frozenset({"PICKED_UP", "IN_TRANSIT", "CANCELLED"}),
    "PICKED_UP": frozenset({"IN_TRANSIT", "OUT_FOR_DELIVERY", "RTO", "LOST"}),
    "IN_TRANSIT": frozenset({"OUT_FOR_DELIVERY", "DELIVERED", "FAILED_DELIVERY", "RTO", "LOST"}),
    "OUT_FOR_DELIVERY": frozenset({"DELIVERED", "FAILED_DELIVERY", "RTO", "LOST"}),
    "FAILED_DELIVERY": frozenset({"OUT_FOR_DELIVERY", "IN_TRANSIT", "RTO", "LOST"}),
    "RTO": frozenset({"RTO_DELIVERED", "LOST"}),
    **{s: frozenset() for s in TERMINAL},
}
STATUSES = tuple(TRANSITIONS)


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_slug(value: str) -> bool:
    return SLUG.fullmatch(value) is not None


def parse_bool(raw: str) -> bool | None:
    v = raw.strip().lower()
    if v in ("1", "true", "yes", "y"):
        return True
    if v in ("0", "false", "no", "n"):
        return False
    return None
