"""Typed clients for calling another service of the mesh by name.

    from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
    auth = stub("auth", auth_service_pb2_grpc.AuthServiceStub)     # typed
    auth = stub("auth", "cleanse.auth.v1.AuthService")              # same, by name
    resp = await auth.GetJwks(auth_service_pb2.GetJwksRequest())

The address comes from the registry (`CLEANSE_<NAME>_ADDR` overrides it). Every
call made through these stubs gets, from interceptors on the channel:

- tracing and metrics (observability.client_interceptors);
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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar, overload

import grpc
from google.rpc import error_details_pb2, status_pb2

from mesh import context as call_context
from mesh import deadlines, registry
from mesh.breaker import AsyncCircuitBreaker, CircuitOpenError
from mesh.contracts import MethodContract, all_contracts
from mesh.errors import ServiceError
from mesh.identity import INTERNAL_HEADER, InternalTokens, internal_secret

log = logging.getLogger("mesh.client")

T = TypeVar("T")

REQUEST_ID_HEADER = "x-request-id"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
# What call_with_fallback degrades on by default: the dependency did not answer.
DEGRADE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


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
        )


class _State:
    service_name: str | None = None
    tokens: InternalTokens | None = None
    settings: ClientSettings | None = None
    extra_contracts: dict[str, MethodContract] = {}


_state = _State()
_channels: dict[tuple[str, str], grpc.aio.Channel] = {}
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


async def _error_reason(call: Any) -> str:
    """The ErrorInfo reason in a failed call's rich status, or ""."""
    try:
        trailing = await call.trailing_metadata()
    except Exception:
        return ""
    for k, v in trailing or ():
        if k == STATUS_DETAILS_KEY and isinstance(v, bytes):
            status = status_pb2.Status.FromString(v)
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return info.reason
    return ""


class MeshClientInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor
):
    """Deadline, identity headers, retries and the circuit breaker for one dependency."""

    def __init__(self, target: str) -> None:
        self.target = target

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        s = settings()
        method = client_call_details.method
        path = method.decode() if isinstance(method, bytes) else method
        c = contract(path)
        idempotent = c is not None and c.idempotent and not c.client_streaming
        max_attempts = s.max_attempts if idempotent else 1
        deadline = time.monotonic() + effective_timeout(client_call_details.timeout)
        headers = _outgoing_headers()
        breaker = breaker_for(self.target)
        attempt = 0
        last_call: Any = None
        while True:
            attempt += 1
            # An already expired deadline still makes one attempt, which fails
            # with DEADLINE_EXCEEDED the way grpc reports it.
            left = max(deadline - time.monotonic(), 0.001)
            attempt_timeout = min(left, s.attempt_timeout) if s.attempt_timeout else left
            try:
                breaker.before_call()  # CircuitOpenError: fail fast, nothing sent
            except CircuitOpenError:
                if last_call is None:
                    raise
                return last_call  # opened during our retries: report the real failure
            try:
                call = await continuation(
                    _with(client_call_details, timeout=attempt_timeout, headers=headers), request
                )
                code = await call.code()
            except asyncio.CancelledError:
                breaker.release()
                raise
            except grpc.aio.AioRpcError as exc:
                breaker.record(exc.code())
                raise
            except BaseException:
                breaker.release()
                raise
            upstream_only = code is grpc.StatusCode.UNAVAILABLE and (
                await _error_reason(call) == DEPENDENCY_UNAVAILABLE
            )
            # The target answered that ITS dependency is down: the target is healthy
            # (no breaker failure) and an immediate retry would not help.
            breaker.record(grpc.StatusCode.FAILED_PRECONDITION if upstream_only else code)
            last_call = call
            if code is grpc.StatusCode.OK or attempt >= max_attempts or upstream_only:
                return call
            own_deadline = (
                code is grpc.StatusCode.DEADLINE_EXCEEDED and attempt_timeout < left - 0.001
            )
            if code not in RETRYABLE_CODES and not own_deadline:
                return call
            delay = backoff_delay(attempt, s.backoff_base, s.backoff_cap)
            if time.monotonic() + delay >= deadline:
                return call
            log.info(
                "retrying",
                extra={"rpc": path, "attempt": attempt, "code": code.name, "delay": delay},
            )
            await asyncio.sleep(delay)

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


def channel(service: str) -> grpc.aio.Channel:
    """The (cached) channel to `service` at its registry address, with interceptors."""
    from observability import client_interceptors

    address = str(registry.address(service))
    key = (service, address)
    ch = _channels.get(key)
    if ch is None:
        caller = _state.service_name or os.environ.get("CLEANSE_SERVICE_NAME", "")
        ch = _channels[key] = grpc.aio.insecure_channel(
            address,
            interceptors=[*client_interceptors(caller, service), MeshClientInterceptor(service)],
        )
    return ch


@overload
def stub(service: str, full_service_name: str) -> Any: ...
@overload
def stub(service: str, full_service_name: type[T]) -> T: ...
def stub(service: str, full_service_name: str | type[Any]) -> Any:
    """A generated stub for `service`: pass the stub class (typed) or the full name."""
    if not isinstance(full_service_name, str):
        return full_service_name(channel(service))
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
