"""Admin order edits: plain rules, no I/O.

An edit sets line quantities (0 removes a line, an unknown variant adds one) and/or
the delivery address of an order that has not been packed. What it means for stock
and money:

- stock: the order's own units count as available to it. A CONFIRMED order's
  units are committed (off the shelf): only added units are reserved (ReserveStock,
  committed when the edit is recorded); removed units go back on the shelf
  (RestockReturn against the reservations that took them: the order's, or an
  earlier edit's for units it added; domain/stock.py). A PENDING_PAYMENT order's
  units are held by one reservation: it is released first and then one for the new
  lines made, so the held units are available to it (refused: the old lines are
  held again).
- money (`settle`): what the customer still owes is the new total minus what was
  paid net of refunds. Positive: a balance payment (Razorpay) or cash to collect
  (a COD order already collected); negative: a refund of the difference. An unpaid
  COD order just collects the new total; an unpaid Razorpay order gets a new
  Razorpay order for the new total (PAYMENT_REPLACED).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mesh.errors import FailedPrecondition, InvalidArgument, Violations
from services.order.domain.cart import MAX_LINE_QUANTITY, MAX_LINES
from services.order.domain.states import Status

EDITABLE = frozenset({Status.CONFIRMED, Status.PENDING_PAYMENT})


def check_editable(status: Status) -> None:
    if status not in EDITABLE:
        raise FailedPrecondition(
            f"an order in {status} can no longer be edited (only before it is packed)",
            reason="ORDER_NOT_EDITABLE",
            metadata={"status": status.value},
        )


def apply_lines(before: Mapping[str, int], changes: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The order's lines after the changes (quantity 0 removes); INVALID_ARGUMENT for
    bad quantities, duplicates, or an order left empty."""
    v = Violations()
    after = dict(before)
    seen: set[str] = set()
    for i, (vid, qty) in enumerate(changes):
        v.check(bool(vid), f"lines[{i}].variant_id", "is required")
        v.check(vid not in seen, f"lines[{i}].variant_id", "is named twice")
        v.check(
            0 <= qty <= MAX_LINE_QUANTITY,
            f"lines[{i}].quantity",
            f"must be between 0 and {MAX_LINE_QUANTITY}",
        )
        seen.add(vid)
        if qty == 0:
            after.pop(vid, None)
        else:
            after[vid] = qty
    v.check(len(after) <= MAX_LINES, "lines", f"at most {MAX_LINES} lines")
    v.raise_if_any()
    if not after:
        raise InvalidArgument({"lines": "an order keeps at least one line (cancel it instead)"})
    return after


def difference(
    before: Mapping[str, int], after: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """(added units, removed units) per variant."""
    added = {v: q - before.get(v, 0) for v, q in after.items() if q > before.get(v, 0)}
    removed = {v: q - after.get(v, 0) for v, q in before.items() if q > after.get(v, 0)}
    return added, removed


@dataclass(frozen=True)
class Settlement:
    # NONE | COD_AMOUNT_CHANGED | BALANCE_PAYMENT | REFUND | PAYMENT_REPLACED | CASH_BALANCE_DUE
    kind: str
    amount: int  # balance to pay, or refund to make (>= 0)


def settle(
    *, status: Status, provider: str, paid: int, refunded: int, old_total: int, new_total: int
) -> Settlement:
    """How the money difference of an edit is settled. `paid`: captured/collected so
    far; `refunded`: refunds pending or processed."""
    if status is Status.PENDING_PAYMENT:
        same = new_total == old_total
        return Settlement("NONE" if same else "PAYMENT_REPLACED", 0 if same else new_total)
    if paid <= 0:  # an unpaid COD order: the amount to collect changes
        same = new_total == old_total
        return Settlement("NONE" if same else "COD_AMOUNT_CHANGED", 0)
    due = new_total - (paid - refunded)
    if due > 0:
        return Settlement("BALANCE_PAYMENT" if provider == "RAZORPAY" else "CASH_BALANCE_DUE", due)
    if due < 0:
        return Settlement("REFUND", -due)
    return Settlement("NONE", 0)
