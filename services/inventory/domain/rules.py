"""Input rules for inventory resources. Plain Python, no I/O.

Indian address rules (PIN code, the 36 state/UT codes) come from `mesh.india`.
"""

from __future__ import annotations

import re

from mesh import india

WAREHOUSE_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
VARIANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
MAX_LINES = 100
MAX_QUANTITY = 1_000_000


def valid_pincode(pincode: str) -> bool:
    """6 digits, not starting with 0."""
    return india.is_valid_pincode(pincode)


def state_code(value: str) -> str | None:
    """The canonical state/UT code for `value` (legacy codes accepted), or None."""
    return india.normalize_state_code(value)


def valid_state_code(value: str) -> bool:
    return state_code(value) is not None


def valid_variant_id(variant_id: str) -> bool:
    return bool(VARIANT_ID.fullmatch(variant_id))
