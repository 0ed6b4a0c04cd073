"""mesh/h2server.py at the HTTP/2 level, as clients other than ours see it.

test_h2server.py checks the server's gRPC behaviour through gRPC clients; here a
third-party HTTP/2 client (nghttp, from nghttp2) and a raw socket client written
with mesh.h2wire / mesh.hpack assert what arrives on the wire: frames, flags, error
codes, windows. Every read has a timeout, so a broken server fails a test instead of
hanging it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import grpc
import pytest

from bench.load import ensure_tool
from mesh import h2server, hpack, registry
from mesh.h2wire import (
    ACK,
    CANCEL,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    FRAME,
    FRAME_SIZE_ERROR,
    GOAWAY,
    GOAWAY_BODY,
    HEADERS,
    MESSAGE_PREFIX,
    NO_ERROR,
    PING,
    PREFACE,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    RST_STREAM,
    SETTING,
    SETTINGS,
    U32,
    WINDOW_UPDATE,
    frame,
)

HOST = registry.DEFAULT_HOST
SERVICE = "wire.Svc"
WAIT = 5.0  # seconds: the most any single step may take before a test gives up
INITIAL_WINDOW_SIZE = 4  # SETTINGS_INITIAL_WINDOW_SIZE's identifier
BIG = bytes(range(256)) * 3 + bytes(range(232))  # 1000 bytes, no two runs alike


def _message(payload: bytes) -> bytes:
    """A gRPC length-prefixed message (not compressed)."""
    return MESSAGE_PREFIX.pack(0, len(payload)) + payload


# --- the server --------------------------------------------------------------------


@dataclass
class Served:
    """A started lean server and what its handlers saw."""

    server: grpc.aio.Server
    port: int
    requests: list[bytes] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """A lean server with three methods: Echo ("pong:" + request), Big (1000 bytes),
    Hold (waits for `release`, then echoes; records its cancellation)."""
    srv = h2server.server()
    port = srv.add_insecure_port(f"{HOST}:0")
    s = Served(srv, port)

    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        s.requests.append(request)
        return b"pong:" + request

    async def big(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return BIG

    async def hold(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        s.entered.set()
        try:
            await s.release.wait()
        except asyncio.CancelledError:
            s.cancelled.set()
            raise
        return request

    methods = {"Echo": echo, "Big": big, "Hold": hold}
    srv.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE, {k: grpc.unary_unary_rpc_method_handler(f) for k, f in methods.items()}
            ),
        )
    )
    await srv.start()
    yield s
    s.release.set()
    await asyncio.wait_for(srv.stop(None), WAIT)


# --- a raw HTTP/2 client -------------------------------------------------------------


class Frame(NamedTuple):
    kind: int
    flags: int
    sid: int
    payload: bytes


@dataclass
class Response:
    headers: dict[str, str]
    data: bytes
    trailers: dict[str, str]


class RawClient:
    """HTTP/2 frames over a socket, with nothing done behind the test's back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = hpack.Decoder(4096)

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), WAIT)
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def send_frame(self, kind: int, flags: int, sid: int, payload: bytes = b"") -> None:
        self.send(frame(kind, flags, sid, payload))

    async def read_frame(self) -> Frame | None:
        """The next frame, or None when the server closed the connection."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(FRAME.size), WAIT)
        except asyncio.IncompleteReadError as exc:
            assert exc.partial == b"", f"connection closed mid-frame: {exc.partial!r}"
            return None
        hi, lo, kind, flags, sid = FRAME.unpack(head)
        payload = await asyncio.wait_for(self.reader.readexactly((hi << 8) | lo), WAIT)
        return Frame(kind, flags, sid & 0x7FFFFFFF, payload)

    async def expect_frame(self) -> Frame:
        got = await self.read_frame()
        assert got is not None, "the server closed the connection"
        return got

    async def handshake(self, settings: dict[int, int] | None = None) -> None:
        """Preface and SETTINGS; returns once the server acknowledged ours."""
        body = b"".join(SETTING.pack(k, v) for k, v in (settings or {}).items())
        self.send(PREFACE)
        self.send_frame(SETTINGS, 0, 0, body)
        while True:
            f = await self.expect_frame()
            if f.kind == SETTINGS and not f.flags & ACK:
                self.send_frame(SETTINGS, ACK, 0)
            elif f.kind == SETTINGS:
                return

    def request(self, sid: int, method: str, payload: bytes) -> None:
        """A unary gRPC request: HEADERS, then DATA ending the stream."""
        self.send_frame(HEADERS, END_HEADERS, sid, request_block(method))
        self.send_frame(DATA, END_STREAM, sid, _message(payload))

    async def until(self, kind: int, sid: int = 0) -> tuple[Frame, list[Frame]]:
        """Read up to the first frame of `kind` on stream `sid`: it, and the frames
        before it."""
        before: list[Frame] = []
        while True:
            f = await self.expect_frame()
            if f.kind == kind and f.sid == sid:
                return f, before
            before.append(f)

    async def barrier(self, data: bytes = b"barrier!") -> list[Frame]:
        """PING round trip: the frames the server sent before answering it (it answers
        in order, so whatever it meant to send by then is among them)."""
        self.send_frame(PING, 0, 0, data)
        while True:
            ack, before = await self.until(PING)
            if ack.flags & ACK and ack.payload == data:
                return before

    async def response(self, sid: int) -> Response:
        """Stream `sid`'s response: headers, DATA and trailers (frames on other
        streams are skipped; a reset or GOAWAY fails the test)."""
        blocks: list[dict[str, str]] = []
        data = bytearray()
        while True:
            f = await self.expect_frame()
            assert f.kind != GOAWAY, f"GOAWAY {GOAWAY_BODY.unpack_from(f.payload)}"
            if f.sid != sid:
                continue
            assert f.kind != RST_STREAM, f"RST_STREAM {U32.unpack(f.payload)[0]}"
            if f.kind == DATA:
                data += f.payload
            elif f.kind == HEADERS:
                block, ended = f.payload, bool(f.flags & END_STREAM)
                while not f.flags & END_HEADERS:
                    f = await self.expect_frame()
                    assert (f.kind, f.sid) == (CONTINUATION, sid)
                    block += f.payload
                blocks.append(dict(self.decoder.decode(block)))
                if ended:
                    assert len(blocks) == 2, f"not headers, then trailers: {blocks}"
                    return Response(blocks[0], bytes(data), blocks[1])

    async def closed(self) -> bool:
        """Whether the server closes the connection (after any frames still coming)."""
        while (f := await self.read_frame()) is not None:
            assert f.kind != DATA and f.kind != HEADERS, f"a frame after the end: {f}"
        return True

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


def request_block(method: str) -> bytes:
    """A gRPC request's header block: literals, no Huffman, no indexing."""
    fields = (
        (":method", b"POST"),
        (":scheme", b"http"),
        (":path", f"/{SERVICE}/{method}".encode()),
        (":authority", b"wire.test"),
        ("content-type", b"application/grpc"),
        ("te", b"trailers"),
    )
    return b"".join(hpack.literal(name, value) for name, value in fields)


