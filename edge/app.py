"""The REST/JSON -> gRPC edge as a raw ASGI application.

Per request: match the route (routes.py) -> authenticate the bearer token and
enforce the RPC's declared access policy (auth.py, mesh.identity.authorize) ->
read the body under a size cap -> build the request message (transcode.py) ->
call the backend over its shared channel (mesh/h2grpc.py's lean HTTP/2 client, or
grpc.aio's; edge/backends.py) with the request's deadline and propagated headers ->
render the response or the status (errors.py).

Everything derived from descriptors is built in `create_app` (routes, per-message
JSON encoders, metrics children, backend calls); the request path does dictionary
lookups, one regex match, the JSON conversion and the call. Tracing: with a span
exporter installed the edge opens a SERVER span and its backend call a CLIENT span
(OpenTelemetry SDK); without one (CLEANSE_OTEL_EXPORTER=none) it only continues and
propagates the W3C trace context (observability/tracecontext.py), which costs far less.
Client-side gRPC metrics are recorded inline by edge.backends.BackendCall, not by
grpc.aio interceptor objects.
Only an allow-list of request headers reaches a service: `authorization`,
`x-request-id`, `traceparent`/`tracestate`, the browser's `user-agent` (as
`x-user-agent`: gRPC replaces `user-agent` with its own) and `x-forwarded-for`
(set by the edge). `x-cleanse-internal` and hop-by-hop headers never pass.
An RPC may name more headers in its contract (`forward_headers`, e.g. a webhook's
signature): those reach that RPC only, checked for length and printable ASCII
(edge/forwarding.py). A body bound to google.api.HttpBody is passed through raw,
with its Content-Type (edge/transcode.py); so is a google.api.HttpBody response: its
bytes are the HTTP body and its content_type the Content-Type (with
`X-Content-Type-Options: nosniff`), errors stay JSON.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import getrandbits
from typing import Any

import grpc
import orjson
from google.protobuf import descriptor_pb2, descriptor_pool
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from edge import errors
from edge.auth import AUTH_PACKAGE, EdgeAuth, backend_jwks_source
from edge.backends import Backend, BackendCall, Backends, InterceptorFactory
from edge.bindings import Binding, bindings_from_file_set
from edge.config import EdgeConfig
from edge.forwarding import forwarded_headers
from edge.health import HealthAggregator
from edge.metrics import UNMATCHED, HttpMetrics, RouteMetrics
from edge.openapi import build_openapi
from edge.protojson import Encoders
from edge.routes import MethodNotAllowed, Router
from edge.transcode import RequestBuilder, ResponseRenderer, bad_request, build_pool
from mesh.contracts import Audience, MethodContract, load_descriptor_set
from mesh.errors import PermissionDenied, ServiceError, Unimplemented
from mesh.identity import (
    ANONYMOUS,
    INTERNAL_HEADER,
    InternalTokens,
    JwksSource,
    TokenVerifier,
    authorize,
    internal_secret,
)
from observability import tracecontext

log = logging.getLogger("edge")

try:
    from observability.tracing import exporting as _spans_exported
except ImportError:  # observability is optional for the edge's own unit tests

    def _spans_exported() -> bool:
        return True  # whatever tracer provider is installed gets real spans


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_WANTED = {
    b"authorization",
    b"x-request-id",
    b"traceparent",
    b"tracestate",
    b"grpc-timeout",
    b"content-length",
    b"x-forwarded-for",
    b"user-agent",
}
_CONTENT_TYPE = b"content-type"
_JSON = (_CONTENT_TYPE, b"application/json")
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_MAX_REQUEST_ID = 128
USER_AGENT_KEY = "x-user-agent"


def parse_grpc_timeout(value: str) -> float:
    """gRPC's timeout format: up to 8 digits and a unit (H M S m u n), e.g. "500m"."""
    digits, unit = value[:-1], value[-1:]
    if not (1 <= len(digits) <= 8 and digits.isdigit() and unit in _TIMEOUT_UNITS):
        raise bad_request("Grpc-Timeout", "expected up to 8 digits and a unit: H M S m u n")
    return int(digits) * _TIMEOUT_UNITS[unit]


