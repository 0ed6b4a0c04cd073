"""A minimal HTTP/1.1 keep-alive JSON client for the checkout bench's shoppers.

httpx cost the load generator about 1.2 ms of CPU per request: 6 ms per checkout,
7% of the machine at 20 orders/s, taken from the mesh being measured. A shopper
needs far less: one connection, one request at a time, a JSON body in and out.
This does that with asyncio streams and httptools (the parser the edge's uvicorn
uses) for a fraction of the CPU, the way wrk or h2load stay out of the way of what
they load. It is a load generator's client, not a general one: no TLS, no redirects,
no chunked request bodies.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httptools


class HttpError(Exception):
    """The connection failed, or the answer could not be read."""


class Response:
    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Reader:
    """httptools callbacks: the body, and whether the message is complete."""

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.done = False
        self.close = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"connection" and value.lower() == b"close":
            self.close = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class Http1Client:
    """One keep-alive connection to `host:port`, reopened when the server closes it."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._host_header = f"{host}:{port}".encode()
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, payload: Any) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        head = (
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + self._host_header
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n"
        )  # fmt: skip
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(head + body)
        except (OSError, TimeoutError, httptools.HttpParserError, HttpError) as exc:
            await self.close()
            raise HttpError(type(exc).__name__) from exc

    async def _exchange(self, request: bytes) -> Response:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(request)
        got = _Reader()
        parser = httptools.HttpResponseParser(got)
        while not got.done:
            chunk = await reader.read(65536)
            if not chunk:
                raise HttpError("connection closed before the answer ended")
            parser.feed_data(chunk)
        if got.close:
            await self.close()
        return Response(parser.get_status_code(), b"".join(got.body))

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
