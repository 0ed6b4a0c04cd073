"""GST rate resolution: which rule applies to a line, and which slab of it. No I/O.

A rule's key is "hsn:<digits>" or "class:<tax class>". For a line at time `at`:

1. per key, the rule in force is the one with the latest `effective_from <= at`
   (later rules supersede earlier ones; history is kept);
2. HSN first: among keys "hsn:<p>" with <p> a prefix of the line's HSN code, the
   longest prefix wins ("330741" beats "3307");
3. else the line's tax class; else the "class:standard" rule (the residual rate:
   `Resolution.fallback`, which the handler logs and counts, so a product whose HSN
   code no rule covers, or whose class is unknown, is visible);
4. within the rule, the first slab whose `up_to` (tax-inclusive unit price,
   inclusive bound; 0 = none) admits the unit price.

Rates are validated against the GST rates in law (`LEGAL_RATES_BP`), not a range.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

DEFAULT_CLASS = "standard"
# Total GST rates (CGST + SGST, or IGST) the notifications use, in basis points:
# nil; 0.1% (supplies to merchant exporters, 40 and 41/2017-CT(Rate)); 0.25% (rough
# diamonds and precious stones); 1.5% (cut and polished diamonds); 3% (gold, silver,
# jewellery); 5%, 12%, 18%, 28%; and 40% (GST 2.0, 9/2025-CT(Rate) Schedule III).
# Anything else is a typo (1800 for 18% mistyped 180), so it is refused.
LEGAL_RATES_BP = (0, 10, 25, 150, 300, 500, 1200, 1800, 2800, 4000)
_HSN = re.compile(r"[0-9]{2,8}")
_CLASS = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class Slab:
    up_to_minor: int  # 0: no upper bound
    rate_bp: int


@dataclass(frozen=True)
class Rule:
    id: str
    key: str
    slabs: tuple[Slab, ...]
    effective_from: datetime


@dataclass(frozen=True)
class Resolution:
    rule: Rule
    # No HSN rule covers the code and the class has no rule: the standard rate applied.
    fallback: bool
    # The query named a tax class that has no rule in force.
    unknown_class: bool


def clean_hsn(value: str) -> str:
    """HSN digits without the spaces and dots people write ("3307 41" -> "330741")."""
    return re.sub(r"[\s.]", "", value)


def hsn_key(prefix: str) -> str:
    return f"hsn:{prefix}"


def class_key(tax_class: str) -> str:
    return f"class:{tax_class}"


def slab_problems(slabs: Sequence[Slab], field: str) -> list[tuple[str, str]]:
    v: list[tuple[str, str]] = []
    if not slabs:
        return [(field, "at least one slab is required")]
    last = 0
    for i, s in enumerate(slabs):
        f = f"{field}[{i}]"
        if s.rate_bp not in LEGAL_RATES_BP:
            legal = ", ".join(str(r) for r in LEGAL_RATES_BP)
            v.append((f + ".rate_basis_points", f"must be a GST rate in basis points: {legal}"))
        final = i == len(slabs) - 1
        if final and s.up_to_minor != 0:
            v.append((f + ".up_to_unit_price", "the last slab must have no upper bound (0)"))
        if not final and s.up_to_minor <= last:
            v.append((f + ".up_to_unit_price", "must be positive and increasing"))
        last = s.up_to_minor
    return v


def key_problems(hsn_prefix: str, tax_class: str, prefix: str) -> list[tuple[str, str]]:
    if bool(hsn_prefix) == bool(tax_class):
        return [(prefix + "hsn_prefix", "set exactly one of hsn_prefix and tax_class")]
    if hsn_prefix and not _HSN.fullmatch(hsn_prefix):
        return [(prefix + "hsn_prefix", "must be 2 to 8 digits")]
    if tax_class and not _CLASS.fullmatch(tax_class):
        return [(prefix + "tax_class", "lower-case letters, digits and _, at most 32")]
    return []


def in_force(rules: Iterable[Rule], at: datetime) -> dict[str, Rule]:
    """Key -> the rule in force at `at`."""
    out: dict[str, Rule] = {}
    for r in rules:
        if r.effective_from > at:
            continue
        cur = out.get(r.key)
        if cur is None or r.effective_from > cur.effective_from:
            out[r.key] = r
    return out


def resolve(active: dict[str, Rule], hsn_code: str, tax_class: str) -> Resolution | None:
    """The rule for a line (None: not even the standard rule is in force)."""
    hsn = clean_hsn(hsn_code)
    cls = tax_class.strip().lower()
    class_rule = active.get(class_key(cls)) if cls else None
    unknown = bool(cls) and class_rule is None
    for n in range(min(len(hsn), 8), 1, -1):
        rule = active.get(hsn_key(hsn[:n]))
        if rule is not None:
            return Resolution(rule, fallback=False, unknown_class=unknown)
    if class_rule is not None:
        return Resolution(class_rule, fallback=cls == DEFAULT_CLASS, unknown_class=False)
    rule = active.get(class_key(DEFAULT_CLASS))
    return None if rule is None else Resolution(rule, fallback=True, unknown_class=unknown)


def pick_rule(active: dict[str, Rule], hsn_code: str, tax_class: str) -> Rule | None:
    found = resolve(active, hsn_code, tax_class)
    return found.rule if found else None


def pick_slab(rule: Rule, unit_price_minor: int) -> Slab:
    for s in rule.slabs:
        if s.up_to_minor == 0 or unit_price_minor <= s.up_to_minor:
            return s
    return rule.slabs[-1]
