"""Integer paise arithmetic: half-up rounding, percentages, exact allocation.

Every amount is an int count of paise. Nothing here uses floats.
"""

from __future__ import annotations

from collections.abc import Sequence

BASIS_POINTS = 10_000  # 100%


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -div_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def percent_of(amount: int, basis_points: int) -> int:
    """basis_points/10000 of amount, half-up to the paisa (1000 bp of 999 = 99.9 -> 100)."""
    return div_half_up(amount * basis_points, BASIS_POINTS)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` over `weights` in proportion, exactly (largest remainder).

    Each part is floor(total * w / W); the paise left over go one each to the parts
    with the largest remainders, ties to the earlier part. The parts add up to
    `total`, and no part exceeds its weight when total <= sum(weights).
    """
    if total < 0:
        raise ValueError("total must not be negative")
    whole = sum(weights)
    if whole <= 0:
        if total:
            raise ValueError("cannot allocate a positive total over zero weights")
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def rupees(paise: int) -> str:
    """Rs display for messages: 49900 -> "499", 49950 -> "499.50"."""
    sign = "-" if paise < 0 else ""
    rs, p = divmod(abs(paise), 100)
    return f"{sign}{rs:,}" if p == 0 else f"{sign}{rs:,}.{p:02d}"


def percent_text(basis_points: int) -> str:
    whole, frac = divmod(basis_points, 100)
    return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"
