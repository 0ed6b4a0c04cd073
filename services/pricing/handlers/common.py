"""What every handler shares: the caller, cart validation, hashing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from cleanse.pricing.v1 import breakdown_pb2
from mesh import context as call_context
from mesh.errors import InvalidArgument, Violations
from mesh.india import is_valid_pincode
from mesh.resources import require_name
from services.pricing.domain.coupons import normalize_codes

Clock = Callable[[], datetime]

MAX_LINES = 100
MAX_QUANTITY = 99
MAX_CODES = 10
# Mesh services whose `customer` field is believed (the edge relays outside callers).
TRUSTED_CALLERS = frozenset({"order"})


def customer_id(requested: str = "", *, field: str = "customer") -> str:
    """Who the cart is priced for: the token's customer; a trusted service may name one."""
    ident = call_context.identity()
    if ident.kind == "service" and ident.subject in TRUSTED_CALLERS and requested:
        return require_name(requested, "users", field)
    if ident.is_customer:
        return ident.subject_id
    return ""


def cart_lines(cart: breakdown_pb2.Cart, prefix: str = "cart") -> tuple[tuple[str, int], ...]:
    """Validated lines, merged by variant, sorted by variant id."""
    v = Violations()
    # Every request runs this: the violations' texts are only built for a bad cart.
    lines = cart.lines
    codes = cart.coupon_codes
    if len(lines) > MAX_LINES:
        v.add(f"{prefix}.lines", f"at most {MAX_LINES} lines")
    if len(codes) > MAX_CODES:
        v.add(f"{prefix}.coupon_codes", f"at most {MAX_CODES}")
    for i, code in enumerate(codes):
        if len(code) > 64:
            v.add(f"{prefix}.coupon_codes[{i}]", "at most 64 characters")
    pincode = cart.delivery_pincode
    if pincode and not is_valid_pincode(pincode):
        v.add(f"{prefix}.delivery_pincode", "must be 6 digits, not starting with 0")
    merged: dict[str, int] = {}
    for i, line in enumerate(lines):
        vid = line.variant_id
        qty = line.quantity
        if not vid or len(vid) > 64:
            v.add(f"{prefix}.lines[{i}].variant_id", "is required (at most 64 characters)")
        if not 0 < qty <= MAX_QUANTITY:
            v.add(f"{prefix}.lines[{i}].quantity", f"must be between 1 and {MAX_QUANTITY}")
        merged[vid] = merged.get(vid, 0) + qty
    v.raise_if_any()
    over = [vid for vid, q in merged.items() if q > MAX_QUANTITY]
    if over:
        raise InvalidArgument({f"{prefix}.lines": f"at most {MAX_QUANTITY} of {over[0]}"})
    return tuple(sorted(merged.items()))


def body_hash(
    cart: breakdown_pb2.Cart,
    customer: str,
    ttl: int,
    lines: tuple[tuple[str, int], ...] | None = None,
) -> str:
    """The idempotency hash of a hold request; `lines`: cart_lines(cart), if known."""
    payload = {
        "lines": cart_lines(cart) if lines is None else lines,
        "codes": normalize_codes(cart.coupon_codes),
        "pincode": cart.delivery_pincode,
        "payment": cart.payment_method,
        "customer": customer,
        "ttl": ttl,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
