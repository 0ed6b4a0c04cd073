"""Conformance of mesh/h2server.py, the lean gRPC server, with grpc.aio's server.

Every test runs against both server factories, `grpc.aio.server` (the reference,
id "grpcio") and `h2server.server` (id "h2server"), and asserts only what a caller
observes: status codes, details, metadata and messages, and what a handler sees
(its context, its cancellation). Unary cases also run over both clients: grpc.aio's
channel (id "aio") and mesh/h2grpc.py's (id "h2grpc"); streaming cases use grpc.aio's.

Handlers are generic and speak bytes (no serializers), except health and reflection,
which use their generated protos. `-k grpcio` runs the reference leg alone
(`-k "not grpcio"` the lean one).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2, descriptor_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from mesh import h2grpc, h2server, registry

HOST = registry.DEFAULT_HOST
SERVICE = "conformance.Svc"
MB = 1 << 20
WAIT = 10.0  # seconds: the most any single step may take before a test gives up

Factory = Callable[..., grpc.aio.Server]
Handler = Callable[..., Any]
Unary = Callable[..., Awaitable[bytes]]


FACTORIES: dict[str, Factory] = {"grpcio": grpc.aio.server, "h2server": h2server.server}


def _path(name: str) -> str:
    return f"/{SERVICE}/{name}"


def _raw(b: bytes) -> bytes:
    return b


def _pairs(md: Any) -> list[tuple[str, Any]]:
    """Metadata (grpc.aio.Metadata, a tuple of pairs or None) as a list of pairs."""
    return [(k, v) for k, v in (md or ())]


def _payload(size: int, seed: int = 0) -> bytes:
    """`size` bytes no two runs of which repeat early: reassembly errors show."""
    return random.Random(seed).randbytes(size)


def uu(fn: Handler) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(fn)


def us(fn: Handler) -> grpc.RpcMethodHandler:
    return grpc.unary_stream_rpc_method_handler(fn)


def su(fn: Handler) -> grpc.RpcMethodHandler:
    return grpc.stream_unary_rpc_method_handler(fn)


class Stuck:
    """A handler that waits past any test's patience, recording its start and its
    cancellation (what a caller's cancel, a deadline or a stop must cause)."""

    def __init__(self, on_done: Callable[[grpc.aio.ServicerContext], None] | None = None) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()
        self._on_done = on_done

    async def handle(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if self._on_done is not None:
            context.add_done_callback(self._on_done)
        self.started.set()
        try:
            await asyncio.sleep(WAIT * 3)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return b"late"


def ss(fn: Handler) -> grpc.RpcMethodHandler:
    return grpc.stream_stream_rpc_method_handler(fn)


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


# --- servers and channels ----------------------------------------------------------


class Served:
    """One started server and the client channels a test opened to it."""

    def __init__(self, server: grpc.aio.Server, port: int) -> None:
        self.server = server
        self.port = port
        self.target = f"{HOST}:{port}"
        self._aio: list[grpc.aio.Channel] = []
        self._h2: list[h2grpc.Channel] = []

    def aio(self, **options: Any) -> grpc.aio.Channel:
        """A new grpc.aio channel to the server (closed with the test)."""
        ch = grpc.aio.insecure_channel(self.target, **options)
        self._aio.append(ch)
        return ch

    def h2(self) -> h2grpc.Channel:
        """A new mesh.h2grpc channel to the server (closed with the test)."""
        ch = h2grpc.channel(self.target, initial_backoff=0.05)
        assert isinstance(ch, h2grpc.Channel)
        self._h2.append(ch)
        return ch

    def unary(self, client: str, name: str, channel: Any = None) -> Unary:
        """`name`'s unary-unary callable over `client` ("aio" or "h2grpc"), bytes in
        and out, on `channel` or a new channel of that client."""
        if channel is None:
            channel = self.aio() if client == "aio" else self.h2()
        if client == "aio":
            return channel.unary_unary(_path(name))
        return channel.unary_unary(_path(name), _raw, _raw)

    async def close(self) -> None:
        for ch in self._aio:
            await ch.close()
        for h in self._h2:
            await h.close()
        await self.server.stop(None)


class Harness:
    """Starts servers from one factory; stops them and their channels at teardown."""

    def __init__(self, factory: Factory) -> None:
        self.factory = factory
        self.served: list[Served] = []

    async def serve(
        self,
        handlers: Mapping[str, grpc.RpcMethodHandler] | None = None,
        *,
        options: Sequence[tuple[str, Any]] = (),
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        setup: Callable[[grpc.aio.Server], None] | None = None,
    ) -> Served:
        server = self.factory(options=list(options), interceptors=list(interceptors))
        assert isinstance(server, grpc.aio.Server)
        if handlers:
            server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(SERVICE, dict(handlers)),)
            )
        if setup is not None:
            setup(server)
        port = server.add_insecure_port(f"{HOST}:0")
        assert port > 0
        await server.start()
        served = Served(server, port)
        self.served.append(served)
        return served

    async def close(self) -> None:
        for s in self.served:
            await s.close()


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Factory:
    """The server under test: grpc.aio's ("grpcio") or the lean one ("h2server")."""
    return FACTORIES[request.param]


