"""Typed store settings: defaults, field-by-field validation, no I/O."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from mesh.india import (
    STATE_CODES,
    gstin_problem,
    gstin_state,
    is_valid_pincode,
    normalize_mobile,
    normalize_state_code,
    state_for_pincode,
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_INVOICE_PREFIX = re.compile(r"[A-Z0-9][A-Z0-9/-]{0,9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")
MAX_MONEY_MINOR = 10_000_000_00  # Rs 1 crore: anything above is a typo
SUPPORTED_CURRENCIES = ("INR",)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Address:
    """The store's registered postal address (cleanse.common.v1.PostalAddress's
    fields); all empty: not given yet."""

    recipient_name: str = ""
    phone: str = ""
    line1: str = ""
    line2: str = ""
    landmark: str = ""
    city: str = ""
    state_code: str = ""
    pincode: str = ""
    country_code: str = ""

    @property
    def is_set(self) -> bool:
        return any(v for k, v in asdict(self).items() if k != "country_code")

    @classmethod
    def from_row(cls, value: Any) -> Address:
        if not isinstance(value, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in value.items() if k in known})


@dataclass(frozen=True)
class StoreConfig:
    store_name: str = "Cleanse Ayurveda"
    legal_name: str = ""
    gstin: str = ""
    registered_state_code: str = "KA"
    invoice_prefix: str = "INV"
    return_window_days: int = 7
    flat_shipping_rate_minor: int = 0
    free_shipping_threshold_minor: int = 0
    currency_code: str = "INR"
    support_email: str = ""
    support_phone: str = ""
    prices_include_tax: bool = True
    registered_address: Address = Address()

    def as_rows(self) -> dict[str, Any]:
        """Setting key -> JSON value (the address is one row holding an object)."""
        return asdict(self)

    @classmethod
    def from_rows(cls, rows: dict[str, Any]) -> StoreConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in rows.items() if k in known}
        if "registered_address" in values:
            values["registered_address"] = Address.from_row(values["registered_address"])
        return cls(**values)


# Field-mask path (proto field name) -> StoreConfig attribute.
MASK_FIELDS: dict[str, str] = {
    "store_name": "store_name",
    "legal_name": "legal_name",
    "gstin": "gstin",
    "registered_state_code": "registered_state_code",
    "invoice_prefix": "invoice_prefix",
    "return_window_days": "return_window_days",
    "flat_shipping_rate": "flat_shipping_rate_minor",
    "free_shipping_threshold": "free_shipping_threshold_minor",
    "currency_code": "currency_code",
    "support_email": "support_email",
    "support_phone": "support_phone",
    "prices_include_tax": "prices_include_tax",
    "registered_address": "registered_address",
}


def _text(value: str) -> str:
    return " ".join(value.split())


def normalize_address(a: Address) -> Address:
    """Whitespace collapsed, codes upper-case, the PIN without spaces; an address with
    nothing in it is the empty (unset) one; a set one is in "IN" unless it says otherwise."""
    if not a.is_set:
        return Address()
    state = a.state_code.strip().upper()
    return Address(
        recipient_name=_text(a.recipient_name),
        phone=a.phone.strip(),
        line1=_text(a.line1),
        line2=_text(a.line2),
        landmark=_text(a.landmark),
        city=_text(a.city),
        state_code=normalize_state_code(state) or state,
        pincode=re.sub(r"\s", "", a.pincode),
        country_code=a.country_code.strip().upper() or "IN",
    )


def normalize(cfg: StoreConfig) -> StoreConfig:
    state = normalize_state_code(cfg.registered_state_code) or cfg.registered_state_code
    return replace(
        cfg,
        store_name=cfg.store_name.strip(),
        legal_name=cfg.legal_name.strip(),
        gstin=cfg.gstin.strip().upper(),
        registered_state_code=state,
        invoice_prefix=cfg.invoice_prefix.strip().upper(),
        currency_code=(cfg.currency_code.strip().upper() or "INR"),
        support_email=cfg.support_email.strip(),
        support_phone=cfg.support_phone.strip(),
        registered_address=normalize_address(cfg.registered_address),
    )


def _money(v: list[tuple[str, str]], value: int, field: str) -> None:
    if value < 0:
        v.append((field, "must not be negative"))
    elif value > MAX_MONEY_MINOR:
        v.append((field, "must be at most Rs 1,00,00,000"))


def _phone_ok(value: str) -> bool:
    return bool(normalize_mobile(value) or _LANDLINE.fullmatch(re.sub(r"[\s-]", "", value)))


def _state(code: str) -> str:
    return f"{STATE_CODES[code]} ({code})" if code in STATE_CODES else code


def address_problems(a: Address, registered_state: str, prefix: str) -> list[tuple[str, str]]:
    """Violations of a (normalized) registered address; none when it is not set. Its PIN
    code must lie in its state, and its state must be the GST registered state."""
    v: list[tuple[str, str]] = []
    if not a.is_set:
        return v
    for field, value, required, maximum in (
        ("recipient_name", a.recipient_name, False, 200),
        ("line1", a.line1, True, 200),
        ("line2", a.line2, False, 200),
        ("landmark", a.landmark, False, 200),
        ("city", a.city, True, 100),
    ):
        if required and not value:
            v.append((prefix + field, "is required"))
        elif len(value) > maximum:
            v.append((prefix + field, f"must be at most {maximum} characters"))
        elif _CONTROL.search(value):
            v.append((prefix + field, "must not contain control characters"))
    if a.phone and not _phone_ok(a.phone):
        v.append((prefix + "phone", "is not an Indian mobile or landline number"))
    state = normalize_state_code(a.state_code) if a.state_code else None
    if not a.state_code:
        v.append((prefix + "state_code", "is required"))
    elif state is None:
        v.append((prefix + "state_code", "is not an Indian state or UT code"))
    elif state != normalize_state_code(registered_state):
        v.append(
            (
                prefix + "state_code",
                f"must be the registered state {registered_state} (registered_state_code)",
            )
        )
    pin_state = state_for_pincode(a.pincode) if is_valid_pincode(a.pincode) else None
    if not a.pincode:
        v.append((prefix + "pincode", "is required"))
    elif not is_valid_pincode(a.pincode):
        v.append((prefix + "pincode", "must be 6 digits and not start with 0"))
    elif pin_state is None:
        v.append((prefix + "pincode", "is not in an Indian state or union territory"))
    elif state is not None and pin_state != state:
        v.append((prefix + "pincode", f"is in {_state(pin_state)}, not in {_state(state)}"))
    if a.country_code != "IN":
        v.append((prefix + "country_code", "only IN is supported"))
    return v


def problems(cfg: StoreConfig, prefix: str = "store_settings.") -> list[tuple[str, str]]:
    """Every field violation of a (normalized) configuration."""
    v: list[tuple[str, str]] = []
    if not cfg.store_name or len(cfg.store_name) > 100:
        v.append((prefix + "store_name", "is required, at most 100 characters"))
    if len(cfg.legal_name) > 200:
        v.append((prefix + "legal_name", "must be at most 200 characters"))
    if normalize_state_code(cfg.registered_state_code) is None:
        v.append((prefix + "registered_state_code", "is not an Indian state or UT code"))
    if cfg.gstin:
        why = gstin_problem(cfg.gstin)
        if why:
            v.append((prefix + "gstin", why))
        elif gstin_state(cfg.gstin) != normalize_state_code(cfg.registered_state_code):
            v.append(
                (prefix + "gstin", "is registered in another state than registered_state_code")
            )
    if not _INVOICE_PREFIX.fullmatch(cfg.invoice_prefix):
        v.append((prefix + "invoice_prefix", "1-10 of A-Z, 0-9, '-' or '/', starting alphanumeric"))
    if not 0 <= cfg.return_window_days <= 365:
        v.append((prefix + "return_window_days", "must be between 0 and 365"))
    _money(v, cfg.flat_shipping_rate_minor, prefix + "flat_shipping_rate")
    _money(v, cfg.free_shipping_threshold_minor, prefix + "free_shipping_threshold")
    if cfg.currency_code not in SUPPORTED_CURRENCIES:
        v.append((prefix + "currency_code", "only INR is supported"))
    if cfg.support_email and not _EMAIL.fullmatch(cfg.support_email):
        v.append((prefix + "support_email", "is not an email address"))
    if cfg.support_phone and not _phone_ok(cfg.support_phone):
        v.append((prefix + "support_phone", "is not an Indian mobile or landline number"))
    v.extend(
        address_problems(
            cfg.registered_address, cfg.registered_state_code, prefix + "registered_address."
        )
    )
    return v
