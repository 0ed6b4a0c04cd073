"""HTTP/2 frames and gRPC messages on the wire: what mesh/h2grpc.py (the lean client)
and mesh/h2server.py (the lean server) both speak. RFC 9113 for the frames, gRPC's
PROTOCOL-HTTP2.md for the message prefix and metadata."""

from __future__ import annotations

import abc
import asyncio
import base64
import re
import socket
import struct
import zlib
from collections.abc import Sequence
from typing import Any

from mesh import hpack

# Frame types and flags (RFC 9113 section 6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS = 0, 1, 2, 3, 4
PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 5, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
# Error codes.
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0, 1, 2, 3
FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = 6, 7, 8, 9
ENHANCE_YOUR_CALM, INADEQUATE_SECURITY = 11, 12

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DEFAULT_WINDOW = 65_535
DEFAULT_MAX_FRAME = 16_384
MAX_STREAM_ID = 2**31 - 1
# The receive windows both sides announce: large enough that a message rarely waits
# for a WINDOW_UPDATE.
STREAM_WINDOW = 1 << 24
CONNECTION_WINDOW = 1 << 30
MAX_HEADER_BLOCK = 1 << 20
DEFAULT_MAX_RECEIVE = 4 * 1024 * 1024  # grpc's default
FRAME = struct.Struct(">HBBBL")  # length (24 bits as 16 + 8), type, flags, stream id
SETTING = struct.Struct(">HL")
U32 = struct.Struct(">L")
GOAWAY_BODY = struct.Struct(">LL")
MESSAGE_PREFIX = struct.Struct(">BL")  # gRPC message prefix: compressed flag, length

# grpc-timeout's units, finest first (per second), and back (seconds per unit).
_TIMEOUT_UNITS = ((1e9, "n"), (1e6, "u"), (1e3, "m"), (1.0, "S"), (1 / 60, "M"), (1 / 3600, "H"))
_SECONDS_PER_UNIT = {unit: 1 / per_second for per_second, unit in _TIMEOUT_UNITS}


def encode_timeout(seconds: float) -> str:
    """grpc-timeout: at most 8 digits and a unit, rounded up (the finest unit that fits)."""
    seconds = max(seconds, 0.0)
    for per_second, unit in _TIMEOUT_UNITS:
        value = seconds * per_second
        whole = int(value)
        if whole < value:
            whole += 1
        if whole < 100_000_000:
            return f"{max(whole, 1)}{unit}"
    return "99999999H"


def parse_timeout(value: str) -> float | None:
    """A grpc-timeout header's seconds; None when it is malformed (no deadline then)."""
    seconds = _SECONDS_PER_UNIT.get(value[-1:])
    digits = value[:-1]
    if seconds is None or not digits.isdigit() or len(digits) > 8:
        return None
    return int(digits) * seconds


