"""HTTP/2 frames and gRPC messages on the wire: what mesh/h2grpc.py (the lean client)
and mesh/h2server.py (the lean server) both speak. RFC 9113 for the frames, gRPC's
PROTOCOL-HTTP2.md for the message prefix and metadata."""

from __future__ import annotations

import base64
import re
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
