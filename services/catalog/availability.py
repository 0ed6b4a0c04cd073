"""Stock per variant from the inventory service, with a short cache and a fallback.

Degradation policy "inventory.stock_unknown": when the inventory service is down
(UNAVAILABLE, DEADLINE_EXCEEDED, or its circuit breaker is open) the catalogue
still answers; every variant's status is UNKNOWN (STOCK_STATUS_UNSPECIFIED) and
responses set `stock_unknown`. Answers are cached per variant for `ttl` seconds
(a few seconds: listings and smart collections read many variants at once).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from cleanse.inventory.v1 import availability_service_pb2 as av
from cleanse.inventory.v1 import availability_service_pb2_grpc as av_grpc
from mesh import client
from services.catalog.domain.stock import UNKNOWN, StockInfo

BATCH = 500
POLICY = "inventory.stock_unknown"


class Availability:
    def __init__(self, *, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, StockInfo]] = {}

    async def get(self, variant_ids: Iterable[str]) -> tuple[dict[str, StockInfo], bool]:
        """Stock per id, and whether it is known (False: inventory did not answer)."""
        ids = list(dict.fromkeys(variant_ids))
        now = time.monotonic()
        out: dict[str, StockInfo] = {}
        missing: list[str] = []
        for vid in ids:
            hit = self._cache.get(vid)
            if hit is not None and hit[0] > now:
                out[vid] = hit[1]
            else:
                missing.append(vid)
        known = True
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            fetched = await client.call_with_fallback(
                lambda chunk=chunk: self._fetch(chunk), lambda _exc: None, policy=POLICY
            )
            if fetched is None:
                known = False
                out.update({vid: StockInfo(UNKNOWN) for vid in chunk})
                continue
            expires = time.monotonic() + self.ttl
            for vid, info in fetched.items():
                out[vid] = info
                if self.ttl > 0:
                    self._cache[vid] = (expires, info)
        return out, known

    async def _fetch(self, ids: list[str]) -> dict[str, StockInfo]:
        inventory = client.stub("inventory", av_grpc.AvailabilityServiceStub)
        resp = await inventory.BatchGetAvailability(
            av.BatchGetAvailabilityRequest(variant_ids=ids), timeout=1.5
        )
        return {
            a.variant_id: StockInfo(int(a.status), int(a.available)) for a in resp.availabilities
        }
