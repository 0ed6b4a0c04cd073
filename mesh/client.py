"""Typed clients for calling another service of the mesh by name.

    from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
    auth = stub("auth", auth_service_pb2_grpc.AuthServiceStub)     # typed
    auth = stub("auth", "cleanse.auth.v1.AuthService")              # same, by name
    resp = await auth.GetJwks(auth_service_pb2.GetJwksRequest())

The addresses come from the registry (`CLEANSE_<NAME>_ADDR` overrides them): a
service running as several replicas (`CLEANSE_<NAME>_REPLICAS`) gets its calls
spread round-robin over the replicas that are connected, one that refuses
connections skipped (h2grpc.RoundRobinChannel; grpc.aio's round_robin policy with
CLEANSE_GRPC_CLIENT=grpcio). Every unary call made through these stubs gets, from
ONE inline wrapper per method
(`UnaryUnary`, no grpc.aio interceptor objects):

- tracing and metrics, as observability's client interceptors record them: the
  grpc_client_* metrics by final code (a logical call counts once, whatever its
  retries), a CLIENT span and its `traceparent` on the call. Without a span exporter
  (CLEANSE_OTEL_EXPORTER=none) a span is only a carrier of ids, so the wrapper then
  propagates a child `traceparent` itself instead of creating an SDK span, as the
  servers' interceptor and the edge do (observability/tracecontext.py);
- a deadline: the call's own `timeout=` or CLEANSE_RPC_TIMEOUT_SECONDS (5 s), cut
  down to what is left of the deadline of the call being served (mesh.deadlines);
- the internal service token (x-cleanse-internal) of this process's service, and the
  caller's `x-request-id` and `authorization` (mesh.context) when present;
- retries with exponential backoff and full jitter, only for RPCs whose contract is
  idempotent (proto `idempotency_level`), only on UNAVAILABLE, RESOURCE_EXHAUSTED
  and an attempt's own DEADLINE_EXCEEDED, at most CLEANSE_RPC_MAX_ATTEMPTS (3)
  attempts, never past the overall deadline;
- a circuit breaker per dependency (mesh.breaker): once open, calls fail at once
  with `mesh.errors.Unavailable` (reason DEPENDENCY_UNAVAILABLE).

Unary calls go over mesh/h2grpc.py's lean HTTP/2 client, or over plain grpc.aio
multicallables with CLEANSE_GRPC_CLIENT=grpcio (the switch the edge reads too).
Server-streaming calls go over a grpc.aio channel with observability's client
interceptors and `MeshClientInterceptor` (deadline and headers; no retries, no
breaker).

A failed call raises `grpc.aio.AioRpcError` as usual (or `CircuitOpenError`).
Named degradation for a dependency that is down:

    quote = await call_with_fallback(
        lambda: shipping.QuoteShipping(req), flat_rate_quote, policy="shipping.flat_rate"
    )

A process says who it is once, before its first call: `configure("order")`
(ServiceApp.start() does it for services; the edge calls it itself).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar, overload

import grpc
from google.rpc import error_details_pb2, status_pb2
from opentelemetry import context as otel_context
from opentelemetry import trace

from mesh import context as call_context
from mesh import deadlines, h2grpc, registry
from mesh.breaker import AsyncCircuitBreaker, CircuitOpenError
from mesh.contracts import MethodContract, all_contracts
from mesh.errors import ServiceError
from mesh.identity import INTERNAL_HEADER, InternalTokens, internal_secret
from observability import metrics as _metrics
from observability import tracecontext
from observability import tracing as _tracing
from observability.client_calls import ClientCallObserver

log = logging.getLogger("mesh.client")

T = TypeVar("T")

REQUEST_ID_HEADER = "x-request-id"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
# What call_with_fallback degrades on by default: the dependency did not answer.
DEGRADE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
USER_AGENT = f"grpc-python-mesh/{grpc.__version__}"
TRACEPARENT = "traceparent"


def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r} is not a number") from None


@dataclass(frozen=True)
class ClientSettings:
    """How calls behave; every field has an environment variable."""

    timeout: float = 5.0  # CLEANSE_RPC_TIMEOUT_SECONDS
    max_attempts: int = 3  # CLEANSE_RPC_MAX_ATTEMPTS (idempotent RPCs only)
    attempt_timeout: float | None = None  # CLEANSE_RPC_ATTEMPT_TIMEOUT_SECONDS
    backoff_base: float = 0.05  # CLEANSE_RPC_BACKOFF_BASE_SECONDS
    backoff_cap: float = 1.0  # CLEANSE_RPC_BACKOFF_CAP_SECONDS
    breaker_fail_max: int = 5  # CLEANSE_BREAKER_FAIL_MAX
    breaker_reset_timeout: float = 10.0  # CLEANSE_BREAKER_RESET_SECONDS
    grpc_client: str = "lean"  # CLEANSE_GRPC_CLIENT: unary calls over "lean" or "grpcio"

    def __post_init__(self) -> None:
        if self.grpc_client not in h2grpc.CLIENTS:
            raise ValueError(f"grpc_client={self.grpc_client!r}: expected lean or grpcio")

    @classmethod
    def from_env(cls) -> ClientSettings:
        d = cls()
        return cls(
            timeout=_env_float("CLEANSE_RPC_TIMEOUT_SECONDS", d.timeout) or d.timeout,
            max_attempts=max(1, int(_env_float("CLEANSE_RPC_MAX_ATTEMPTS", d.max_attempts) or 1)),
            attempt_timeout=_env_float("CLEANSE_RPC_ATTEMPT_TIMEOUT_SECONDS", None),
            backoff_base=_env_float("CLEANSE_RPC_BACKOFF_BASE_SECONDS", d.backoff_base) or 0.0,
            backoff_cap=_env_float("CLEANSE_RPC_BACKOFF_CAP_SECONDS", d.backoff_cap) or 0.0,
            breaker_fail_max=int(_env_float("CLEANSE_BREAKER_FAIL_MAX", d.breaker_fail_max) or 1),
            breaker_reset_timeout=_env_float(
                "CLEANSE_BREAKER_RESET_SECONDS", d.breaker_reset_timeout
            )
            or 0.0,
            grpc_client=h2grpc.client_from_env(),
        )


class _State:
    service_name: str | None = None
    tokens: InternalTokens | None = None
    settings: ClientSettings | None = None
    extra_contracts: dict[str, MethodContract] = {}


_state = _State()
_channels: dict[tuple[str, tuple[registry.Address, ...]], MeshChannel] = {}
_breakers: dict[str, AsyncCircuitBreaker] = {}


def configure(
    service_name: str,
    *,
    contracts: Mapping[str, MethodContract] | None = None,
    settings: ClientSettings | None = None,
    secret: str | None = None,
) -> None:
    """Say which service this process is (its internal token names it).

    `contracts` adds RPC contracts beyond gen/ (tests); `settings` replaces the
    ones read from the environment. Existing breakers take the new thresholds.
    """
    _state.service_name = service_name
    _state.tokens = InternalTokens(service_name, secret or internal_secret())
    _state.settings = settings or ClientSettings.from_env()
    if contracts:
        _state.extra_contracts = {**_state.extra_contracts, **contracts}
    for b in _breakers.values():
        b.fail_max = _state.settings.breaker_fail_max
        b.reset_timeout = _state.settings.breaker_reset_timeout


def settings() -> ClientSettings:
    if _state.settings is None:
        _state.settings = ClientSettings.from_env()
    return _state.settings


def update_settings(**changes: Any) -> ClientSettings:
    """Change some settings (tests: short backoff, small breaker thresholds)."""
    _state.settings = replace(settings(), **changes)
    for b in _breakers.values():
        b.fail_max = _state.settings.breaker_fail_max
        b.reset_timeout = _state.settings.breaker_reset_timeout
    return _state.settings


def _tokens() -> InternalTokens:
    if _state.tokens is None:
        name = os.environ.get("CLEANSE_SERVICE_NAME")
        if not name:
            raise RuntimeError(
                "mesh.client.configure(service_name) must be called before the first call"
            )
        configure(name)
    assert _state.tokens is not None
    return _state.tokens


def contract(path: str) -> MethodContract | None:
    return _state.extra_contracts.get(path) or all_contracts().get(path)


def breaker_for(service: str) -> AsyncCircuitBreaker:
    """The circuit breaker guarding calls to `service` (one per dependency)."""
    b = _breakers.get(service)
    if b is None:
        s = settings()
        b = _breakers[service] = AsyncCircuitBreaker(
            service, fail_max=s.breaker_fail_max, reset_timeout=s.breaker_reset_timeout
        )
        b.add_listener(_BreakerLog())
    return b


class _BreakerLog:
    """Logs state changes (a pybreaker listener)."""

    def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def failure(self, cb: Any, exc: BaseException) -> None:
        pass

    def success(self, cb: Any) -> None:
        pass

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        if getattr(old_state, "name", None) == new_state.name:
            return
        log.warning(
            "circuit breaker state change",
            extra={
                "dependency": cb.name,
                "from_state": getattr(old_state, "name", None),
                "to_state": new_state.name,
            },
        )


def effective_timeout(explicit: float | None) -> float:
    """The call's own timeout (or the default), cut to the served call's remaining."""
    timeout = explicit if explicit is not None else settings().timeout
    left = deadlines.remaining()
    if left is not None:
        timeout = min(timeout, left)
    return timeout


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1)))."""
    return random.uniform(0.0, min(cap, base * (2 ** (attempt - 1))))


