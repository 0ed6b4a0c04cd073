"""uvicorn's httptools protocol, writing each response with one socket write.

uvicorn writes the status line and headers when the app sends
`http.response.start`, and the body separately on `http.response.body`: two
`write()` syscalls per response, and on a loopback or LAN connection each one
pays the whole TCP send path. The edge always sends its body right after the
headers, so `CoalescingTransport` holds a final response's head until the next
write (or the end of the current event-loop iteration, whichever comes first) and
sends both in one call. Interim responses (`100 Continue`) are never held.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_HEAD = b"HTTP/1.1 "
_END = b"\r\n\r\n"


class CoalescingTransport:
    """Delegates to the real transport; a response head waits for what follows it."""

    __slots__ = ("_flush_scheduled", "_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: bytes | None = None
        self._flush_scheduled = False

    def write(self, data: bytes) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            self._transport.write(pending + data)
            return
        # A final response's status line and headers (not "HTTP/1.1 1xx").
        if data.startswith(_HEAD) and data[9:10] != b"1" and data.endswith(_END):
            self._pending = data
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_soon(self._flush)
            return
        self._transport.write(data)

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending = self._pending
        if pending is not None:
            self._pending = None
            if not self._transport.is_closing():
                self._transport.write(pending)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class EdgeHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HttpToolsProtocol over a CoalescingTransport (`http=` in uvicorn.run)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
