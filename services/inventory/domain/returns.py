"""Where returned units go back: the warehouses a reservation took them from. Plain
Python, no I/O.

A reservation took units of a variant from one or more warehouses (its lines); some
may have gone back already (earlier restocks against it). What each warehouse still
has out for the reservation is `took - back`. A restock of `q` units of the variant
(at most the sum of what is still out) is split over those warehouses in proportion
to what each still has out, by the largest remainder method:

    share_w = floor(q * out_w / out)      (out = the sum of out_w)
    the q - sum(share_w) units left over go one each to the warehouses with the
    largest remainders (q * out_w mod out), ties: more still out first, then the
    warehouse id.

No warehouse ever gets more than it still has out, and a restock of everything
still out puts back exactly `out_w` everywhere; so any sequence of restocks (an
edit's removed units, partial returns, then a cancel) together puts back exactly
what each warehouse gave, never more. The split depends only on the numbers and
the warehouse ids: deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping


class ExceedsReservation(Exception):
    """Some variants ask more back than the reservation still has out."""

    def __init__(self, short: Mapping[str, tuple[int, int]]) -> None:
        # variant id -> (asked, still out)
        self.short = dict(sorted(short.items()))
        super().__init__(", ".join(self.short))

    @property
    def variant_ids(self) -> list[str]:
        return list(self.short)


def split(quantity: int, out: Mapping[str, int]) -> dict[str, int]:
    """`quantity` units over warehouses by what each still has `out` (largest
    remainder); only warehouses that get units appear. Requires quantity <= sum(out)."""
    live = {w: n for w, n in out.items() if n > 0}
    total = sum(live.values())
    if quantity < 0 or quantity > total:
        raise ValueError(f"{quantity} units over {total} still out")
    if quantity == 0:
        return {}
    shares = {w: quantity * n // total for w, n in live.items()}
    left = quantity - sum(shares.values())
    by_remainder = sorted(live, key=lambda w: (-(quantity * live[w] % total), -live[w], w))
    for w in by_remainder[:left]:
        shares[w] += 1
    return {w: q for w, q in sorted(shares.items()) if q}


def plan(
    demand: Mapping[str, int], out: Mapping[str, Mapping[str, int]]
) -> list[tuple[str, str, int]]:
    """[(variant, warehouse, units)] for `demand` (variant -> units) against what the
    reservation still has `out` (variant -> warehouse -> units), in (variant,
    warehouse) order. All or nothing: raises ExceedsReservation naming every variant
    that asks for more than is still out."""
    short = {}
    for v, q in demand.items():
        left = sum(n for n in out.get(v, {}).values() if n > 0)
        if q > left:
            short[v] = (q, left)
    if short:
        raise ExceedsReservation(short)
    return [(v, w, n) for v in sorted(demand) for w, n in split(demand[v], out.get(v, {})).items()]
