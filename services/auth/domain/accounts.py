"""Rules for accounts and addresses: plain Python, no I/O, testable without a server.

Each `validate_*` function records what is wrong in a `Violations` (field paths as
the request names them) and returns the normalized value.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields, replace

from mesh.errors import Violations
from mesh.india import is_valid_pincode, normalize_mobile, normalize_state_code

CUSTOMER_PASSWORD_MIN = 10
ADMIN_PASSWORD_MIN = 12
PASSWORD_MAX = 256
NAME_MAX = 100
EMAIL_MAX = 254
LABEL_MAX = 40
LINE_MAX = 200

_EMAIL = re.compile(
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def _has_control_chars(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in value)


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
    name = " ".join(value.split())
    if not name:
        v.add(field, "is required")
    elif len(name) > NAME_MAX:
        v.add(field, f"must be at most {NAME_MAX} characters")
    elif _has_control_chars(name):
        v.add(field, "must not contain control characters")
    return name


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


@dataclass(frozen=True)
class PostalAddress:
    recipient_name: str = ""
    phone: str = ""
    line1: str = ""
    line2: str = ""
    landmark: str = ""
    city: str = ""
    state_code: str = ""
    pincode: str = ""
    country_code: str = "IN"

    def merged(self, other: PostalAddress, paths: set[str]) -> PostalAddress:
        """This address with the fields named in `paths` taken from `other`."""
        return replace(self, **{f: getattr(other, f) for f in paths})


POSTAL_FIELDS = frozenset(f.name for f in fields(PostalAddress))


def _text(value: str, v: Violations, field: str, *, required: bool, maximum: int) -> str:
    text = " ".join(value.split())
    if required and not text:
        v.add(field, "is required")
    elif len(text) > maximum:
        v.add(field, f"must be at most {maximum} characters")
    elif _has_control_chars(text):
        v.add(field, "must not contain control characters")
    return text


def validate_postal_address(addr: PostalAddress, v: Violations, prefix: str) -> PostalAddress:
    """Validate and normalize an Indian delivery address."""
    p = prefix + "."
    recipient = _text(addr.recipient_name, v, p + "recipient_name", required=True, maximum=NAME_MAX)
    phone = validate_phone(addr.phone, v, p + "phone") if addr.phone else ""
    if not addr.phone:
        v.add(p + "phone", "is required")
    line1 = _text(addr.line1, v, p + "line1", required=True, maximum=LINE_MAX)
    line2 = _text(addr.line2, v, p + "line2", required=False, maximum=LINE_MAX)
    landmark = _text(addr.landmark, v, p + "landmark", required=False, maximum=LINE_MAX)
    city = _text(addr.city, v, p + "city", required=True, maximum=NAME_MAX)
    state = normalize_state_code(addr.state_code)
    if not addr.state_code:
        v.add(p + "state_code", "is required")
    elif state is None:
        v.add(p + "state_code", "is not an Indian state or union territory code")
    pincode = addr.pincode.strip()
    if not pincode:
        v.add(p + "pincode", "is required")
    elif not is_valid_pincode(pincode):
        v.add(p + "pincode", "must be 6 digits and not start with 0")
    country = (addr.country_code or "IN").strip().upper()
    if country != "IN":
        v.add(p + "country_code", "only IN is supported")
    return PostalAddress(
        recipient_name=recipient,
        phone=phone,
        line1=line1,
        line2=line2,
        landmark=landmark,
        city=city,
        state_code=state or addr.state_code,
        pincode=pincode,
        country_code=country,
    )


def validate_label(value: str, v: Violations, field: str) -> str:
    return _text(value, v, field, required=False, maximum=LABEL_MAX)
