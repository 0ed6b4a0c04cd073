"""The shipping charge before thresholds and free-shipping rules.

There is no shipping service yet (issue 6): the quote is the flat rate from
settings. It is written as the mesh's named degradation, so a shipping rates RPC
plugs in as `remote` and the flat rate stays the answer whenever it is down
(policy "shipping.flat_rate", counted in mesh_degraded_calls_total).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mesh import client


@dataclass(frozen=True)
class QuoteRequest:
    pincode: str
    merchandise: int  # paise, after discounts
    weight_grams: int


@dataclass(frozen=True)
class Quote:
    fee: int
    source: str


RemoteQuote = Callable[[QuoteRequest], Awaitable[Quote]]


class ShippingQuotes:
    def __init__(self, remote: RemoteQuote | None = None) -> None:
        self.remote = remote

    async def quote(self, req: QuoteRequest, flat_rate: int) -> Quote:
        flat = Quote(flat_rate, "flat_rate")
        if self.remote is None:
            return flat
        remote = self.remote
        return await client.call_with_fallback(
            lambda: remote(req), lambda _exc: flat, policy="shipping.flat_rate"
        )