def _header_value_ok(value: str) -> bool:
    return value.isascii() and value.isprintable()


@dataclass
class Target:
    """One route's precompiled handling."""

    binding: Binding
    contract: MethodContract
    builder: RequestBuilder
    renderer: ResponseRenderer
    backend: Backend
    label: str  # metrics route label: the template
    span_name: str
    streaming: bool
    call: BackendCall
    metrics: RouteMetrics
    span_attributes: dict[str, str] = field(default_factory=dict)
    public: bool = False  # AUDIENCE_PUBLIC
    internal: bool = False  # AUDIENCE_INTERNAL
    # Headers the contract forwards: (ASGI key, metadata key); and their value cap.
    forward: tuple[tuple[bytes, str], ...] = ()
    forward_max_bytes: int = 0


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


def default_interceptors() -> InterceptorFactory | None:
    """observability's gRPC client interceptors (CLIENT span + traceparent, metrics).

    No longer the edge's default: its backend calls record the same inline
    (edge.backends.BackendCall), which costs a fraction of grpc.aio's interceptors.
    """
    try:
        from observability import client_interceptors
    except ImportError:  # observability is optional for the edge's own unit tests
        return None

    def factory(backend: Backend) -> list[grpc.aio.ClientInterceptor]:
        return list(client_interceptors("edge", backend.name))

    return factory


