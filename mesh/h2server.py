"""A lean gRPC server: HTTP/2 over cleartext TCP (h2c), spoken by an asyncio protocol
on the service's own event loop. Every service serves through it (mesh.server).

grpc.aio's server costs more CPU per call than most of our handlers: each call crosses
from the C core into Python and back several times, runs tasks of its own, and
writes its frames with syscalls of their own. Here a call's request is parsed as its
frames arrive, the handler runs in one task, and its response (headers, message and
trailers) leaves in one write with the other frames of that loop iteration. The
headers a server repeats are encoded once.

It is a drop-in for grpc.aio.server: `server(interceptors=..., options=...)` returns a
grpc.aio.Server, the generated `add_XServicer_to_server` functions register on it,
and handlers get a grpc.aio.ServicerContext. CLEANSE_GRPC_SERVER (`server_from_env`)
chooses between this server ("lean", the default) and grpc.aio's ("grpcio").

Behaviour follows grpc.aio's:

- all four kinds of RPC; a response-streaming handler may be an async generator or a
  coroutine calling `context.write`; request streams are async iterators (or
  `context.read()`, which returns grpc.aio.EOF at the end);
- server interceptors (`intercept_service`) are consulted once per method: the handler
  they return for a method is reused for its later calls (ours do not vary by call);
- statuses: `context.abort` / `set_code` / `set_details` / `set_trailing_metadata`;
  an exception from a handler is UNKNOWN ("Unexpected <class>: message", logged);
  an unknown method UNIMPLEMENTED; a request above `grpc.max_receive_message_length`
  RESOURCE_EXHAUSTED; a request that does not deserialize INTERNAL;
- the caller's `grpc-timeout` is the call's deadline (`context.time_remaining()`);
  past it the handler is cancelled and the caller gets DEADLINE_EXCEEDED. A caller
  that resets its stream (or drops the connection) cancels the handler;
- gzip and deflate requests are accepted; responses are never compressed;
- HTTP/2 flow control both ways: response DATA waits for the caller's windows (and
  `context.write` waits with it); a request stream's window is given back as its
  handler reads it; PINGs answered;
- `stop(grace)`: GOAWAY, new streams refused, in-flight calls get `grace` seconds,
  then are cancelled (UNAVAILABLE "Cancelling all calls"), as grpc.aio's.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import inspect
import logging
import os
import socket
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import grpc
from grpc.aio import AbortError

from mesh import hpack
from mesh.h2wire import (
    COMPRESSION_ERROR,
    CONNECTION_WINDOW,
    DATA,
    DEFAULT_MAX_RECEIVE,
    DEFAULT_WINDOW,
    END_HEADERS,
    END_STREAM,
    FRAME,
    GOAWAY,
    GOAWAY_BODY,
    HEADERS,
    MAX_HEADER_BLOCK,
    MESSAGE_PREFIX,
    NO_ERROR,
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
    frame,
    headers_frames,
    metadata_fields,
    parse_timeout,
)

log = logging.getLogger("mesh.h2server")

SERVER_ENV = "CLEANSE_GRPC_SERVER"
SERVERS = ("lean", "grpcio")

_OK = grpc.StatusCode.OK
# Request headers that are not the call's metadata (grpc.aio leaves them out too).
_NOT_METADATA = frozenset(
    {"content-type", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "host"}
)
# Response headers: :status 200 (static index 8) and the content type; the accepted
# encodings. Trailers: grpc-status 0.
_RESPONSE_HEAD = b"\x88" + hpack.literal("content-type", b"application/grpc")
_ACCEPT = b"\x00" + hpack.string(b"grpc-accept-encoding") + hpack.string(b"identity,deflate,gzip")
_STATUS_NAME = b"\x00" + hpack.string(b"grpc-status")
_MESSAGE_NAME = b"\x00" + hpack.string(b"grpc-message")
_OK_TRAILERS = _STATUS_NAME + hpack.string(b"0")
_HEAD_BLOCK = _RESPONSE_HEAD + _ACCEPT  # a response's headers without metadata
_HEAD_LEN = len(_HEAD_BLOCK)
_OK_LEN = len(_OK_TRAILERS)
# What the server announces: no push, large receive windows (the connection's raised at
# once with a WINDOW_UPDATE), and a bound on header lists.
_SETTINGS = b"".join(
    SETTING.pack(k, v) for k, v in ((2, 0), (4, STREAM_WINDOW), (6, MAX_HEADER_BLOCK))
)


def server_from_env(env: Mapping[str, str] | None = None) -> str:
    """Which gRPC server a service runs: "lean" (this module, the default) or "grpcio"
    (grpc.aio's), from CLEANSE_GRPC_SERVER."""
    env = os.environ if env is None else env
    choice = env.get(SERVER_ENV, "").strip().lower() or SERVERS[0]
    if choice not in SERVERS:
        raise RuntimeError(f"{SERVER_ENV}={choice!r}: expected lean or grpcio")
    return choice


def server(
    migration_thread_pool: Any = None,
    handlers: Sequence[Any] | None = None,
    interceptors: Sequence[Any] | None = None,
    options: Sequence[tuple[str, Any]] | None = None,
    maximum_concurrent_rpcs: int | None = None,
    compression: grpc.Compression | None = None,
) -> Server:
    """A lean server, called as grpc.aio.server. Handlers run on the event loop (no
    thread pool); responses are never compressed; concurrent RPCs are not capped."""
    srv = Server(interceptors or (), options or ())
    if handlers:
        srv.add_generic_rpc_handlers(handlers)
    return srv


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "invocation_metadata")),
    grpc.HandlerCallDetails,
):
    pass


