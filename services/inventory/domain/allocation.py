"""Which warehouses a reservation takes its units from. Plain Python, no I/O.

Distance is a pincode-prefix heuristic (Indian PIN codes are hierarchical: the
first digit is the postal region, the first two the circle, the first three the
sorting district):

    0  same first 3 digits (same sorting district)
    1  same first 2 digits (same postal circle)
    2  same first digit (same postal region)
    3  anything else, or no delivery pincode

Warehouses are ranked by (distance, state differs from the delivery state,
warehouse id). Allocation then:

1. picks the best-ranked warehouse that can ship EVERY line from available stock;
2. otherwise splits: repeatedly takes the warehouse covering the most still-needed
   units (ties: best rank), so an order touches as few warehouses as it can;
3. whatever is still missing goes on backorder where a stock row allows it
   (already used warehouses first, then by rank), up to its remaining limit;
4. anything left is out of stock: the whole reservation fails (all or nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    warehouse_id: str
    pincode: str
    state_code: str


@dataclass(frozen=True)
class Supply:
    """What one stock row can give: available units and backorder room."""

    warehouse_id: str
    variant_id: str
    available: int
    backorder_room: int


@dataclass(frozen=True)
class Allocated:
    variant_id: str
    warehouse_id: str
    quantity: int
    backordered: int


class OutOfStock(Exception):
    def __init__(self, variant_ids: Sequence[str]) -> None:
        super().__init__(", ".join(variant_ids))
        self.variant_ids = list(variant_ids)


def distance(warehouse_pincode: str, delivery_pincode: str) -> int:
    if not delivery_pincode or not warehouse_pincode:
        return 3
    for level, digits in ((0, 3), (1, 2), (2, 1)):
        if warehouse_pincode[:digits] == delivery_pincode[:digits]:
            return level
    return 3


def rank_sites(sites: Sequence[Site], pincode: str, state_code: str) -> list[str]:
    """Warehouse ids, nearest first."""
    ordered = sorted(
        sites,
        key=lambda s: (
            distance(s.pincode, pincode),
            not (state_code and s.state_code == state_code),
            s.warehouse_id,
        ),
    )
    return [s.warehouse_id for s in ordered]


def allocate(
    demand: Mapping[str, int],
    supplies: Sequence[Supply],
    sites: Sequence[Site],
    pincode: str = "",
    state_code: str = "",
) -> list[Allocated]:
    """Where each demanded unit comes from; raises OutOfStock (all or nothing)."""
    order = rank_sites(sites, pincode, state_code)
    rank = {w: i for i, w in enumerate(order)}
    avail: dict[tuple[str, str], int] = {}
    room: dict[tuple[str, str], int] = {}
    for s in supplies:
        if s.warehouse_id in rank:
            avail[(s.warehouse_id, s.variant_id)] = max(s.available, 0)
            room[(s.warehouse_id, s.variant_id)] = max(s.backorder_room, 0)

    # 1. One warehouse ships everything.
    for w in order:
        if all(avail.get((w, v), 0) >= q for v, q in demand.items()):
            return [Allocated(v, w, q, 0) for v, q in sorted(demand.items())]

    # 2. Split, fewest warehouses first (greedy set cover).
    need = dict(demand)
    taken: dict[tuple[str, str], list[int]] = {}
    used: list[str] = []
    while any(need.values()):

        def cover(w: str) -> int:
            return sum(min(avail.get((w, v), 0), n) for v, n in need.items())

        best = max(order, key=lambda w: (cover(w), -rank[w]), default=None)
        if best is None or cover(best) == 0:
            break
        used.append(best)
        for v, n in need.items():
            take = min(avail.get((best, v), 0), n)
            if take:
                taken.setdefault((v, best), [0, 0])[0] += take
                avail[(best, v)] -= take
                need[v] = n - take

    # 3. Backorder the rest where allowed.
    for v, n in sorted(need.items()):
        for w in [*used, *(w for w in order if w not in used)]:
            if n == 0:
                break
            take = min(room.get((w, v), 0), n)
            if take:
                taken.setdefault((v, w), [0, 0])[1] += take
                room[(w, v)] -= take
                n -= take
        need[v] = n

    missing = sorted(v for v, n in need.items() if n > 0)
    if missing:
        raise OutOfStock(missing)
    return [Allocated(v, w, q, b) for (v, w), (q, b) in sorted(taken.items())]
