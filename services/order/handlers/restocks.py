"""Putting an order's units back on the shelf against the reservations that took them
(the rules: domain/stock.py). The pool is read from the order's rows; callers that
record a plan do it with the order row locked.

Inventory may refuse a restock for good: more than the reservation still has out
(RESTOCK_EXCEEDS_RESERVATION), a reservation not COMMITTED
(RESERVATION_NOT_COMMITTED), a variant it never reserved, a request id already used
for another body. A plan never asks more than the order's records show out, so a
refusal means inventory's books and the order's disagree (history from before plans
were recorded, a hand-made change): sending it again gets the same answer, and
guessing another split would put units back that the records say are not out. So
`put_back` sends every reservation's part, collects the refusals (each logged and
counted in `order_restocks_refused_total{reason}`) and returns them with the units
the plan sent nowhere; the caller records them where an admin sees them (README
"Putting units back"). Inventory down raises Unavailable, as any other error does:
a retry sends the same requests (each idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from sqlalchemy.ext.asyncio import AsyncSession

from observability.metrics import counter
from services.order import repository as repo
from services.order.domain import edits as edit_rules
from services.order.domain import stock
from services.order.models import Order, OrderEdit, OrderItem, Return
from services.order.peers import PeerError, Peers

log = logging.getLogger("cleanse.order.restocks")

RESTOCKS_REFUSED = counter(
    "order_restocks_refused_total",
    "RestockReturn requests inventory refused for good, by its reason.",
    ["reason"],
)
# Inventory's refusals, exported at 0 from the start: increase() cannot see a series
# that first appears already at 1, so the first refusal after a restart would not
# alert (CleanseRestockRefused, observability/prometheus/rules.yml).
KNOWN_REFUSALS = ("RESTOCK_EXCEEDS_RESERVATION", "RESERVATION_NOT_COMMITTED")
for _reason in KNOWN_REFUSALS:
    RESTOCKS_REFUSED.labels(_reason)
# Inventory's answers to a RestockReturn that a retry cannot change.
REFUSAL_CODES = frozenset(
    {
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
    }
)


@dataclass(frozen=True)
class Refusal:
    """One reservation's restock that inventory refused (nothing of it went back)."""

    reservation: str
    lines: Mapping[str, int]
    reason: str  # inventory's reason, e.g. RESTOCK_EXCEEDS_RESERVATION
    message: str
    remaining: str = ""  # RESTOCK_EXCEEDS_RESERVATION: "variant=units" still out

    def __str__(self) -> str:
        units = ", ".join(f"{v} x{q}" for v, q in sorted(self.lines.items()))
        left = f"; still out: {self.remaining}" if self.remaining else ""
        return f"{self.reservation} refused {units}: {self.reason} ({self.message}){left}"


@dataclass
class PutBack:
    """What a restock did not put back: inventory's refusals, and the units the plan
    sent nowhere (no reservation of the order has them out by its records)."""

    refused: list[Refusal] = field(default_factory=list)
    not_out: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:  # true when something did not go back
        return bool(self.refused or self.not_out)

    def summary(self, limit: int = 500) -> str:
        """For a status-history row or an edit's record ("" when all went back)."""
        parts = [str(r) for r in self.refused]
        if self.not_out:
            units = ", ".join(f"{v} x{q}" for v, q in self.not_out.items())
            parts.append(f"not sent: {units} (no reservation of the order has them out)")
        text = "stock not put back: " + "; ".join(parts) if parts else ""
        return text if len(text) <= limit else text[: limit - 3] + "..."


def paid_lines(items: Sequence[OrderItem]) -> dict[str, int]:
    """The order's units that stock was reserved for: its non-gift lines by variant."""
    out: dict[str, int] = {}
    for i in items:
        if not i.free_gift:
            out[i.variant_id] = out.get(i.variant_id, 0) + i.quantity
    return out


def edit_stock(e: OrderEdit) -> stock.EditStock | None:
    """What an edit of the order did to its stock; None for one made before payment
    (its reservation is the order's own: it moved nothing the pool counts)."""
    if e.order_status != "CONFIRMED":
        return None
    before = {str(v): int(q) for v, q in e.before_lines}
    after = {str(v): int(q) for v, q in e.after_lines}
    added, _ = edit_rules.difference(before, after)
    removed = {str(v): int(q) for v, q in e.removed_lines}
    if e.restock_from:
        restocked: list[tuple[str, str, int]] | None = [
            (str(r), str(v), int(q)) for r, v, q in e.restock_from
        ]
    else:
        restocked = None if removed else []
    return stock.EditStock(
        e.reservation_name, added, removed, restocked, done=e.restock_state == "DONE"
    )


def return_plan(r: Return) -> tuple[stock.Plan, dict[str, int]]:
    """(units of a return's passed lines with a recorded plan, as that plan; those
    without one, by variant)."""
    planned: stock.Plan = {}
    unplanned: dict[str, int] = {}
    for ln in r.lines:
        if ln.get("inspection") != "PASSED":
            continue
        where = ln.get("restock_from")
        if where:
            for res, q in where:
                units = planned.setdefault(str(res), {})
                units[ln["variant_id"]] = units.get(ln["variant_id"], 0) + int(q)
        else:
            unplanned[ln["variant_id"]] = unplanned.get(ln["variant_id"], 0) + int(ln["quantity"])
    return planned, unplanned


def pool(
    order: Order,
    items: Sequence[OrderItem],
    edits: Sequence[OrderEdit],
    returns: Sequence[Return] = (),
) -> stock.Pool:
    """What each of the order's reservations has out still, given its rows (edits
    oldest first; returns other than the one being planned)."""
    planned, unplanned = [], []
    for r in returns:
        p, u = return_plan(r)
        planned.append(p)
        unplanned.append(u)
    return stock.Pool.of(
        order.reservation_name,
        paid_lines(items),
        [x for x in (edit_stock(e) for e in edits) if x is not None],
        planned,
        unplanned,
    )


async def read_pool(
    s: AsyncSession, order: Order, items: Sequence[OrderItem] | None = None
) -> stock.Pool:
    if items is None:
        items = await repo.order_items(s, order.id)
    return pool(order, items, await repo.order_edits(s, order.id))


async def put_back(
    peers: Peers, request_id: str, plan: Mapping[str, Mapping[str, int]], base: str, note: str
) -> PutBack:
    """One RestockReturn per reservation of `plan` (each idempotent on its own id);
    what did not go back (module docstring). Unavailable (and any PeerError other
    than a refusal) is raised, after the reservations before it were sent."""
    out = PutBack(not_out=stock.not_out(plan))
    for rid, reservation, lines in stock.request_ids(request_id, plan, base):
        try:
            await peers.restock(rid, lines, reservation, note)
        except PeerError as exc:
            if exc.code not in REFUSAL_CODES:
                raise
            refusal = Refusal(
                reservation,
                dict(lines),
                exc.reason or exc.code.name,
                exc.message,
                exc.metadata.get("remaining", ""),
            )
            RESTOCKS_REFUSED.labels(refusal.reason).inc()
            log.warning(
                "restock refused by inventory",
                extra={"request_id": rid, "refusal": str(refusal)},
            )
            out.refused.append(refusal)
    if out.not_out:
        log.warning(
            "restock units no reservation has out",
            extra={"request_id": request_id, "units": out.not_out},
        )
    return out