def _grpc_message(details: str) -> bytes:
    """grpc-message: percent-encoded UTF-8 outside printable ASCII (and '%' itself)."""
    return quote(details, safe=" !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~", encoding="utf-8").encode(
        "ascii"
    )


def _status_block(
    code: grpc.StatusCode, details: str, trailing: Sequence[tuple[str, Any]]
) -> bytes:
    if code is _OK and not details and not trailing:
        return _OK_TRAILERS
    parts = [_STATUS_NAME, hpack.string(str(code.value[0]).encode())]
    if details:
        parts += (_MESSAGE_NAME, hpack.string(_grpc_message(details)))
    if trailing:
        try:
            parts.extend(metadata_fields(trailing))
        except ValueError:
            log.exception("trailing metadata dropped: it cannot be sent")
    return b"".join(parts)


class Server(grpc.aio.Server):
    """The lean server (module docstring). Built by `server()`."""

    def __init__(self, interceptors: Sequence[Any], options: Sequence[tuple[str, Any]]) -> None:
        opts = dict(options)
        self.max_receive = int(opts.get("grpc.max_receive_message_length", DEFAULT_MAX_RECEIVE))
        self.max_send = int(opts.get("grpc.max_send_message_length", -1))
        self._interceptors = tuple(interceptors)
        self._generic: list[Any] = []
        self._registered: dict[str, grpc.RpcMethodHandler] = {}
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}  # after interceptors
        self._sockets: list[socket.socket] = []
        self._listeners: list[asyncio.base_events.Server] = []
        self.connections: set[_Connection] = set()
        self._stopping = False
        self._terminated = asyncio.Event()

    # --- grpc.aio.Server -------------------------------------------------------------

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Sequence[Any]) -> None:
        self._generic.extend(generic_rpc_handlers)

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        for method, handler in method_handlers.items():
            self._registered[f"/{service_name}/{method}"] = handler

    def add_insecure_port(self, address: str) -> int:
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit():
            raise RuntimeError(f"Failed to bind to address {address}: expected host:port")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        bound = 0
        try:
            infos = socket.getaddrinfo(
                host or None, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
            for family, kind, proto, _, sockaddr in infos:
                sock = socket.socket(family, kind, proto)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if family == socket.AF_INET6:  # "[::]" (or no host): IPv4 too, as gRPC
                        dual = host in ("", "::")
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual else 1)
                    sock.bind(sockaddr if not bound else (sockaddr[0], bound, *sockaddr[2:]))
                    sock.listen(1024)
                    sock.setblocking(False)
                except OSError:
                    sock.close()
                    if not bound:
                        raise
                    continue
                bound = bound or sock.getsockname()[1]
                self._sockets.append(sock)
        except OSError as exc:
            raise RuntimeError(f"Failed to bind to address {address}: {exc}") from None
        return bound

    def add_secure_port(self, address: str, server_credentials: grpc.ServerCredentials) -> int:
        raise RuntimeError("the lean server speaks cleartext HTTP/2 only (mesh traffic)")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self._sockets:
            self._listeners.append(
                await loop.create_server(lambda: _Connection(self), sock=sock, backlog=1024)
            )

    async def stop(self, grace: float | None) -> None:
        if self._stopping:
            await self._terminated.wait()
            return
        self._stopping = True
        for listener in self._listeners:
            listener.close()
        for conn in list(self.connections):
            conn.go_away()
        tasks = {c.task for conn in self.connections for c in conn.streams.values() if c.task}
        if tasks and grace:
            await asyncio.wait(tasks, timeout=grace)
        for conn in list(self.connections):
            conn.cancel_all("Cancelling all calls")
        await asyncio.sleep(0)  # cancelled handlers unwind, their frames flush
        for conn in list(self.connections):
            conn.close()
        self._terminated.set()

    async def wait_for_termination(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """As grpc.aio's: True when `timeout` passed first, False once stopped."""
        try:
            await asyncio.wait_for(self._terminated.wait(), timeout)
        except TimeoutError:
            return True
        return False

    # --- methods -----------------------------------------------------------------------

    def _lookup(self, details: _CallDetails) -> grpc.RpcMethodHandler | None:
        handler = self._registered.get(details.method)
        if handler is not None:
            return handler
        for generic in self._generic:
            handler = generic.service(details)
            if handler is not None:
                return handler
        return None

    async def handler(
        self, path: str, metadata: tuple[tuple[str, Any], ...]
    ) -> grpc.RpcMethodHandler | None:
        """A method's handler with the interceptors around it, resolved on first use."""
        interceptors = self._interceptors

        async def step(index: int, details: _CallDetails) -> grpc.RpcMethodHandler | None:
            if index == len(interceptors):
                return self._lookup(details)

            async def continuation(d: _CallDetails) -> grpc.RpcMethodHandler | None:
                return await step(index + 1, d)

            return await interceptors[index].intercept_service(continuation, details)

        handler = await step(0, _CallDetails(path, metadata))
        if handler is not None:
            self._handlers[path] = handler
        return handler


class _Inbox:
    """A request stream's messages, as an async iterator (and `context.read`)."""

    __slots__ = ("_call", "_ended", "_items", "_waiter")

    def __init__(self, call: _Call) -> None:
        self._call = call
        self._items: collections.deque[bytes] = collections.deque()
        self._ended = False
        self._waiter: asyncio.Future[None] | None = None

    def put(self, message: bytes) -> None:
        self._items.append(message)
        self._wake()

    def end(self) -> None:
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def read(self) -> Any:
        while not self._items:
            if self._ended:
                return grpc.aio.EOF
            self._waiter = self._call.conn.loop.create_future()
            await self._waiter
            self._waiter = None
        data = self._items.popleft()
        self._call.conn.consumed(self._call, len(data) + 5)
        return self._call.deserialize(data)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            message = await self.read()
            if message is grpc.aio.EOF:
                return
            yield message


class _Call:
    """One stream: the request as it arrives, the handler's task, the response."""

    __slots__ = (
        "body",
        "cancelled",
        "conn",
        "context",
        "deadline",
        "deserialize",
        "done",
        "drained",
        "encoding",
        "ended_remote",
        "headers_sent",
        "id",
        "inbox",
        "metadata",
        "path",
        "pending",
        "received",
        "task",
        "timer",
        "trailers",
        "window",
    )

    def __init__(self, conn: _Connection, sid: int, path: str) -> None:
        self.conn = conn
        self.id = sid
        self.path = path
        self.metadata: tuple[tuple[str, Any], ...] = ()
        self.encoding = "identity"
        self.deadline: float | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.body = bytearray()  # request DATA not yet split into messages
        self.received = 0  # request bytes not yet given back to the stream's window
        self.inbox: _Inbox | None = None
        self.ended_remote = False
        self.deserialize: Callable[[bytes], Any] = _identity
        self.task: asyncio.Task[None] | None = None
        self.context: _Context | None = None
        self.window = conn.initial_window  # what we may still send on this stream
        self.pending: collections.deque[memoryview] = collections.deque()  # DATA waiting
        self.trailers: bytes | None = None  # a trailer block waiting behind `pending`
        self.drained: asyncio.Future[None] | None = None
        self.headers_sent = False
        self.cancelled = False
        self.done = False


def _identity(data: bytes) -> Any:
    return data


class _Context(grpc.aio.ServicerContext):
    """What a handler sees of its call (grpc.aio.ServicerContext)."""

    def __init__(self, call: _Call) -> None:
        self._call = call
        self._code: grpc.StatusCode | None = None
        self._details = ""
        self._trailing: tuple[tuple[str, Any], ...] = ()
        self._initial: tuple[tuple[str, Any], ...] = ()
        self._callbacks: list[Callable[[Any], None]] = []
        self._serialize: Callable[[Any], bytes] | None = None

    # metadata and peer
    def invocation_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self._call.metadata

    def peer(self) -> str:
        return self._call.conn.peer

    def peer_identities(self) -> None:
        return None

    def peer_identity_key(self) -> None:
        return None

    def auth_context(self) -> dict[str, Any]:
        return {}

    def time_remaining(self) -> float | None:
        deadline = self._call.deadline
        if deadline is None:
            return None
        return max(deadline - self._call.conn.loop.time(), 0.0)

    # status
    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()
    ) -> None:
        if code is _OK:
            log.error("abort() called with StatusCode.OK; returning UNKNOWN")
            code = grpc.StatusCode.UNKNOWN
            details = ""
        self._code = code
        self._details = details
        if trailing_metadata:
            self._trailing = tuple(trailing_metadata)
        raise AbortError()

    async def abort_with_status(self, status: grpc.Status) -> None:
        await self.abort(status.code, status.details, status.trailing_metadata)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def set_details(self, details: str) -> None:
        self._details = details

    def set_trailing_metadata(self, trailing_metadata: Any) -> None:
        self._trailing = tuple(trailing_metadata)

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self._trailing

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str:
        return self._details

    def set_compression(self, compression: grpc.Compression) -> None:
        pass  # responses are never compressed

    def disable_next_message_compression(self) -> None:
        pass

    # lifetime
    def cancelled(self) -> bool:
        return self._call.cancelled

    def done(self) -> bool:
        return self._call.done

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        if self._call.done:
            callback(self)
        else:
            self._callbacks.append(callback)

    # messages
    async def send_initial_metadata(self, initial_metadata: Any) -> None:
        if self._call.headers_sent:
            raise grpc.aio.UsageError("initial metadata was already sent")
        self._initial = tuple(initial_metadata)
        self._call.conn.send_headers(self._call, self._initial)

    async def read(self) -> Any:
        inbox = self._call.inbox
        if inbox is None:
            raise grpc.aio.UsageError("read() is for request-streaming methods")
        return await inbox.read()

    async def write(self, message: Any) -> None:
        call = self._call
        if call.done or call.cancelled:
            raise asyncio.InvalidStateError("the call has ended")
        serialize = self._serialize
        data = serialize(message) if serialize is not None else message
        limit = call.conn.server.max_send
        if 0 <= limit < len(data):
            details = f"Sent message larger than max ({len(data)} vs. {limit})"
            await self.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, details)
        await call.conn.send_message(call, data, self._initial)


