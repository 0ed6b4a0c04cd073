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
from mesh.india import is_valid_pincode, normalize_mobile, normalize_state_code, state_for_pincode
from mesh.resources import parse_name

COD = "cod"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SHIPPING_OPTIONS = ("standard",)


@dataclass(frozen=True)
class Address:
    recipient_name: str
    phone: str
    line1: str
    line2: str
    landmark: str
    city: str
    state_code: str
    pincode: str
    country_code: str = "IN"

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


def check_address(a: Address, prefix: str = "delivery_address.") -> Address:
    """Validated and normalized (state code canonical, phone +91...); INVALID_ARGUMENT
    with every problem otherwise."""
    v = Violations()
    v.check(bool(a.recipient_name.strip()), prefix + "recipient_name", "is required")
    v.check(len(a.recipient_name) <= 100, prefix + "recipient_name", "at most 100 characters")
    v.check(bool(a.line1.strip()), prefix + "line1", "is required")
    for name in ("line1", "line2", "landmark"):
        v.check(len(getattr(a, name)) <= 200, prefix + name, "at most 200 characters")
    v.check(bool(a.city.strip()), prefix + "city", "is required")
    phone = normalize_mobile(a.phone) if a.phone else None
    v.check(phone is not None, prefix + "phone", "must be a 10-digit Indian mobile number")
    state = normalize_state_code(a.state_code)
    v.check(state is not None, prefix + "state_code", "is not an Indian state/UT code")
    pin_ok = v.check(is_valid_pincode(a.pincode), prefix + "pincode", "6 digits, not 0xxxxx")
    if pin_ok and state is not None:
        pin_state = state_for_pincode(a.pincode)
        v.check(
            pin_state is None or pin_state == state,
            prefix + "pincode",
            f"is in {pin_state}, not {state}",
        )
    v.check(a.country_code in ("", "IN"), prefix + "country_code", "we deliver in India only")
    v.raise_if_any()
    return Address(
        recipient_name=a.recipient_name.strip(),
        phone=phone or "",
        line1=a.line1.strip(),
        line2=a.line2.strip(),
        landmark=a.landmark.strip(),
        city=a.city.strip(),
        state_code=state or "",
        pincode=a.pincode,
        country_code="IN",
    )


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
