"""Putting an order's units back on the shelf against the reservations that took them
(the rules: domain/stock.py). The pool is read from the order's rows; callers that
record a plan do it with the order row locked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.order import repository as repo
from services.order.domain import edits as edit_rules
from services.order.domain import stock
from services.order.models import Order, OrderEdit, OrderItem, Return
from services.order.peers import Peers


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
) -> None:
    """One RestockReturn per reservation of `plan` (each idempotent on its own id)."""
    for rid, reservation, lines in stock.request_ids(request_id, plan, base):
        await peers.restock(rid, lines, reservation, note)
