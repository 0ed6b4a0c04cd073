"""Human-friendly order numbers: "CL-2026-000123" (prefix, year, a per-year counter)."""

from __future__ import annotations

import re

PREFIX = "CL"
WIDTH = 6
_NUMBER = re.compile(r"[A-Z]{2}-\d{4}-\d{6,}")


def format_order_number(year: int, value: int, prefix: str = PREFIX) -> str:
    if value <= 0:
        raise ValueError("order number counter starts at 1")
    return f"{prefix}-{year:04d}-{value:0{WIDTH}d}"


def looks_like_order_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None
