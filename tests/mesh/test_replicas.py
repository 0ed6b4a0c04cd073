"""Calls spread over a service's replicas: real grpc.aio servers on loopback as the
replicas, the lean client's RoundRobinChannel (mesh/h2grpc.py) and mesh.client over
both gRPC clients. A replica that is stopped gets no calls (and fails none); once it
is back it gets its share again. A call a replica never processed (GOAWAY,
REFUSED_STREAM) goes to another replica."""

from __future__ import annotations

import asyncio
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from itertools import pairwise
from typing import Any

import grpc
import pytest

from mesh import client, h2grpc, h2wire, registry
from mesh.contracts import MethodContract
from mesh.registry import free_port
from tests.mesh.helpers import EchoServicer, echo_modules
from tests.mesh.test_h2grpc import Peer, frame, ok_response

HOST = registry.DEFAULT_HOST
SERVICE = "t.Replica"


class Replica:
    """A grpc.aio server answering /t.Replica/Who with its own label, counting calls;
    stopped and started again on the same port."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.port = free_port()
        self.calls = 0
        self.server: grpc.aio.Server | None = None

    @property
    def target(self) -> str:
        return f"{HOST}:{self.port}"

    async def start(self) -> None:
        async def who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            self.calls += 1
            return self.label.encode()

        server = grpc.aio.server()
        handlers = {"Who": grpc.unary_unary_rpc_method_handler(who)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        assert server.add_insecure_port(self.target) == self.port
        await server.start()
        self.server = server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)
            self.server = None


@pytest.fixture
async def replicas() -> AsyncIterator[list[Replica]]:
    found = [Replica("a"), Replica("b")]
    for r in found:
        await r.start()
    yield found
    for r in found:
        await r.stop()


def who(ch: h2grpc.RoundRobinChannel) -> Callable[..., Any]:
    return ch.unary_unary(f"/{SERVICE}/Who", lambda b: b, lambda b: b)


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    end = time.monotonic() + within
    while not check():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_calls_alternate_skip_a_stopped_replica_and_return_to_it(
    replicas: list[Replica],
) -> None:
    a, b = replicas
    ch = h2grpc.RoundRobinChannel([a.target, b.target], initial_backoff=0.05)
    call = who(ch)
    try:
        await asyncio.wait_for(ch.channel_ready(), 5)
        await until(lambda: all(c.ready for c in ch.channels))
        got = [await call(b"", timeout=5) for _ in range(10)]
        assert sorted(set(got)) == [b"a", b"b"]
        assert all(x != y for x, y in pairwise(got)), got  # in turn

        await a.stop()
        await until(lambda: not ch.channels[0].ready)  # the client saw it go
        before = b.calls
        got = [await call(b"", timeout=5) for _ in range(20)]
        assert got == [b"b"] * 20  # every call succeeded, on the replica that is up
        assert b.calls - before == 20

        await a.start()  # the same port again: a call past the backoff reconnects it
        end = time.monotonic() + 15
        while not ch.channels[0].ready:
            assert time.monotonic() < end, "the restarted replica was never reconnected"
            assert await call(b"", timeout=5) == b"b"  # meanwhile b takes every call
            await asyncio.sleep(0.02)
        got = [await call(b"", timeout=5) for _ in range(10)]
        assert Counter(got) == {b"a": 5, b"b": 5}
    finally:
        await ch.close()


async def test_every_replica_down_fails_fast_with_each_reason(replicas: list[Replica]) -> None:
    a, b = replicas
    for r in replicas:
        await r.stop()
    ch = h2grpc.RoundRobinChannel([a.target, b.target], initial_backoff=0.3)
    call = who(ch)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(b"", timeout=5)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE
        assert a.target in e.value.details() and b.target in e.value.details()
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as e:  # both backing off: at once
            await call(b"", timeout=5)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 0.2
        await b.start()
        await asyncio.wait_for(ch.channel_ready(), 5)  # cuts the backoff short
        assert await call(b"", timeout=5) == b"b"
    finally:
        await ch.close()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call(b"", timeout=5)
    assert e.value.code() is grpc.StatusCode.CANCELLED


@pytest.mark.parametrize("refusal", ["goaway", "refused_stream"])
async def test_a_call_a_replica_never_processed_goes_to_another(refusal: str) -> None:
    def going_away(conn: int, sid: int) -> bytes:
        if refusal == "goaway":
            return frame(h2wire.GOAWAY, 0, 0, struct.pack(">LL", 0, 0))
        return frame(h2wire.RST_STREAM, 0, sid, struct.pack(">L", h2wire.REFUSED_STREAM))

    async with Peer(going_away) as a, Peer(lambda conn, sid: ok_response(sid)) as b:
        ch = h2grpc.RoundRobinChannel([a.target, b.target])
        try:
            await asyncio.wait_for(ch.channel_ready(), 5)  # connects both
            await until(lambda: all(c.ready for c in ch.channels))
            ch._next = 0  # the next call goes to a first
            assert await who(ch)(b"", timeout=5) == b"hi"
            assert len(a.sent(h2wire.HEADERS)) == 1  # a saw it once, never processed it
            assert len(b.sent(h2wire.HEADERS)) == 1  # b answered it
        finally:
            await ch.close()


def test_one_target_is_a_plain_channel_and_grpcio_gets_round_robin() -> None:
    async def make() -> None:
        one = h2grpc.channel("127.0.0.1:1")
        two = h2grpc.channel("127.0.0.1:1,127.0.0.1:2")
        assert type(one) is h2grpc.Channel and type(two) is h2grpc.RoundRobinChannel
        assert two.targets == ("127.0.0.1:1", "127.0.0.1:2")
        await one.close()
        await two.close()

    asyncio.run(make())
    assert h2grpc.grpcio_target(["127.0.0.1:1"]) == ("127.0.0.1:1", ())
    target, options = h2grpc.grpcio_target("127.0.0.1:1,127.0.0.2:2")
    assert target == "ipv4:127.0.0.1:1,127.0.0.2:2"
    assert options == (("grpc.lb_policy_name", "round_robin"),)
    target, _ = h2grpc.grpcio_target(["localhost:1", "127.0.0.1:2"])  # names resolved
    assert target.startswith("ipv4:") and target.endswith(",127.0.0.1:2")
    assert h2grpc.grpcio_target("[::1]:1,[::1]:2")[0] == "ipv6:[::1]:1,[::1]:2"


# --- mesh.client: a dependency with two replicas, over each gRPC client -----------------

DEPENDENCY = "shipping"  # a registry name no other mesh test serves


class EchoReplica:
    def __init__(self) -> None:
        self.port = free_port()
        self.servicer = EchoServicer()
        self.server: grpc.aio.Server | None = None

    @property
    def address(self) -> registry.Address:
        return registry.Address(HOST, self.port)

    async def start(self) -> None:
        _, pb2_grpc = echo_modules()
        server = grpc.aio.server()
        pb2_grpc.add_EchoServiceServicer_to_server(self.servicer, server)
        assert server.add_insecure_port(str(self.address)) == self.port
        await server.start()
        self.server = server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)
            self.server = None

    @property
    def calls(self) -> int:
        return self.servicer.calls["Echo"]


async def test_mesh_client_spreads_calls_over_replicas(
    grpc_client: str,
    test_contracts: dict[str, MethodContract],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pb2, pb2_grpc = echo_modules()
    a, b = EchoReplica(), EchoReplica()
    for r in (a, b):
        await r.start()
    env = registry.override_env({DEPENDENCY: [a.address, b.address]}, {})
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    client.configure("catalog", contracts=test_contracts, settings=client.settings())
    assert client.settings().grpc_client == grpc_client
    # One attempt per call: a retry must not hide a call sent to a stopped replica.
    client.update_settings(max_attempts=1)
    ch = client.channel(DEPENDENCY)
    assert ch.targets == (str(a.address), str(b.address))
    stub = pb2_grpc.EchoServiceStub(ch)

    async def calls(n: int) -> None:
        for i in range(n):
            resp = await stub.Echo(pb2.EchoRequest(text=f"t{i}"), timeout=5)
            assert resp.text == f"t{i}"

    try:
        await asyncio.wait_for(ch.channel_ready(), 10)
        # Both replicas connected (grpc.aio: round_robin connects every address).
        deadline = time.monotonic() + 10
        while not (a.calls and b.calls):
            assert time.monotonic() < deadline, "calls never reached both replicas"
            await calls(1)
        start = (a.calls, b.calls)
        await calls(10)
        share = (a.calls - start[0], b.calls - start[1])
        assert share == (5, 5), share  # in turn

        await a.stop()
        await asyncio.sleep(0.2)  # the client hears the connection close
        start = (a.calls, b.calls)
        await calls(20)  # none fails, though a is down
        assert (a.calls - start[0], b.calls - start[1]) == (0, 20)

        await a.start()
        deadline = time.monotonic() + 20
        before = a.calls
        while a.calls == before:  # after the reconnect backoff, a gets calls again
            assert time.monotonic() < deadline, "the restarted replica never got a call"
            await calls(1)
            await asyncio.sleep(0.05)
        start = (a.calls, b.calls)
        await calls(10)
        share = (a.calls - start[0], b.calls - start[1])
        assert share == (5, 5), share
    finally:
        await ch.close()
        for r in (a, b):
            await r.stop()
