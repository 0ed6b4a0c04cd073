"""The HTTP/1.1 JSON client of the adapters that call outside parties: Razorpay
(services/order/payments/razorpay.py), the courier aggregator
(services/shipping/carriers/aggregator.py) and the SMS gateway
(services/engagement/channels/sms.py).

It is aiohttp underneath: on this mesh's uvloop it costs about a fifth of the CPU per
request that httpx did (`python -m bench.http_client` prints the figures), and the
order service calls Razorpay twice per checkout. The adapters see only this module:
a base URL, timeouts, default headers, an optional HTTP Basic key; `request()` sends
a JSON body and returns the whole answer read (`HttpResponse`), or raises
`HttpTimeout` / `HttpError` when there is no answer. Status codes are the adapter's
to judge: nothing here raises on a 4xx or 5xx, retries, or follows a redirect.

Kept as httpx behaved for these adapters:
- the request path is appended to the base URL's path (`https://h/x` + `/v1/a` is
  `https://h/x/v1/a`), characters a path may not hold are percent-encoded, escapes
  already there are kept;
- a JSON body is compact UTF-8 (`{"a":1}`), NaN refused, with
  `Content-Type: application/json`; no body at all when `json_body` is None;
- HTTP Basic is sent with the first request, not after a 401 challenge;
- timeouts: `connect_timeout` (default `timeout`) to open a connection, `timeout` to
  wait for each read of the answer and for a free pooled connection;
- certificates are checked against certifi's CA bundle; a proxy comes from the
  environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY), read when the client is made;
  cookies the provider sets are sent back;
- a pool of at most 100 connections, an idle connection kept 5 s;
- a client used after `aclose()` raises RuntimeError.
"""

from __future__ import annotations

import base64
import functools
import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import aiohttp

KEEPALIVE_SECONDS = 5.0
MAX_CONNECTIONS = 100


class HttpError(Exception):
    """No HTTP answer: the connection failed, broke, or the answer was not HTTP.
    `kind` names the underlying failure (e.g. ClientConnectorError)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


class HttpTimeout(HttpError):
    """No answer in time: connecting, waiting for a pooled connection, or reading."""


class HttpResponse:
    """A whole answer, read: status, reason phrase and body bytes."""

    __slots__ = ("charset", "content", "reason_phrase", "status_code")

    def __init__(
        self, status_code: int, reason_phrase: str, content: bytes, charset: str | None = None
    ) -> None:
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.content = content
        self.charset = charset

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.charset or "utf-8", "replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", "replace")


def basic_auth_header(user: str, password: str) -> str:
    """The Authorization header value of HTTP Basic."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY,
    unless NO_PROXY covers its host), read once, when the client is made, as httpx
    did. (aiohttp's trust_env would look it up in a worker thread on every request.)"""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(parts.netloc):
        return proxy
    return None


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class JsonHttpClient:
    """One connection pool to one base URL. Create it anywhere (the pool opens on the
    first request, inside the running event loop); `aclose()` at shutdown."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        connect_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        connect = timeout if connect_timeout is None else connect_timeout
        # aiohttp's `connect` covers the wait for a pooled connection plus opening one.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout + connect, sock_connect=connect, sock_read=timeout
        )
        default_headers = dict(headers or {})
        if basic_auth is not None:
            default_headers["Authorization"] = basic_auth_header(*basic_auth)
        self._headers = default_headers
        self._proxy = _env_proxy(self.base_url)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the HTTP client has been closed")
        if self._session is None:
            tls = _tls_context() if self.base_url.startswith("https://") else True
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    ssl=tls, limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                timeout=self._timeout,
                headers=self._headers,
                proxy=self._proxy,
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request; the answer whatever its status. Raises HttpTimeout or
        HttpError when there is none."""
        session = self._open()
        data = None
        if json_body is not None:
            data = _encode(json_body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            async with session.request(
                method, self.base_url + path, data=data, headers=headers, allow_redirects=False
            ) as resp:
                content = await resp.read()
                return HttpResponse(resp.status, resp.reason or "", content, resp.charset)
        except TimeoutError as exc:
            raise HttpTimeout(type(exc).__name__, str(exc)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise HttpError(type(exc).__name__, str(exc)) from exc

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