def _outgoing_headers() -> dict[str, str]:
    headers = {INTERNAL_HEADER: _tokens().mint()}
    ctx = call_context.current()
    if ctx.request_id:
        headers[REQUEST_ID_HEADER] = ctx.request_id
    if ctx.authorization:
        headers["authorization"] = ctx.authorization
    return headers


def _with(details: Any, *, timeout: float, headers: dict[str, str]) -> Any:
    pairs = [(k, v) for k, v in (details.metadata or ())]
    present = {k for k, _ in pairs}
    pairs = [(k, v) for k, v in pairs if k != INTERNAL_HEADER]
    # The internal token is always ours; forwarded headers never override explicit ones.
    pairs.extend((k, v) for k, v in headers.items() if k == INTERNAL_HEADER or k not in present)
    return grpc.aio.ClientCallDetails(
        method=details.method,
        timeout=timeout,
        metadata=grpc.aio.Metadata(*pairs),
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


def _call_metadata(
    explicit: Iterable[tuple[str, Any]] | None, trace_headers: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, Any], ...]:
    """A unary call's metadata, as the tracing then the mesh interceptor built it: the
    caller's pairs (their `traceparent`/`tracestate` replaced by the call's span's,
    any x-cleanse-internal dropped), the trace headers, this process's internal token,
    and the served call's x-request-id and authorization unless the caller set them."""
    token = _tokens().mint()
    ctx = call_context.current()
    if not explicit:
        md = [*trace_headers, (INTERNAL_HEADER, token)]
        if ctx.request_id:
            md.append((REQUEST_ID_HEADER, ctx.request_id))
        if ctx.authorization:
            md.append(("authorization", ctx.authorization))
        return tuple(md)
    pairs = [(k, v) for k, v in explicit]
    present = {k for k, _ in pairs}
    replaced = {k for k, _ in trace_headers}
    md = [(k, v) for k, v in pairs if k not in replaced and k != INTERNAL_HEADER]
    md.extend(trace_headers)
    md.append((INTERNAL_HEADER, token))
    if ctx.request_id and REQUEST_ID_HEADER not in present:
        md.append((REQUEST_ID_HEADER, ctx.request_id))
    if ctx.authorization and "authorization" not in present:
        md.append(("authorization", ctx.authorization))
    return tuple(md)


