"""Which reservation took which of an order's units (no I/O).

Inventory puts units back on the shelf only against a reservation that reserved
their variant (`RestockReturn`: INVALID_ARGUMENT "was not part of the reservation"),
that is COMMITTED (FAILED_PRECONDITION `RESERVATION_NOT_COMMITTED`), and never more
of a variant than that reservation still has out: what it took less what earlier
restocks against it put back (FAILED_PRECONDITION `RESTOCK_EXCEEDS_RESERVATION`,
metadata `variant_ids`, `remaining`). Each refusal puts nothing back. Accepted, the
units go back to the warehouses that reservation took them from, split in proportion
to what each still has out (services/inventory/README.md "Returns"). A confirmed
order's units were taken by:

- the order's own reservation (`Order.reservation_name`), committed when the order
  was confirmed, for its lines at that moment (an edit before payment replaces that
  hold with one for the whole new line set: still the order's one reservation);
- each edit made while the order was CONFIRMED, for the units it added
  (`OrderEdit.reservation_name`).

So an edit's removed units, a return's passed units and whatever a cancellation
puts back go back against those reservations. A `Pool` is what each reservation
still has out: what it took, less what earlier restocks put back against it as they
recorded it. A new restock is planned from the pool, the newest reservation first
(an edit's units are the first to go back), and the plan is recorded with the
order row locked (an edit: `OrderEdit.restock_from`; a return: each passed line's
`restock_from`), so every later plan counts exactly what went back where.

A plan never asks a reservation for more than the pool shows it has out, so it
never asks more than inventory still has out under it either (inventory counts the
same restocks). Units beyond what the whole pool shows can only come from history
recorded before plans were (or books that disagree): by the order's own records no
reservation has them out, so they are sent nowhere; the plan keeps them under
`NOT_OUT` (recorded with the plan, never sent), so it still accounts for every unit
asked. History from before plans were recorded is counted as it was sent: an edit's
removed units that went back, and a return's passed units, went back against the
order's own reservation (a variant it never reserved was refused by inventory and
went back nowhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# reservation name -> variant id -> units
Plan = dict[str, dict[str, int]]

# The plan's key for units no reservation of the order has out by its records: kept
# with the plan (so it accounts for every unit asked), never sent to inventory.
NOT_OUT = ""


@dataclass(frozen=True)
class EditStock:
    """What a CONFIRMED order's edit did to its stock. `restocked`: where its removed
    units went back, as recorded ([(reservation, variant, units)]); None when no plan
    was recorded (an edit from before plans were): then, once `done`, they went back
    against the order's own reservation, and until then nowhere."""

    reservation: str  # the reservation of the added units ("" when none were added)
    added: Mapping[str, int]
    removed: Mapping[str, int]
    restocked: Sequence[tuple[str, str, int]] | None = ()
    done: bool = False


