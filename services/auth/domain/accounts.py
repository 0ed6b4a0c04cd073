"""Rules for accounts and addresses: plain Python, no I/O, testable without a server.

Each `validate_*` function records what is wrong in a `Violations` (field paths as
the request names them) and returns the normalized value. Postal addresses follow
mesh.india's delivery-address rules (`validate_delivery_address`), the same rules
order applies at checkout.
"""

from __future__ import annotations

import re

from mesh.errors import Violations
from mesh.india import (
    NAME_MAX,
    clean_text,
    normalize_mobile,
)

CUSTOMER_PASSWORD_MIN = 10
ADMIN_PASSWORD_MIN = 12
PASSWORD_MAX = 256
EMAIL_MAX = 254
LABEL_MAX = 40

_EMAIL = re.compile(
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def normalize_email(value: str) -> str:
    """The lookup key of an email: trimmed and lower-cased (unique case-insensitively)."""
    return value.strip().lower()


def validate_email(value: str, v: Violations, field: str = "email") -> str:
    email = value.strip()
    if not email:
        v.add(field, "is required")
    elif len(email) > EMAIL_MAX or _EMAIL.fullmatch(email) is None:
        v.add(field, "is not a valid email address")
    return email


def validate_full_name(value: str, v: Violations, field: str = "full_name") -> str:
    return clean_text(value, v, field, required=True, maximum=NAME_MAX)


def validate_phone(value: str, v: Violations, field: str = "phone") -> str:
    phone = normalize_mobile(value)
    if phone is None:
        v.add(field, "must be a 10-digit Indian mobile number starting with 6-9")
        return value
    return phone


def validate_password(
    value: str, v: Violations, field: str = "password", *, minimum: int = CUSTOMER_PASSWORD_MIN
) -> str:
    if len(value) < minimum:
        v.add(field, f"must be at least {minimum} characters")
    elif len(value) > PASSWORD_MAX:
        v.add(field, f"must be at most {PASSWORD_MAX} characters")
    elif not value.strip():
        v.add(field, "must not be blank")
    return value


def validate_label(value: str, v: Violations, field: str) -> str:
    return clean_text(value, v, field, required=False, maximum=LABEL_MAX)