def _error_reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason in a failed call's rich status, or ""."""
    for k, v in error.trailing_metadata() or ():
        if k == STATUS_DETAILS_KEY and isinstance(v, bytes):
            status = status_pb2.Status.FromString(v)
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return info.reason
    return ""


def _child_trace_headers() -> tuple[tuple[str, str], ...]:
    """`traceparent` (and `tracestate`) of a CLIENT span no one records: what the SDK's
    span would carry (a fresh span id, the current trace and its sampled flag, or a
    new sampled trace), without creating it."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        trace_id = tracecontext.new_trace_id()
        return ((TRACEPARENT, f"00-{trace_id}-{tracecontext.new_span_id()}-01"),)
    flags = "01" if ctx.trace_flags.sampled else "00"
    parent = f"00-{ctx.trace_id:032x}-{tracecontext.new_span_id()}-{flags}"
    if ctx.trace_state:
        return ((TRACEPARENT, parent), ("tracestate", ctx.trace_state.to_header()))
    return ((TRACEPARENT, parent),)


_OK = grpc.StatusCode.OK
_UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
_DEADLINE_EXCEEDED = grpc.StatusCode.DEADLINE_EXCEEDED
_FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


class UnaryUnary:
    """One unary-unary method of a dependency, as a generated stub's attribute.

    `await method(request, timeout=..., metadata=...)` does in one coroutine what
    observability's tracing and metrics interceptors and the mesh interceptor did as
    three grpc.aio interceptor layers, in the same order: the CLIENT span (outermost),
    then the metrics of the logical call, then deadline, headers, retries and the
    circuit breaker around each attempt. Returns the response; raises AioRpcError
    (the last attempt's) or CircuitOpenError.
    """

    __slots__ = (
        "_channel",
        "_contract",
        "_contract_source",
        "_deserialize",
        "_lean",
        "_observer",
        "_plain",
        "_serialize",
        "path",
    )

    def __init__(
        self,
        channel: MeshChannel,
        path: str,
        request_serializer: Callable[[Any], bytes] | None,
        response_deserializer: Callable[[bytes], Any] | None,
    ) -> None:
        self._channel = channel
        self.path = path
        self._serialize = request_serializer or _identity
        self._deserialize = response_deserializer or _identity
        self._lean: Any = None  # the transports' multicallables, made on first use
        self._plain: Any = None
        self._contract: MethodContract | None = None
        self._contract_source: object = None  # the extra contracts it was looked up in
        self._observer = ClientCallObserver(path, channel.service)

    def _transport(self, kind: str) -> Any:
        if kind == "lean":
            call = self._lean
            if call is None:
                call = self._lean = self._channel.lean().unary_unary(
                    self.path, self._serialize, self._deserialize
                )
            return call
        call = self._plain
        if call is None:
            call = self._plain = self._channel.plain().unary_unary(
                self.path,
                request_serializer=self._serialize,
                response_deserializer=self._deserialize,
                _registered_method=True,
            )
        return call

    def _method_contract(self) -> MethodContract | None:
        source = _state.extra_contracts  # configure() replaces it, never mutates it
        if self._contract_source is not source:
            self._contract = contract(self.path)
            self._contract_source = source
        return self._contract

    async def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (grpc's deadline, passed on)
        metadata: Iterable[tuple[str, Any]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> Any:
        # Tracing: a CLIENT span (SDK) when spans are exported, else only its ids.
        span: Any = None
        token: Any = None
        if _tracing.exporting():
            span = self._observer.start_span()
            ctx = trace.set_span_in_context(span)
            carrier: dict[str, str] = {}
            _tracing.PROPAGATOR.inject(carrier, context=ctx)
            trace_headers = tuple(carrier.items())
            token = otel_context.attach(ctx)
        else:
            trace_headers = _child_trace_headers()
        # Metrics: the logical call, counted once by its final code.
        self._observer.started.inc()
        started = time.perf_counter()
        code = _OK
        try:
            extra = None
            if credentials is not None or wait_for_ready is not None or compression is not None:
                extra = {
                    "credentials": credentials,
                    "wait_for_ready": wait_for_ready,
                    "compression": compression,
                }
            return await self._attempts(
                request, timeout, _call_metadata(metadata, trace_headers), extra
            )
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            raise
        except BaseException as exc:
            code = _metrics.client_error_code(exc)
            if span is not None:
                span.record_exception(exc)
            raise
        finally:
            self._observer.finish(code, started, span)
            if span is not None:
                otel_context.detach(token)

    async def _attempts(
        self,
        request: Any,
        timeout: float | None,  # noqa: ASYNC109 (grpc's deadline, passed on)
        metadata: tuple[tuple[str, Any], ...],
        extra: dict[str, Any] | None,
    ) -> Any:
        """Deadline, retries and the breaker: what MeshClientInterceptor did."""
        s = settings()
        # Only grpc.aio takes credentials, wait_for_ready or compression.
        call = self._transport(s.grpc_client if extra is None else "grpcio")
        c = self._method_contract()
        idempotent = c is not None and c.idempotent and not c.client_streaming
        max_attempts = s.max_attempts if idempotent else 1
        deadline = time.monotonic() + effective_timeout(timeout)
        breaker = self._channel.breaker
        attempt = 0
        failure: grpc.aio.AioRpcError | None = None
        while True:
            attempt += 1
            # An already expired deadline still makes one attempt, which fails
            # with DEADLINE_EXCEEDED the way grpc reports it.
            left = max(deadline - time.monotonic(), 0.001)
            attempt_timeout = min(left, s.attempt_timeout) if s.attempt_timeout else left
            try:
                breaker.before_call()  # CircuitOpenError: fail fast, nothing sent
            except CircuitOpenError:
                if failure is None:
                    raise
                raise failure from None  # opened during our retries: the real failure
            try:
                if extra is None:
                    response = await call(request, timeout=attempt_timeout, metadata=metadata)
                else:
                    response = await call(
                        request, timeout=attempt_timeout, metadata=metadata, **extra
                    )
            except grpc.aio.AioRpcError as exc:
                failure = exc
            except BaseException:  # cancelled, or never sent: no verdict
                breaker.release()
                raise
            else:
                breaker.record(_OK)
                return response
            code = failure.code()
            upstream_only = code is _UNAVAILABLE and (
                _error_reason(failure) == DEPENDENCY_UNAVAILABLE
            )
            # The target answered that ITS dependency is down: the target is healthy
            # (no breaker failure) and an immediate retry would not help.
            breaker.record(_FAILED_PRECONDITION if upstream_only else code)
            if attempt >= max_attempts or upstream_only:
                raise failure
            own_deadline = code is _DEADLINE_EXCEEDED and attempt_timeout < left - 0.001
            if code not in RETRYABLE_CODES and not own_deadline:
                raise failure
            delay = backoff_delay(attempt, s.backoff_base, s.backoff_cap)
            if time.monotonic() + delay >= deadline:
                raise failure
            log.info(
                "retrying",
                extra={"rpc": self.path, "attempt": attempt, "code": code.name, "delay": delay},
            )
            await asyncio.sleep(delay)


def _identity(value: Any) -> Any:
    return value


class MeshClientInterceptor(grpc.aio.UnaryStreamClientInterceptor):
    """Deadline and identity headers for the streaming calls to one dependency."""

    def __init__(self, target: str) -> None:
        self.target = target

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        # Streams get the deadline and headers; no retries, no breaker verdicts.
        details = _with(
            client_call_details,
            timeout=effective_timeout(client_call_details.timeout),
            headers=_outgoing_headers(),
        )
        return await continuation(details, request)


class _StreamsOnly(grpc.aio.UnaryStreamClientInterceptor):
    """An interceptor's unary-stream half alone. grpc.aio files an interceptor object
    under the FIRST kind it subclasses (UnaryUnary... before UnaryStream...), so
    observability's interceptors, which are both, would never see a stream."""

    def __init__(self, inner: grpc.aio.UnaryStreamClientInterceptor) -> None:
        self._inner = inner

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return await self._inner.intercept_unary_stream(continuation, client_call_details, request)


class MeshChannel:
    """What `stub()` hands a generated stub, for one dependency at its address(es):
    `address` is "host:port", or "h1:p1,h2:p2" for a service's replicas.

    `unary_unary` returns the method's `UnaryUnary` (one per method, reused by every
    stub); its transport is the lean client's channel or a plain grpc.aio channel
    (no interceptors), each opened on first use in the running loop. The streaming
    kinds come from a grpc.aio channel whose unary-stream calls get observability's
    client interceptors and MeshClientInterceptor (tracing, metrics, deadline and
    headers); client-streaming calls get none (nothing in the mesh makes them).
    """

    def __init__(self, service: str, address: str) -> None:
        self.service = service
        self.address = address
        self.targets = tuple(t.strip() for t in address.split(","))
        self.breaker = breaker_for(service)
        self._lean: h2grpc.Channel | h2grpc.RoundRobinChannel | None = None
        self._plain: grpc.aio.Channel | None = None
        self._intercepted: grpc.aio.Channel | None = None
        self._methods: dict[tuple[str, Any, Any], UnaryUnary] = {}
        # Generated stubs over this channel, by class: a stub only holds the methods'
        # callables, and services ask for one per call (`stub()`).
        self.stubs: dict[type, Any] = {}

    def lean(self) -> h2grpc.Channel | h2grpc.RoundRobinChannel:
        ch = self._lean
        if ch is None:
            ch = self._lean = h2grpc.channel(self.targets, user_agent=USER_AGENT)
        return ch

    def plain(self) -> grpc.aio.Channel:
        ch = self._plain
        if ch is None:
            target, options = h2grpc.grpcio_target(self.targets)
            ch = self._plain = grpc.aio.insecure_channel(target, options=options)
        return ch

    def intercepted(self) -> grpc.aio.Channel:
        ch = self._intercepted
        if ch is None:
            from observability import client_interceptors

            caller = _state.service_name or os.environ.get("CLEANSE_SERVICE_NAME", "")
            observing = client_interceptors(caller, self.service)
            target, options = h2grpc.grpcio_target(self.targets)
            ch = self._intercepted = grpc.aio.insecure_channel(
                target,
                options=options,
                interceptors=[
                    *(_StreamsOnly(i) for i in observing),
                    MeshClientInterceptor(self.service),
                ],
            )
        return ch

    def unary_unary(
        self,
        method: str,
        request_serializer: Callable[[Any], bytes] | None = None,
        response_deserializer: Callable[[bytes], Any] | None = None,
        _registered_method: bool | None = False,
    ) -> UnaryUnary:
        key = (method, request_serializer, response_deserializer)
        call = self._methods.get(key)
        if call is None:
            call = self._methods[key] = UnaryUnary(
                self, method, request_serializer, response_deserializer
            )
        return call

    def unary_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self.intercepted().unary_stream(*args, **kwargs)

    def stream_unary(self, *args: Any, **kwargs: Any) -> Any:
        return self.intercepted().stream_unary(*args, **kwargs)

    def stream_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self.intercepted().stream_stream(*args, **kwargs)

    async def channel_ready(self) -> None:
        """Wait until the connections calls go over are up (a backoff from earlier
        failures cut short): after a dependency restarts, the next call reaches it."""
        if settings().grpc_client == "lean":
            await self.lean().channel_ready()
        else:
            await self.plain().channel_ready()
        if self._intercepted is not None:
            await self._intercepted.channel_ready()

    async def close(self) -> None:
        channels = (self._lean, self._plain, self._intercepted)
        self._lean = self._plain = self._intercepted = None
        for ch in channels:
            if ch is not None:
                await ch.close()


def channel(service: str) -> MeshChannel:
    """The (cached) channel to `service` at its registry address(es): every replica."""
    key = (service, registry.addresses(service))
    ch = _channels.get(key)
    if ch is None:
        ch = _channels[key] = MeshChannel(service, ",".join(str(a) for a in key[1]))
    return ch


@overload
def stub(service: str, full_service_name: str) -> Any: ...
@overload
def stub(service: str, full_service_name: type[T]) -> T: ...
def stub(service: str, full_service_name: str | type[Any]) -> Any:
    """A generated stub for `service`: pass the stub class (typed) or the full name."""
    if not isinstance(full_service_name, str):
        ch = channel(service)
        made = ch.stubs.get(full_service_name)
        if made is None:
            made = ch.stubs[full_service_name] = full_service_name(ch)
        return made
    from mesh.contracts import service_descriptor

    short = full_service_name.rpartition(".")[2]
    desc = service_descriptor(full_service_name)
    module = importlib.import_module(
        desc.file.name.removesuffix(".proto").replace("/", ".") + "_pb2_grpc"
    )
    return getattr(module, f"{short}Stub")(channel(service))


async def close_all() -> None:
    for ch in list(_channels.values()):
        await ch.close()
    _channels.clear()


def reset_breakers() -> None:
    for b in _breakers.values():
        b.reset()


def error_code(exc: BaseException) -> grpc.StatusCode | None:
    """The status code of a failed call (AioRpcError or mesh ServiceError)."""
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code()
    if isinstance(exc, ServiceError):
        return exc.code
    return None


async def call_with_fallback(
    call: Callable[[], Awaitable[T]],
    fallback: Callable[[BaseException], Awaitable[T] | T],
    *,
    policy: str,
    codes: frozenset[grpc.StatusCode] = DEGRADE_CODES,
) -> T:
    """Run `call()`; if the dependency is down (UNAVAILABLE, DEADLINE_EXCEEDED, open
    circuit), return `fallback(error)` instead, logged and counted under `policy`
    (mesh_degraded_calls_total{policy}). Business errors are raised unchanged.
    `fallback` may be a plain function or a coroutine function.
    """
    try:
        return await call()
    except (grpc.aio.AioRpcError, ServiceError) as exc:
        code = error_code(exc)
        if code not in codes:
            raise
        from observability.metrics import DEGRADED_CALLS

        DEGRADED_CALLS.labels(policy).inc()
        log.warning(
            "dependency down, degrading",
            extra={
                "policy": policy,
                "code": code.name if code else "",
                "circuit_open": isinstance(exc, CircuitOpenError),
            },
        )
        result = fallback(exc)
        if inspect.isawaitable(result):
            return await result
        return result
