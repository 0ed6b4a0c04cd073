"""Indian postal rules shared by every service: PIN codes, state/UT codes, mobile numbers.

Plain Python, no I/O. Auth validates addresses with it, inventory warehouses, shipping
zones and pincodes, settings the GST place of supply.
"""

from __future__ import annotations

import re

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
