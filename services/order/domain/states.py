"""The order state machine: plain Python, no I/O.

    PENDING_PAYMENT -> CONFIRMED | CANCELLED | PAYMENT_FAILED | REFUND_PENDING
    CONFIRMED       -> PACKED | CANCELLED (unpaid COD) | REFUND_PENDING (paid, cancelled)
    PACKED          -> SHIPPED | CANCELLED | REFUND_PENDING
    SHIPPED         -> DELIVERED
    DELIVERED       -> RETURN_REQUESTED
    RETURN_REQUESTED-> RETURNED | DELIVERED (return rejected)
    RETURNED        -> REFUND_PENDING | REFUNDED | PARTIALLY_REFUNDED
    REFUND_PENDING  -> REFUNDED | PARTIALLY_REFUNDED
    PARTIALLY_REFUNDED -> REFUNDED | RETURN_REQUESTED

Cancelling is allowed before shipment only; a paid order's cancel goes to
REFUND_PENDING (the refund itself belongs to the refunds module).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mesh.errors import FailedPrecondition


class Status(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    CONFIRMED = "CONFIRMED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURNED = "RETURNED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    PAYMENT_FAILED = "PAYMENT_FAILED"


S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    # REFUND_PENDING: paid after the reservation lapsed and the stock ran out.
    S.PENDING_PAYMENT: frozenset({S.CONFIRMED, S.CANCELLED, S.PAYMENT_FAILED, S.REFUND_PENDING}),
    S.CONFIRMED: frozenset({S.PACKED, S.CANCELLED, S.REFUND_PENDING}),
    S.PACKED: frozenset({S.SHIPPED, S.CANCELLED, S.REFUND_PENDING}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.RETURN_REQUESTED}),
    S.RETURN_REQUESTED: frozenset({S.RETURNED, S.DELIVERED}),
    S.RETURNED: frozenset({S.REFUND_PENDING, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.REFUND_PENDING: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED, S.RETURN_REQUESTED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
    S.PAYMENT_FAILED: frozenset(),
}

# What an admin may set through UpdateOrderStatus (fulfilment); the rest follow
# from payments, cancellations, returns and refunds.
ADMIN_SETTABLE = frozenset({S.PACKED, S.SHIPPED, S.DELIVERED, S.CANCELLED})
BEFORE_SHIPMENT = frozenset({S.PENDING_PAYMENT, S.CONFIRMED, S.PACKED})


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: Status, target: Status) -> None:
    """Raise FAILED_PRECONDITION (ILLEGAL_TRANSITION) unless current -> target is legal."""
    if not can_transition(current, target):
        raise FailedPrecondition(
            f"an order in {current} cannot become {target}",
            reason="ILLEGAL_TRANSITION",
            metadata={"from": current.value, "to": target.value},
        )


@dataclass(frozen=True)
class CancelOutcome:
    """What cancelling means for an order in its current state."""

    target: Status
    release_holds: bool  # unpaid: give back the reservation and the coupon hold
    refund_owed: bool


def cancel_outcome(current: Status, paid: bool) -> CancelOutcome:
    """Cancel before shipment: unpaid -> CANCELLED (holds released when still
    pending payment); paid -> REFUND_PENDING. After shipment: ILLEGAL_TRANSITION."""
    if current not in BEFORE_SHIPMENT:
        raise FailedPrecondition(
            f"an order in {current} can no longer be cancelled",
            reason="ILLEGAL_TRANSITION",
            metadata={"from": current.value, "to": S.CANCELLED.value},
        )
    if paid:
        return CancelOutcome(S.REFUND_PENDING, release_holds=False, refund_owed=True)
    return CancelOutcome(S.CANCELLED, release_holds=current is S.PENDING_PAYMENT, refund_owed=False)


def cod_paid_on(target: Status, provider: str) -> bool:
    """A cash-on-delivery order is paid when it is delivered."""
    return provider == "COD" and target is S.DELIVERED
