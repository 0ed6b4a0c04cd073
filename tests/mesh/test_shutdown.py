"""Graceful shutdown: SIGTERM-style stop drains in-flight RPCs and refuses new ones."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh import registry
from mesh.contracts import MethodContract
from mesh.registry import free_port
from mesh.server import ServiceApp
from tests.mesh.helpers import EchoServicer, echo_modules

NAME = "cms"  # any registered name not used by the session's other test services


async def test_stop_drains_in_flight_rpcs_then_refuses_new_ones(
    monkeypatch, test_contracts: dict[str, MethodContract]
) -> None:
    addr = registry.Address(registry.DEFAULT_HOST, free_port())
    monkeypatch.setenv("CLEANSE_CMS_ADDR", str(addr))
    monkeypatch.setenv("CLEANSE_CMS_METRICS_ADDR", f"{registry.DEFAULT_HOST}:{free_port()}")
    pb2, pb2_grpc = echo_modules()
    app = ServiceApp(NAME, contracts=test_contracts, grace=5.0)
    app.add(pb2_grpc.add_EchoServiceServicer_to_server, EchoServicer())
    await app.start()
    async with grpc.aio.insecure_channel(str(addr)) as ch:
        echo = pb2_grpc.EchoServiceStub(ch)
        health = health_pb2_grpc.HealthStub(ch)
        serving = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert serving.status == health_pb2.HealthCheckResponse.SERVING

        async def slow_call():
            return await echo.Slow(pb2.SlowRequest(sleep_ms=600), timeout=10)

        in_flight = asyncio.create_task(slow_call())
        await asyncio.sleep(0.15)  # the RPC is running inside the servicer
        stopping = asyncio.create_task(app.stop())
        # The in-flight RPC completes normally even though shutdown has begun.
        resp = await in_flight
        assert resp.deadline_remaining > 0
        await stopping
        # After shutdown the port refuses calls.
        try:
            await echo.Echo(pb2.EchoRequest(text="late"), timeout=1)
        except grpc.aio.AioRpcError as e:
            assert e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        else:
            raise AssertionError("a call after shutdown must fail")