@dataclass
class Pool:
    base: str  # the order's own reservation
    # Reservations oldest first; units each took and has out still, by variant.
    order: list[str] = field(default_factory=list)
    taken: Plan = field(default_factory=dict)
    left: Plan = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        base: str,
        current: Mapping[str, int],
        edits: Sequence[EditStock],
        returned: Iterable[Plan] = (),
        returned_unplanned: Iterable[Mapping[str, int]] = (),
    ) -> Pool:
        """The pool of an order whose paid (non-gift) lines are `current` now, after
        its CONFIRMED-time `edits` (oldest first) and the restocks of its returns
        (`returned`: recorded plans; `returned_unplanned`: passed units of returns
        from before plans were recorded, which were sent against the order's own
        reservation)."""
        pool = cls(base)
        # The lines when the order was confirmed: now, less what edits added, plus
        # what they removed.
        at_confirmation = dict(current)
        for e in edits:
            for v, q in e.added.items():
                at_confirmation[v] = at_confirmation.get(v, 0) - q
            for v, q in e.removed.items():
                at_confirmation[v] = at_confirmation.get(v, 0) + q
        pool._took(base, at_confirmation)
        for e in edits:
            pool._took(e.reservation or base, e.added)
        for e in edits:
            if e.restocked is not None:
                pool._put_back(_plan_of(e.restocked))
            elif e.done:
                pool._put_back({base: dict(e.removed)})
        for plan in returned:
            pool._put_back(plan)
        for lines in returned_unplanned:
            pool._put_back({base: dict(lines)})
        return pool

    @property
    def out(self) -> Plan:
        """What each reservation has out still (reservations with nothing left omitted)."""
        out: Plan = {}
        for r in self.order:
            units = {v: q for v, q in self.left[r].items() if q > 0}
            if units:
                out[r] = units
        return out

    def plan(self, lines: Mapping[str, int]) -> Plan:
        """Where `lines` go back, newest reservation first, never more of a variant
        against a reservation than it has out; taken off the pool. Units beyond what
        the pool has out go under NOT_OUT (sent nowhere)."""
        plan: Plan = {}
        for v, wanted in sorted(lines.items()):
            q = wanted
            for r in reversed(self.order):
                n = min(self.left[r].get(v, 0), q)
                if n > 0:
                    self.left[r][v] -= n
                    plan.setdefault(r, {})[v] = plan.get(r, {}).get(v, 0) + n
                    q -= n
            if q > 0:
                plan.setdefault(NOT_OUT, {})[v] = q
        return plan

    def _took(self, reservation: str, lines: Mapping[str, int]) -> None:
        if reservation == NOT_OUT:  # no reservation (an order without one): nothing out
            return
        if reservation not in self.taken:
            self.order.append(reservation)
            self.taken[reservation], self.left[reservation] = {}, {}
        for v, q in lines.items():
            if q > 0:
                self.taken[reservation][v] = self.taken[reservation].get(v, 0) + q
                self.left[reservation][v] = self.left[reservation].get(v, 0) + q

    def _put_back(self, plan: Mapping[str, Mapping[str, int]]) -> None:
        """What went back against each reservation (NOT_OUT and unknown reservations
        count nowhere; never below nothing out)."""
        for r, lines in plan.items():
            left = self.left.get(r)
            if left is None:
                continue
            for v, q in lines.items():
                if v in left:
                    left[v] = max(left[v] - q, 0)


def not_out(plan: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """The plan's units sent nowhere (no reservation of the order has them out)."""
    return {v: q for v, q in sorted(plan.get(NOT_OUT, {}).items()) if q > 0}


def _plan_of(triples: Iterable[tuple[str, str, int]]) -> Plan:
    plan: Plan = {}
    for r, v, q in triples:
        plan.setdefault(r, {})[v] = plan.get(r, {}).get(v, 0) + q
    return plan


def triples(plan: Mapping[str, Mapping[str, int]]) -> list[list[str | int]]:
    """A plan as stored: [[reservation, variant, units], ...] in a fixed order (units
    sent nowhere under NOT_OUT, "")."""
    return [[r, v, q] for r in sorted(plan) for v, q in sorted(plan[r].items()) if q > 0]


def plan_of(rows: Iterable[Sequence[Any]]) -> Plan:
    """A stored plan ([[reservation, variant, units], ...]) read back."""
    return _plan_of((str(r), str(v), int(q)) for r, v, q in rows)


def request_ids(
    request_id: str, plan: Mapping[str, Mapping[str, int]], base: str
) -> list[tuple[str, str, dict[str, int]]]:
    """One RestockReturn per reservation: (request id, reservation, lines). The
    order's own reservation keeps `request_id` (what a restock was always sent as);
    another one gets `<request_id>-<its id>`. Each is idempotent on its own. Units
    under NOT_OUT are not sent."""
    out = []
    for r in sorted(plan, key=lambda r: (r != base, r)):
        if r == NOT_OUT:
            continue
        lines = {v: q for v, q in sorted(plan[r].items()) if q > 0}
        if lines:
            rid = request_id if r == base else f"{request_id}-{r.rsplit('/', 1)[-1]}"
            out.append((rid, r, lines))
    return out
