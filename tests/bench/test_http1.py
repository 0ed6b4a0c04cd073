"""The checkout bench's HTTP/1.1 client: keep-alive, reconnect on close, errors."""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.http1 import Http1Client, HttpError


async def _serve(answers: list[tuple[int, bytes, bool]]) -> tuple[asyncio.Server, list]:
    """A server answering each request with the next (status, body, close?)."""
    seen: list[tuple[int, bytes]] = []  # (connection number, request body)
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        me = connections
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            seen.append((me, await reader.readexactly(length)))
            status, body, close = answers.pop(0)
            extra = b"Connection: close\r\n" if close else b""
            writer.write(
                b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n%s"
                % (status, len(body), extra, body)
            )
            await writer.drain()
            if close:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, seen


async def test_keeps_the_connection_and_reopens_it_after_close() -> None:
    answers = [(200, b'{"a":1}', False), (400, b'{"b":2}', True), (200, b"{}", False)]
    server, seen = await _serve(answers)
    port = server.sockets[0].getsockname()[1]
    client = Http1Client("127.0.0.1", port, timeout=5)
    try:
        first = await client.post("/v1/x", {"n": 1})
        second = await client.post("/v1/y", {"n": 2})
        third = await client.post("/v1/z", {"n": 3})
    finally:
        await client.close()
        server.close()
    assert (first.status_code, first.json()) == (200, {"a": 1})
    assert (second.status_code, second.json()) == (400, {"b": 2})
    assert third.status_code == 200
    # The first two on one connection; the server closed it, so the third on a new one.
    assert [(c, json.loads(b)) for c, b in seen] == [(1, {"n": 1}), (1, {"n": 2}), (2, {"n": 3})]


async def test_a_connection_that_fails_raises_http_error() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Http1Client("127.0.0.1", port, timeout=5)
    try:
        with pytest.raises(HttpError):
            await client.post("/v1/x", {})
    finally:
        await client.close()
        server.close()