class EdgeApp:
    def __init__(
        self,
        targets: Sequence[Target],
        router: Router[Target],
        *,
        auth: EdgeAuth,
        backends: Backends,
        config: EdgeConfig,
        pool: descriptor_pool.DescriptorPool,
        openapi: bytes,
        health: HealthAggregator,
    ) -> None:
        self.targets = targets
        self.router = router
        self.auth = auth
        self.backends = backends
        self.config = config
        self.pool = pool
        self._pools = (pool,)
        self.openapi = openapi
        self.health = health
        self.metrics = HttpMetrics()
        # The fixed allow-list, plus what some route forwards or reads (Content-Type of
        # a raw body): one set lookup per header, whatever the route.
        self._forwardable = frozenset(k for t in targets for k, _ in t.forward)
        raw = any(t.builder.raw_body for t in targets)
        self._wanted = _WANTED | self._forwardable | ({_CONTENT_TYPE} if raw else set())
        # Marks each call as relayed by the edge, so services trust the client address
        # it forwards (x-forwarded-for) and nobody else's. Minted once a TTL/2.
        self.internal_tokens = InternalTokens("edge", internal_secret())
        self._tracer = trace.get_tracer("edge")
        self._special: dict[str, Callable[[], Awaitable[tuple[int, bytes, bytes]]]] = {
            "/openapi.json": self._openapi,
            "/healthz": self._healthz,
            "/metrics": self._metrics,
        }

    async def aclose(self) -> None:
        await self.backends.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- the request path -----------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        method: str = scope["method"]
        raw = scope.get("raw_path")
        path = raw.decode("latin-1").partition("?")[0] if raw else scope["path"]
        hdrs: dict[bytes, str] = {}
        wanted = self._wanted
        for k, v in scope["headers"]:
            if k in wanted:
                if k in hdrs and k in self._forwardable:  # repeated: one list (RFC 9110)
                    hdrs[k] += ", " + v.decode("latin-1")
                else:
                    hdrs[k] = v.decode("latin-1")
        rid = hdrs.get(b"x-request-id", "")
        if not rid or len(rid) > _MAX_REQUEST_ID or not _header_value_ok(rid):
            # 128 random bits, like the trace ids (a correlation id, not a secret: clients
            # may send their own); no getrandom() syscall per request as os.urandom makes.
            rid = f"{getrandbits(128):032x}"
        rid_header = (b"x-request-id", rid.encode())

        special = self._special.get(path)
        if special is not None and method in ("GET", "HEAD"):
            status, body, ctype = await special()
            await _respond(send, status, body, [(b"content-type", ctype), rid_header])
            self.metrics.observe(method, path, status, time.perf_counter() - start)
            return

        try:
            match = self.router.match(method, path)
        except MethodNotAllowed as exc:
            allow = ", ".join(exc.allowed).encode()
            body = _plain_status(grpc.StatusCode.UNIMPLEMENTED, "Method Not Allowed")
            await _respond(send, 405, body, [_JSON, rid_header, (b"allow", allow)])
            self.metrics.observe(method, UNMATCHED, 405, time.perf_counter() - start)
            return
        if match is None:
            body = _plain_status(grpc.StatusCode.NOT_FOUND, "Not Found")
            await _respond(send, 404, body, [_JSON, rid_header])
            self.metrics.observe(method, UNMATCHED, 404, time.perf_counter() - start)
            return

        target = match.target
        authorization = hdrs.get(b"authorization")
        fast: tracecontext.FastSpan | None = None
        span: Any = None
        if _spans_exported():
            span, token = self._start_span(target, method, hdrs, rid)
        else:  # nothing records spans: propagate ids only (observability/tracecontext.py)
            fast = tracecontext.start(hdrs.get(b"traceparent"), hdrs.get(b"tracestate"))
            token = tracecontext.set_current(fast)
        gone = False
        try:
            status, body, extra = await self._handle(
                scope, receive, target, match.params, hdrs, rid, fast
            )
        except ServiceError as exc:
            err = errors.from_service_error(exc, token_sent=bool(authorization))
            status, body, extra = err.status, err.body, [_JSON, *err.headers]
        except grpc.aio.AioRpcError as exc:
            err = errors.from_rpc_error(exc, self._pools, token_sent=bool(authorization))
            status, body, extra = err.status, err.body, [_JSON, *err.headers]
        except _TooLarge:
            status, extra = 413, [_JSON]
            body = _plain_status(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"request body exceeds {self.config.max_body_bytes} bytes",
            )
        except _Disconnected:  # nobody to answer; recorded as nginx's 499
            status, body, extra = 499, b"", []
            gone = True
        except Exception:
            _log_failure(fast, method, target.label)
            status, body = 500, _plain_status(grpc.StatusCode.INTERNAL, "internal error")
            extra = [_JSON]
        finally:
            if fast is None:
                otel_context.detach(token)
            else:
                tracecontext.reset_current(token)
        if span is not None:
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(trace.StatusCode.ERROR)
            span.end()
        if not gone:  # `extra` starts with the Content-Type
            await _respond(send, status, body, [*extra, rid_header])
        target.metrics.observe(status, time.perf_counter() - start)

    def _start_span(
        self, target: Target, method: str, hdrs: Mapping[bytes, str], rid: str
    ) -> tuple[Any, object]:
        """The edge's SERVER span (OpenTelemetry SDK), attached as the current context."""
        traceparent = hdrs.get(b"traceparent")
        parent = None
        if traceparent:
            carrier = {"traceparent": traceparent}
            if b"tracestate" in hdrs:
                carrier["tracestate"] = hdrs[b"tracestate"]
            parent = propagate.extract(carrier)
        span = self._tracer.start_span(
            target.span_name,
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={**target.span_attributes, "http.request.method": method, "request.id": rid},
        )
        return span, otel_context.attach(trace.set_span_in_context(span))

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        target: Target,
        params: Sequence[tuple[str, str]],
        hdrs: Mapping[bytes, str],
        rid: str,
        fast: tracecontext.FastSpan | None = None,
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """(status, body, headers): the headers start with the Content-Type."""
        contract = target.contract
        authorization = hdrs.get(b"authorization")
        identity = await self.auth.identity(authorization) if authorization else ANONYMOUS
        if target.internal:  # never routed; belt and braces
            raise PermissionDenied(f"{contract.method} is internal to the mesh")
        if not target.public:  # authorize() lets anyone call a PUBLIC RPC
            authorize(contract, identity)
        if target.streaming:
            raise errors_unimplemented(contract)
        timeout = self.config.timeout_seconds
        grpc_timeout = hdrs.get(b"grpc-timeout")
        if grpc_timeout:
            timeout = parse_grpc_timeout(grpc_timeout)
        body = None
        if target.binding.body:
            body = await self._read_body(receive, hdrs.get(b"content-length"))
        builder = target.builder
        if builder.raw_body:
            request = builder.build(
                params, scope.get("query_string", b""), body, hdrs.get(_CONTENT_TYPE, "")
            )
        else:
            request = builder.build(params, scope.get("query_string", b""), body)

        client = scope.get("client")
        peer = client[0] if client else ""
        forwarded = peer
        if self.config.trust_forwarded_for:
            incoming = hdrs.get(b"x-forwarded-for", "")
            if incoming and _header_value_ok(incoming):
                forwarded = f"{incoming}, {peer}" if peer else incoming
        metadata: list[tuple[str, str]] = [
            ("x-request-id", rid),
            (INTERNAL_HEADER, self.internal_tokens.mint()),
        ]
        if forwarded:
            metadata.append(("x-forwarded-for", forwarded))
        if authorization and _header_value_ok(authorization):
            metadata.append(("authorization", authorization))
        ua = hdrs.get(b"user-agent")
        if ua and _header_value_ok(ua):
            # gRPC owns the `user-agent` key (the channel's own); grpc-web's name instead.
            metadata.append((USER_AGENT_KEY, ua))
        if target.forward:
            metadata.extend(_forwarded(target, hdrs))
        call = target.call
        if fast is not None:
            metadata.append(("traceparent", fast.traceparent()))
            if fast.tracestate:
                metadata.append(("tracestate", fast.tracestate))
            response = await call(request, timeout=timeout, metadata=metadata)
        elif call.observed:  # a CLIENT span, child of the edge's span, carries traceparent
            response = await call(request, timeout=timeout, metadata=metadata, span=True)
        else:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            metadata.extend(carrier.items())
            response = await call(request, timeout=timeout, metadata=metadata)
        renderer = target.renderer
        if renderer.raw:  # google.api.HttpBody: its bytes with its Content-Type
            data, ctype = renderer.to_raw(response)
            return 200, data, [(_CONTENT_TYPE, ctype.encode()), _NOSNIFF]
        return 200, renderer.to_json(response), [_JSON]

    async def _read_body(self, receive: Receive, content_length: str | None) -> bytes:
        cap = self.config.max_body_bytes
        if content_length is not None:
            if not content_length.isdigit():
                raise bad_request("Content-Length", "not a number")
            if int(content_length) > cap:
                raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # --- operational endpoints ------------------------------------------------------

    async def _openapi(self) -> tuple[int, bytes, bytes]:
        return 200, self.openapi, b"application/json"

    async def _healthz(self) -> tuple[int, bytes, bytes]:
        ok, statuses = await self.health.check()
        body = orjson.dumps({"status": "SERVING" if ok else "NOT_SERVING", "services": statuses})
        return (200 if ok else 503), body, b"application/json"

    async def _metrics(self) -> tuple[int, bytes, bytes]:
        return 200, generate_latest(), CONTENT_TYPE_LATEST.encode()