class _Connection(FrameConnection):
    """One client's HTTP/2 connection."""

    def __init__(self, server: Server) -> None:
        super().__init__(asyncio.get_running_loop())
        self.server = server
        self.peer = ""
        self.streams: dict[int, _Call] = {}
        self._preface = True  # the client's preface is still expected
        self._decoder = hpack.Decoder(4096)
        self._last_id = 0  # the highest stream id the client opened
        self._going_away = False
        self._blocked: list[_Call] = []

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            host, port = peer[0], peer[1]
            self.peer = f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"
        elif peer:
            self.peer = f"unix:{peer}"
        self.server.connections.add(self)
        transport.write(
            frame(SETTINGS, 0, 0, _SETTINGS)
            + frame(WINDOW_UPDATE, 0, 0, U32.pack(CONNECTION_WINDOW - DEFAULT_WINDOW))
        )
        if self.server._stopping:
            self.go_away()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None
        for call in list(self.streams.values()):
            self._cancel(call)
        self.streams.clear()
        self._blocked = []

    def data_received(self, data: bytes) -> None:
        if not self._preface:
            super().data_received(data)
            return
        data = self._buf + data
        self._buf = b""
        if len(data) < len(PREFACE):
            if not PREFACE.startswith(data):
                self._abort(PROTOCOL_ERROR, "bad connection preface")
                return
            self._buf = data
            return
        if not data.startswith(PREFACE):
            self._abort(PROTOCOL_ERROR, "bad connection preface")
            return
        self._preface = False
        self._parse(data, len(PREFACE))

    # --- frames in -----------------------------------------------------------------------

    def _on_block(self, sid: int, flags: int, block: bytes) -> None:
        try:
            headers = self._decoder.decode(block)
        except hpack.HpackError as exc:
            raise H2ConnectionError(COMPRESSION_ERROR, str(exc)) from None
        call = self.streams.get(sid)
        if call is not None:  # request trailers: they end the request stream
            if not flags & END_STREAM:
                raise H2ConnectionError(PROTOCOL_ERROR, "second header block without END_STREAM")
            self._end_request(call)
            return
        if sid <= self._last_id or not sid & 1:
            if sid > self._last_id:
                raise H2ConnectionError(PROTOCOL_ERROR, "even stream id from a client")
            return  # a stream that already ended (we reset it): ignore
        self._last_id = sid
        if self._going_away:
            self._send(frame(RST_STREAM, 0, sid, U32.pack(REFUSED_STREAM)))
            return
        path = method = content_type = ""
        call = _Call(self, sid, "")
        metadata: list[tuple[str, Any]] = []
        for name, value in headers:
            if name.startswith(":"):
                if name == ":path":
                    path = value
                elif name == ":method":
                    method = value
                continue
            if name in _NOT_METADATA:
                if name == "content-type":
                    content_type = value
                elif name == "grpc-timeout":
                    timeout = parse_timeout(value)
                    if timeout is not None:
                        call.deadline = self.loop.time() + timeout
                elif name == "grpc-encoding":
                    call.encoding = value
                continue
            if name.endswith("-bin"):
                try:
                    metadata.append((name, base64.b64decode(value + "=" * (-len(value) % 4))))
                except ValueError:
                    continue
            else:
                metadata.append((name, value))
        call.path = path
        call.metadata = tuple(metadata)
        self.streams[sid] = call
        if method != "POST" or not content_type.startswith("application/grpc"):
            status = "405" if method != "POST" else "415"
            self._send_block(call, hpack.literal(":status", status.encode()), True)
            self._finish(call)
            return
        if call.deadline is not None:
            call.timer = self.loop.call_at(call.deadline, self._expire, call)
        handler = self.server._handlers.get(path)
        if handler is not None and handler.request_streaming:
            self._start(call, handler)
        elif handler is None:  # resolved in the call's task (interceptors are async)
            call.task = self.loop.create_task(self._resolve_and_serve(call))
        if flags & END_STREAM:
            self._end_request(call)

    def _on_data(self, sid: int, flags: int, payload: bytes, length: int) -> None:
        call = self.streams.get(sid)
        if call is None or call.ended_remote:
            return  # a stream that ended: only the connection window counts it
        if payload:
            call.body += payload
            if len(call.body) > self.server.max_receive + 5 and not self._split(call):
                return
        if call.inbox is None or flags & END_STREAM:
            # A unary request is read whole: its window comes back as it arrives.
            call.received += length
            if call.received >= STREAM_WINDOW // 2 and not flags & END_STREAM:
                self._send(frame(WINDOW_UPDATE, 0, sid, U32.pack(call.received)))
                call.received = 0
        else:  # a streamed request's window comes back as its handler reads it
            call.received += length - len(payload)  # (padding at once)
            if payload:
                self._split(call)
        if flags & END_STREAM:
            self._end_request(call)

    def _split(self, call: _Call) -> bool:
        """Move the complete messages of a streaming request into its inbox (or check a
        unary one's size). False when the call failed (a message too large)."""
        body = call.body
        limit = self.server.max_receive
        while len(body) >= 5:
            compressed, length = MESSAGE_PREFIX.unpack_from(body)
            if length > limit:
                details = f"Received message larger than max ({length} vs. {limit})"
                self._fail(call, grpc.StatusCode.RESOURCE_EXHAUSTED, details)
                return False
            if call.inbox is None or len(body) < 5 + length:
                return True
            message = bytes(body[5 : 5 + length])
            del body[: 5 + length]
            if compressed:
                message = self._inflate(call, message)
                if message is None:
                    return False
            call.inbox.put(message)
        return True

    def _inflate(self, call: _Call, message: bytes) -> bytes | None:
        try:
            out = decompress(call.encoding, message)
        except (zlib.error, ValueError) as exc:
            code = (
                grpc.StatusCode.UNIMPLEMENTED
                if isinstance(exc, ValueError)
                else grpc.StatusCode.INTERNAL
            )
            self._fail(call, code, f"Failed to decompress the request: {exc}")
            return None
        if len(out) > self.server.max_receive:
            details = f"Received message larger than max ({len(out)} vs. {self.server.max_receive})"
            self._fail(call, grpc.StatusCode.RESOURCE_EXHAUSTED, details)
            return None
        return out

    def _end_request(self, call: _Call) -> None:
        call.ended_remote = True
        if call.done:
            return
        if call.inbox is not None:
            if call.body and not self._split(call):
                return
            if call.body:
                self._fail(call, grpc.StatusCode.INTERNAL, "truncated request message")
                return
            call.inbox.end()
            return
        handler = self.server._handlers.get(call.path)
        if handler is None or call.task is not None:
            return  # the resolving task serves it once the handler is known
        self._start(call, handler)

    def _on_reset(self, sid: int, code: int) -> None:
        call = self.streams.get(sid)
        if call is not None:
            self._cancel(call)

    # --- serving ----------------------------------------------------------------------

    def _bind(self, call: _Call, handler: grpc.RpcMethodHandler) -> bool:
        """The call's handler is known: how its request reads. False when the call
        failed meanwhile (a streamed request message too large)."""
        if handler.request_deserializer is not None:
            call.deserialize = handler.request_deserializer
        if handler.request_streaming:
            call.inbox = _Inbox(call)
            if call.body and not self._split(call):
                return False
        return True

    def _start(self, call: _Call, handler: grpc.RpcMethodHandler) -> None:
        if self._bind(call, handler):
            call.task = self.loop.create_task(self._serve(call, handler))

    async def _resolve_and_serve(self, call: _Call) -> None:
        try:
            handler = await self.server.handler(call.path, call.metadata)
        except Exception:
            log.exception("interceptors failed for %s", call.path)
            self._fail(call, grpc.StatusCode.UNKNOWN, "Unexpected error resolving the method")
            return
        if call.done:
            return
        if handler is None:
            self._fail(call, grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
            return
        if not self._bind(call, handler):
            return
        if handler.request_streaming:
            if call.ended_remote:
                self._end_request(call)
        elif not call.ended_remote:
            # Wait for the whole request: _end_request finds the handler now known.
            call.task = None
            return
        await self._serve(call, handler)

    def _request(self, call: _Call) -> Any:
        """A unary request's message, deserialized (None after failing the call)."""
        body = call.body
        if len(body) < 5:
            self._fail(call, grpc.StatusCode.INTERNAL, "missing request message")
            return None
        compressed, length = MESSAGE_PREFIX.unpack_from(body)
        if len(body) != 5 + length:
            self._fail(call, grpc.StatusCode.INTERNAL, "bad request message framing")
            return None
        if length > self.server.max_receive:
            details = f"Received message larger than max ({length} vs. {self.server.max_receive})"
            self._fail(call, grpc.StatusCode.RESOURCE_EXHAUSTED, details)
            return None
        message = bytes(body[5:])
        call.body = bytearray()
        if compressed:
            message = self._inflate(call, message)
            if message is None:
                return None
        try:
            return call.deserialize(message)
        except Exception:
            self._fail(call, grpc.StatusCode.INTERNAL, "Exception deserializing request!")
            return None

    async def _serve(self, call: _Call, handler: grpc.RpcMethodHandler) -> None:
        try:
            await self._run(call, handler)
        except Exception:  # a fault here, not in the handler: the call must still end
            log.exception("serving %s failed", call.path)
            self._fail(call, grpc.StatusCode.INTERNAL, "the server failed to serve the call")

    async def _run(self, call: _Call, handler: grpc.RpcMethodHandler) -> None:
        context = call.context = _Context(call)
        context._serialize = handler.response_serializer
        error: BaseException | None = None
        response: Any = None
        try:
            if handler.request_streaming:
                request: Any = call.inbox
            else:
                request = self._request(call)
                if request is None and call.done:
                    return
            if handler.response_streaming:
                behavior = handler.unary_stream or handler.stream_stream
                result = behavior(request, context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        await context.write(item)
                elif inspect.isawaitable(result):
                    await result
                else:
                    for item in result or ():
                        await context.write(item)
            else:
                behavior = handler.unary_unary or handler.stream_unary
                response = behavior(request, context)
                if inspect.isawaitable(response):
                    response = await response
        except AbortError:
            pass
        except asyncio.CancelledError:
            if call.done or call.cancelled:
                return  # the server ended it (deadline, reset, shutdown): sent already
            raise
        except Exception as exc:
            log.exception("Unexpected error in %s", call.path)
            error = exc
        if call.done:
            return
        code = context._code
        details = context._details
        if error is not None:
            code, details = grpc.StatusCode.UNKNOWN, f"Unexpected {type(error)}: {error}"
        elif code is None:
            code = _OK
        message = None
        if code is _OK and not handler.response_streaming:
            serialize = handler.response_serializer
            try:
                message = serialize(response) if serialize is not None else response
            except Exception:
                log.exception("cannot serialize the response of %s", call.path)
                code, details = grpc.StatusCode.INTERNAL, "Failed to serialize response!"
            else:
                if not isinstance(message, bytes | bytearray | memoryview):
                    code, details = grpc.StatusCode.INTERNAL, "Failed to serialize response!"
                    message = None
        self._respond(call, message, code, details, context._trailing, context._initial)

    # --- frames out ----------------------------------------------------------------------

    def _respond(
        self,
        call: _Call,
        message: bytes | None,
        code: grpc.StatusCode,
        details: str,
        trailing: Sequence[tuple[str, Any]],
        initial: Sequence[tuple[str, Any]],
    ) -> None:
        """The call's last frames: its message (if any) and trailers."""
        if (
            message is not None
            and code is _OK
            and not call.headers_sent
            and not (details or trailing or initial)
        ):
            # The common case, in one write: headers, the message, grpc-status 0.
            n = len(message) + 5
            if (
                n <= self._send_window
                and n <= call.window
                and n <= self._max_frame
                and not 0 <= self.server.max_send < n - 5
            ):
                self._send_window -= n
                call.window -= n
                call.headers_sent = True
                sid = call.id
                self._send(
                    b"".join(
                        (
                            FRAME.pack(0, _HEAD_LEN, HEADERS, END_HEADERS, sid),
                            _HEAD_BLOCK,
                            FRAME.pack(n >> 8, n & 0xFF, DATA, 0, sid),
                            MESSAGE_PREFIX.pack(0, n - 5),
                            message,
                            FRAME.pack(0, _OK_LEN, HEADERS, END_HEADERS | END_STREAM, sid),
                            _OK_TRAILERS,
                        )
                    )
                )
                self._finish(call)
                return
        if message is not None:
            size = len(message)
            if 0 <= self.server.max_send < size:
                message = None
                code = grpc.StatusCode.RESOURCE_EXHAUSTED
                details = f"Sent message larger than max ({size} vs. {self.server.max_send})"
        status = _status_block(code, details, trailing)
        if message is None and not call.headers_sent:  # trailers-only
            block = _RESPONSE_HEAD + status
            if initial:
                block += b"".join(metadata_fields(initial))
            self._send_block(call, block, True)
            self._finish(call)
            return
        if message is not None:
            self._queue_message(call, message, initial)
        if call.pending:
            call.trailers = status
        else:
            self._send_block(call, status, True)
            self._finish(call)

    def send_headers(self, call: _Call, initial: Sequence[tuple[str, Any]]) -> None:
        block = _HEAD_BLOCK
        if initial:
            block += b"".join(metadata_fields(initial))
        call.headers_sent = True
        self._send_block(call, block, False)

    async def send_message(
        self, call: _Call, message: bytes, initial: Sequence[tuple[str, Any]]
    ) -> None:
        """A streamed response message; waits while flow control holds it back."""
        self._queue_message(call, message, initial)
        while call.pending and not call.done:
            call.drained = self.loop.create_future()
            await call.drained

    def _queue_message(
        self, call: _Call, message: bytes, initial: Sequence[tuple[str, Any]]
    ) -> None:
        if not call.headers_sent:
            self.send_headers(call, initial)
        data = MESSAGE_PREFIX.pack(0, len(message)) + message
        n = len(data)
        if (
            not call.pending
            and n <= self._send_window
            and n <= call.window
            and n <= self._max_frame
        ):
            self._send_window -= n
            call.window -= n
            self._send(FRAME.pack(n >> 8, n & 0xFF, DATA, 0, call.id) + data)
            return
        call.pending.append(memoryview(data))
        if call not in self._blocked:
            self._blocked.append(call)
        self._pump()

    def _pump(self) -> None:
        """Send what flow control now allows of the calls' waiting response DATA."""
        if not self._blocked:
            return
        still: list[_Call] = []
        for call in self._blocked:
            if self.streams.get(call.id) is not call:
                continue
            pending = call.pending
            while pending and self._send_window > 0 and call.window > 0:
                chunk = pending[0]
                n = min(len(chunk), self._send_window, call.window, self._max_frame)
                if n < len(chunk):
                    pending[0] = chunk[n:]
                    chunk = chunk[:n]
                else:
                    pending.popleft()
                self._send_window -= n
                call.window -= n
                self._send(frame(DATA, 0, call.id, bytes(chunk)))
            if pending:
                still.append(call)
                continue
            if call.drained is not None and not call.drained.done():
                call.drained.set_result(None)
            if call.trailers is not None:
                self._send_block(call, call.trailers, True)
                call.trailers = None
                self._finish(call)
        self._blocked = still

    def _send_block(self, call: _Call, block: bytes, end: bool) -> None:
        flags = END_STREAM if end else 0
        if len(block) <= self._max_frame:
            self._send(frame(HEADERS, END_HEADERS | flags, call.id, block))
        else:
            frames = bytearray(headers_frames(call.id, block, self._max_frame))
            frames[4] |= flags  # the first frame (HEADERS) carries END_STREAM
            self._send(bytes(frames))

    # --- endings ---------------------------------------------------------------------------

    def _finish(self, call: _Call) -> None:
        """The response ended (trailers sent)."""
        if call.done:
            return
        call.done = True
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None
        if not call.ended_remote:
            # The client is still sending: it need not (RFC 9113 8.1).
            self._send(frame(RST_STREAM, 0, call.id, U32.pack(NO_ERROR)))
        self.streams.pop(call.id, None)
        if call.drained is not None and not call.drained.done():
            call.drained.set_result(None)
        context = call.context
        if context is not None and context._callbacks:
            for callback in context._callbacks:
                try:
                    callback(context)
                except Exception:
                    log.exception("done callback failed")
        if self._going_away and not self.streams:
            self.close()

    def _fail(self, call: _Call, code: grpc.StatusCode, details: str) -> None:
        """End the call with an error status now, cancelling its handler."""
        if call.done:
            return
        status = _status_block(code, details, ())
        if call.headers_sent:
            call.pending.clear()
            self._send_block(call, status, True)
        else:
            self._send_block(call, _RESPONSE_HEAD + status, True)
        task = call.task
        call.cancelled = True
        self._finish(call)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _expire(self, call: _Call) -> None:
        call.timer = None
        self._fail(call, grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")

    def _cancel(self, call: _Call) -> None:
        """The client reset the stream (or left): cancel the handler, send nothing."""
        if call.done:
            return
        call.cancelled = True
        call.ended_remote = True
        task = call.task
        self._finish(call)
        if task is not None:
            task.cancel()

    def consumed(self, call: _Call, n: int) -> None:
        """A request-stream message was read: give its bytes back to the window."""
        call.received += n
        if call.received >= STREAM_WINDOW // 4 and not call.ended_remote and not call.done:
            self._send(frame(WINDOW_UPDATE, 0, call.id, U32.pack(call.received)))
            call.received = 0

    def go_away(self) -> None:
        """No new streams (stop): GOAWAY naming the last stream we will serve."""
        if self._going_away:
            return
        self._going_away = True
        self._send(frame(GOAWAY, 0, 0, GOAWAY_BODY.pack(self._last_id, NO_ERROR)))
        if not self.streams:
            self.close()

    def cancel_all(self, details: str) -> None:
        for call in list(self.streams.values()):
            self._fail(call, grpc.StatusCode.UNAVAILABLE, details)

    def _abort(self, code: int, reason: str) -> None:
        """A connection error: GOAWAY, then close; every call is cancelled."""
        self._send(
            frame(GOAWAY, 0, 0, GOAWAY_BODY.pack(self._last_id, code) + reason.encode()[:256])
        )
        self.close()

    def close(self) -> None:
        self._flush()
        if self.transport is not None:
            self.transport.close()


__all__ = ["SERVERS", "SERVER_ENV", "Server", "server", "server_from_env"]
