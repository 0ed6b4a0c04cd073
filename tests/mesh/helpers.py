"""Test helpers for the mesh tests: free ports, the echo test service."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import grpc

from mesh import client, deadlines
from mesh import context as call_context
from tests.support.protos import compile_test_protos

ECHO_PROTO = "testing/mesh/v1/echo.proto"
ECHO_SERVICE = "testing.mesh.v1.EchoService"


def echo_modules() -> tuple[Any, Any]:
    mods = compile_test_protos()
    return mods.module(ECHO_PROTO, "pb2"), mods.module(ECHO_PROTO, "pb2_grpc")


def _code(value: int) -> grpc.StatusCode:
    return next(c for c in grpc.StatusCode if c.value[0] == value)


class EchoServicer:
    """The test service: counts calls so tests can prove what reached the network."""

    def __init__(self) -> None:
        self.pb2, self.pb2_grpc = echo_modules()
        self.calls: Counter[str] = Counter()  # method -> calls that reached the servicer
        self.attempts: Counter[str] = Counter()  # Fail key -> attempts

    async def Echo(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["Echo"] += 1
        return self.pb2.EchoResponse(text=request.text)

    async def Validate(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["Validate"] += 1
        return self.pb2.EchoResponse(text=request.text)

    async def CustomerOnly(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["CustomerOnly"] += 1
        return self.pb2.EchoResponse(text=request.text)

    async def _fail(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.attempts[request.key] += 1
        n = self.attempts[request.key]
        if request.fail_times == 0 or n <= request.fail_times:
            await context.abort(_code(request.code), f"failing as asked (attempt {n})")
        return self.pb2.FailResponse(attempts=n)

    async def Fail(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["Fail"] += 1
        return await self._fail(request, context)

    async def FailMutation(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["FailMutation"] += 1
        return await self._fail(request, context)

    async def Slow(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["Slow"] += 1
        left = deadlines.remaining()
        await asyncio.sleep(request.sleep_ms / 1000)
        return self.pb2.SlowResponse(deadline_remaining=-1.0 if left is None else left)

    async def Relay(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["Relay"] += 1
        left = deadlines.remaining()
        downstream = client.stub(request.downstream, self.pb2_grpc.EchoServiceStub)
        resp = await downstream.Slow(self.pb2.SlowRequest(sleep_ms=request.sleep_ms))
        return self.pb2.RelayResponse(
            my_deadline_remaining=-1.0 if left is None else left,
            downstream_deadline_remaining=resp.deadline_remaining,
        )

    async def RelayWhoami(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["RelayWhoami"] += 1
        downstream = client.stub(request.downstream, self.pb2_grpc.EchoServiceStub)
        return await downstream.Whoami(self.pb2.WhoamiRequest())

    async def Whoami(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls["Whoami"] += 1
        return self._whoami(context)

    def _whoami(self, context: grpc.aio.ServicerContext) -> Any:
        md = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        ctx = call_context.current()
        return self.pb2.WhoamiResponse(
            identity_kind=ctx.identity.kind,
            subject=ctx.identity.subject,
            request_id=ctx.request_id,
            authorization=ctx.authorization,
            traceparent=md.get("traceparent", ""),
        )

    async def StreamWhoami(self, request: Any, context: grpc.aio.ServicerContext) -> None:
        self.calls["StreamWhoami"] += 1
        # context.write, not yield: the contract interceptor awaits the handler.
        for _ in range(request.count):
            await context.write(self._whoami(context))
