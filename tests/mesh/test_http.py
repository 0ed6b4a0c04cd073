"""mesh/http.py: the JSON HTTP client of the outside-party adapters, against a raw
HTTP/1.1 server on loopback that records what arrives byte for byte."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator

import pytest

from mesh.http import HttpError, HttpTimeout, JsonHttpClient


class RawServer:
    """Answers each request with the next scripted answer (None: never answers)."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, bytes]] = []  # (head, body)
        self.answers: list[bytes | None] = []
        self.server: asyncio.Server | None = None
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                self.requests.append((head, body))
                answer = self.answers.pop(0) if self.answers else _answer(200, b"{}")
                if answer is None:
                    await reader.read()  # until the client gives up and hangs up
                    return
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def header(self, index: int, name: str) -> str | None:
        for line in self.requests[index][0].decode().split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def _answer(status: int, body: bytes, extra: str = "", reason: str = "OK") -> bytes:
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json{extra}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


@pytest.fixture
async def raw() -> AsyncIterator[RawServer]:
    srv = RawServer()
    srv.server = await asyncio.start_server(srv._handle, "127.0.0.1", 0)
    port = srv.server.sockets[0].getsockname()[1]
    srv.url = f"http://127.0.0.1:{port}"
    yield srv
    srv.server.close()


async def test_a_json_post_as_the_adapters_sent_it(raw: RawServer) -> None:
    client = JsonHttpClient(
        raw.url + "/base/",
        timeout=2,
        headers={"user-agent": "ua/1", "accept": "application/json"},
        basic_auth=("rzp_test_key", "s3cret"),
    )
    raw.answers.append(_answer(200, b'{"id": "order_1"}'))
    try:
        resp = await client.request(
            "POST", "/v1/orders/a%2Fb", json_body={"note": "नमस्ते", "n": 1}, headers={"X-K": "v"}
        )
    finally:
        await client.aclose()
    assert resp.status_code == 200 and resp.json() == {"id": "order_1"}
    head, body = raw.requests[0]
    assert head.startswith(b"POST /base/v1/orders/a%2Fb HTTP/1.1\r\n")
    assert body == '{"note":"नमस्ते","n":1}'.encode()
    assert raw.header(0, "content-type") == "application/json"
    token = base64.b64encode(b"rzp_test_key:s3cret").decode()
    assert raw.header(0, "authorization") == f"Basic {token}"
    assert raw.header(0, "user-agent") == "ua/1"
    assert raw.header(0, "x-k") == "v"


async def test_no_body_without_json_and_errors_and_redirects_are_answers(raw: RawServer) -> None:
    client = JsonHttpClient(raw.url, timeout=2)
    raw.answers += [
        _answer(502, b'{"error": {"code": "X"}}', reason="Bad Gateway"),
        _answer(302, b"", extra="\r\nlocation: /elsewhere", reason="Found"),
        _answer(400, "ünï".encode("latin-1"), extra="; charset=latin-1"),
    ]
    try:
        bad = await client.request("GET", "/v1/payments/pay_1")
        moved = await client.request("GET", "/v1/x")
        latin = await client.request("GET", "/v1/y")
    finally:
        await client.aclose()
    assert (bad.status_code, bad.reason_phrase, bad.json()) == (
        502,
        "Bad Gateway",
        {"error": {"code": "X"}},
    )
    assert moved.status_code == 302 and len(raw.requests) == 3  # not followed
    assert raw.requests[0][1] == b"" and raw.header(0, "content-type") is None
    assert latin.text == "ünï"
    with pytest.raises(ValueError):
        latin.json()


async def test_no_answer_in_time_is_a_timeout(raw: RawServer) -> None:
    client = JsonHttpClient(raw.url, timeout=0.1)
    raw.answers.append(None)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(HttpTimeout):
            await client.request("POST", "/v1/orders", json_body={})
    finally:
        await client.aclose()
    assert loop.time() - started < 1


async def test_nobody_listening_is_an_error_not_a_timeout() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = JsonHttpClient(f"http://127.0.0.1:{port}", timeout=2)
    try:
        with pytest.raises(HttpError) as err:
            await client.request("GET", "/v1/x")
    finally:
        await client.aclose()
    assert not isinstance(err.value, HttpTimeout)
    assert err.value.kind.startswith("ClientConnector")


async def test_a_closed_client_refuses_requests(raw: RawServer) -> None:
    client = JsonHttpClient(raw.url, timeout=2)
    await client.request("GET", "/v1/x")
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.request("GET", "/v1/x")
    await client.aclose()  # twice is fine
