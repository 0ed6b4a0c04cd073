"""A lean gRPC client for unary calls: HTTP/2 over cleartext TCP (h2c), spoken by an
asyncio protocol on the caller's own event loop. The edge's backend calls and the
mesh client's calls between services (mesh.client) go over it.

grpc.aio costs a caller more CPU per call than the work around it: each call builds
Metadata and call objects, runs an extra task, crosses into the C core and writes its
frames with a syscall of its own. Here a call frames its HEADERS and DATA itself; the
frames of every call started in one loop iteration leave in one write; the response
frames are parsed as they arrive, and the header blocks a server repeats
(`grpc-status: 0` trailers) are decoded once per connection (mesh/hpack.py). A call
costs a future, a dictionary entry and a deadline timer.

CLEANSE_GRPC_CLIENT (`client_from_env`) chooses between this client ("lean", the
default) and grpc.aio ("grpcio") for the edge and for mesh.client alike.

Scope: unary-unary calls. Behaviour follows grpc.aio's:

- failures raise grpc.aio.AioRpcError with the status code, details and metadata
  (`-bin` values as bytes) grpc.aio would give; a call cancelled by its caller
  resets its stream (RST_STREAM CANCEL);
- the deadline travels as `grpc-timeout` and is enforced locally as well
  (DEADLINE_EXCEEDED, the stream reset);
- one connection per channel, opened on first use and again after it is lost. A
  connection attempt that fails makes calls fail fast with UNAVAILABLE until the
  next attempt, backed off like gRPC's (1 s, x1.6, at most 120 s, +-20% jitter);
- calls the server never processed (past a GOAWAY's last stream, or refused with
  REFUSED_STREAM) are retried once on a fresh connection, gRPC's transparent retry;
- keepalive: a PING after `keepalive_time` without a frame from the server; no
  answer within `keepalive_timeout` closes the connection (UNAVAILABLE);
- responses larger than `max_receive_message_length` fail RESOURCE_EXHAUSTED;
  compressed responses (gzip, deflate) are accepted, requests are never compressed;
- HTTP/2 flow control both ways, the server's SETTINGS (frame size, window,
  concurrent streams) honoured, PINGs answered.

Replicas: `RoundRobinChannel` (or `channel("h1:p1,h2:p2")`) holds one Channel per
replica of a service and sends each call to the next replica whose connection is
open, skipping one that refuses connections (it is tried again after the backoff
above) and retrying on another replica a call one never processed. grpc.aio gets
the same from `grpcio_target` (gRPC's round_robin over a static address list).
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import socket
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import grpc
from grpc.aio import AioRpcError, Metadata
from grpc_health.v1 import health_pb2

from mesh import hpack
from mesh.h2wire import (
    CANCEL,
    COMPRESSION_ERROR,
    CONNECTION_WINDOW,
    DATA,
    DEFAULT_MAX_RECEIVE,
    DEFAULT_WINDOW,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    FRAME,
    GOAWAY,
    GOAWAY_BODY,
    HEADERS,
    INADEQUATE_SECURITY,
    LENGTH,
    MAX_HEADER_BLOCK,
    MAX_STREAM_ID,
    MESSAGE_PREFIX,
    NO_ERROR,
    PING,
    PREFACE,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    RST_STREAM,
    SETTING,
    SETTINGS,
    STREAM_WINDOW,
    U32,
    WINDOW_UPDATE,
    FrameConnection,
    H2ConnectionError,
    decompress,
    encode_timeout,
    frame,
    headers_frames,
    metadata_fields,
)

CLIENT_ENV = "CLEANSE_GRPC_CLIENT"
CLIENTS = ("lean", "grpcio")


def client_from_env(env: Mapping[str, str] | None = None) -> str:
    """Which gRPC client makes unary calls: "lean" (this module, the default) or
    "grpcio" (grpc.aio), from CLEANSE_GRPC_CLIENT."""
    env = os.environ if env is None else env
    choice = env.get(CLIENT_ENV, "").strip().lower() or CLIENTS[0]
    if choice not in CLIENTS:
        raise RuntimeError(f"{CLIENT_ENV}={choice!r}: expected lean or grpcio")
    return choice


_BLOCK_CACHE_MAX = 256

_OK = grpc.StatusCode.OK
_CODES = {c.value[0]: c for c in grpc.StatusCode}
# RST_STREAM error code -> gRPC status (gRPC's PROTOCOL-HTTP2.md).
_RST_CODES = {
    NO_ERROR: grpc.StatusCode.INTERNAL,
    REFUSED_STREAM: grpc.StatusCode.UNAVAILABLE,
    CANCEL: grpc.StatusCode.CANCELLED,
    ENHANCE_YOUR_CALM: grpc.StatusCode.RESOURCE_EXHAUSTED,
    INADEQUATE_SECURITY: grpc.StatusCode.PERMISSION_DENIED,
}
# HTTP status without a grpc-status -> gRPC status (gRPC's http-grpc-status-mapping.md).
_HTTP_CODES = {
    "400": grpc.StatusCode.INTERNAL,
    "401": grpc.StatusCode.UNAUTHENTICATED,
    "403": grpc.StatusCode.PERMISSION_DENIED,
    "404": grpc.StatusCode.UNIMPLEMENTED,
    "429": grpc.StatusCode.UNAVAILABLE,
    "502": grpc.StatusCode.UNAVAILABLE,
    "503": grpc.StatusCode.UNAVAILABLE,
    "504": grpc.StatusCode.UNAVAILABLE,
}
# Headers that are not metadata: HTTP/2's and gRPC's own.
_NOT_METADATA = frozenset(
    {"content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-accept-encoding"}
)


def _error(
    code: grpc.StatusCode,
    details: str,
    initial: Sequence[tuple[str, Any]] = (),
    trailing: Sequence[tuple[str, Any]] = (),
) -> AioRpcError:
    return AioRpcError(code, Metadata(*initial), Metadata(*trailing), details, details)


class _Unprocessed(Exception):
    """The server never processed the stream: the call may be retried (transparently)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


