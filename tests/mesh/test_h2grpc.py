"""mesh/h2grpc.py, the lean gRPC client of the edge and mesh.client, against a real
grpc.aio server and, for what a well-behaved server rarely does, a scripted HTTP/2
peer; and mesh/hpack.py."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from mesh import h2grpc, h2wire, hpack, registry

HOST = registry.DEFAULT_HOST
SERVICE = "t.T"


def _raw(b: bytes) -> bytes:
    return b


# --- a real grpc.aio server -----------------------------------------------------------


class Backend:
    def __init__(self) -> None:
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self.cancelled: list[str] = []
        self.seen: list[dict[str, Any]] = []

    @property
    def target(self) -> str:
        return f"{HOST}:{self.port}"

    def _handlers(self) -> dict[str, grpc.RpcMethodHandler]:
        async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return request

        async def meta(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            md = {
                k: (base64.b64encode(v).decode() if isinstance(v, bytes) else v)
                for k, v in context.invocation_metadata() or ()
            }
            return json.dumps(md).encode()

        async def sleep(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            try:
                await asyncio.sleep(float(request))
            except asyncio.CancelledError:
                self.cancelled.append(request.decode())
                raise
            return b"done"

        async def big(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return b"x" * int(request)

        async def remaining(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return str(context.time_remaining()).encode()

        async def fail(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            spec = json.loads(request)
            await context.abort(
                grpc.StatusCode[spec["code"]],
                spec["details"],
                (("detail-bin", b"\x00\x01\xff"), ("note", "v")),
            )
            return b""

        return {
            name: grpc.unary_unary_rpc_method_handler(fn)
            for name, fn in {
                "Echo": echo,
                "Meta": meta,
                "Sleep": sleep,
                "Big": big,
                "Remaining": remaining,
                "Fail": fail,
            }.items()
        }

    async def start(self, port: int = 0) -> None:
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 32 << 20)])
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, self._handlers()),)
        )
        self.port = server.add_insecure_port(f"{HOST}:{port}")
        await server.start()
        self.server = server

    async def stop(self, grace: float | None = None) -> None:
        if self.server is not None:
            await self.server.stop(grace)
            self.server = None


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    b = Backend()
    await b.start()
    yield b
    await b.stop()


@pytest.fixture
async def channel(backend: Backend) -> AsyncIterator[h2grpc.Channel]:
    ch = h2grpc.Channel(backend.target, initial_backoff=0.05)
    yield ch
    await ch.close()


def method(ch: h2grpc.Channel, name: str) -> h2grpc.UnaryUnary:
    return ch.unary_unary(f"/{SERVICE}/{name}", _raw, _raw)


async def test_calls_round_trip_many_at_once(channel: h2grpc.Channel) -> None:
    echo = method(channel, "Echo")
    payloads = [f"call {i}".encode() * (i % 7) for i in range(300)]
    got = await asyncio.gather(*(echo(p, timeout=10) for p in payloads))
    assert got == payloads
    assert await echo(b"", timeout=None) == b""


async def test_metadata_reaches_the_server(channel: h2grpc.Channel) -> None:
    md = [("x-request-id", "r-1"), ("authorization", "Bearer abc"), ("k-bin", b"\x00\xfe")]
    seen = json.loads(await method(channel, "Meta")(b"", timeout=5, metadata=md))
    assert seen["x-request-id"] == "r-1" and seen["authorization"] == "Bearer abc"
    assert base64.b64decode(seen["k-bin"]) == b"\x00\xfe"
    assert seen["user-agent"].startswith("grpc-python-lean/")


@pytest.mark.parametrize(
    "md", [[("Bad-Key", "v")], [("te", "x")], [("x-k", "a\r\nb")], [("x-k", "ü")]]
)
async def test_invalid_metadata_is_refused(channel: h2grpc.Channel, md: Any) -> None:
    with pytest.raises(ValueError):
        await method(channel, "Echo")(b"", timeout=5, metadata=md)
    assert await method(channel, "Echo")(b"ok", timeout=5) == b"ok"


async def test_an_error_carries_code_details_and_trailing_metadata(
    channel: h2grpc.Channel,
) -> None:
    spec = {"code": "NOT_FOUND", "details": "shelf ü 42 is gone 100%"}
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await method(channel, "Fail")(json.dumps(spec).encode(), timeout=5)
    assert e.value.code() is grpc.StatusCode.NOT_FOUND
    assert e.value.details() == spec["details"]
    trailing = dict(e.value.trailing_metadata() or ())
    assert trailing["detail-bin"] == b"\x00\x01\xff" and trailing["note"] == "v"
    assert "grpc-status" not in trailing


async def test_unknown_method_is_unimplemented(channel: h2grpc.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await method(channel, "Nope")(b"", timeout=5)
    assert e.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_the_deadline_travels_and_is_enforced(
    channel: h2grpc.Channel, backend: Backend
) -> None:
    left = float(await method(channel, "Remaining")(b"", timeout=5))
    assert 4.0 < left <= 5.01
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await method(channel, "Sleep")(b"3", timeout=0.2)
    assert e.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 1.5
    assert await method(channel, "Echo")(b"after", timeout=5) == b"after"


async def test_large_messages_both_ways(channel: h2grpc.Channel) -> None:
    big = bytes(range(256)) * (12 * 1024)  # 3 MiB: many frames, past every initial window
    assert await method(channel, "Echo")(big, timeout=20) == big
    assert len(await method(channel, "Big")(str(3 << 20).encode(), timeout=20)) == 3 << 20


async def test_a_response_over_the_limit_is_resource_exhausted(backend: Backend) -> None:
    ch = h2grpc.Channel(backend.target, max_receive_message_length=1 << 20)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await method(ch, "Big")(str(2 << 20).encode(), timeout=10)
        assert e.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert await method(ch, "Echo")(b"still fine", timeout=5) == b"still fine"
    finally:
        await ch.close()


async def test_cancelling_a_call_cancels_it_on_the_server(
    channel: h2grpc.Channel, backend: Backend
) -> None:
    task = asyncio.create_task(method(channel, "Sleep")(b"5", timeout=10))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if backend.cancelled:
            break
        await asyncio.sleep(0.01)
    assert backend.cancelled == ["5"]
    assert await method(channel, "Echo")(b"next", timeout=5) == b"next"


async def test_an_unreachable_backend_is_unavailable_until_it_comes_up() -> None:
    port = registry.free_port(HOST)
    ch = h2grpc.Channel(f"{HOST}:{port}", initial_backoff=0.2)
    b = Backend()
    try:
        for _ in range(2):  # the second fails fast: the channel is backing off
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await method(ch, "Echo")(b"", timeout=5)
            assert e.value.code() is grpc.StatusCode.UNAVAILABLE
        await b.start(port)
        await asyncio.sleep(0.3)
        assert await method(ch, "Echo")(b"up", timeout=5) == b"up"
    finally:
        await ch.close()
        await b.stop()


async def test_channel_ready_waits_for_the_server_and_cuts_a_backoff_short() -> None:
    port = registry.free_port(HOST)
    ch = h2grpc.Channel(f"{HOST}:{port}", initial_backoff=30)
    b = Backend()
    try:
        with pytest.raises(grpc.aio.AioRpcError):
            await method(ch, "Echo")(b"", timeout=5)  # now backing off for ~30 s
        await b.start(port)
        await asyncio.wait_for(ch.channel_ready(), 5)  # tries again at once
        assert await method(ch, "Echo")(b"up", timeout=5) == b"up"
        await ch.close()
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await ch.channel_ready()
        assert e.value.code() is grpc.StatusCode.CANCELLED
    finally:
        await ch.close()
        await b.stop()


def test_the_client_switch() -> None:
    assert h2grpc.client_from_env({}) == "lean"
    assert h2grpc.client_from_env({"CLEANSE_GRPC_CLIENT": " GRPCIO "}) == "grpcio"
    with pytest.raises(RuntimeError, match="CLEANSE_GRPC_CLIENT"):
        h2grpc.client_from_env({"CLEANSE_GRPC_CLIENT": "curl"})


async def test_a_server_restart(backend: Backend) -> None:
    ch = h2grpc.Channel(backend.target, initial_backoff=0.05)
    try:
        slow = asyncio.create_task(method(ch, "Sleep")(b"0.3", timeout=10))
        await asyncio.sleep(0.1)
        await backend.stop(grace=5)  # GOAWAY: the call in flight still completes
        assert await slow == b"done"
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await method(ch, "Echo")(b"", timeout=5)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE
        await backend.start(backend.port)
        await asyncio.sleep(0.2)
        assert await method(ch, "Echo")(b"back", timeout=5) == b"back"
        # A server that goes away abruptly fails the calls in flight.
        slow = asyncio.create_task(method(ch, "Sleep")(b"5", timeout=10))
        await asyncio.sleep(0.1)
        await backend.stop(grace=None)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await slow
        assert e.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    finally:
        await ch.close()


async def test_closing_the_channel_cancels_calls_in_flight(channel: h2grpc.Channel) -> None:
    slow = asyncio.create_task(method(channel, "Sleep")(b"5", timeout=10))
    await asyncio.sleep(0.1)
    await channel.close()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await slow
    assert e.value.code() is grpc.StatusCode.CANCELLED
    with pytest.raises(grpc.aio.AioRpcError):
        await method(channel, "Echo")(b"", timeout=5)


# --- a scripted HTTP/2 peer -------------------------------------------------------------

_FRAME = struct.Struct(">HBBBL")


def frame(kind: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return _FRAME.pack(n >> 8, n & 0xFF, kind, flags, sid) + payload


def block(*headers: tuple[str, str]) -> bytes:
    return b"".join(hpack.literal(n, v.encode()) for n, v in headers)


def message(data: bytes, compressed: bool = False) -> bytes:
    return struct.pack(">BL", int(compressed), len(data)) + data


OK_HEAD = block((":status", "200"), ("content-type", "application/grpc"))
OK_TRAILERS = block(("grpc-status", "0"))


def ok_response(sid: int, data: bytes = b"hi") -> bytes:
    return (
        frame(h2wire.HEADERS, h2wire.END_HEADERS, sid, OK_HEAD)
        + frame(h2wire.DATA, 0, sid, message(data))
        + frame(h2wire.HEADERS, h2wire.END_HEADERS | h2wire.END_STREAM, sid, OK_TRAILERS)
    )


Script = Callable[[int, int], bytes | None]  # (connection number, stream id) -> reply


class Peer:
    """Answers each request HEADERS frame with what `script` returns."""

    def __init__(self, script: Script, *, settings: bool = True) -> None:
        self.script = script
        self.settings = settings
        self.connections = 0
        self.frames: list[tuple[int, int, int, int, bytes]] = []  # (conn, type, flags, sid, p)
        self.server: asyncio.Server | None = None

    @property
    def target(self) -> str:
        assert self.server is not None
        return f"{HOST}:{self.server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> Peer:
        self.server = await asyncio.start_server(self._serve, HOST, 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.connections
        self.connections += 1
        try:
            assert await reader.readexactly(24) == h2wire.PREFACE
            if self.settings:
                writer.write(frame(h2wire.SETTINGS, 0, 0))
            while True:
                hi, lo, kind, flags, sid = _FRAME.unpack(await reader.readexactly(9))
                payload = await reader.readexactly((hi << 8) | lo)
                self.frames.append((n, kind, flags, sid, payload))
                if kind == h2wire.HEADERS:
                    reply = self.script(n, sid)
                    if reply:
                        writer.write(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def sent(self, kind: int) -> list[tuple[int, int, int, int, bytes]]:
        return [f for f in self.frames if f[1] == kind]


async def call(target: str, **kw: Any) -> bytes:
    ch = h2grpc.Channel(target, **kw)
    try:
        return await method(ch, "X")(b"req", timeout=5)
    finally:
        await ch.close()


async def test_unprocessed_calls_are_retried_once_on_a_new_connection() -> None:
    goaway = frame(h2wire.GOAWAY, 0, 0, struct.pack(">LL", 0, 0))
    async with Peer(lambda conn, sid: goaway if conn == 0 else ok_response(sid)) as peer:
        assert await call(peer.target) == b"hi"
        assert peer.connections == 2
    refused = frame(h2wire.RST_STREAM, 0, 1, struct.pack(">L", h2wire.REFUSED_STREAM))
    async with Peer(lambda conn, sid: refused if sid == 1 else ok_response(sid)) as peer:
        assert await call(peer.target) == b"hi"  # again, on the same connection
    async with Peer(
        lambda conn, sid: frame(h2wire.RST_STREAM, 0, sid, struct.pack(">L", 7))
    ) as peer:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(peer.target)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE  # retried once, then given up


async def test_response_shapes() -> None:
    def trailers_only(conn: int, sid: int) -> bytes:
        head = block(
            (":status", "200"),
            ("content-type", "application/grpc"),
            ("grpc-status", "7"),
            ("grpc-message", "no%20way"),
        )
        return frame(h2wire.HEADERS, h2wire.END_HEADERS | h2wire.END_STREAM, sid, head)

    async with Peer(trailers_only) as peer:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(peer.target)
        assert e.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert e.value.details() == "no way"

    def http_503(conn: int, sid: int) -> bytes:
        head = block((":status", "503"), ("content-type", "text/plain"))
        return frame(h2wire.HEADERS, h2wire.END_HEADERS, sid, head) + frame(
            h2wire.DATA, h2wire.END_STREAM, sid, b"busy"
        )

    async with Peer(http_503) as peer:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(peer.target)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE

    def gzipped(conn: int, sid: int) -> bytes:
        head = block(
            (":status", "200"), ("content-type", "application/grpc"), ("grpc-encoding", "gzip")
        )
        return (
            frame(h2wire.HEADERS, h2wire.END_HEADERS, sid, head)
            + frame(h2wire.DATA, 0, sid, message(gzip.compress(b"unzipped"), compressed=True))
            + frame(h2wire.HEADERS, h2wire.END_HEADERS | h2wire.END_STREAM, sid, OK_TRAILERS)
        )

    async with Peer(gzipped) as peer:
        assert await call(peer.target) == b"unzipped"

    def split_and_padded(conn: int, sid: int) -> bytes:
        # Headers over HEADERS + CONTINUATION, padded DATA in two frames, a server PING.
        data = message(b"in two parts")
        return (
            frame(h2wire.PING, 0, 0, b"12345678")
            + frame(h2wire.HEADERS, 0, sid, OK_HEAD[:3])
            + frame(h2wire.CONTINUATION, h2wire.END_HEADERS, sid, OK_HEAD[3:])
            + frame(h2wire.DATA, h2wire.PADDED, sid, b"\x03" + data[:6] + b"\0\0\0")
            + frame(h2wire.DATA, 0, sid, data[6:])
            + frame(h2wire.HEADERS, h2wire.END_HEADERS | h2wire.END_STREAM, sid, OK_TRAILERS)
        )

    async with Peer(split_and_padded) as peer:
        assert await call(peer.target) == b"in two parts"
        for _ in range(100):
            if peer.sent(h2wire.PING):
                break
            await asyncio.sleep(0.01)
        assert [(f[2], f[4]) for f in peer.sent(h2wire.PING)] == [(h2wire.ACK, b"12345678")]

    def no_trailers(conn: int, sid: int) -> bytes:
        return frame(h2wire.HEADERS, h2wire.END_HEADERS, sid, OK_HEAD) + frame(
            h2wire.DATA, h2wire.END_STREAM, sid, message(b"x")
        )

    async with Peer(no_trailers) as peer:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(peer.target)
        assert e.value.code() is grpc.StatusCode.UNKNOWN


async def test_a_malformed_connection_fails_its_calls() -> None:
    async with Peer(lambda conn, sid: frame(h2wire.HEADERS, h2wire.END_HEADERS, sid, b"\xff")) as p:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(p.target)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE
        for _ in range(100):
            if p.sent(h2wire.GOAWAY):
                break
            await asyncio.sleep(0.01)
        assert p.sent(h2wire.GOAWAY)


async def test_an_unanswered_keepalive_ping_closes_the_connection() -> None:
    async with Peer(lambda conn, sid: None, settings=False) as peer:
        ch = h2grpc.Channel(peer.target, keepalive_time=0.2, keepalive_timeout=0.2)
        try:
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await method(ch, "X")(b"", timeout=None)
            assert e.value.code() is grpc.StatusCode.UNAVAILABLE
            assert "keepalive" in (e.value.details() or "")
            assert time.monotonic() - started < 2
            assert peer.sent(h2wire.PING)
        finally:
            await ch.close()


async def test_the_servers_concurrency_limit_queues_calls() -> None:
    pending: list[int] = []
    limit = frame(h2wire.SETTINGS, 0, 0, struct.pack(">HL", 3, 1))  # MAX_CONCURRENT_STREAMS 1

    def one_at_a_time(conn: int, sid: int) -> bytes:
        pending.append(sid)
        return ok_response(sid, str(sid).encode())

    async with Peer(lambda conn, sid: None) as peer:
        peer.script = one_at_a_time
        ch = h2grpc.Channel(peer.target)
        try:
            assert await method(ch, "X")(b"", timeout=5) == b"1"
            assert ch._conn is not None
            ch._conn.data_received(limit)
            got = await asyncio.gather(*(method(ch, "X")(b"", timeout=5) for _ in range(4)))
            assert got == [b"3", b"5", b"7", b"9"]
        finally:
            await ch.close()


# --- pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "header"),
    [(10.0, "10000000u"), (0.0000005, "500n"), (2.0, "2000000u"), (3600.0, "3600000m")],
)
def test_encode_timeout(seconds: float, header: str) -> None:
    assert h2wire.encode_timeout(seconds) == header
    # The server reads back what the client wrote.
    assert h2wire.parse_timeout(header) == pytest.approx(seconds)


@pytest.mark.parametrize("header", ["", "5", "5x", "S", "123456789m", "-5S"])
def test_a_malformed_timeout_means_no_deadline(header: str) -> None:
    assert h2wire.parse_timeout(header) is None


def test_hpack_decodes_rfc7541_c4() -> None:
    d = hpack.Decoder(4096)
    blocks = [
        "828684418cf1e3c2e5f23a6ba0ab90f4ff",
        "828684be5886a8eb10649cbf",
        "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
    ]
    got = [d.decode(bytes.fromhex(b)) for b in blocks]
    assert got[0] == [
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ]
    assert got[1][-1] == ("cache-control", "no-cache")
    assert got[2][-1] == ("custom-key", "custom-value") and got[2][1] == (":scheme", "https")


def test_hpack_refuses_bad_input() -> None:
    # Incremental indexing into a table of 0 bytes: decoded, nothing kept.
    d = hpack.Decoder(0)
    assert d.decode(b"\x40\x01a\x01b") == [("a", "b")] and d.table_empty
    with pytest.raises(hpack.HpackError):
        hpack.huffman_decode(b"\x00")  # padding that is not EOS's ones
    with pytest.raises(hpack.HpackError):
        hpack.Decoder(0).decode(b"\x3f\xe1\x1f")  # a table size above the one allowed
    with pytest.raises(hpack.HpackError):
        hpack.Decoder(0).decode(b"\xbe")  # an index past the static table
