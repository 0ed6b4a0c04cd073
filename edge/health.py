"""/healthz: the standard gRPC health Check of every backend some route targets."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import grpc
from grpc_health.v1 import health_pb2

from edge.backends import Backend, Backends

CHECK = "/grpc.health.v1.Health/Check"
SERVING = health_pb2.HealthCheckResponse.ServingStatus.Name(health_pb2.HealthCheckResponse.SERVING)


class HealthAggregator:
    def __init__(self, backends: Backends, expected: Iterable[Backend], timeout: float = 1.0):
        self._backends = backends
        self._expected = sorted(set(expected), key=lambda b: b.name)
        self._timeout = timeout

    async def _check(self, backend: Backend) -> str:
        call = self._backends.channel(backend).unary_unary(
            CHECK,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            resp = await call(health_pb2.HealthCheckRequest(service=""), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            return exc.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)

    async def check(self) -> tuple[bool, dict[str, str]]:
        results = await asyncio.gather(*(self._check(b) for b in self._expected))
        statuses = {b.name: s for b, s in zip(self._expected, results, strict=True)}
        return all(s == SERVING for s in statuses.values()), statuses