class _Block:
    """A decoded header block, with what a call reads from it picked out once."""

    __slots__ = ("content_type", "encoding", "grpc_message", "grpc_status", "metadata", "status")

    def __init__(self, headers: Sequence[tuple[str, str]]) -> None:
        self.status: str | None = None
        self.content_type: str | None = None
        self.encoding = "identity"
        self.grpc_status: int | None = None
        self.grpc_message = ""
        metadata: list[tuple[str, Any]] = []
        for name, value in headers:
            if name.startswith(":"):
                if name == ":status":
                    self.status = value
                continue
            if name == "content-type":
                self.content_type = value
            elif name == "grpc-status":
                self.grpc_status = int(value) if value.isdigit() else -1
            elif name == "grpc-message":
                self.grpc_message = unquote(value, errors="replace") if "%" in value else value
            elif name == "grpc-encoding":
                self.encoding = value
            if name in _NOT_METADATA:
                continue
            if name.endswith("-bin"):
                try:
                    metadata.append((name, base64.b64decode(value + "=" * (-len(value) % 4))))
                except ValueError:
                    continue  # as grpc: an undecodable binary value is dropped
            else:
                metadata.append((name, value))
        self.metadata = tuple(metadata)


class _Stream:
    __slots__ = ("chunks", "future", "head", "id", "pending", "received", "size", "timer", "window")

    def __init__(self, stream_id: int, future: asyncio.Future[bytes], window: int) -> None:
        self.id = stream_id
        self.future = future
        self.head: _Block | None = None  # the response's initial headers
        self.chunks: list[bytes] = []
        self.size = 0  # response DATA bytes so far
        self.received = 0  # DATA bytes since the last stream WINDOW_UPDATE
        self.window = window  # what we may still send on this stream
        self.pending: bytes | memoryview = b""  # request DATA waiting for window
        self.timer: asyncio.TimerHandle | None = None


