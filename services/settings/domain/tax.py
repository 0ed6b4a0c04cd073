"""GST rate resolution: which rule applies to a line, and which slab of it. No I/O.

A rule's key is "hsn:<digits>" or "class:<tax class>". For a line at time `at`:

1. per key, the rule in force is the one with the latest `effective_from <= at`
   (later rules supersede earlier ones; history is kept);
2. HSN first: among keys "hsn:<p>" with <p> a prefix of the line's HSN code, the
   longest prefix wins ("330741" beats "3307");
3. else the line's tax class; else the "class:standard" rule;
4. within the rule, the first slab whose `up_to` (tax-inclusive unit price,
   inclusive bound; 0 = none) admits the unit price.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

DEFAULT_CLASS = "standard"
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
        if not 0 <= s.rate_bp <= 2800:
            v.append((f + ".rate_basis_points", "must be between 0 and 2800 (28%)"))
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


def pick_rule(active: dict[str, Rule], hsn_code: str, tax_class: str) -> Rule | None:
    hsn = clean_hsn(hsn_code)
    for n in range(min(len(hsn), 8), 1, -1):
        rule = active.get(hsn_key(hsn[:n]))
        if rule is not None:
            return rule
    if tax_class:
        rule = active.get(class_key(tax_class.strip().lower()))
        if rule is not None:
            return rule
    return active.get(class_key(DEFAULT_CLASS))


def pick_slab(rule: Rule, unit_price_minor: int) -> Slab:
    for s in rule.slabs:
        if s.up_to_minor == 0 or unit_price_minor <= s.up_to_minor:
            return s
    return rule.slabs[-1]