@pytest.fixture
async def harness(factory: Factory) -> AsyncIterator[Harness]:
    h = Harness(factory)
    yield h
    await h.close()


@pytest.fixture(params=["aio", "h2grpc"])
def client(request: pytest.FixtureRequest) -> str:
    """The client making unary calls: grpc.aio's channel or mesh.h2grpc's."""
    return str(request.param)


async def _rpc_error(awaitable: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """The AioRpcError `awaitable` fails with (the test fails if it succeeds)."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await asyncio.wait_for(awaitable, WAIT)
    return info.value


# --- 1. unary ---------------------------------------------------------------------


async def test_unary_round_trips_empty_and_large_messages(harness: Harness, client: str) -> None:
    """Empty messages, and 3 MB requests and responses (far beyond the 64 KB initial
    HTTP/2 windows, so flow control must work both ways), arrive intact."""

    async def big(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return _payload(int(request), seed=7)

    async def length(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return str(len(request)).encode()

    served = await harness.serve({"Echo": uu(echo), "Big": uu(big), "Len": uu(length)})
    ch = served.aio() if client == "aio" else served.h2()

    def call(name: str) -> Unary:
        return served.unary(client, name, ch)

    assert await call("Echo")(b"", timeout=WAIT) == b""
    assert await call("Big")(b"0", timeout=WAIT) == b""
    payload = _payload(3 * MB, seed=1)
    assert await call("Len")(payload, timeout=WAIT) == str(3 * MB).encode()
    assert await call("Big")(str(3 * MB).encode(), timeout=WAIT) == _payload(3 * MB, seed=7)
    assert await call("Echo")(payload, timeout=WAIT) == payload


async def test_many_concurrent_calls_on_one_channel(harness: Harness, client: str) -> None:
    """200 calls in flight at once on one channel each get their own answer."""

    async def slow_echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await asyncio.sleep(0.001 * (len(request) % 5))
        return request

    served = await harness.serve({"Echo": uu(slow_echo)})
    call = served.unary(client, "Echo")
    payloads = [f"call {i}:".encode() * (i % 13) + _payload(i * 300, seed=i) for i in range(200)]
    got = await asyncio.wait_for(
        asyncio.gather(*(call(p, timeout=WAIT) for p in payloads)), WAIT * 2
    )
    assert got == payloads


# --- 2. metadata and peer -------------------------------------------------------------


async def test_invocation_metadata_reaches_the_handler(harness: Harness, client: str) -> None:
    """Ascii metadata arrives as str, `-bin` metadata as the bytes sent."""
    seen: list[list[tuple[str, Any]]] = []

    async def record(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        seen.append(_pairs(context.invocation_metadata()))
        return b"ok"

    served = await harness.serve({"Record": uu(record)})
    md = (
        ("x-request-id", "r-1"),
        ("authorization", "Bearer abc.def"),
        ("x-multi", "one"),
        ("x-multi", "two"),
        ("x-blob-bin", b"\x00\x01\xfe\xff"),
    )
    assert await served.unary(client, "Record")(b"", timeout=WAIT, metadata=md) == b"ok"
    [got] = seen
    for pair in md:
        assert pair in got
    assert [v for k, v in got if k == "x-multi"] == ["one", "two"]
    assert not any(k.startswith(":") for k, _ in got)


async def test_initial_and_trailing_metadata_reach_the_caller(harness: Harness) -> None:
    """send_initial_metadata() and set_trailing_metadata() reach the caller of a unary
    call and of a response stream, with an OK status; on the stream the initial
    metadata arrives before any message (the handler is still blocked)."""
    release = asyncio.Event()
    initial = (("x-init", "i"), ("x-init-bin", b"\x00\x01"))
    trailing = (("x-trail", "t"), ("x-trail-bin", b"\xff\x00"))

    async def unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await context.send_initial_metadata(initial)
        context.set_trailing_metadata(trailing)
        await asyncio.wait_for(release.wait(), WAIT)
        return b"done"

    async def stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        await context.send_initial_metadata(initial)
        context.set_trailing_metadata(trailing)
        await asyncio.wait_for(release.wait(), WAIT)
        yield b"a"
        yield b"b"

    served = await harness.serve({"Unary": uu(unary), "Stream": us(stream)})
    ch = served.aio()

    release.set()  # grpc.aio's unary call reads its initial metadata with the reply
    call = ch.unary_unary(_path("Unary"))(b"", timeout=WAIT)
    assert await call == b"done"
    got = _pairs(await call.initial_metadata())
    assert all(p in got for p in initial)
    got = _pairs(await call.trailing_metadata())
    assert all(p in got for p in trailing)
    assert await call.code() is grpc.StatusCode.OK

    release.clear()
    scall = ch.unary_stream(_path("Stream"))(b"", timeout=WAIT)
    got = _pairs(await asyncio.wait_for(scall.initial_metadata(), WAIT))
    assert all(p in got for p in initial)
    release.set()
    assert [m async for m in scall] == [b"a", b"b"]
    got = _pairs(await scall.trailing_metadata())
    assert all(p in got for p in trailing)
    assert await scall.code() is grpc.StatusCode.OK


async def test_peer_names_the_callers_address(harness: Harness, client: str) -> None:
    """context.peer() is "ipv4:127.0.0.1:<the caller's port>", as grpc.aio's."""

    async def peer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return context.peer().encode()

    served = await harness.serve({"Peer": uu(peer)})
    got = (await served.unary(client, "Peer")(b"", timeout=WAIT)).decode()
    m = re.fullmatch(r"ipv4:127\.0\.0\.1:(\d+)", got)
    assert m, got
    assert 0 < int(m.group(1)) < 65536 and int(m.group(1)) != served.port


# --- 3. errors ---------------------------------------------------------------------


async def test_abort_carries_code_details_and_trailing_metadata(
    harness: Harness, client: str
) -> None:
    """abort(code, details, trailing_metadata) reaches the caller as an AioRpcError
    with that code, details and metadata (`-bin` values as bytes)."""
    trailing = (("x-why", "because"), ("x-why-bin", b"\x00\xfe\xff"))

    async def fail(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        context.set_trailing_metadata((("x-overridden", "yes"),))
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing", trailing)
        raise AssertionError("abort returned")

    served = await harness.serve({"Fail": uu(fail)})
    err = await _rpc_error(served.unary(client, "Fail")(b"", timeout=WAIT))
    assert err.code() is grpc.StatusCode.NOT_FOUND
    assert err.details() == "no such thing"
    got = _pairs(err.trailing_metadata())
    assert all(p in got for p in trailing)


async def test_rich_status_details_round_trip(harness: Harness, client: str) -> None:
    """A google.rpc.Status in grpc-status-details-bin decodes on the caller with
    grpc_status.rpc_status.from_call, its details intact."""
    bad = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="sku", description="unknown")
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad)
    rich = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message="invalid sku ✗", details=[detail]
    )

    async def fail(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        status = rpc_status.to_status(rich)
        await context.abort(status.code, status.details, status.trailing_metadata)
        raise AssertionError("abort returned")

    served = await harness.serve({"Fail": uu(fail)})
    err = await _rpc_error(served.unary(client, "Fail")(b"", timeout=WAIT))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "invalid sku ✗"
    got = rpc_status.from_call(err)
    assert got == rich
    unpacked = error_details_pb2.BadRequest()
    assert got.details[0].Unpack(unpacked) and unpacked == bad


@pytest.mark.parametrize(
    "details",
    ["naïve café — 100% sure", "%41%25 literal percent escapes", "日本語 ✓ \U0001f600", "tab\tend"],
)
async def test_details_round_trip_unicode_and_percent(
    harness: Harness, client: str, details: str
) -> None:
    """Details with non-ASCII and '%' characters reach the caller unchanged
    (grpc-message is percent-encoded on the wire and decoded once)."""

    async def fail(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, details)
        raise AssertionError("abort returned")

    served = await harness.serve({"Fail": uu(fail)})
    err = await _rpc_error(served.unary(client, "Fail")(b"", timeout=WAIT))
    assert err.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert err.details() == details


async def test_unhandled_exception_is_unknown(harness: Harness, client: str) -> None:
    """An exception escaping a handler fails the call UNKNOWN, worded as grpc.aio
    words it; the server keeps serving."""

    async def boom(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise ValueError("boom")

    served = await harness.serve({"Boom": uu(boom), "Echo": uu(echo)})
    ch = served.aio() if client == "aio" else served.h2()
    err = await _rpc_error(served.unary(client, "Boom", ch)(b"", timeout=WAIT))
    assert err.code() is grpc.StatusCode.UNKNOWN
    assert err.details() == "Unexpected <class 'ValueError'>: boom"
    assert await served.unary(client, "Echo", ch)(b"still up", timeout=WAIT) == b"still up"


@pytest.mark.parametrize("returned", [None, b"ignored"])
async def test_set_code_and_return(harness: Harness, client: str, returned: bytes | None) -> None:
    """set_code/set_details then a plain return fail the call with that code and
    details (a returned message is dropped); code()/details() read them back."""
    seen: list[tuple[Any, Any]] = []

    async def precondition(request: bytes, context: grpc.aio.ServicerContext) -> bytes | None:
        context.set_code(grpc.StatusCode.FAILED_PRECONDITION)
        context.set_details("stock is reserved")
        seen.append((context.code(), context.details()))
        return returned

    served = await harness.serve({"Pre": uu(precondition)})
    err = await _rpc_error(served.unary(client, "Pre")(b"", timeout=WAIT))
    assert err.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert err.details() == "stock is reserved"
    assert seen == [(grpc.StatusCode.FAILED_PRECONDITION, "stock is reserved")]


@pytest.mark.parametrize("path", [_path("Missing"), "/other.Service/Echo"])
async def test_unknown_method_is_unimplemented(harness: Harness, client: str, path: str) -> None:
    """A method no handler serves (unknown name or unknown service) fails
    UNIMPLEMENTED; the connection stays usable."""
    served = await harness.serve({"Echo": uu(echo)})
    ch = served.aio() if client == "aio" else served.h2()
    if client == "aio":
        missing = ch.unary_unary(path)
    else:
        missing = ch.unary_unary(path, _raw, _raw)
    err = await _rpc_error(missing(b"", timeout=WAIT))
    assert err.code() is grpc.StatusCode.UNIMPLEMENTED
    assert await served.unary(client, "Echo", ch)(b"x", timeout=WAIT) == b"x"


# --- 4. deadlines ---------------------------------------------------------------------


async def test_time_remaining_reflects_the_callers_timeout(harness: Harness, client: str) -> None:
    """time_remaining() is about the caller's timeout, and None without one."""

    async def remaining(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return repr(context.time_remaining()).encode()

    served = await harness.serve({"Remaining": uu(remaining)})
    call = served.unary(client, "Remaining")
    assert await call(b"") == b"None"
    left = float(await call(b"", timeout=30))
    assert 20 < left <= 31  # the deadline travels with a coarse unit, may round up


async def test_deadline_exceeded_cancels_the_handler(harness: Harness, client: str) -> None:
    """A handler still running at the caller's deadline: the caller gets
    DEADLINE_EXCEEDED and the handler's task is cancelled."""
    sleeper = Stuck()
    started, cancelled = sleeper.started, sleeper.cancelled
    served = await harness.serve({"Sleep": uu(sleeper.handle), "Echo": uu(echo)})
    ch = served.aio() if client == "aio" else served.h2()
    err = await _rpc_error(served.unary(client, "Sleep", ch)(b"", timeout=0.3))
    assert err.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.wait_for(started.wait(), WAIT)
    await asyncio.wait_for(cancelled.wait(), WAIT)
    assert await served.unary(client, "Echo", ch)(b"x", timeout=WAIT) == b"x"


# --- 5. cancellation ---------------------------------------------------------------


async def test_caller_cancellation_cancels_the_handler(harness: Harness, client: str) -> None:
    """A caller cancelling an in-flight call cancels the handler's task, and the
    context's done callbacks run once; on a completed call they run once too, with
    done() true and cancelled() false. (grpc.aio reports cancelled() false even on a
    cancelled call, so that value is not asserted.)"""
    callbacks: list[tuple[str, bool]] = []
    hang = Stuck(on_done=lambda ctx: callbacks.append(("hang", ctx.cancelled())))
    started, cancelled = hang.started, hang.cancelled

    async def quick(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        context.add_done_callback(
            lambda ctx: callbacks.append(("quick", ctx.cancelled() or not ctx.done()))
        )
        return b"ok"

    served = await harness.serve({"Hang": uu(hang.handle), "Quick": uu(quick)})
    ch = served.aio() if client == "aio" else served.h2()
    task = asyncio.ensure_future(served.unary(client, "Hang", ch)(b"", timeout=WAIT * 3))
    await asyncio.wait_for(started.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), WAIT)
    for _ in range(100):  # the callback may run an iteration or two after the cancel
        if callbacks:
            break
        await asyncio.sleep(0.01)
    assert [name for name, _ in callbacks] == ["hang"]

    assert await served.unary(client, "Quick", ch)(b"", timeout=WAIT) == b"ok"
    for _ in range(100):
        if len(callbacks) == 2:
            break
        await asyncio.sleep(0.01)
    assert callbacks[1:] == [("quick", False)]


# --- 6. streaming -----------------------------------------------------------------

SMALL, LARGE = 1000, 3  # server streams: small messages, then ~1 MB ones


def _stream_messages() -> list[bytes]:
    return [f"m{i}".encode() for i in range(SMALL)] + [
        _payload(MB + i, seed=i) for i in range(LARGE)
    ]


async def test_server_streaming_async_generator_and_write(harness: Harness) -> None:
    """A response stream of 1000 small and a few ~1 MB messages arrives complete and
    in order, from an async generator and from a coroutine calling context.write."""
    messages = _stream_messages()

    async def generate(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for m in messages:
            yield m

    async def write(request: bytes, context: grpc.aio.ServicerContext) -> None:
        for m in messages:
            await context.write(m)

    served = await harness.serve({"Gen": us(generate), "Write": us(write)})
    ch = served.aio()
    for name in ("Gen", "Write"):
        call = ch.unary_stream(_path(name))(b"", timeout=WAIT * 2)
        got = [m async for m in call]
        assert len(got) == len(messages) and got == messages, name
        assert await call.code() is grpc.StatusCode.OK


async def test_client_streaming_iterator_and_read(harness: Harness) -> None:
    """A request stream (small messages and a ~1 MB one) reaches the handler complete
    and in order, through the request iterator and through context.read() up to EOF."""
    requests = [f"r{i}".encode() for i in range(500)] + [_payload(MB, seed=3), b""]

    async def by_iterator(
        request_iterator: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> bytes:
        got = [m async for m in request_iterator]
        return b"ok" if got == requests else f"mismatch: {len(got)} messages".encode()

    async def by_read(request_iterator: Any, context: grpc.aio.ServicerContext) -> bytes:
        got: list[bytes] = []
        while (m := await context.read()) is not grpc.aio.EOF:
            got.append(m)
        return b"ok" if got == requests else f"mismatch: {len(got)} messages".encode()

    async def gen() -> AsyncIterator[bytes]:
        for r in requests:
            yield r

    served = await harness.serve({"Iter": su(by_iterator), "Read": su(by_read)})
    ch = served.aio()
    for name in ("Iter", "Read"):
        assert await ch.stream_unary(_path(name))(gen(), timeout=WAIT * 2) == b"ok", name
    # An empty request stream is EOF at once.
    call = ch.stream_unary(_path("Iter"))(timeout=WAIT)
    await call.done_writing()
    assert await call == b"mismatch: 0 messages"


async def test_bidi_echo(harness: Harness) -> None:
    """Bidirectional streams echo message by message: each reply arrives before the
    next request is sent (async generator and read/write handlers)."""

    async def gen_echo(
        request_iterator: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        async for m in request_iterator:
            yield m

    async def rw_echo(request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        while (m := await context.read()) is not grpc.aio.EOF:
            await context.write(m)

    served = await harness.serve({"Gen": ss(gen_echo), "RW": ss(rw_echo)})
    ch = served.aio()
    for name in ("Gen", "RW"):
        call = ch.stream_stream(_path(name))(timeout=WAIT * 2)
        for i in range(50):
            msg = _payload(i * 997, seed=i)
            await call.write(msg)
            assert await asyncio.wait_for(call.read(), WAIT) == msg
        big = _payload(MB, seed=99)
        await call.write(big)
        assert await asyncio.wait_for(call.read(), WAIT) == big
        await call.done_writing()
        assert await call.read() is grpc.aio.EOF
        assert await call.code() is grpc.StatusCode.OK

    # The iterator form, all requests written up front.
    requests = [f"q{i}".encode() for i in range(300)]
    call = ch.stream_stream(_path("Gen"))(iter(requests), timeout=WAIT)
    assert [m async for m in call] == requests


async def test_server_stream_error_midway(harness: Harness) -> None:
    """A stream that aborts after some messages: the caller reads those messages,
    then gets the abort's code, details and trailing metadata."""

    async def generate(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"m{i}".encode()
        await context.abort(grpc.StatusCode.ABORTED, "gave up midway", (("x-at", "5"),))

    async def write(request: bytes, context: grpc.aio.ServicerContext) -> None:
        for i in range(5):
            await context.write(f"m{i}".encode())
        await context.abort(grpc.StatusCode.ABORTED, "gave up midway", (("x-at", "5"),))

    async def crash(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        yield b"m0"
        raise RuntimeError("broken")

    served = await harness.serve({"Gen": us(generate), "Write": us(write), "Crash": us(crash)})
    ch = served.aio()
    for name in ("Gen", "Write"):
        call = ch.unary_stream(_path(name))(b"", timeout=WAIT)
        got: list[bytes] = []
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for m in call:
                got.append(m)
        assert got == [f"m{i}".encode() for i in range(5)], name
        assert info.value.code() is grpc.StatusCode.ABORTED
        assert info.value.details() == "gave up midway"
        assert ("x-at", "5") in _pairs(info.value.trailing_metadata())

    call = ch.unary_stream(_path("Crash"))(b"", timeout=WAIT)
    got = []
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for m in call:
            got.append(m)
    assert got == [b"m0"]
    assert info.value.code() is grpc.StatusCode.UNKNOWN


# --- 7. message size -------------------------------------------------------------


async def test_max_receive_message_length(harness: Harness, client: str) -> None:
    """A request larger than grpc.max_receive_message_length fails
    RESOURCE_EXHAUSTED without reaching the handler; one at the limit passes, and
    the connection stays usable."""
    calls: list[int] = []

    async def length(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        calls.append(len(request))
        return str(len(request)).encode()

    served = await harness.serve(
        {"Len": uu(length)}, options=[("grpc.max_receive_message_length", 64 * 1024)]
    )
    ch = served.aio() if client == "aio" else served.h2()
    call = served.unary(client, "Len", ch)
    err = await _rpc_error(call(b"x" * (64 * 1024 + 1), timeout=WAIT))
    assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    err = await _rpc_error(call(_payload(MB), timeout=WAIT))
    assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert await call(b"x" * (64 * 1024), timeout=WAIT) == str(64 * 1024).encode()
    assert calls == [64 * 1024]


# --- 8. interceptors -----------------------------------------------------------------


class Wrapping(grpc.aio.ServerInterceptor):
    """Wraps each unary-unary handler: the reply is framed by `tag`, and each call's
    x-call metadata is recorded (per call, from the context: the lean server may
    consult intercept_service once per method)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.methods: set[str] = set()
        self.calls: list[str] = []

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        self.methods.add(handler_call_details.method)
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        async def wrapped(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            self.calls.append(dict(_pairs(context.invocation_metadata())).get("x-call", "?"))
            reply = await inner(request, context)
            return self.tag.encode() + b"(" + reply + b")"

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


async def test_interceptors_wrap_every_call(harness: Harness, client: str) -> None:
    """The handlers interceptors return serve every call, the first interceptor
    outermost; streaming handlers they pass through unchanged still work."""
    outer, inner = Wrapping("a"), Wrapping("b")

    async def gen(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        yield request
        yield request

    served = await harness.serve(
        {"Echo": uu(echo), "Other": uu(echo), "Stream": us(gen)}, interceptors=[outer, inner]
    )
    ch = served.aio() if client == "aio" else served.h2()
    for i in range(5):
        name = "Echo" if i % 2 else "Other"
        reply = await served.unary(client, name, ch)(
            b"x", timeout=WAIT, metadata=(("x-call", str(i)),)
        )
        assert reply == b"a(b(x))"
    assert outer.calls == inner.calls == [str(i) for i in range(5)]
    assert outer.methods == inner.methods == {_path("Echo"), _path("Other")}

    stream = served.aio().unary_stream(_path("Stream"))(b"s", timeout=WAIT)
    assert [m async for m in stream] == [b"s", b"s"]
    assert _path("Stream") in outer.methods


# --- 9. health and reflection ----------------------------------------------------


async def test_health_check_and_watch(harness: Harness, client: str) -> None:
    """grpc_health's aio servicer, added by its generated helper: Check answers per
    service (NOT_FOUND for an unknown one) and Watch streams status changes."""
    servicer = health.aio.HealthServicer()
    served = await harness.serve(
        setup=lambda server: health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    )
    await servicer.set(SERVICE, health_pb2.HealthCheckResponse.SERVING)
    check_path = "/grpc.health.v1.Health/Check"
    if client == "aio":
        check = served.aio().unary_unary(
            check_path,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
    else:
        check = served.h2().unary_unary(
            check_path,
            health_pb2.HealthCheckRequest.SerializeToString,
            health_pb2.HealthCheckResponse.FromString,
        )
    serving = health_pb2.HealthCheckResponse.SERVING
    for name in ("", SERVICE):
        reply = await check(health_pb2.HealthCheckRequest(service=name), timeout=WAIT)
        assert reply.status == serving
    err = await _rpc_error(check(health_pb2.HealthCheckRequest(service="nope"), timeout=WAIT))
    assert err.code() is grpc.StatusCode.NOT_FOUND

    stub = health_pb2_grpc.HealthStub(served.aio())
    watch = stub.Watch(health_pb2.HealthCheckRequest(service=SERVICE), timeout=WAIT)
    first = await asyncio.wait_for(watch.read(), WAIT)
    assert first.status == serving
    await servicer.set(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
    second = await asyncio.wait_for(watch.read(), WAIT)
    assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
    watch.cancel()
    assert watch.cancelled()


async def test_reflection_lists_services(harness: Harness) -> None:
    """grpc_reflection's aio servicer answers list_services and file_containing_symbol
    on one ServerReflectionInfo bidi stream."""
    names = (health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME)

    def setup(server: grpc.aio.Server) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        reflection.enable_server_reflection(names, server)

    served = await harness.serve(setup=setup)
    stub = reflection_pb2_grpc.ServerReflectionStub(served.aio())
    call = stub.ServerReflectionInfo(timeout=WAIT)
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    listed = await asyncio.wait_for(call.read(), WAIT)
    assert {s.name for s in listed.list_services_response.service} == set(names)

    await call.write(reflection_pb2.ServerReflectionRequest(file_containing_symbol=names[0]))
    files = await asyncio.wait_for(call.read(), WAIT)
    protos = [
        descriptor_pb2.FileDescriptorProto.FromString(b)
        for b in files.file_descriptor_response.file_descriptor_proto
    ]
    assert health_pb2.DESCRIPTOR.name in {p.name for p in protos}
    await call.done_writing()
    assert await call.read() is grpc.aio.EOF
    assert await call.code() is grpc.StatusCode.OK


# --- 10. graceful stop -----------------------------------------------------------


async def test_stop_with_grace_lets_an_in_flight_call_finish(harness: Harness, client: str) -> None:
    """stop(grace): new connections are refused at once (UNAVAILABLE), the call in
    flight completes OK, stop returns, and later calls fail UNAVAILABLE."""
    started, release = asyncio.Event(), asyncio.Event()

    async def held(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        started.set()
        await asyncio.wait_for(release.wait(), WAIT)
        return b"finished"

    served = await harness.serve({"Held": uu(held), "Echo": uu(echo)})
    ch = served.aio() if client == "aio" else served.h2()
    in_flight = asyncio.ensure_future(served.unary(client, "Held", ch)(b"", timeout=WAIT * 2))
    await asyncio.wait_for(started.wait(), WAIT)

    stopping = asyncio.ensure_future(served.server.stop(WAIT))
    # A new caller is turned away while the in-flight call drains (polled: the
    # listener closes as stop() begins).
    for _ in range(100):
        await asyncio.sleep(0.02)
        try:
            await served.unary(client, "Echo")(b"", timeout=1)
        except grpc.aio.AioRpcError as exc:
            assert exc.code() is grpc.StatusCode.UNAVAILABLE
            break
    else:
        pytest.fail("a new channel still reached the stopping server")
    assert not in_flight.done() and not stopping.done()

    release.set()
    assert await asyncio.wait_for(in_flight, WAIT) == b"finished"
    await asyncio.wait_for(stopping, WAIT)
    await asyncio.wait_for(served.server.wait_for_termination(), WAIT)

    err = await _rpc_error(served.unary(client, "Echo", ch)(b"", timeout=WAIT))
    assert err.code() is grpc.StatusCode.UNAVAILABLE


async def test_wait_for_termination_reports_a_timeout(harness: Harness) -> None:
    """wait_for_termination(timeout) returns whether it timed out, as grpc.aio's: True
    while the server runs, False once it has stopped."""
    served = await harness.serve({"Echo": uu(echo)})
    assert await served.server.wait_for_termination(timeout=0.01) is True
    waiter = asyncio.ensure_future(served.server.wait_for_termination())
    await asyncio.wait_for(served.server.stop(None), WAIT)
    assert await asyncio.wait_for(waiter, WAIT) is False
    assert await served.server.wait_for_termination(timeout=WAIT) is False


async def test_stop_with_short_grace_cancels_a_long_handler(harness: Harness, client: str) -> None:
    """stop(grace) with a handler outliving the grace: the call ends UNAVAILABLE (as
    grpc.aio's "Cancelling all calls") and the handler's task is cancelled."""
    long = Stuck()
    started, cancelled = long.started, long.cancelled
    served = await harness.serve({"Long": uu(long.handle)})
    in_flight = asyncio.ensure_future(served.unary(client, "Long")(b"", timeout=WAIT * 3))
    await asyncio.wait_for(started.wait(), WAIT)
    await asyncio.wait_for(served.server.stop(0.1), WAIT)
    err = await _rpc_error(in_flight)
    assert err.code() is grpc.StatusCode.UNAVAILABLE
    await asyncio.wait_for(cancelled.wait(), WAIT)


async def test_stop_without_grace_cancels_at_once(harness: Harness) -> None:
    """stop(None): in-flight calls end UNAVAILABLE, handlers are cancelled, and
    wait_for_termination returns."""
    long = Stuck()
    started, cancelled = long.started, long.cancelled
    served = await harness.serve({"Long": uu(long.handle)})
    waiter = asyncio.ensure_future(served.server.wait_for_termination())
    in_flight = asyncio.ensure_future(served.unary("aio", "Long")(b"", timeout=WAIT * 3))
    await asyncio.wait_for(started.wait(), WAIT)
    await asyncio.wait_for(served.server.stop(None), WAIT)
    err = await _rpc_error(in_flight)
    assert err.code() is grpc.StatusCode.UNAVAILABLE
    await asyncio.wait_for(cancelled.wait(), WAIT)
    await asyncio.wait_for(waiter, WAIT)


# --- 11. compression -------------------------------------------------------------


async def test_gzip_compressed_requests_are_accepted(harness: Harness) -> None:
    """grpc.aio's client compressing with gzip (per channel and per call, unary and
    streaming) is understood: the handler sees the original bytes."""

    async def length(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return str(len(request)).encode() + b":" + request[:16]

    async def count(request_iterator: AsyncIterator[bytes], context: Any) -> bytes:
        return str(sum([len(m) async for m in request_iterator])).encode()

    served = await harness.serve({"Len": uu(length), "Count": su(count), "Echo": uu(echo)})
    compressible = b"ayurveda " * (MB // 9)
    ch = served.aio(compression=grpc.Compression.Gzip)
    reply = await ch.unary_unary(_path("Len"))(compressible, timeout=WAIT)
    assert reply == str(len(compressible)).encode() + b":" + compressible[:16]
    assert await ch.unary_unary(_path("Echo"))(b"tiny", timeout=WAIT) == b"tiny"

    plain = served.aio()
    reply = await plain.unary_unary(_path("Len"))(
        compressible, timeout=WAIT, compression=grpc.Compression.Gzip
    )
    assert reply.startswith(str(len(compressible)).encode() + b":")
    chunks = [compressible[:1000]] * 100
    total = await plain.stream_unary(_path("Count"))(
        iter(chunks), timeout=WAIT, compression=grpc.Compression.Gzip
    )
    assert total == str(100_000).encode()