class _Connection(FrameConnection):
    """One HTTP/2 connection of a Channel."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(channel._loop)
        self._channel = channel
        self.open = False  # new streams may start
        self.streams: dict[int, _Stream] = {}
        self._next_id = 1
        self._decoder = hpack.Decoder(0)
        self._blocks: dict[bytes, _Block] = {}
        self._max_streams = MAX_STREAM_ID  # the server's SETTINGS_MAX_CONCURRENT_STREAMS
        self._blocked: list[_Stream] = []  # streams with DATA waiting for window
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._heard = False  # a frame arrived since the last keepalive check
        self._keepalive: asyncio.TimerHandle | None = None
        self._ping_watchdog: asyncio.TimerHandle | None = None
        self.closed_reason = "Socket closed"

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        settings = b"".join(
            SETTING.pack(k, v)
            for k, v in ((1, 0), (2, 0), (4, STREAM_WINDOW), (6, MAX_HEADER_BLOCK))
        )
        transport.write(
            PREFACE
            + frame(SETTINGS, 0, 0, settings)
            + frame(WINDOW_UPDATE, 0, 0, U32.pack(CONNECTION_WINDOW - DEFAULT_WINDOW))
        )
        self.open = True
        self._keepalive = self.loop.call_later(self._channel.keepalive_time, self._check_alive)

    def connection_lost(self, exc: Exception | None) -> None:
        reason = self.closed_reason
        if exc is not None and reason == "Socket closed":
            reason = f"Socket closed: {exc}"
        self._shutdown(reason)

    def data_received(self, data: bytes) -> None:
        self._heard = True
        super().data_received(data)

    # --- frames in -----------------------------------------------------------------------

    def _on_data(self, sid: int, flags: int, payload: bytes, length: int) -> None:
        st = self.streams.get(sid)
        if st is None:
            return  # a stream we reset or finished: only the connection window counts it
        if st.head is None:
            self._reset(st, PROTOCOL_ERROR)
            self._fail(st, _error(grpc.StatusCode.INTERNAL, "DATA before HEADERS"))
            return
        if payload:
            st.chunks.append(payload)
            st.size += len(payload)
            limit = self._channel.max_receive_message_length + 5
            if st.size > limit:
                self._reset(st, CANCEL)
                details = f"Received message larger than max ({st.size - 5} vs. {limit - 5})"
                self._fail(st, _error(grpc.StatusCode.RESOURCE_EXHAUSTED, details))
                return
        if flags & END_STREAM:
            # No trailers: the server ended the stream without a status.
            self._finish(st, None)
            return
        st.received += length
        if st.received >= STREAM_WINDOW // 2:
            self._send(frame(WINDOW_UPDATE, 0, sid, U32.pack(st.received)))
            st.received = 0

    def _on_block(self, sid: int, flags: int, block: bytes) -> None:
        decoded = self._blocks.get(block)
        if decoded is None:
            try:
                headers = self._decoder.decode(block)
            except hpack.HpackError as exc:
                raise H2ConnectionError(COMPRESSION_ERROR, str(exc)) from None
            decoded = _Block(headers)
            if self._decoder.table_empty:  # the same bytes decode the same from now on
                if len(self._blocks) >= _BLOCK_CACHE_MAX:
                    self._blocks.clear()
                self._blocks[block] = decoded
        st = self.streams.get(sid)
        if st is None:
            return
        if st.head is None and not flags & END_STREAM:
            st.head = decoded
        elif flags & END_STREAM:
            self._finish(st, decoded)
        else:  # a second header block that does not end the stream
            self._reset(st, PROTOCOL_ERROR)
            self._fail(st, _error(grpc.StatusCode.INTERNAL, "unexpected header block"))

    def _on_reset(self, sid: int, code: int) -> None:
        st = self.streams.get(sid)
        if st is None:
            return
        if code == REFUSED_STREAM:
            self._fail(st, _Unprocessed("the server refused the stream (REFUSED_STREAM)"))
        else:
            status = _RST_CODES.get(code, grpc.StatusCode.INTERNAL)
            self._fail(st, _error(status, f"Received RST_STREAM with error code {code}"))

    def _on_ping_ack(self) -> None:
        if self._ping_watchdog is not None:
            self._ping_watchdog.cancel()
            self._ping_watchdog = None

    def _setting(self, key: int, value: int) -> None:
        if key == 3:  # MAX_CONCURRENT_STREAMS
            self._max_streams = value
        else:
            super()._setting(key, value)

    def _on_goaway(self, last: int, code: int, debug: bytes) -> None:
        self.open = False
        self._channel._lost(self)
        reason = f"GOAWAY received (error code {code}"
        reason += f", {debug.decode('latin-1')})" if debug else ")"
        self.closed_reason = reason
        for st in [s for sid, s in self.streams.items() if sid > last]:
            self._fail(st, _Unprocessed(reason))
        self._wake_slot_waiters()
        if not self.streams and self.transport is not None:
            self._flush()
            self.transport.close()

    # --- streams ---------------------------------------------------------------------

    @property
    def full(self) -> bool:
        return len(self.streams) >= self._max_streams

    async def slot(self) -> None:
        """Wait until the server's MAX_CONCURRENT_STREAMS allows another stream."""
        waiter = self.loop.create_future()
        self._slot_waiters.append(waiter)
        await waiter

    def _wake_slot_waiters(self) -> None:
        while self._slot_waiters and (not self.open or not self.full):
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def start(
        self,
        head: bytes,
        message: bytes,
        timeout: float | None,
        metadata: Sequence[tuple[str, Any]] | None,
    ) -> _Stream:
        """Open a stream for one call: its HEADERS and DATA go out with this iteration's
        other frames. The stream's future gets the response message or an error."""
        sid = self._next_id
        self._next_id = sid + 2
        if self._next_id > MAX_STREAM_ID:  # ids run out: the next call opens a new one
            self.open = False
            self._channel._lost(self)
        parts = [head]
        if timeout is not None:
            parts.append(_timeout_field(timeout))
        if metadata:
            parts.extend(metadata_fields(metadata))
        block = b"".join(parts)
        future: asyncio.Future[bytes] = self.loop.create_future()
        st = _Stream(sid, future, self.initial_window)
        self.streams[sid] = st
        if timeout is not None:
            st.timer = self.loop.call_later(timeout, self._expire, st)
        size = len(message) + 5
        max_frame = self._max_frame
        if len(block) <= max_frame:
            headers = frame(HEADERS, END_HEADERS, sid, block)
        else:
            headers = headers_frames(sid, block, max_frame)
        if size <= self._send_window and size <= st.window and size <= max_frame:
            self._send_window -= size
            st.window -= size
            head5 = FRAME.pack(size >> 8, size & 0xFF, DATA, END_STREAM, sid)
            self._send(b"".join((headers, head5, MESSAGE_PREFIX.pack(0, size - 5), message)))
        else:
            self._send(headers)
            st.pending = memoryview(MESSAGE_PREFIX.pack(0, size - 5) + message)
            self._blocked.append(st)
            self._pump()
        return st

    def _pump(self) -> None:
        """Send what flow control now allows of the streams' waiting request DATA."""
        if not self._blocked:
            return
        still: list[_Stream] = []
        for st in self._blocked:
            if self.streams.get(st.id) is not st:
                continue
            while st.pending and self._send_window > 0 and st.window > 0:
                n = min(len(st.pending), self._send_window, st.window, self._max_frame)
                chunk, st.pending = st.pending[:n], st.pending[n:]
                self._send_window -= n
                st.window -= n
                self._send(frame(DATA, 0 if st.pending else END_STREAM, st.id, chunk))
            if st.pending:
                still.append(st)
        self._blocked = still

    def cancel(self, st: _Stream) -> None:
        """The caller gave up (cancelled): reset the stream if it is still open."""
        if self.streams.get(st.id) is st:
            self._reset(st, CANCEL)
            self._drop(st)

    def _expire(self, st: _Stream) -> None:
        st.timer = None
        if self.streams.get(st.id) is st:
            self._reset(st, CANCEL)
            self._fail(st, _error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))

    def _reset(self, st: _Stream, code: int) -> None:
        self._send(frame(RST_STREAM, 0, st.id, U32.pack(code)))

    def _drop(self, st: _Stream) -> None:
        del self.streams[st.id]
        if st.timer is not None:
            st.timer.cancel()
            st.timer = None
        st.pending = b""
        if self._slot_waiters:
            self._wake_slot_waiters()
        if not self.open and not self.streams and self.transport is not None:
            self._flush()
            self.transport.close()  # drained after GOAWAY

    def _fail(self, st: _Stream, exc: BaseException) -> None:
        self._drop(st)
        if not st.future.done():
            st.future.set_exception(exc)

    def _finish(self, st: _Stream, trailers: _Block | None) -> None:
        """The stream ended (trailers None: without any): its message, or its error."""
        self._drop(st)
        if not st.future.done():
            outcome = _outcome(st, trailers)
            if type(outcome) is bytes:
                st.future.set_result(outcome)
            else:
                st.future.set_exception(outcome)

    # --- frames out, keepalive, shutdown ----------------------------------------------------

    def _check_alive(self) -> None:
        self._keepalive = None
        if self.transport is None or self.transport.is_closing():
            return
        if not self._heard and self._ping_watchdog is None:
            self._send(frame(PING, 0, 0, b"\0" * 8))
            self._ping_watchdog = self.loop.call_later(
                self._channel.keepalive_timeout, self._ping_timeout
            )
        self._heard = False
        self._keepalive = self.loop.call_later(self._channel.keepalive_time, self._check_alive)

    def _ping_timeout(self) -> None:
        self._ping_watchdog = None
        self.closed_reason = "keepalive watchdog timeout"
        if self.transport is not None:
            self.transport.abort()

    def _abort(self, code: int, reason: str) -> None:
        """A connection error: GOAWAY, then close; every open call fails."""
        self.closed_reason = f"connection error: {reason}"
        self._send(frame(GOAWAY, 0, 0, GOAWAY_BODY.pack(0, code) + reason.encode()[:256]))
        self._flush()
        self._shutdown(self.closed_reason)
        if self.transport is not None:
            self.transport.close()

    def close(self, reason: str = "Channel closed") -> None:
        self.closed_reason = reason
        self._shutdown(reason, grpc.StatusCode.CANCELLED)
        if self.transport is not None:
            self._flush()
            self.transport.close()

    def _shutdown(self, reason: str, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
        self.open = False
        self._channel._lost(self)
        for handle in (self._keepalive, self._ping_watchdog):
            if handle is not None:
                handle.cancel()
        self._keepalive = self._ping_watchdog = None
        for st in list(self.streams.values()):
            self._fail(st, _error(code, reason))
        self._blocked = []
        self._wake_slot_waiters()


def _outcome(st: _Stream, trailers: _Block | None) -> bytes | AioRpcError:
    """A finished call's response message, or its error. trailers: None when the
    stream ended without any."""
    initial: tuple[tuple[str, Any], ...] = ()
    head = st.head
    if head is None:  # trailers-only: the one header block is both
        head = trailers
        assert head is not None
    else:
        initial = head.metadata
    code = trailers.grpc_status if trailers is not None else None
    if head.status != "200" and code is None:
        status = _HTTP_CODES.get(head.status or "", grpc.StatusCode.UNKNOWN)
        return _error(status, f"Received http2 header with status: {head.status}", initial)
    if code is None:
        return _error(grpc.StatusCode.UNKNOWN, "the server sent no grpc-status", initial)
    assert trailers is not None
    if code != 0:
        status = _CODES.get(code, grpc.StatusCode.UNKNOWN)
        return _error(status, trailers.grpc_message, initial, trailers.metadata)
    if not (head.content_type or "").startswith("application/grpc"):
        return _error(grpc.StatusCode.UNKNOWN, f"bad content-type {head.content_type!r}", initial)
    chunks = st.chunks
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) < 5:
        return _error(grpc.StatusCode.INTERNAL, "no response message", initial)
    compressed, length = MESSAGE_PREFIX.unpack_from(data)
    if len(data) != length + 5:
        details = "truncated response message" if len(data) < length + 5 else "two responses"
        return _error(grpc.StatusCode.INTERNAL, details, initial)
    message = data[5:]
    if compressed:
        try:
            return decompress(head.encoding, message)
        except (zlib.error, ValueError) as exc:
            return _error(grpc.StatusCode.INTERNAL, f"bad compressed response: {exc}", initial)
    return message