def _forwarded(target: Target, hdrs: Mapping[bytes, str]) -> list[tuple[str, str]]:
    """The contract's extra headers present on the request, checked, as metadata."""
    out: list[tuple[str, str]] = []
    cap = target.forward_max_bytes
    for key, name in target.forward:
        value = hdrs.get(key)
        if value is None:
            continue
        if len(value) > cap:
            raise bad_request(name, f"header longer than {cap} bytes")
        if value and not _header_value_ok(value):
            raise bad_request(name, "header must be printable ASCII")
        out.append((name, value))
    return out


def _log_failure(fast: tracecontext.FastSpan | None, method: str, route: str) -> None:
    if fast is None:  # the SDK span is the current context already
        log.exception("edge failure on %s %s", method, route)
        return
    # The log line carries the request's trace id like every other log line.
    ctx = trace.set_span_in_context(trace.NonRecordingSpan(fast.span_context()))
    token = otel_context.attach(ctx)
    try:
        log.exception("edge failure on %s %s", method, route)
    finally:
        otel_context.detach(token)


def errors_unimplemented(contract: MethodContract) -> ServiceError:
    return Unimplemented(f"{contract.method} streams; the REST edge serves unary RPCs only")


def _plain_status(code: grpc.StatusCode, message: str) -> bytes:
    return orjson.dumps({"code": code.value[0], "message": message, "details": []})


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- construction ------------------------------------------------------------------


