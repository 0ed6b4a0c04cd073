"""Typed store settings: defaults, field-by-field validation, no I/O."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from mesh.india import gstin_problem, gstin_state, normalize_mobile, normalize_state_code

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_INVOICE_PREFIX = re.compile(r"[A-Z0-9][A-Z0-9/-]{0,9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")
MAX_MONEY_MINOR = 10_000_000_00  # Rs 1 crore: anything above is a typo
SUPPORTED_CURRENCIES = ("INR",)


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

    def as_rows(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_rows(cls, rows: dict[str, Any]) -> StoreConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in rows.items() if k in known})


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
}


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
    )


def _money(v: list[tuple[str, str]], value: int, field: str) -> None:
    if value < 0:
        v.append((field, "must not be negative"))
    elif value > MAX_MONEY_MINOR:
        v.append((field, "must be at most Rs 1,00,00,000"))


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
    if cfg.support_phone and not (
        normalize_mobile(cfg.support_phone)
        or _LANDLINE.fullmatch(re.sub(r"[\s-]", "", cfg.support_phone))
    ):
        v.append((prefix + "support_phone", "is not an Indian mobile or landline number"))
    return v
