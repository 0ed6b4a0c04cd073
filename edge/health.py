"""/healthz: the standard gRPC health Check of every backend some route targets.

A backend running as several replicas is checked replica by replica: it counts as
SERVING when one of them is (the edge's calls skip the others), and each replica's
own status is listed as well, under "<service>#<replica>" ("order#0", "order#1").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import grpc
from grpc_health.v1 import health_pb2

from edge.backends import Backend, Backends
from mesh.h2grpc import serving_status

SERVING = health_pb2.HealthCheckResponse.ServingStatus.Name(health_pb2.HealthCheckResponse.SERVING)


class HealthAggregator:
    def __init__(self, backends: Backends, expected: Iterable[Backend], timeout: float = 1.0):
        self._backends = backends
        self._expected = sorted(set(expected), key=lambda b: b.name)
        self._timeout = timeout

    async def _check_one(self, backend: Backend) -> str:
        try:
            status = await serving_status(self._backends.channel(backend), self._timeout)
        except grpc.aio.AioRpcError as exc:
            return exc.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(status)

    async def _check(self, backend: Backend) -> dict[str, str]:
        replicas = self._backends.replicas(backend)
        if len(replicas) == 1:
            return {backend.name: await self._check_one(backend)}
        found = await asyncio.gather(*(self._check_one(r) for r in replicas))
        out = {backend.name: SERVING if SERVING in found else found[0]}
        out.update({f"{backend.name}#{i}": s for i, s in enumerate(found)})
        return out

    async def check(self) -> tuple[bool, dict[str, str]]:
        results = await asyncio.gather(*(self._check(b) for b in self._expected))
        ok = all(r[b.name] == SERVING for b, r in zip(self._expected, results, strict=True))
        statuses = {k: v for r in results for k, v in r.items()}
        return ok, statuses
