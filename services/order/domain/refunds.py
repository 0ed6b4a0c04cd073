"""Refund arithmetic: what may still be refunded, and a line's share. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mesh.errors import FailedPrecondition, Violations
from mesh.gst import round_half_up_div

COUNTED = ("PENDING", "PROCESSED")  # FAILED refunds free their amount again


@dataclass(frozen=True)
class PastRefund:
    amount: int
    state: str
    lines: Sequence[tuple[str, int]] = ()


@dataclass(frozen=True)
class SoldLine:
    variant_id: str
    quantity: int
    total: int  # what was paid for the line


def refundable(paid_total: int, past: Iterable[PastRefund]) -> int:
    """Captured minus refunded minus pending."""
    return paid_total - sum(r.amount for r in past if r.state in COUNTED)


def refunded_quantities(past: Iterable[PastRefund]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in past:
        if r.state in COUNTED:
            for vid, qty in r.lines:
                out[vid] = out.get(vid, 0) + qty
    return out


def lines_amount(
    wanted: Mapping[str, int], sold: Sequence[SoldLine], past: Iterable[PastRefund]
) -> int:
    """The share of what was paid for `wanted` units (per line, half-up to the paisa);
    INVALID_ARGUMENT for unknown variants or more units than remain unrefunded."""
    by_variant: dict[str, SoldLine] = {}
    for line in sold:
        prev = by_variant.get(line.variant_id)
        by_variant[line.variant_id] = (
            line
            if prev is None
            else SoldLine(line.variant_id, prev.quantity + line.quantity, prev.total + line.total)
        )
    done = refunded_quantities(past)
    v = Violations()
    amount = 0
    for i, (vid, qty) in enumerate(sorted(wanted.items())):
        line = by_variant.get(vid)
        if line is None:
            v.add(f"lines[{i}].variant_id", "is not in this order")
            continue
        left = line.quantity - done.get(vid, 0)
        if not 0 < qty <= left:
            v.add(f"lines[{i}].quantity", f"must be between 1 and {left}")
            continue
        amount += round_half_up_div(line.total * qty, line.quantity)
    v.raise_if_any()
    return amount


def check_amount(amount: int, available: int) -> None:
    if amount <= 0 or amount > available:
        raise FailedPrecondition(
            f"at most {available} paise can still be refunded",
            reason="REFUND_EXCEEDS_PAID",
            metadata={"refundable_minor": str(available), "requested_minor": str(amount)},
        )
