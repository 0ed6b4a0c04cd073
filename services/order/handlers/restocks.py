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

`send` is that, with the outcome a record keeps: DONE, RETRY (inventory down or too
slow: the sweeper sends it again, backoff `retry_at`) or REFUSED (for good). An
edit's restock is recorded on its `order_edits` row (handlers/edits.py); a
cancellation's in `order_restocks` (`Restocks`): planned and recorded in the
cancellation's transaction, sent after the commit (no remote call while a
transaction holds the order's lock), its outcome written in a short transaction of
its own. The sweeper (`EditHandlers.retry_restocks`) retries both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import grpc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, new_id
from mesh.errors import Unavailable
from observability.metrics import counter
from services.order import repository as repo
from services.order.config import Settings
from services.order.domain import edits as edit_rules
from services.order.domain import stock
from services.order.domain.states import Status
from services.order.handlers.common import record
from services.order.models import Order, OrderEdit, OrderItem, OrderRestock, Return
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
# Inventory's answers to a RestockReturn that a later attempt may not get.
RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
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
    recorded: Sequence[OrderRestock] = (),
) -> stock.Pool:
    """What each of the order's reservations has out still, given its rows (edits
    oldest first; returns other than the one being planned; recorded restocks, a
    cancellation's, counted as put back once recorded, sent or not)."""
    planned, unplanned = [], []
    for r in returns:
        p, u = return_plan(r)
        planned.append(p)
        unplanned.append(u)
    planned.extend(stock.plan_of(x.plan) for x in recorded)
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
    edits = await repo.order_edits(s, order.id)
    return pool(order, items, edits, recorded=await repo.order_restocks(s, order.id))


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


# --- a recorded plan sent, and its outcome ---------------------------------------------


def retryable(exc: PeerError | Unavailable) -> bool:
    """Inventory down or too slow (the mesh's Unavailable), or an answer that a retry
    may change; not a refusal (above) or another business error."""
    return isinstance(exc, Unavailable) or exc.code in RETRYABLE_CODES


def retry_at(now: datetime, first_seconds: float, attempts: int) -> datetime:
    """When the sweeper sends a restock left PENDING again: `first_seconds` after the
    failure, twice as long after each automatic attempt, at most an hour."""
    return now + timedelta(seconds=min(first_seconds * 2 ** min(attempts, 20), 3600.0))


@dataclass(frozen=True)
class Sent:
    """What sending a recorded plan came to."""

    outcome: str  # DONE | RETRY (inventory down or too slow) | REFUSED (not retried)
    error: str  # "" when DONE; else why not, for the record
    not_back: PutBack  # refusals and units sent nowhere (DONE may have the latter)
    detail: str = ""  # the error's message when nothing was refused (inventory down, ...)


async def send(
    peers: Peers, request_id: str, plan: Mapping[str, Mapping[str, int]], base: str, note: str
) -> Sent:
    """`put_back` of a recorded plan (same request ids, same bodies every time)."""
    try:
        not_back = await put_back(peers, request_id, plan, base, note)
    except (PeerError, Unavailable) as exc:
        log.warning("restock pending", extra={"request_id": request_id, "error": str(exc)})
        return Sent(
            "RETRY" if retryable(exc) else "REFUSED",
            f"stock not put back yet: {exc.message}"[:500],
            PutBack(),
            exc.message,
        )
    if not_back.refused:
        return Sent("REFUSED", not_back.summary(), not_back)
    return Sent("DONE", "", not_back)


def _units(plan: Mapping[str, Mapping[str, int]]) -> str:
    sent: dict[str, int] = {}
    for r, lines in plan.items():
        if r != stock.NOT_OUT:
            for v, q in lines.items():
                sent[v] = sent.get(v, 0) + q
    return ", ".join(f"{v} x{q}" for v, q in sorted(sent.items()) if q > 0)


