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


def _by_variant(sold: Sequence[SoldLine]) -> dict[str, SoldLine]:
    by_variant: dict[str, SoldLine] = {}
    for line in sold:
        prev = by_variant.get(line.variant_id)
        by_variant[line.variant_id] = (
            line
            if prev is None
            else SoldLine(line.variant_id, prev.quantity + line.quantity, prev.total + line.total)
        )
    return by_variant


def unit_share(line: SoldLine, units: int) -> int:
    """What was paid for `units` of a line (half-up to the paisa)."""
    return round_half_up_div(line.total * units, line.quantity)


def line_amounts(lines: Sequence[tuple[str, int]], sold: Sequence[SoldLine]) -> list[int | None]:
    """What a refund by `lines` pays back for each of its lines, as `lines_amount`
    priced them: the order's lines of one variant taken together (a paid line and a
    free gift of the same variant are one line here), each refund line its units'
    share of what was paid for them, half-up to the paisa. None for a variant the
    order no longer sells (edited away). The one place a refund line is priced: the
    refund's amount and its credit note's lines both come from it."""
    by_variant = _by_variant(sold)
    out: list[int | None] = []
    for vid, qty in lines:
        line = by_variant.get(vid)
        out.append(unit_share(line, qty) if line is not None and line.quantity > 0 else None)
    return out


def lines_amount(
    wanted: Mapping[str, int], sold: Sequence[SoldLine], past: Iterable[PastRefund]
) -> int:
    """The share of what was paid for `wanted` units (per line, half-up to the paisa);
    INVALID_ARGUMENT for unknown variants or more units than remain unrefunded."""
    by_variant = _by_variant(sold)
    done = refunded_quantities(past)
    v = Violations()
    for i, (vid, qty) in enumerate(sorted(wanted.items())):
        line = by_variant.get(vid)
        if line is None:
            v.add(f"lines[{i}].variant_id", "is not in this order")
            continue
        left = line.quantity - done.get(vid, 0)
        if not 0 < qty <= left:
            v.add(f"lines[{i}].quantity", f"must be between 1 and {left}")
    v.raise_if_any()
    return sum(a or 0 for a in line_amounts(sorted(wanted.items()), sold))


def lines_reached(
    lines: Sequence[tuple[str, int]], sold: Sequence[SoldLine], amount: int
) -> list[tuple[str, int]]:
    """The units of a refund by `lines` that `amount` paid back when only part of the
    refund went through (some of its parts declined): line by line in the refund's
    order, each line's units at their share of what was paid (as `lines_amount`
    priced them), the whole units the amount pays for in full and the one it pays for
    in part. These are the units the refund counts as refunded; the others are
    refundable again. A line no longer sold (edited away) is kept as it was."""
    by_variant = _by_variant(sold)
    out: list[tuple[str, int]] = []
    rest = amount
    for vid, qty in lines:
        if rest <= 0:
            break
        line = by_variant.get(vid)
        if line is None or line.quantity <= 0:
            out.append((vid, qty))
            continue
        if rest >= unit_share(line, qty):
            out.append((vid, qty))
            rest -= unit_share(line, qty)
            continue
        units = next(k for k in range(1, qty + 1) if unit_share(line, k) >= rest)
        out.append((vid, units))
        rest = 0
    return out


def check_amount(amount: int, available: int) -> None:
    if amount <= 0 or amount > available:
        raise FailedPrecondition(
            f"at most {available} paise can still be refunded",
            reason="REFUND_EXCEEDS_PAID",
            metadata={"refundable_minor": str(available), "requested_minor": str(amount)},
        )


@dataclass(frozen=True)
class PaymentRoom:
    """A captured online payment and how much of it refunds already claim."""

    payment_id: str
    captured: int
    refunded: int  # parts pending or processed against this payment

    @property
    def left(self) -> int:
        return max(self.captured - self.refunded, 0)


def allocate(amount: int, payments: Sequence[PaymentRoom]) -> list[tuple[str, int]]:
    """Split `amount` over `payments` in the order given (the order's own payment
    first, then balance payments by capture time): each takes what is left of it, at
    most. [(payment id, amount), ...] with positive amounts; REFUND_EXCEEDS_PAID when
    the payments together cannot cover it."""
    check_amount(amount, sum(p.left for p in payments))
    out: list[tuple[str, int]] = []
    rest = amount
    for p in payments:
        if rest == 0:
            break
        share = min(rest, p.left)
        if share > 0:
            out.append((p.payment_id, share))
            rest -= share
    return out


@dataclass(frozen=True)
class PartOutcome:
    """Where a refund stands after its parts answered (see `settle_parts`)."""

    state: str  # PENDING | PROCESSED | FAILED
    amount: int  # what the refund now amounts to (the processed parts when some failed)


def settle_parts(parts: Sequence[tuple[int, str]]) -> PartOutcome:
    """A refund's state from its parts' (amount, state): PENDING while any part is;
    PROCESSED when all went through; FAILED when none did. Some processed and some
    declined: PROCESSED for what went through (the declined amount is refundable
    again, like a failed refund's)."""
    total = sum(a for a, _ in parts)
    if any(st == "PENDING" for _, st in parts):
        return PartOutcome("PENDING", total)
    done = sum(a for a, st in parts if st == "PROCESSED")
    if done == 0:
        return PartOutcome("FAILED", total)
    return PartOutcome("PROCESSED", done)