@pytest.fixture
async def raw(served: Served) -> AsyncIterator[RawClient]:
    """A raw client connected to the server (the preface not yet sent)."""
    client = await RawClient.connect(served.port)
    yield client
    await client.close()


def _goaway(f: Frame) -> tuple[int, int]:
    """A GOAWAY's (last stream id, error code)."""
    assert f.kind == GOAWAY, f
    last, code = GOAWAY_BODY.unpack_from(f.payload)
    return last & 0x7FFFFFFF, code


def _assert_ok(response: Response, payload: bytes) -> None:
    assert response.headers[":status"] == "200"
    assert response.headers["content-type"] == "application/grpc"
    assert response.data == _message(payload)
    assert response.trailers["grpc-status"] == "0"


# --- 1. a third-party client ------------------------------------------------------------


async def test_nghttp_unary_calls_on_one_connection(served: Served, tmp_path: Path) -> None:
    """nghttp's Huffman-coded, dynamically indexed request headers decode: two calls on
    one connection each get :status 200, their message and grpc-status 0."""
    body = tmp_path / "request.bin"
    body.write_bytes(_message(b"ping"))
    proc = await asyncio.create_subprocess_exec(
        ensure_tool("nghttp"),  # the bench's tool: installed with apt-get when missing
        "-v",
        "-m",  # the URI twice, on one connection: the second request's headers are
        "2",  # mostly references to nghttp's HPACK dynamic table
        "-d",
        str(body),
        "-H",
        ":method: POST",
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        f"http://{HOST}:{served.port}/{SERVICE}/Echo",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), WAIT)
    text = out.decode("latin-1")
    assert proc.returncode == 0, text + err.decode("latin-1")
    assert text.count("Connected") == 1, text
    opened = re.findall(r"send HEADERS frame <[^>]*stream_id=(\d+)>", text)
    assert len(set(opened)) == 2, text
    for sid in opened:
        assert f"recv (stream_id={sid}) :status: 200" in text, text
        assert f"recv (stream_id={sid}) grpc-status: 0" in text, text
    # nghttp writes the response bodies to stdout, among its frame log.
    assert out.count(_message(b"pong:ping")) == 2, text
    assert served.requests == [b"ping", b"ping"]


# --- 2-5. the connection ------------------------------------------------------------------