class Restocks:
    """A cancelled order's restock (`OrderRestock`, README "Putting units back").

    `record_cancel` plans it in the cancellation's transaction, with the order row
    locked (an edit records its lines, reservation and restock plan under the same
    lock, and an edit of a cancelled order is refused, so the plan counts every unit
    once) and records it PENDING, due for the sweeper should nothing send it. After
    the commit `finish` sends exactly the recorded plan (the request ids and bodies
    come from the row alone, so every retry is the same request) and writes the
    outcome in a short transaction: DONE; PENDING with a `retry_at` (inventory down or
    too slow: `retry_due`, the sweeper, sends it again with backoff); PENDING without
    one (refused for good). The order's history says what happened: a row when the
    restock is first left pending, when it is refused, and when it is put back after
    all (plus any units the plan sent nowhere)."""

    KIND_CANCEL = "CANCEL"

    def __init__(
        self,
        db: Database,
        peers: Peers,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.peers = peers
        self.settings = settings
        self.clock = clock

    def _retry_at(self, now: datetime, attempts: int) -> datetime:
        return retry_at(now, self.settings.edit_restock_retry_seconds, attempts)

    async def record_cancel(
        self, s: AsyncSession, order: Order, now: datetime
    ) -> OrderRestock | None:
        """Where every unit the order has out goes back, recorded PENDING (None when
        it has no units out). Called in the cancellation's transaction, with the order
        row locked; nothing is sent here."""
        items = await repo.order_items(s, order.id)
        lines = paid_lines(items)
        if not lines:
            return None
        plan = (await read_pool(s, order, items)).plan(lines)
        row = OrderRestock(
            id=new_id(),
            order_id=order.id,
            kind=self.KIND_CANCEL,
            request_id=f"cancel-{order.id}",
            base_reservation=order.reservation_name,
            plan=stock.triples(plan),
            note=f"{order.order_number} cancelled"[:200],
            state="PENDING",
            error="",
            # Due for the sweeper should the send after the commit not happen.
            retry_at=self._retry_at(now, 0),
            attempts=0,
            create_time=now,
            update_time=now,
        )
        s.add(row)
        return row

    async def finish(self, restock_id: str, *, sweep: bool = False) -> str:
        """Send a PENDING restock's recorded plan (outside any transaction) and record
        the outcome: "DONE", "RETRY" or "REFUSED". Never raises for inventory's
        answers or its absence."""
        async with self.db.session() as s:
            r = await s.get(OrderRestock, restock_id)
        if r is None or r.state != "PENDING":
            return "DONE"
        sent = await send(
            self.peers, r.request_id, stock.plan_of(r.plan), r.base_reservation, r.note
        )
        now = self.clock()
        attempts = r.attempts + (1 if sweep else 0)
        who = "system" if sweep else None
        async with self.db.transaction() as s:
            order = await repo.locked(s, Order, r.order_id)
            row = await s.get(OrderRestock, r.id)
            assert isinstance(order, Order) and row is not None
            if row.state != "PENDING":
                return "DONE"  # a concurrent attempt (same requests) finished it
            notes = []
            if sent.outcome == "DONE":
                if row.error:  # it was left pending: say it went back after all
                    notes.append(f"stock put back: {_units(stock.plan_of(row.plan))}")
                if sent.not_back:  # units the plan sent nowhere
                    notes.append(sent.not_back.summary())
                row.state, row.error, row.retry_at = "DONE", "", None
            else:
                if not row.error or (sent.outcome == "REFUSED" and sent.error != row.error):
                    notes.append(
                        f"stock not put back yet (the sweeper sends it again): {sent.detail}"
                        if sent.outcome == "RETRY"
                        else sent.error
                    )
                row.error = sent.error
                row.retry_at = self._retry_at(now, attempts) if sent.outcome == "RETRY" else None
            row.attempts = attempts
            row.update_time = now
            status = Status(order.status)
            for text in notes:
                record(s, order, status.value, status, now, reason=text, who=who)
        return sent.outcome

    async def finish_order(self, order_id: str) -> None:
        """A repeat of the cancellation: its restock, if still PENDING, sent again
        (the recorded plan, same request ids)."""
        async with self.db.session() as s:
            pending = [r.id for r in await repo.order_restocks(s, order_id) if r.state == "PENDING"]
        for rid in pending:
            await self.finish(rid)

    async def retry_due(self, now: datetime, limit: int) -> dict[str, int]:
        """Sweeper: PENDING restocks due (`retry_at` <= now), oldest due first, at most
        `limit`; each sent again and its outcome recorded."""
        done = {"DONE": 0, "RETRY": 0, "REFUSED": 0}
        if limit <= 0:
            return done
        async with self.db.session() as s:
            due = list(
                await s.scalars(
                    select(OrderRestock.id)
                    .where(
                        OrderRestock.state == "PENDING",
                        OrderRestock.retry_at.is_not(None),
                        OrderRestock.retry_at <= now,
                    )
                    .order_by(OrderRestock.retry_at, OrderRestock.id)
                    .limit(limit)
                )
            )
        for rid in due:
            try:
                done[await self.finish(rid, sweep=True)] += 1
            except Exception:
                log.warning("restock sweep failed", extra={"restock": rid}, exc_info=True)
        return done
