"""Checkout rules: address checks, payment-method eligibility, the idempotency body
hash and the order-line snapshot. Plain Python, no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mesh.errors import Violations
from mesh.gst import split_tax
from mesh.india import PostalAddress, normalize_mobile, validate_delivery_address
from mesh.resources import parse_name

COD = "cod"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SHIPPING_OPTIONS = ("standard",)


def check_address(a: PostalAddress, prefix: str = "delivery_address.") -> PostalAddress:
    """Validated and normalized by mesh.india's delivery-address rules (the ones auth
    applies to address books); INVALID_ARGUMENT with every problem otherwise."""
    v = Violations()
    out = validate_delivery_address(a, v, prefix)
    v.raise_if_any()
    return out


def saved_address_ref(name: str) -> tuple[str, str] | None:
    """A saved address as a customer names it -> (owner's user id, or "" for the
    caller, address id): "addresses/{id}" -> ("", id), "users/{u}/addresses/{id}" ->
    (u, id); None when malformed."""
    user, sep, rest = name.partition("/addresses/")
    if not sep:
        aid = parse_name(name, "addresses")
        return ("", aid) if aid is not None else None
    uid, aid = parse_name(user, "users"), parse_name(f"addresses/{rest}", "addresses")
    return (uid, aid) if uid is not None and aid is not None else None


def check_contact(email: str, phone: str, *, guest: bool) -> tuple[str, str]:
    """(email, phone normalized). Guests must give both."""
    v = Violations()
    email = email.strip().lower()
    if guest or email:
        v.check(bool(_EMAIL.fullmatch(email)) and len(email) <= 254, "email", "is not an email")
    norm = normalize_mobile(phone) if phone else None
    if guest or phone:
        v.check(norm is not None, "phone", "must be a 10-digit Indian mobile number")
    v.raise_if_any()
    return email, norm or ""


@dataclass(frozen=True)
class MethodConfig:
    code: str
    enabled: bool
    min_minor: int = 0  # 0: no limit
    max_minor: int = 0
    fee_minor: int = 0


def method_allowed(m: MethodConfig, order_value_minor: int) -> bool:
    if not m.enabled:
        return False
    if m.min_minor and order_value_minor < m.min_minor:
        return False
    return not (m.max_minor and order_value_minor > m.max_minor)


def allowed_methods(methods: Sequence[MethodConfig], order_value_minor: int) -> list[str]:
    return [m.code for m in methods if method_allowed(m, order_value_minor)]


def provider_for(method: str) -> str:
    """RAZORPAY for every razorpay_* method, COD for cash on delivery."""
    if method == COD:
        return "COD"
    if method.startswith("razorpay"):
        return "RAZORPAY"
    return ""


def body_hash(payload: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Catalogued:
    """What the catalog says about a variant at the time of sale."""

    product_id: str = ""
    product_name: str = ""
    variant_title: str = ""
    sku: str = ""
    hsn_code: str = ""


@dataclass(frozen=True)
class PricedLineFacts:
    """The figures of one pricing PricedLine (paise)."""

    variant_id: str
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_mrp: int
    unit_price: int
    discount: int
    taxable: int
    tax: int
    total: int
    hsn_code: str
    rate_bp: int
    free_gift: bool = False
    gift_rule: str = ""
    cgst: int = 0
    sgst: int = 0
    igst: int = 0


@dataclass(frozen=True)
class ItemSnapshot:
    variant_id: str
    product_id: str
    product_name: str
    variant_title: str
    sku: str
    hsn_code: str
    quantity: int
    unit_mrp: int
    unit_price: int
    discount: int
    taxable: int
    rate_bp: int
    cgst: int
    sgst: int
    igst: int
    total: int
    free_gift: bool
    gift_rule: str = ""
    notes: list[str] = field(default_factory=list)


def snapshot_item(
    line: PricedLineFacts, cat: Catalogued | None, registered_state: str, place_of_supply: str
) -> ItemSnapshot:
    """An order line as sold. Pricing's tax figures are kept; when pricing gave the
    tax without its split, mesh.gst splits it (CGST+SGST intra-state, else IGST)."""
    cgst, sgst, igst = line.cgst, line.sgst, line.igst
    if cgst + sgst + igst != line.tax and registered_state and place_of_supply:
        cgst, sgst, igst = split_tax(line.tax, registered_state, place_of_supply)
    return ItemSnapshot(
        variant_id=line.variant_id,
        product_id=(cat.product_id if cat and cat.product_id else line.product_id),
        product_name=(cat.product_name if cat and cat.product_name else line.title),
        variant_title=cat.variant_title if cat else "",
        sku=(cat.sku if cat and cat.sku else line.sku),
        hsn_code=line.hsn_code or (cat.hsn_code if cat else ""),
        quantity=line.quantity,
        unit_mrp=line.unit_mrp,
        unit_price=line.unit_price,
        discount=line.discount,
        taxable=line.taxable,
        rate_bp=line.rate_bp,
        cgst=cgst,
        sgst=sgst,
        igst=igst,
        total=line.total,
        free_gift=line.free_gift,
        gift_rule=line.gift_rule,
    )