def _load(descriptor_set: descriptor_pb2.FileDescriptorSet | Path | str | None):
    if descriptor_set is None:
        return load_descriptor_set()
    if isinstance(descriptor_set, (str, Path)):
        return load_descriptor_set(Path(descriptor_set))
    return descriptor_set


def create_app(
    *,
    descriptor_set: descriptor_pb2.FileDescriptorSet | Path | str | None = None,
    jwks_source: JwksSource | None = None,
    backends: Mapping[str, str] | None = None,
    config: EdgeConfig | None = None,
    interceptors: Sequence[grpc.aio.ClientInterceptor] | InterceptorFactory | None = None,
    packages_prefix: str = "",
) -> EdgeApp:
    """Build the edge from a descriptor set (default: gen/descriptor_set.binpb).

    backends: proto package -> "host:port" overrides; other packages resolve
    through mesh.registry. jwks_source: where verification keys come from (default:
    the auth service's GetJwks RPC). interceptors: gRPC client interceptors for the
    backend channels (default: observability's, which also inject `traceparent`;
    with any other list the edge injects it itself).
    """
    fds = _load(descriptor_set)
    cfg = config or EdgeConfig.from_env()
    pool = build_pool(fds)
    # Default: no interceptor objects; each BackendCall records observability's client
    # metrics and spans inline. With an explicit list, the channels run it instead.
    observed = interceptors is None
    chans = Backends(
        backends, () if interceptors is None else interceptors, lean=cfg.grpc_client == "lean"
    )
    if jwks_source is None:
        jwks_source = backend_jwks_source(chans, chans.for_package(AUTH_PACKAGE), observed)
    auth = EdgeAuth(TokenVerifier(jwks_source))

    bindings = bindings_from_file_set(fds, packages_prefix=packages_prefix)
    targets: list[Target] = []
    encoders = Encoders(pool)
    for b in bindings:
        c = b.contract
        input_desc = pool.FindMessageTypeByName(c.input_type)
        output_desc = pool.FindMessageTypeByName(c.output_type)
        builder = RequestBuilder(
            input_desc, pool, [v.dotted for v in b.template.variables], b.body, c.max_page_size
        )
        renderer = ResponseRenderer(output_desc, pool, b.response_body, encoders)
        backend = chans.for_package(c.package)
        targets.append(
            Target(
                binding=b,
                contract=c,
                builder=builder,
                renderer=renderer,
                backend=backend,
                label=b.template.text,
                span_name=f"{b.http_method} {b.template.text}",
                streaming=c.client_streaming or c.server_streaming,
                call=BackendCall(
                    chans,
                    backend,
                    c.path,
                    builder.cls.SerializeToString,
                    renderer.cls.FromString,
                    observed=observed,
                ),
                metrics=RouteMetrics(b.http_method, b.template.text),
                span_attributes={"http.route": b.template.text, "rpc.method": c.path},
                public=c.audience == Audience.AUDIENCE_PUBLIC,
                internal=c.audience == Audience.AUDIENCE_INTERNAL,
                forward=forwarded_headers(c),
                forward_max_bytes=c.forward_header_max_bytes,
            )
        )
    router: Router[Target] = Router((t.binding.http_method, t.binding.template, t) for t in targets)
    openapi = orjson.dumps(build_openapi(bindings, pool, fds))
    health = HealthAggregator(chans, {t.backend for t in targets})
    log.info("edge routes built", extra={"routes": len(targets)})
    return EdgeApp(
        targets,
        router,
        auth=auth,
        backends=chans,
        config=cfg,
        pool=pool,
        openapi=openapi,
        health=health,
    )
