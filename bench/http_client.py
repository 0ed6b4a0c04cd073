"""`python -m bench.http_client`: the CPU an outside-party HTTP call costs its caller.

The Razorpay, courier-aggregator and SMS adapters call their providers over
HTTP/1.1 with keep-alive. This bench starts a tiny local HTTP/1.1 server in another
process (so its CPU is not counted), then, on uvloop as the services run, sends
BENCH_CALLS (default 2000, after 200 to warm up) sequential POSTs of a small JSON
body through each client and reports this process's CPU (time.process_time) per
request. Best of BENCH_ROUNDS (default 3) rounds per row: the machine may be shared,
so CPU per request is the figure, not requests per second.

Rows:
- httpx as the adapters configured it (base_url, BasicAuth, Timeout, default
  headers, `json=`);
- httpx with everything that could be tuned: its HTTP/1.1 transport built by hand
  (`AsyncHTTPTransport(http1=True, http2=False, retries=0)`), `trust_env=False`,
  the Authorization header precomputed instead of the auth flow, the body encoded
  once as bytes;
- aiohttp as the adapters configure it: `mesh/http.py`'s `JsonHttpClient` (Basic
  key, timeouts, default headers, proxies from the environment, a JSON body);
- aiohttp.ClientSession bare (no timeout, no auth, no default headers);
- bench/http1.py (asyncio streams + httptools, no TLS; the floor a hand-written
  client reaches; the shopper's client of the checkout bench).
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.load import python_speed_ms

BODY = {"amount": 129900, "currency": "INR", "receipt": "ord_bench_0001", "notes": {"k": "v"}}
ANSWER = (
    b'{"id":"order_Bench000000001","entity":"order","amount":129900,"amount_paid":0,'
    b'"amount_due":129900,"currency":"INR","receipt":"ord_bench_0001","status":"created",'
    b'"attempts":0,"notes":{"k":"v"},"created_at":1700000000}'
)
PATH = "/v1/orders"


# --- the server (its own process) -----------------------------------------------------


class _Server(asyncio.Protocol):
    """Answers every HTTP/1.1 request on a connection with one fixed JSON body."""

    RESPONSE = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(ANSWER)).encode()
        + b"\r\n\r\n"
        + ANSWER
    )

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buf[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length :]
            self.transport.write(self.RESPONSE)


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Server, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


# --- the clients ----------------------------------------------------------------------


async def _measure(call: Callable[[], Awaitable[Any]], n: int, rounds: int) -> float:
    for _ in range(max(n // 10, 1)):  # warm up: the connection, caches
        await call()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            await call()
        best = min(best, (time.process_time() - started) / n)
    return best


def _rows(base: str) -> list[tuple[str, Callable[[], Any]]]:
    """(label, factory): the factory returns (call, aclose) inside the loop."""
    import aiohttp
    import httpx
    import orjson

    auth_header = "Basic " + base64.b64encode(b"rzp_test_key:secret").decode()
    headers = {"user-agent": "cleanse-mesh-razorpay/1", "accept": "application/json"}

    def httpx_adapters() -> Any:
        client = httpx.AsyncClient(
            base_url=base,
            auth=httpx.BasicAuth("rzp_test_key", "secret"),
            timeout=httpx.Timeout(10.0),
            headers=headers,
        )

        async def call() -> Any:
            resp = await client.request("POST", PATH, json=BODY)
            return resp.json()

        return call, client.aclose

    def httpx_tuned() -> Any:
        transport = httpx.AsyncHTTPTransport(http1=True, http2=False, retries=0)
        client = httpx.AsyncClient(
            base_url=base,
            timeout=httpx.Timeout(10.0),
            headers={**headers, "authorization": auth_header, "content-type": "application/json"},
            transport=transport,
            trust_env=False,
        )

        async def call() -> Any:
            resp = await client.request("POST", PATH, content=orjson.dumps(BODY))
            return orjson.loads(resp.content)

        return call, client.aclose

    def aiohttp_adapters() -> Any:
        from mesh.http import JsonHttpClient

        client = JsonHttpClient(
            base, timeout=10.0, headers=headers, basic_auth=("rzp_test_key", "secret")
        )

        async def call() -> Any:
            return (await client.request("POST", PATH, json_body=BODY)).json()

        return call, client.aclose

    def aiohttp_bare() -> Any:
        session = aiohttp.ClientSession(base_url=base)

        async def call() -> Any:
            async with session.post(PATH, data=orjson.dumps(BODY)) as resp:
                return orjson.loads(await resp.read())

        return call, session.close

    def http1_floor() -> Any:
        from bench.http1 import Http1Client

        host, port = base.removeprefix("http://").split(":")
        client = Http1Client(host, int(port))

        async def call() -> Any:
            return (await client.post(PATH, BODY)).json()

        return call, client.close

    return [
        ("httpx, as the adapters configured it", httpx_adapters),
        ("httpx, transport and request tuned", httpx_tuned),
        ("aiohttp, as the adapters configure it", aiohttp_adapters),
        ("aiohttp, bare session", aiohttp_bare),
        ("bench/http1.py (httptools, no TLS)", http1_floor),
    ]


async def main(base: str) -> None:
    n = int(os.environ.get("BENCH_CALLS", "2000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(
        f"POST {PATH}, small JSON in and out, {n} sequential keep-alive requests per round, "
        f"best of {rounds}; client CPU per request (time.process_time), on {loop}"
    )
    sniffio = importlib.util.find_spec("sniffio") is not None
    print(
        f"sniffio importable: {'yes' if sniffio else 'no'} (without it httpcore 1.0.9 retries "
        "`import sniffio` on every lock it takes: encode/httpcore#1103)"
    )
    first = 0.0
    for label, factory in _rows(base):
        call, aclose = factory()
        try:
            cost = await _measure(call, n, rounds)
        finally:
            await aclose()
        first = first or cost
        print(f"  {label:40} {cost * 1e6:8.1f} µs   {first / cost:5.2f}x", flush=True)
    print(f"this machine's Python speed: a million-step loop in {python_speed_ms():.1f} ms")


def run() -> None:
    import uvloop

    server = subprocess.Popen(
        [sys.executable, "-m", "bench.http_client", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = server.stdout.readline().strip() if server.stdout is not None else ""
        if not port.isdigit():
            raise SystemExit("bench.http_client: the local HTTP server did not start")
        base = f"http://127.0.0.1:{port}"
        if os.environ.get("BENCH_LOOP", "uvloop") == "uvloop":
            uvloop.run(main(base))
        else:
            asyncio.run(main(base))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    if "--serve" in sys.argv:
        import uvloop

        uvloop.run(_serve())
    else:
        run()