_TIMEOUT_FIELDS: dict[float, bytes] = {}
_TIMEOUT_NAME = b"\x00" + hpack.string(b"grpc-timeout")  # hpack.literal's bytes


def _timeout_field(timeout: float) -> bytes:
    """The grpc-timeout header field; cached, as the edge's timeouts repeat (the mesh
    client's, cut to a served call's remaining deadline, rarely do)."""
    field = _TIMEOUT_FIELDS.get(timeout)
    if field is None:
        value = encode_timeout(timeout).encode()
        field = _TIMEOUT_NAME + LENGTH[len(value)] + value  # at most 9 bytes
        if len(_TIMEOUT_FIELDS) >= 256:
            _TIMEOUT_FIELDS.clear()
        _TIMEOUT_FIELDS[timeout] = field
    return field


class UnaryUnary:
    """One method of a Channel, called like grpc.aio's UnaryUnaryMultiCallable."""

    __slots__ = ("_channel", "_deserialize", "_group", "_head", "_serialize", "path")

    def __init__(
        self,
        channel: Channel,
        path: str,
        serialize: Callable[[Any], bytes],
        deserialize: Callable[[bytes], Any],
    ) -> None:
        self._channel = channel
        self.path = path
        self._serialize = serialize
        self._deserialize = deserialize
        # The round-robin method this one is a replica's part of (RoundRobinChannel):
        # a call the server never processed is retried on another replica.
        self._group: _RoundRobinUnary | None = None
        self._head = b"".join(
            (
                b"\x83\x86",  # :method POST, :scheme http (static table)
                hpack.literal(":path", path.encode("ascii")),
                hpack.literal(":authority", channel.authority.encode("ascii")),
                hpack.literal("content-type", b"application/grpc"),
                hpack.literal("te", b"trailers"),
                hpack.literal("user-agent", channel.user_agent.encode("ascii")),
            )
        )

    async def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (grpc's deadline, sent along)
        metadata: Sequence[tuple[str, Any]] | None = None,
        _retried: bool = False,
    ) -> Any:
        message = self._serialize(request)
        channel = self._channel
        loop = channel._loop
        deadline = None if timeout is None else loop.time() + timeout
        retried = _retried
        while True:
            conn = channel._conn
            if conn is None or not conn.open:
                conn = await channel._connection(deadline)
                if deadline is not None:
                    timeout = deadline - loop.time()
            while conn.full:
                await conn.slot()
                if not conn.open:
                    conn = await channel._connection(deadline)
            if not conn.open:
                raise _error(grpc.StatusCode.UNAVAILABLE, conn.closed_reason)
            if timeout is not None and timeout <= 0:
                raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
            st = conn.start(self._head, message, timeout, metadata)
            try:
                data = await st.future
            except _Unprocessed as exc:
                if retried:
                    raise _error(grpc.StatusCode.UNAVAILABLE, exc.details) from None
                retried = True
                if deadline is not None:
                    timeout = deadline - loop.time()
                if self._group is not None:  # this replica is going away: another one
                    return await self._group._elsewhere(
                        self._group._after(channel), request, timeout, metadata, True
                    )
                continue
            except asyncio.CancelledError:
                conn.cancel(st)
                raise
            break
        try:
            return self._deserialize(data)
        except Exception:
            raise _error(grpc.StatusCode.INTERNAL, "Exception deserializing response!") from None


