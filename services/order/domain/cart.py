"""Cart rules: limits, quantities and merging. Plain Python, no I/O."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping

from mesh.errors import Violations

MAX_LINE_QUANTITY = 10
MAX_LINES = 50
_VARIANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOKEN_BYTES = 32


def new_cart_token() -> str:
    """A guest cart's capability: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored: the token's SHA-256 (a random 256-bit token needs no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def valid_variant_id(variant_id: str) -> bool:
    return _VARIANT_ID.fullmatch(variant_id) is not None


def check_line(variant_id: str, quantity: int, *, allow_zero: bool = False) -> None:
    v = Violations()
    v.check(valid_variant_id(variant_id), "variant_id", "is not a valid variant id")
    low = 0 if allow_zero else 1
    v.check(
        low <= quantity <= MAX_LINE_QUANTITY,
        "quantity",
        f"must be between {low} and {MAX_LINE_QUANTITY}",
    )
    v.raise_if_any()


def add(lines: Mapping[str, int], variant_id: str, quantity: int) -> dict[str, int]:
    """Lines after adding `quantity` of a variant (INVALID_ARGUMENT past the limits)."""
    check_line(variant_id, quantity)
    out = dict(lines)
    new_qty = out.get(variant_id, 0) + quantity
    v = Violations()
    v.check(
        new_qty <= MAX_LINE_QUANTITY,
        "quantity",
        f"at most {MAX_LINE_QUANTITY} of one item per cart "
        f"(the cart already has {out.get(variant_id, 0)})",
    )
    v.check(variant_id in out or len(out) < MAX_LINES, "variant_id", f"at most {MAX_LINES} lines")
    v.raise_if_any()
    out[variant_id] = new_qty
    return out


def set_quantity(lines: Mapping[str, int], variant_id: str, quantity: int) -> dict[str, int]:
    """Lines after setting a variant's quantity; 0 removes it."""
    check_line(variant_id, quantity, allow_zero=True)
    out = dict(lines)
    if quantity == 0:
        out.pop(variant_id, None)
        return out
    v = Violations()
    v.check(variant_id in out or len(out) < MAX_LINES, "variant_id", f"at most {MAX_LINES} lines")
    v.raise_if_any()
    out[variant_id] = quantity
    return out


def merge(
    customer: Mapping[str, int], guest: Mapping[str, int]
) -> tuple[dict[str, int], list[str]]:
    """The customer's lines plus the guest's (quantities added, capped per line; lines
    beyond the cart limit dropped). Returns (lines, notes about what was capped)."""
    out = dict(customer)
    notes: list[str] = []
    for variant_id, qty in sorted(guest.items()):
        if variant_id not in out and len(out) >= MAX_LINES:
            notes.append(f"{variant_id} not merged: the cart has {MAX_LINES} lines")
            continue
        total = out.get(variant_id, 0) + qty
        if total > MAX_LINE_QUANTITY:
            notes.append(f"{variant_id} capped at {MAX_LINE_QUANTITY}")
            total = MAX_LINE_QUANTITY
        out[variant_id] = total
    return out, notes
