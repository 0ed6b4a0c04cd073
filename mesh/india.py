"""Indian postal rules shared by every service: PIN codes, state/UT codes, mobile numbers.

Plain Python, no I/O. Auth validates addresses with it, inventory warehouses, shipping
zones and pincodes, settings the GST place of supply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from mesh.errors import Violations

# The 28 states and 8 union territories, by their ISO 3166-2:IN codes (2023 revision).
STATE_CODES: dict[str, str] = {
    "AP": "Andhra Pradesh",
    "AR": "Arunachal Pradesh",
    "AS": "Assam",
    "BR": "Bihar",
    "CG": "Chhattisgarh",
    "GA": "Goa",
    "GJ": "Gujarat",
    "HR": "Haryana",
    "HP": "Himachal Pradesh",
    "JH": "Jharkhand",
    "KA": "Karnataka",
    "KL": "Kerala",
    "MP": "Madhya Pradesh",
    "MH": "Maharashtra",
    "MN": "Manipur",
    "ML": "Meghalaya",
    "MZ": "Mizoram",
    "NL": "Nagaland",
    "OD": "Odisha",
    "PB": "Punjab",
    "RJ": "Rajasthan",
    "SK": "Sikkim",
    "TN": "Tamil Nadu",
    "TS": "Telangana",
    "TR": "Tripura",
    "UP": "Uttar Pradesh",
    "UK": "Uttarakhand",
    "WB": "West Bengal",
    "AN": "Andaman and Nicobar Islands",
    "CH": "Chandigarh",
    "DH": "Dadra and Nagar Haveli and Daman and Diu",
    "DL": "Delhi",
    "JK": "Jammu and Kashmir",
    "LA": "Ladakh",
    "LD": "Lakshadweep",
    "PY": "Puducherry",
}

# Codes still in common use from before the 2023 ISO revision.
LEGACY_STATE_CODES: dict[str, str] = {
    "CT": "CG",
    "OR": "OD",
    "TG": "TS",
    "UT": "UK",
    "DN": "DH",
    "DD": "DH",
}

_PINCODE = re.compile(r"[1-9][0-9]{5}")
_MOBILE = re.compile(r"[6-9][0-9]{9}")


def normalize_state_code(value: str) -> str | None:
    """The canonical state/UT code, or None if `value` is not one."""
    code = value.strip().upper()
    code = LEGACY_STATE_CODES.get(code, code)
    return code if code in STATE_CODES else None


def is_valid_pincode(value: str) -> bool:
    """Six digits, the first never 0."""
    return _PINCODE.fullmatch(value) is not None


def normalize_mobile(value: str) -> str | None:
    """ "+91XXXXXXXXXX" for a 10-digit Indian mobile (optionally +91 / 91 prefixed), else None.

    Spaces and hyphens between digits are ignored.
    """
    raw = re.sub(r"[\s-]", "", value)
    if raw.startswith("+91"):
        raw = raw[3:]
    elif len(raw) == 12 and raw.startswith("91"):
        raw = raw[2:]
    if _MOBILE.fullmatch(raw) is None:
        return None
    return "+91" + raw


# --- GST state codes and GSTIN ------------------------------------------------------

# The GST state codes (the first two digits of a GSTIN), per the GST portal's list.
# 25 (Daman and Diu) and 26 (Dadra and Nagar Haveli) both map to the merged UT; 28
# is Andhra Pradesh before 2014 (new registrations use 37); 97 "other territory".
GST_STATE_CODES: dict[str, str] = {
    "01": "JK",
    "02": "HP",
    "03": "PB",
    "04": "CH",
    "05": "UK",
    "06": "HR",
    "07": "DL",
    "08": "RJ",
    "09": "UP",
    "10": "BR",
    "11": "SK",
    "12": "AR",
    "13": "NL",
    "14": "MN",
    "15": "MZ",
    "16": "TR",
    "17": "ML",
    "18": "AS",
    "19": "WB",
    "20": "JH",
    "21": "OD",
    "22": "CG",
    "23": "MP",
    "24": "GJ",
    "25": "DH",
    "26": "DH",
    "27": "MH",
    "28": "AP",
    "29": "KA",
    "30": "GA",
    "31": "LD",
    "32": "KL",
    "33": "TN",
    "34": "PY",
    "35": "AN",
    "36": "TS",
    "37": "AP",
    "38": "LA",
}

_GSTIN = re.compile(r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]")
_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gstin_check_character(first14: str) -> str:
    """The GSTIN checksum character for its first 14 characters (base-36 Luhn mod N:
    weights 1, 2, 1, 2...; each product contributes quotient + remainder by 36)."""
    total = 0
    for i, ch in enumerate(first14):
        product = _GSTIN_ALPHABET.index(ch) * (2 if i % 2 else 1)
        total += product // 36 + product % 36
    return _GSTIN_ALPHABET[(36 - total % 36) % 36]


def gstin_problem(value: str) -> str | None:
    """Why `value` is not a valid GSTIN, or None when it is.

    Checks the shape (state code, PAN, entity number, "Z", checksum), that the state
    code is a known GST state and the checksum character.
    """
    if _GSTIN.fullmatch(value) is None:
        return "must be 15 characters: 2-digit state code, PAN, entity number, Z, checksum"
    if value[:2] not in GST_STATE_CODES:
        return f"starts with {value[:2]!r}, which is not a GST state code"
    if gstin_check_character(value[:14]) != value[14]:
        return "checksum character does not match"
    return None


def gstin_state(value: str) -> str | None:
    """The state/UT code a valid GSTIN is registered in ("29..." -> "KA")."""
    return GST_STATE_CODES.get(value[:2]) if gstin_problem(value) is None else None


# --- PIN code -> state (GST place of supply) -------------------------------------------

# The first digit of a PIN is the postal region, the first two the postal circle,
# the first three the sorting district. Most circles are one state; the longest
# matching prefix wins, so three-digit entries carve states out of shared circles
# and five/six-digit entries name enclaves (Lakshadweep, Mahe, Yanam, Daman, Diu,
# Silvassa). 90-99 are the Army Postal Service: no state.
PIN_PREFIX_STATES: dict[str, str] = {
    "11": "DL",
    "12": "HR",
    "13": "HR",
    "14": "PB",
    "15": "PB",
    "16": "PB",
    "160": "CH",
    "17": "HP",
    "18": "JK",
    "19": "JK",
    "194": "LA",
    **{str(p): "UP" for p in range(20, 29)},
    "246": "UK",
    "248": "UK",
    "249": "UK",
    "262": "UK",
    "263": "UK",
    **{str(p): "RJ" for p in range(30, 35)},
    **{str(p): "GJ" for p in range(36, 40)},
    "36252": "DH",  # Diu 362520
    "36254": "DH",  # Diu 362540 (Ghoghla)
    "36257": "DH",  # Diu 362570 (Vanakbara)
    "39621": "DH",  # Daman 396210, 396215
    "39622": "DH",  # Daman 396220
    "39623": "DH",  # Silvassa 396230, 396235
    "39624": "DH",  # Dadra and Nagar Haveli 396240
    **{str(p): "MH" for p in range(40, 45)},
    "403": "GA",
    **{str(p): "MP" for p in range(45, 49)},
    "49": "CG",
    "50": "TS",
    "51": "AP",
    "52": "AP",
    "53": "AP",
    "533464": "PY",  # Yanam
    **{str(p): "KA" for p in range(56, 60)},
    **{str(p): "TN" for p in range(60, 65)},
    "605": "TN",  # shared with Puducherry: see PIN_SHARED_PREFIXES
    "60500": "PY",  # Puducherry town 605001-605009
    "60501": "PY",  # Puducherry town 605010-605014
    "67": "KL",
    "68": "KL",
    "69": "KL",
    "673310": "PY",  # Mahe
    "68255": "LD",  # Lakshadweep 682551-682559
    **{str(p): "WB" for p in range(70, 75)},
    "737": "SK",
    "744": "AN",
    "75": "OD",
    "76": "OD",
    "77": "OD",
    "78": "AS",
    "790": "AR",
    "791": "AR",
    "792": "AR",
    "793": "ML",
    "794": "ML",
    "795": "MN",
    "796": "MZ",
    "797": "NL",
    "798": "NL",
    "799": "TR",
    **{str(p): "BR" for p in range(80, 86)},
    **{str(p): "JH" for p in (814, 815, 816, 818, 822, 825, 826, 827, 828, 829)},
    **{str(p): "JH" for p in range(831, 836)},
}

# Sorting districts whose PINs belong to more than one state. The table above gives
# the dominant one; the PIN-level dataset (below) may pick another of these.
PIN_SHARED_PREFIXES: dict[str, tuple[str, ...]] = {
    "160": ("CH", "PB"),
    "244": ("UP", "UK"),
    "246": ("UK", "UP"),
    "247": ("UP", "UK"),
    "262": ("UK", "UP"),
    "362": ("GJ", "DH"),
    "396": ("GJ", "DH"),
    "533": ("AP", "PY"),
    "605": ("TN", "PY"),
    "607": ("TN", "PY"),
    "609": ("TN", "PY"),
    "673": ("KL", "PY"),
    "682": ("KL", "LD"),
    "813": ("BR", "JH"),
}

_DATASET_STATE_NAMES = {name.upper(): code for code, name in STATE_CODES.items()}
_DATASET_STATE_NAMES["THE DADRA AND NAGAR HAVELI AND DAMAN AND DIU"] = "DH"


def _dataset_states(pincode: str) -> list[str]:
    """States the `indian-pincode` dataset (India Post's directory) gives a PIN, as codes."""
    try:
        import indian_pincode  # optional: pinned in pyproject.toml
    except ImportError:  # pragma: no cover - the prefix table still answers
        return []
    details = indian_pincode.get_details(pincode) or {}
    names = [details.get("state") or "", *(details.get("states") or [])]
    return [c for c in (_DATASET_STATE_NAMES.get(n.upper()) for n in names) if c]


def _longest_prefix(pincode: str) -> tuple[str, str] | None:
    for n in range(6, 1, -1):
        state = PIN_PREFIX_STATES.get(pincode[:n])
        if state is not None:
            return pincode[:n], state
    return None


def state_for_pincode(pincode: str) -> str | None:
    """The state/UT code a delivery PIN code is in (GST place of supply), or None.

    None for a malformed PIN and for Army Postal Service PINs (9xxxxx). The prefix
    table decides; within a shared sorting district (PIN_SHARED_PREFIXES) and
    unless a five/six-digit enclave entry matched, the PIN-level dataset picks
    among that district's states. The dataset alone never overrides the table: it
    has stray wrong rows (e.g. a Tripura PIN filed under Telangana).
    """
    pincode = pincode.strip()
    if not is_valid_pincode(pincode):
        return None
    match = _longest_prefix(pincode)
    if match is None:
        return None
    prefix, state = match
    candidates = PIN_SHARED_PREFIXES.get(pincode[:3])
    if candidates and len(prefix) <= 3:
        for code in _dataset_states(pincode):
            if code in candidates:
                return code
    return state


# --- delivery addresses ---------------------------------------------------------------

NAME_MAX = 100
LINE_MAX = 200


@dataclass(frozen=True)
class PostalAddress:
    """An Indian postal address (cleanse.common.v1.PostalAddress's fields): what auth
    keeps in address books and order delivers to, validated by one set of rules."""

    recipient_name: str = ""
    phone: str = ""
    line1: str = ""
    line2: str = ""
    landmark: str = ""
    city: str = ""
    state_code: str = ""
    pincode: str = ""
    country_code: str = "IN"

    @classmethod
    def of(cls, source: Any) -> PostalAddress:
        """The fields of anything that has them: a PostalAddress message, a row."""
        return cls(**{f: getattr(source, f) or "" for f in POSTAL_FIELDS})

    def merged(self, other: PostalAddress, paths: set[str]) -> PostalAddress:
        """This address with the fields named in `paths` taken from `other`."""
        return replace(self, **{f: getattr(other, f) for f in paths})

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


POSTAL_FIELDS = frozenset(f.name for f in fields(PostalAddress))


def has_control_chars(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in value)


def clean_text(value: str, v: Violations, field: str, *, required: bool, maximum: int) -> str:
    text = " ".join(value.split())
    if required and not text:
        v.add(field, "is required")
    elif len(text) > maximum:
        v.add(field, f"must be at most {maximum} characters")
    elif has_control_chars(text):
        v.add(field, "must not contain control characters")
    return text


def validate_delivery_address(a: PostalAddress, v: Violations, prefix: str) -> PostalAddress:
    """`a` normalized (whitespace collapsed, state code canonical, mobile +91...,
    country IN); every problem added to `v` under `prefix` + the field's name. The PIN
    code must lie in the state (where the PIN dataset knows it): an address book and a
    checkout accept exactly the same addresses."""
    recipient = clean_text(
        a.recipient_name, v, prefix + "recipient_name", required=True, maximum=NAME_MAX
    )
    phone = normalize_mobile(a.phone) if a.phone else None
    if not a.phone:
        v.add(prefix + "phone", "is required")
    elif phone is None:
        v.add(prefix + "phone", "must be a 10-digit Indian mobile number starting with 6-9")
    line1 = clean_text(a.line1, v, prefix + "line1", required=True, maximum=LINE_MAX)
    line2 = clean_text(a.line2, v, prefix + "line2", required=False, maximum=LINE_MAX)
    landmark = clean_text(a.landmark, v, prefix + "landmark", required=False, maximum=LINE_MAX)
    city = clean_text(a.city, v, prefix + "city", required=True, maximum=NAME_MAX)
    state = normalize_state_code(a.state_code)
    if not a.state_code:
        v.add(prefix + "state_code", "is required")
    elif state is None:
        v.add(prefix + "state_code", "is not an Indian state or union territory code")
    pincode = a.pincode.strip()
    if not pincode:
        v.add(prefix + "pincode", "is required")
    elif not is_valid_pincode(pincode):
        v.add(prefix + "pincode", "must be 6 digits and not start with 0")
    elif state is not None:
        pin_state = state_for_pincode(pincode)
        if pin_state is not None and pin_state != state:
            v.add(prefix + "pincode", f"is in {pin_state}, not {state}")
    country = (a.country_code or "IN").strip().upper()
    if country != "IN":
        v.add(prefix + "country_code", "only IN is supported")
    return PostalAddress(
        recipient_name=recipient,
        phone=phone or a.phone,
        line1=line1,
        line2=line2,
        landmark=landmark,
        city=city,
        state_code=state or a.state_code,
        pincode=pincode,
        country_code=country,
    )