class Channel:
    """A gRPC channel to one `host:port`, for unary calls (see the module docstring)."""

    def __init__(
        self,
        target: str,
        *,
        max_receive_message_length: int = DEFAULT_MAX_RECEIVE,
        keepalive_time: float = 30.0,
        keepalive_timeout: float = 20.0,
        connect_timeout: float = 20.0,
        initial_backoff: float = 1.0,
        user_agent: str = f"grpc-python-lean/{grpc.__version__}",
    ) -> None:
        host, sep, port = target.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"target {target!r}: expected host:port")
        self.target = target
        self.authority = target
        self._host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self._port = int(port)
        self.max_receive_message_length = max_receive_message_length
        self.keepalive_time = keepalive_time
        self.keepalive_timeout = keepalive_timeout
        self.connect_timeout = connect_timeout
        self.user_agent = user_agent
        self.initial_backoff = initial_backoff
        self._loop = asyncio.get_running_loop()
        self._conn: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None
        self._backoff = initial_backoff
        self._retry_at = 0.0
        self._last_error = ""
        self._closed = False

    def unary_unary(
        self,
        path: str,
        request_serializer: Callable[[Any], bytes],
        response_deserializer: Callable[[bytes], Any],
        _registered_method: bool = False,
    ) -> UnaryUnary:
        """As grpc.aio.Channel.unary_unary (`_registered_method` is grpc's, ignored)."""
        return UnaryUnary(self, path, request_serializer, response_deserializer)

    def _lost(self, conn: _Connection) -> None:
        if self._conn is conn:
            self._conn = None

    async def _connection(self, deadline: float | None) -> _Connection:
        """An open connection: the current one, or a new one (one attempt at a time)."""
        if self._closed:
            raise _error(grpc.StatusCode.CANCELLED, "Channel closed")
        conn = self._conn
        if conn is not None and conn.open:
            return conn
        task = self._connecting
        if task is None:
            if self._loop.time() < self._retry_at:  # backing off: fail fast, as gRPC
                raise _error(grpc.StatusCode.UNAVAILABLE, self._last_error)
            task = self._connecting = self._loop.create_task(self._open())
            task.add_done_callback(_retrieve)
        if deadline is None:
            return await asyncio.shield(task)
        try:
            return await asyncio.wait_for(asyncio.shield(task), deadline - self._loop.time())
        except TimeoutError:
            raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None

    @property
    def ready(self) -> bool:
        """A connection is open and takes new streams."""
        conn = self._conn
        return conn is not None and conn.open

    def _kick(self) -> None:
        """Start connecting in the background, unless connected, connecting, backing
        off (after a failed attempt, gRPC's backoff) or closed."""
        if self._closed or self._connecting is not None or self.ready:
            return
        if self._loop.time() < self._retry_at:
            return
        task = self._connecting = self._loop.create_task(self._open())
        task.add_done_callback(_retrieve)

    async def _open(self) -> _Connection:
        try:
            _, conn = await asyncio.wait_for(
                self._loop.create_connection(lambda: _Connection(self), self._host, self._port),
                self.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else repr(exc)
            self._last_error = f"failed to connect to all addresses; last error: {reason}"
            jitter = random.uniform(0.8, 1.2)
            self._retry_at = self._loop.time() + self._backoff * jitter
            self._backoff = min(self._backoff * 1.6, 120.0)
            raise _error(grpc.StatusCode.UNAVAILABLE, self._last_error) from None
        finally:
            self._connecting = None
        if self._closed:
            conn.close()
            raise _error(grpc.StatusCode.CANCELLED, "Channel closed")
        self._backoff, self._retry_at = self.initial_backoff, 0.0
        self._conn = conn
        return conn

    async def channel_ready(self) -> None:
        """Wait until a connection is open, as grpc.aio's `channel_ready`: the first
        attempt is made at once (a backoff from earlier failures is cut short), later
        ones after gRPC's backoff. A closed channel raises AioRpcError CANCELLED."""
        self._retry_at = 0.0
        while True:
            try:
                await self._connection(None)
                return
            except AioRpcError as exc:
                if exc.code() is grpc.StatusCode.CANCELLED:
                    raise
            await asyncio.sleep(max(self._retry_at - self._loop.time(), 0.01))

    async def close(self) -> None:
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class RoundRobinChannel:
    """A gRPC channel to the replicas of one service: one `Channel` per target, and
    each call goes to the next replica whose connection is open, in turn (gRPC's
    round_robin policy).

    A replica that is not connected is skipped: it is connected in the background
    (at once the first time, then after gRPC's backoff while it refuses), and gets
    calls again as soon as its connection is open. When no replica is connected, a
    call waits for the first connection attempt that succeeds; when every replica
    is backing off, it fails fast with UNAVAILABLE. A call a replica never
    processed (GOAWAY as it shuts down, REFUSED_STREAM) is retried once on another.

    The hot path adds one index step and two attribute reads to a Channel's call;
    no lock, no allocation (the event loop runs one call's pick at a time).
    """

    def __init__(self, targets: Sequence[str], **options: Any) -> None:
        if not targets:
            raise ValueError("RoundRobinChannel needs at least one target")
        self.targets = tuple(targets)
        self.channels = tuple(Channel(t, **options) for t in self.targets)
        self._loop = asyncio.get_running_loop()
        self._next = 0
        self._closed = False

    def unary_unary(
        self,
        path: str,
        request_serializer: Callable[[Any], bytes],
        response_deserializer: Callable[[bytes], Any],
        _registered_method: bool = False,
    ) -> _RoundRobinUnary:
        """As grpc.aio.Channel.unary_unary: one method, spread over the replicas."""
        calls = tuple(
            ch.unary_unary(path, request_serializer, response_deserializer) for ch in self.channels
        )
        return _RoundRobinUnary(self, path, calls)

    def _failure(self) -> str:
        errors = [f"{ch.target}: {ch._last_error or 'not connected'}" for ch in self.channels]
        return "no replica is reachable; " + "; ".join(errors)

    async def channel_ready(self) -> None:
        """Wait until some replica is connected; backoffs are cut short, as
        Channel.channel_ready does. A closed channel raises AioRpcError CANCELLED."""
        for ch in self.channels:
            ch._retry_at = 0.0
        while True:
            if self._closed:
                raise _error(grpc.StatusCode.CANCELLED, "Channel closed")
            if any(ch.ready for ch in self.channels):
                return
            for ch in self.channels:
                ch._kick()
            pending = {ch._connecting for ch in self.channels if ch._connecting is not None}
            if pending:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            else:
                soonest = min(ch._retry_at for ch in self.channels)
                await asyncio.sleep(max(soonest - self._loop.time(), 0.01))

    async def close(self) -> None:
        self._closed = True
        for ch in self.channels:
            await ch.close()


class _RoundRobinUnary:
    """One method of a RoundRobinChannel: picks the replica, then it is that replica's
    UnaryUnary call (the coroutine it returns IS the replica's, no extra frame)."""

    __slots__ = ("_calls", "_channels", "_n", "_rr", "path")

    def __init__(self, rr: RoundRobinChannel, path: str, calls: tuple[UnaryUnary, ...]) -> None:
        self._rr = rr
        self.path = path
        self._calls = calls
        self._channels = rr.channels
        self._n = len(calls)
        for call in calls:
            call._group = self

    def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, Any]] | None = None,
    ) -> Any:
        """An awaitable of the response, as UnaryUnary's (raises AioRpcError)."""
        rr = self._rr
        i = rr._next
        rr._next = i + 1 if i + 1 < self._n else 0
        conn = self._channels[i]._conn
        if conn is not None and conn.open and not conn.full:
            return self._calls[i](request, timeout=timeout, metadata=metadata)
        return self._elsewhere(i, request, timeout, metadata, False)

    def _after(self, channel: Channel) -> int:
        """The index of the replica after `channel`'s."""
        return (self._channels.index(channel) + 1) % self._n

    async def _elsewhere(
        self,
        first: int,
        request: Any,
        timeout: float | None,  # noqa: ASYNC109 (grpc's deadline, sent along)
        metadata: Sequence[tuple[str, Any]] | None,
        retried: bool,
    ) -> Any:
        """The replica at `first` is not usable right now: the next one that is."""
        rr = self._rr
        if rr._closed:
            raise _error(grpc.StatusCode.CANCELLED, "Channel closed")
        loop = rr._loop
        deadline = None if timeout is None else loop.time() + timeout
        channels, n = self._channels, self._n
        busy = -1
        for k in range(n):
            j = (first + k) % n
            ch = channels[j]
            conn = ch._conn
            if conn is not None and conn.open:
                if not conn.full:
                    return await self._calls[j](
                        request, timeout=timeout, metadata=metadata, _retried=retried
                    )
                if busy < 0:
                    busy = j
            else:
                ch._kick()  # connect in the background (not while backing off)
        if busy >= 0:  # every connected replica is at its stream limit: queue on one
            return await self._calls[busy](
                request, timeout=timeout, metadata=metadata, _retried=retried
            )
        # Nothing connected: the first connection attempt that succeeds takes the call.
        pending = {ch._connecting: j for j, ch in enumerate(channels) if ch._connecting is not None}
        while pending:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
            done, _ = await asyncio.wait(
                set(pending), timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
            for task in done:
                j = pending.pop(task)
                if not task.cancelled() and task.exception() is None and channels[j].ready:
                    left = None if deadline is None else deadline - loop.time()
                    return await self._calls[j](
                        request, timeout=left, metadata=metadata, _retried=retried
                    )
        if rr._closed:
            raise _error(grpc.StatusCode.CANCELLED, "Channel closed")
        raise _error(grpc.StatusCode.UNAVAILABLE, rr._failure())


def channel(targets: str | Sequence[str], **options: Any) -> Channel | RoundRobinChannel:
    """A Channel for one target ("host:port", or a one-element list), a
    RoundRobinChannel for several (a list, or "h1:p1,h2:p2")."""
    if isinstance(targets, str):
        targets = targets.split(",")
    targets = [t.strip() for t in targets]
    if len(targets) == 1:
        return Channel(targets[0], **options)
    return RoundRobinChannel(targets, **options)


def grpcio_target(targets: str | Sequence[str]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """(target, options) for a grpc.aio channel to one or several replicas.

    One target: as is. Several: gRPC's static address list, `ipv4:h1:p1,h2:p2` (or
    `ipv6:[h1]:p1,...`) with the round_robin load-balancing policy, so grpc.aio
    spreads calls over the replicas that are connected, as RoundRobinChannel does.
    Host names are resolved here, once (grpc's ipv4:/ipv6: lists take addresses)."""
    if isinstance(targets, str):
        targets = targets.split(",")
    targets = [t.strip() for t in targets]
    if len(targets) == 1:
        return targets[0], ()
    resolved: list[tuple[int, str, int]] = []
    for t in targets:
        host, _, port = t.rpartition(":")
        host = host.strip("[]")
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            socket.inet_pton(family, host)
        except OSError:
            info = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
            info.sort(key=lambda a: a[0] != socket.AF_INET)  # IPv4 first
            family, host = info[0][0], str(info[0][4][0])
        resolved.append((family, host, int(port)))
    families = {f for f, _, _ in resolved}
    if families == {socket.AF_INET}:
        target = "ipv4:" + ",".join(f"{h}:{p}" for _, h, p in resolved)
    elif families == {socket.AF_INET6}:
        target = "ipv6:" + ",".join(f"[{h}]:{p}" for _, h, p in resolved)
    else:
        raise ValueError(f"replicas {targets}: IPv4 and IPv6 addresses cannot be mixed")
    return target, (("grpc.lb_policy_name", "round_robin"),)


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a failed attempt is reported to its callers


HEALTH_CHECK = "/grpc.health.v1.Health/Check"


async def serving_status(channel: Channel | Any, seconds: float) -> int:
    """The standard gRPC health Check of a whole server (service "") over `channel`,
    one of this module's or grpc.aio's, within `seconds`: its
    HealthCheckResponse.ServingStatus. Raises AioRpcError when the server does not
    answer."""
    call = channel.unary_unary(
        HEALTH_CHECK,
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    resp = await call(health_pb2.HealthCheckRequest(service=""), timeout=seconds)
    return int(resp.status)