# Keys a caller may not set: the client writes them, or HTTP/2 forbids them.
RESERVED_KEYS = frozenset(
    {
        "content-type",
        "te",
        "user-agent",
        "host",
        "grpc-timeout",
        "grpc-encoding",
        "grpc-accept-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    }
)
_KEY = re.compile(r"[a-z0-9_.-]+\Z")
LENGTH = [bytes((n,)) for n in range(127)]


def _key_prefix(key: str) -> tuple[bytes, bool]:
    """A metadata key's HPACK literal prefix (a new name, not indexed), and -bin?"""
    if not _KEY.match(key) or key in RESERVED_KEYS:
        raise ValueError(f"metadata key {key!r} is not allowed")
    return b"\x00" + hpack.string(key.encode("ascii")), key.endswith("-bin")


_KEYS: dict[str, tuple[bytes, bool]] = {}


class H2ConnectionError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def frame(kind: int, flags: int, sid: int, payload: bytes) -> bytes:
    n = len(payload)
    return FRAME.pack(n >> 8, n & 0xFF, kind, flags, sid) + payload


def headers_frames(sid: int, block: bytes, max_frame: int) -> bytes:
    pieces = [block[i : i + max_frame] for i in range(0, len(block), max_frame)]
    out = [frame(HEADERS, 0, sid, pieces[0])]
    for i, piece in enumerate(pieces[1:], 2):
        out.append(frame(CONTINUATION, END_HEADERS if i == len(pieces) else 0, sid, piece))
    return b"".join(out)


def unpad(payload: bytes) -> bytes:
    if not payload or payload[0] >= len(payload):
        raise H2ConnectionError(PROTOCOL_ERROR, "bad padding")
    return payload[1 : len(payload) - payload[0]]


def decompress(encoding: str, data: bytes) -> bytes:
    if encoding == "gzip":
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompress(data)
    raise ValueError(f"compressed message with unsupported grpc-encoding {encoding!r}")


def metadata_fields(metadata: Sequence[tuple[str, Any]]) -> list[bytes]:
    out: list[bytes] = []
    for key, value in metadata:
        known = _KEYS.get(key)
        if known is None:
            known = _key_prefix(key)
            if len(_KEYS) < 1024:
                _KEYS[key] = known
        prefix, binary = known
        if binary:
            raw = value if isinstance(value, bytes) else str(value).encode()
            data = base64.b64encode(raw).rstrip(b"=")
        elif type(value) is str and value.isascii() and value.isprintable():
            data = value.encode("ascii")
        else:
            raise ValueError(f"metadata value of {key!r} must be printable ASCII")
        n = len(data)
        out.append(prefix)
        out.append(LENGTH[n] if n < 127 else hpack.encode_int(n, 7))
        out.append(data)
    return out


class FrameConnection(asyncio.Protocol, abc.ABC):
    """The frame layer of one HTTP/2 connection, the same at both ends (RFC 9113):
    frames parsed from the byte stream as they arrive, header blocks assembled across
    CONTINUATION, the peer's SETTINGS applied and acknowledged, PINGs answered,
    WINDOW_UPDATEs counted; frames out gathered and written once per loop iteration.

    The client's connection (mesh/h2grpc.py) and the server's (mesh/h2server.py) say
    what DATA, a header block, a reset and a GOAWAY mean to them. `streams` holds the
    open streams by id; each has a `window`: what this end may still send on it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, Any] = {}
        self._buf = b""
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._continued: tuple[int, int, list[bytes]] | None = None  # (stream, flags, parts)
        # The peer's settings, and our connection send window.
        self._max_frame = DEFAULT_MAX_FRAME
        self.initial_window = DEFAULT_WINDOW
        self._send_window = DEFAULT_WINDOW
        self._received = 0  # DATA bytes since our last connection WINDOW_UPDATE

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:  # small frames leave at once (each write is a whole batch of frames)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, AttributeError):
                pass

    # --- what each end does with a frame --------------------------------------------------

    @abc.abstractmethod
    def _on_data(self, sid: int, flags: int, payload: bytes, length: int) -> None:
        """A DATA frame's payload (padding removed; `length` as it was on the wire)."""

    @abc.abstractmethod
    def _on_block(self, sid: int, flags: int, block: bytes) -> None:
        """A complete header block (END_STREAM in `flags` when it ends the stream)."""

    @abc.abstractmethod
    def _on_reset(self, sid: int, code: int) -> None:
        """The peer reset stream `sid` (RST_STREAM with error `code`)."""

    @abc.abstractmethod
    def _abort(self, code: int, reason: str) -> None:
        """A connection error: GOAWAY with `code`, then close."""

    def _on_goaway(self, last: int, code: int, debug: bytes) -> None:
        """The peer opens no more streams; those above `last` it never processed."""

    def _on_ping_ack(self) -> None:
        """Our PING came back."""

    def _pump(self) -> None:
        """Send what flow control now allows of DATA that waited for window."""

    # --- frames in -------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._buf:
            data = self._buf + data
            self._buf = b""
        self._parse(data, 0)

    def _parse(self, data: bytes, pos: int) -> None:
        end = len(data)
        unpack = FRAME.unpack_from
        try:
            while end - pos >= 9:
                hi, lo, kind, flags, sid = unpack(data, pos)
                length = (hi << 8) | lo
                if length > DEFAULT_MAX_FRAME:  # neither end ever allows larger frames
                    raise H2ConnectionError(FRAME_SIZE_ERROR, "frame too large")
                start = pos + 9
                stop = start + length
                if stop > end:
                    break
                pos = stop
                sid &= MAX_STREAM_ID
                if self._continued is not None and kind != CONTINUATION:
                    raise H2ConnectionError(PROTOCOL_ERROR, "expected CONTINUATION")
                if kind == DATA:
                    if sid == 0:
                        raise H2ConnectionError(PROTOCOL_ERROR, "DATA on stream 0")
                    # The connection's window comes back as DATA arrives, whatever the
                    # stream (ended ones too); a stream's window is each end's business.
                    self._received += length
                    if self._received >= CONNECTION_WINDOW // 2:
                        self._send(frame(WINDOW_UPDATE, 0, 0, U32.pack(self._received)))
                        self._received = 0
                    payload = data[start:stop]
                    if flags & PADDED:
                        payload = unpad(payload)
                    self._on_data(sid, flags, payload, length)
                elif kind == HEADERS:
                    self._on_headers(sid, flags, data[start:stop])
                else:
                    self._on_other(kind, sid, flags, data[start:stop])
        except H2ConnectionError as exc:
            self._abort(exc.code, exc.reason)
            return
        if pos < end:
            self._buf = data[pos:]

    def _on_headers(self, sid: int, flags: int, payload: bytes) -> None:
        if sid == 0:
            raise H2ConnectionError(PROTOCOL_ERROR, "HEADERS on stream 0")
        if flags & PADDED:
            payload = unpad(payload)
        if flags & PRIORITY_FLAG:
            payload = payload[5:]
        if not flags & END_HEADERS:
            self._continued = (sid, flags, [payload])
            return
        self._on_block(sid, flags, payload)

    def _on_other(self, kind: int, sid: int, flags: int, payload: bytes) -> None:
        if kind == CONTINUATION:
            cont = self._continued
            if cont is None or cont[0] != sid:
                raise H2ConnectionError(PROTOCOL_ERROR, "unexpected CONTINUATION")
            cont[2].append(payload)
            if sum(map(len, cont[2])) > MAX_HEADER_BLOCK:
                raise H2ConnectionError(PROTOCOL_ERROR, "header block too large")
            if flags & END_HEADERS:
                self._continued = None
                self._on_block(sid, cont[1], b"".join(cont[2]))
        elif kind == SETTINGS:
            if flags & ACK or sid:
                return
            if len(payload) % 6:
                raise H2ConnectionError(FRAME_SIZE_ERROR, "bad SETTINGS length")
            for at in range(0, len(payload), 6):
                self._setting(*SETTING.unpack_from(payload, at))
            self._send(frame(SETTINGS, ACK, 0, b""))
            self._pump()
        elif kind == WINDOW_UPDATE:
            if len(payload) != 4:
                raise H2ConnectionError(FRAME_SIZE_ERROR, "bad WINDOW_UPDATE length")
            increment = U32.unpack(payload)[0] & MAX_STREAM_ID
            if sid == 0:
                self._send_window += increment
            else:
                st = self.streams.get(sid)
                if st is None:
                    return
                st.window += increment
            self._pump()
        elif kind == PING:
            if len(payload) != 8:
                raise H2ConnectionError(FRAME_SIZE_ERROR, "bad PING length")
            if flags & ACK:
                self._on_ping_ack()
            else:
                self._send(frame(PING, ACK, 0, payload))
        elif kind == RST_STREAM:
            if len(payload) != 4:
                raise H2ConnectionError(FRAME_SIZE_ERROR, "bad RST_STREAM length")
            self._on_reset(sid, U32.unpack(payload)[0])
        elif kind == GOAWAY:
            if len(payload) < 8:
                raise H2ConnectionError(FRAME_SIZE_ERROR, "bad GOAWAY length")
            last, code = GOAWAY_BODY.unpack_from(payload)
            self._on_goaway(last & MAX_STREAM_ID, code, payload[8:])
        elif kind == PUSH_PROMISE:
            raise H2ConnectionError(PROTOCOL_ERROR, "PUSH_PROMISE: push is disabled")
        # PRIORITY and unknown frame types are ignored (RFC 9113 4.1, 5.5).

    def _setting(self, key: int, value: int) -> None:
        if key == 4:  # INITIAL_WINDOW_SIZE: applies to open streams too
            if value > MAX_STREAM_ID:
                raise H2ConnectionError(FLOW_CONTROL_ERROR, "bad INITIAL_WINDOW_SIZE")
            delta = value - self.initial_window
            self.initial_window = value
            for st in self.streams.values():
                st.window += delta
        elif key == 5:  # MAX_FRAME_SIZE
            if not DEFAULT_MAX_FRAME <= value <= 2**24 - 1:
                raise H2ConnectionError(PROTOCOL_ERROR, "bad MAX_FRAME_SIZE")
            self._max_frame = value
        # HEADER_TABLE_SIZE: neither end indexes what it sends; the rest concern one end.

    # --- frames out ------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        self._out.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        out = self._out
        if not out:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)
