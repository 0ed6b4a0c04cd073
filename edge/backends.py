"""Where each proto package is served, and one reused grpc.aio channel per backend.

By default a package maps to its mesh service through the registry
(`cleanse.auth.v1` -> auth -> `registry.addresses("auth")`: every replica). Tests (or
a deployment that routes through Envoy) pass `{package: "host:port"}` overrides
("h1:p1,h2:p2" for several replicas).

A backend with several replicas gets its calls spread round-robin over the replicas
that are connected (h2grpc.RoundRobinChannel; with grpc.aio, gRPC's round_robin
policy over the address list), and its health checked replica by replica.

`BackendCall` is one RPC of one backend. With `observed=True` it records what
observability's client interceptors would (grpc_client_* metrics by final code,
and a CLIENT span that carries `traceparent` when spans are exported), inline:
grpc.aio runs every intercepted call through extra tasks and call objects, which
cost the edge more than the RPC itself.

Backend calls go over mesh/h2grpc.py's lean client (one more connection per backend,
`call_channel`) unless the channels run interceptor objects, which only grpc.aio
can, or CLEANSE_GRPC_CLIENT=grpcio says otherwise. `channel` is always grpc.aio:
the health checks use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from mesh import h2grpc, registry

try:
    from opentelemetry import trace

    from observability import metrics as _metrics
    from observability import tracing as _tracing
    from observability.client_calls import ClientCallObserver
except ImportError:  # observability is optional for the edge's own unit tests
    _metrics = None  # type: ignore[assignment]
    _tracing = None  # type: ignore[assignment]

CHANNEL_OPTIONS: tuple[tuple[str, object], ...] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
)
_OPTIONS = dict(CHANNEL_OPTIONS)
USER_AGENT = f"grpc-python-edge/{grpc.__version__}"


@dataclass(frozen=True)
class Backend:
    name: str  # mesh service name ("auth"), or the package when not in the registry
    target: str  # "host:port", or "h1:p1,h2:p2" for a service's replicas

    @property
    def targets(self) -> tuple[str, ...]:
        """Each replica's "host:port", replica 0 first."""
        return tuple(t.strip() for t in self.target.split(","))


InterceptorFactory = Callable[["Backend"], Sequence[grpc.aio.ClientInterceptor]]


class Backends:
    """interceptors: a fixed list for every channel, or a factory called per backend
    (observability's client interceptors take the backend's name)."""

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        interceptors: Sequence[grpc.aio.ClientInterceptor] | InterceptorFactory = (),
        *,
        injects_trace_context: bool = False,
        lean: bool = True,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._interceptors = interceptors
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._lean: dict[str, h2grpc.Channel | h2grpc.RoundRobinChannel] = {}
        # Calls skip grpc.aio when no interceptor object has to see them.
        self.lean = lean and not (callable(interceptors) or interceptors)
        # True when the interceptors put `traceparent` on each call themselves.
        self.injects_trace_context = injects_trace_context

    def for_package(self, package: str) -> Backend:
        try:
            name = registry.service_for_package(package)
        except KeyError:
            name = package
        target = self._overrides.get(package)
        if target is None:
            if name == package:
                raise KeyError(f"no backend serves {package!r}: add it to the registry")
            target = ",".join(str(a) for a in registry.addresses(name))
        return Backend(name, target)

    def replicas(self, backend: Backend) -> list[Backend]:
        """One Backend per replica (the backend itself when it has one): health checks."""
        targets = backend.targets
        if len(targets) == 1:
            return [backend]
        return [Backend(backend.name, t) for t in targets]

    def channel(self, backend: Backend) -> grpc.aio.Channel:
        """The backend's channel, created on first use (inside the running loop)."""
        ch = self._channels.get(backend.target)
        if ch is None:
            icpt = self._interceptors
            chosen = list(icpt(backend) if callable(icpt) else icpt)
            target, balancing = h2grpc.grpcio_target(backend.targets)
            ch = grpc.aio.insecure_channel(
                target, options=(*CHANNEL_OPTIONS, *balancing), interceptors=chosen or None
            )
            self._channels[backend.target] = ch
        return ch

    def call_channel(
        self, backend: Backend
    ) -> grpc.aio.Channel | h2grpc.Channel | h2grpc.RoundRobinChannel:
        """The channel backend calls go over: the lean client's unless `lean` is off."""
        if not self.lean:
            return self.channel(backend)
        ch = self._lean.get(backend.target)
        if ch is None:
            ch = self._lean[backend.target] = h2grpc.channel(
                backend.targets,
                max_receive_message_length=int(_OPTIONS["grpc.max_receive_message_length"]),
                keepalive_time=int(_OPTIONS["grpc.keepalive_time_ms"]) / 1000,
                user_agent=USER_AGENT,
            )
        return ch

    async def close(self) -> None:
        channels = [*self._channels.values(), *self._lean.values()]
        self._channels.clear()
        self._lean.clear()
        for ch in channels:
            await ch.close()


_OK = grpc.StatusCode.OK


class BackendCall:
    """One unary RPC of one backend, on the backend's shared channel.

    observed: record grpc_client_* metrics and (when `span` is asked for) a CLIENT
    span, as observability.client_interceptors would; needs observability.
    """

    def __init__(
        self,
        backends: Backends,
        backend: Backend,
        path: str,
        request_serializer: Callable[[Any], bytes],
        response_deserializer: Callable[[bytes], Any],
        *,
        observed: bool = True,
    ) -> None:
        self._backends = backends
        self.backend = backend
        self.path = path
        self._serializer = request_serializer
        self._deserializer = response_deserializer
        self._call: Any = None  # grpc.aio UnaryUnaryMultiCallable, made on first use
        self.observed = observed and _metrics is not None
        self._observer = ClientCallObserver(path, backend.name) if self.observed else None

    def _multicallable(self) -> Any:
        call = self._call
        if call is None:  # inside the running loop: the channel is made on first use
            call = self._call = self._backends.call_channel(self.backend).unary_unary(
                self.path,
                request_serializer=self._serializer,
                response_deserializer=self._deserializer,
                _registered_method=True,
            )
        return call

    async def __call__(
        self,
        request: Any,
        *,
        timeout: float | None,  # noqa: ASYNC109 (grpc's deadline, passed on)
        metadata: list[tuple[str, str]] | None = None,
        span: bool = False,
    ) -> Any:
        """The response; raises grpc.aio.AioRpcError. span: open a CLIENT span (child of
        the current OpenTelemetry context) and put its `traceparent` on `metadata`."""
        call = self._call or self._multicallable()
        observer = self._observer
        if observer is None:
            return await call(request, timeout=timeout, metadata=metadata)
        observer.started.inc()
        client_span = None
        if span:
            client_span = observer.start_span()
            carrier: dict[str, str] = {}
            _tracing.PROPAGATOR.inject(carrier, context=trace.set_span_in_context(client_span))
            metadata = [
                *((k, v) for k, v in metadata or () if k not in carrier),
                *carrier.items(),
            ]
        code = _OK
        started = time.perf_counter()
        try:
            return await call(request, timeout=timeout, metadata=metadata)
        except BaseException as exc:
            code = _metrics.client_error_code(exc)
            if client_span is not None:
                client_span.record_exception(exc)
            raise
        finally:
            observer.finish(code, started, client_span)
