"""What the handlers share: the caller, resource names, access to carts, sessions and
orders, and the one place an order changes status (with its history row)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mesh import context as call_context
from mesh.errors import InvalidArgument, NotFound, Unauthenticated
from mesh.identity import Identity
from services.order.domain import states
from services.order.domain.cart import token_hash
from services.order.models import Order, OrderStatusChange

Clock = Callable[[], datetime]


def caller() -> Identity:
    return call_context.identity()


def customer_id() -> str | None:
    """The signed-in customer's user id, or None (guest, admin, service)."""
    ident = caller()
    return ident.subject_id if ident.is_customer else None


def require_customer() -> str:
    cid = customer_id()
    if cid is None:
        raise Unauthenticated("sign in as a customer")
    return cid


def actor() -> str:
    """Who is acting, for status history: "users/..", "adminUsers/..", a service, "guest"."""
    ident = caller()
    if ident.kind == "anonymous":
        return "guest"
    return ident.subject[:80]


def id_of(name: str, collection: str, field: str = "name") -> str:
    prefix, sep, rid = name.partition("/")
    if prefix != collection or not sep or not rid or "/" in rid or len(rid) > 32:
        raise InvalidArgument({field: f"must be {collection}/{{id}}"})
    return rid


def not_found(name: str) -> NotFound:
    return NotFound(f"{name} not found", metadata={"name": name})


def owns(resource_customer: str | None, resource_token_hash: str | None, token: str) -> bool:
    """A customer resource is its customer's; a guest resource is the token holder's."""
    if resource_customer is not None:
        return customer_id() == resource_customer
    return (
        bool(token)
        and resource_token_hash is not None
        and token_hash(token) == (resource_token_hash)
    )


def transition(
    s: AsyncSession,
    order: Order,
    target: states.Status,
    now: datetime,
    *,
    reason: str = "",
    who: str | None = None,
) -> None:
    """Move `order` to `target` (FAILED_PRECONDITION if illegal) and record it."""
    current = states.Status(order.status)
    states.check_transition(current, target)
    record(s, order, current.value, target, now, reason=reason, who=who)


def record(
    s: AsyncSession,
    order: Order,
    from_status: str,
    target: states.Status,
    now: datetime,
    *,
    reason: str = "",
    who: str | None = None,
) -> OrderStatusChange:
    order.status = target.value
    order.update_time = now
    change = OrderStatusChange(
        order_id=order.id,
        from_status=from_status,
        to_status=target.value,
        actor=who if who is not None else actor(),
        reason=reason[:500],
        time=now,
    )
    s.add(change)
    return change