async def test_ping_is_acknowledged_with_its_payload(raw: RawClient) -> None:
    """A PING after the handshake gets a PING ACK on stream 0 carrying the same 8 bytes."""
    await raw.handshake()
    raw.send_frame(PING, 0, 0, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    ack, _ = await raw.until(PING)
    assert ack.flags & ACK
    assert ack.payload == b"\x01\x02\x03\x04\x05\x06\x07\x08"


async def test_headers_split_across_continuation_frames(raw: RawClient, served: Served) -> None:
    """A request header block in HEADERS (no END_HEADERS) + 2 CONTINUATIONs is served."""
    await raw.handshake()
    block = request_block("Echo")
    third = len(block) // 3
    raw.send_frame(HEADERS, 0, 1, block[:third])
    raw.send_frame(CONTINUATION, 0, 1, block[third : 2 * third])
    raw.send_frame(CONTINUATION, END_HEADERS, 1, block[2 * third :])
    raw.send_frame(DATA, END_STREAM, 1, _message(b"split"))
    _assert_ok(await raw.response(1), b"pong:split")
    assert served.requests == [b"split"]


async def test_bad_preface_gets_goaway_protocol_error(raw: RawClient) -> None:
    """An HTTP/1.1 request instead of the preface: GOAWAY PROTOCOL_ERROR, then close."""
    raw.send(b"GET / HTTP/1.1\r\nHost: wire.test\r\n\r\n")
    goaway, _ = await raw.until(GOAWAY)
    assert _goaway(goaway) == (0, PROTOCOL_ERROR)
    assert await raw.closed()


async def test_oversized_frame_gets_goaway_frame_size_error(raw: RawClient) -> None:
    """A frame above 16384 bytes (the server never raises SETTINGS_MAX_FRAME_SIZE):
    GOAWAY FRAME_SIZE_ERROR, then close. The header alone shows the length."""
    await raw.handshake()
    n = 16_385
    raw.send(FRAME.pack(n >> 8, n & 0xFF, PING, 0, 0))
    goaway, _ = await raw.until(GOAWAY)
    assert _goaway(goaway) == (0, FRAME_SIZE_ERROR)
    assert await raw.closed()


# --- 6. flow control ---------------------------------------------------------------------


async def test_response_data_respects_the_clients_stream_window(raw: RawClient) -> None:
    """With SETTINGS_INITIAL_WINDOW_SIZE 100, a 1000-byte answer comes 100 bytes at a
    time, each part only after a WINDOW_UPDATE, then its trailers."""
    await raw.handshake({INITIAL_WINDOW_SIZE: 100})
    raw.request(1, "Big", b"")
    headers: dict[str, str] = {}
    data = bytearray()
    granted = 100
    while True:
        f = await raw.expect_frame()
        if f.sid != 1:
            continue
        if f.kind == DATA:
            data += f.payload
            assert len(data) <= granted, f"{len(data)} bytes of DATA with {granted} granted"
        if f.kind == HEADERS:
            assert f.flags & END_HEADERS
            block = dict(raw.decoder.decode(f.payload))
            if not f.flags & END_STREAM:
                headers = block
                continue
            assert headers[":status"] == "200"
            assert block["grpc-status"] == "0"
            break
        if len(data) == granted:
            # The window is spent: nothing more comes on the stream until it grows.
            assert [g for g in await raw.barrier() if g.sid == 1] == []
            raw.send_frame(WINDOW_UPDATE, 0, 1, U32.pack(100))
            granted += 100
    assert bytes(data) == _message(BIG)
    assert granted == 1100  # 1005 bytes took 11 windows of 100


# --- 7-8. endings ------------------------------------------------------------------------


async def test_graceful_stop_refuses_new_streams_and_finishes_the_call(
    raw: RawClient, served: Served
) -> None:
    """stop(grace) in flight: GOAWAY NO_ERROR naming the open stream, a new stream
    refused, the open call completing with grpc-status 0, then the connection closes."""
    await raw.handshake()
    raw.request(1, "Hold", b"held")
    await asyncio.wait_for(served.entered.wait(), WAIT)
    stopping = asyncio.create_task(served.server.stop(grace=5))
    try:
        goaway, _ = await raw.until(GOAWAY)
        assert _goaway(goaway) == (1, NO_ERROR)
        raw.request(3, "Echo", b"late")
        reset, _ = await raw.until(RST_STREAM, 3)
        assert U32.unpack(reset.payload)[0] == REFUSED_STREAM
        served.release.set()
        _assert_ok(await raw.response(1), b"held")
        assert await raw.closed()
    finally:
        served.release.set()
        await asyncio.wait_for(stopping, WAIT)
    assert served.requests == []  # the refused call never reached a handler


async def test_client_reset_cancels_the_handler(raw: RawClient, served: Served) -> None:
    """RST_STREAM CANCEL mid-call cancels the handler; the server sends nothing more on
    that stream, and the connection serves the next call."""
    await raw.handshake()
    raw.request(1, "Hold", b"held")
    await asyncio.wait_for(served.entered.wait(), WAIT)
    raw.send_frame(RST_STREAM, 0, 1, U32.pack(CANCEL))
    await asyncio.wait_for(served.cancelled.wait(), WAIT)
    assert [f for f in await raw.barrier() if f.sid == 1] == []
    raw.request(3, "Echo", b"next")
    _assert_ok(await raw.response(3), b"pong:next")
    assert [f for f in await raw.barrier() if f.sid == 1] == []
