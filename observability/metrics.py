"""Prometheus metrics for gRPC servers and clients, with go-grpc-prometheus names.

Existing Grafana dashboards and alerts for gRPC understand these names, so ours
do too (see observability/dashboards and observability/prometheus):

    grpc_server_started_total{grpc_service, grpc_method, grpc_type}
    grpc_server_handled_total{grpc_service, grpc_method, grpc_type, grpc_code}
    grpc_server_handling_seconds{grpc_service, grpc_method, grpc_type}   (histogram)
    grpc_server_msg_received_total / grpc_server_msg_sent_total          (unary: 1 each)
    grpc_client_started_total / grpc_client_handled_total / grpc_client_handling_seconds

Business metrics: `counter("orders_placed_total", "Orders placed.", ["payment_method"])`
(and `histogram`, `gauge`) return the same collector when asked twice, so a module
reloaded by tests or two services in one process do not clash on registration.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import grpc
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

from mesh.errors import ServiceError
from mesh.registry import Address
from observability._grpc import ObservingServerInterceptor, RpcInfo

LABELS = ("grpc_service", "grpc_method", "grpc_type")
HANDLED_LABELS = (*LABELS, "grpc_code")
# prometheus.DefBuckets, as go-grpc-prometheus uses.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_lock = threading.Lock()
_collectors: dict[str, Any] = {}
M = TypeVar("M", Counter, Gauge, Histogram)


def _get_or_create(kind: type[M], name: str, doc: str, labels: Sequence[str], **kw: Any) -> M:
    with _lock:
        existing = _collectors.get(name)
        if existing is not None:
            if not isinstance(existing, kind) or tuple(existing._labelnames) != tuple(labels):
                raise ValueError(f"metric {name} already registered with another type or labels")
            return existing
        metric = kind(name, doc, list(labels), registry=REGISTRY, **kw)
        _collectors[name] = metric
        return metric


def counter(name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
    """A process-wide Counter (created once; later calls return the same one)."""
    return _get_or_create(Counter, name, doc, labels)


def gauge(name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
    return _get_or_create(Gauge, name, doc, labels)


def histogram(
    name: str, doc: str, labels: Sequence[str] = (), buckets: Sequence[float] = BUCKETS
) -> Histogram:
    return _get_or_create(Histogram, name, doc, labels, buckets=tuple(buckets))


SERVER_STARTED = counter(
    "grpc_server_started_total", "Total number of RPCs started on the server.", LABELS
)
SERVER_HANDLED = counter(
    "grpc_server_handled_total",
    "Total number of RPCs completed on the server, regardless of success or failure.",
    HANDLED_LABELS,
)
SERVER_HANDLING = histogram(
    "grpc_server_handling_seconds",
    "Histogram of response latency (seconds) of gRPC that had been application-level "
    "handled by the server.",
    LABELS,
)
SERVER_MSG_RECEIVED = counter(
    "grpc_server_msg_received_total",
    "Total number of RPC stream messages received on the server.",
    LABELS,
)
SERVER_MSG_SENT = counter(
    "grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", LABELS
)
CLIENT_STARTED = counter(
    "grpc_client_started_total", "Total number of RPCs started on the client.", LABELS
)
CLIENT_HANDLED = counter(
    "grpc_client_handled_total",
    "Total number of RPCs completed by the client, regardless of success or failure.",
    HANDLED_LABELS,
)
CLIENT_HANDLING = histogram(
    "grpc_client_handling_seconds",
    "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
    LABELS,
)
DEGRADED_CALLS = counter(
    "mesh_degraded_calls_total",
    "Calls answered by a named degradation policy because a dependency was down.",
    ["policy"],
)

# Every metric name this module exports (the dashboard test checks against it).
EXPORTED_METRICS: tuple[str, ...] = (
    "grpc_server_started_total",
    "grpc_server_handled_total",
    "grpc_server_handling_seconds",
    "grpc_server_msg_received_total",
    "grpc_server_msg_sent_total",
    "grpc_client_started_total",
    "grpc_client_handled_total",
    "grpc_client_handling_seconds",
    "mesh_degraded_calls_total",
)


def _labels(info: RpcInfo) -> tuple[str, str, str]:
    return (info.service, info.method, info.type)


class MetricsServerInterceptor(ObservingServerInterceptor):
    """Counts and times every RPC the server handles, by its final status code."""

    def begin(self, info: RpcInfo, context: grpc.aio.ServicerContext) -> tuple[RpcInfo, float]:
        labels = _labels(info)
        SERVER_STARTED.labels(*labels).inc()
        if info.type in ("unary", "server_stream"):
            SERVER_MSG_RECEIVED.labels(*labels).inc()
        return info, time.perf_counter()

    def end(
        self, state: tuple[RpcInfo, float], code: grpc.StatusCode, error: BaseException | None
    ) -> None:
        info, started = state
        labels = _labels(info)
        SERVER_HANDLED.labels(*labels, code.name).inc()
        SERVER_HANDLING.labels(*labels).observe(time.perf_counter() - started)
        if code is grpc.StatusCode.OK and info.type in ("unary", "client_stream"):
            SERVER_MSG_SENT.labels(*labels).inc()


def client_error_code(exc: BaseException) -> grpc.StatusCode:
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code()
    if isinstance(exc, ServiceError):
        return exc.code
    if isinstance(exc, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


class MetricsClientInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor
):
    """Counts and times every call this process makes, by its final status code.

    Sits outside the mesh's retry loop: a logical call is counted once, and a call
    refused by an open circuit breaker counts as UNAVAILABLE.
    """

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        info = RpcInfo.from_path(client_call_details.method, "unary")
        labels = _labels(info)
        CLIENT_STARTED.labels(*labels).inc()
        started = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            call = await continuation(client_call_details, request)
            code = await call.code()
            return call
        except BaseException as exc:
            code = client_error_code(exc)
            raise
        finally:
            CLIENT_HANDLED.labels(*labels, code.name).inc()
            CLIENT_HANDLING.labels(*labels).observe(time.perf_counter() - started)

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        info = RpcInfo.from_path(client_call_details.method, "server_stream")
        labels = _labels(info)
        CLIENT_STARTED.labels(*labels).inc()
        started = time.perf_counter()
        call = await continuation(client_call_details, request)

        def done(c: Any) -> None:
            code = grpc.StatusCode.CANCELLED if c.cancelled() else None
            if code is None:
                # The call is done: its status is known without waiting.
                task = asyncio.ensure_future(c.code())
                task.add_done_callback(
                    lambda t: CLIENT_HANDLED.labels(
                        *labels, (t.result() if not t.exception() else grpc.StatusCode.UNKNOWN).name
                    ).inc()
                )
            else:
                CLIENT_HANDLED.labels(*labels, code.name).inc()
            CLIENT_HANDLING.labels(*labels).observe(time.perf_counter() - started)

        call.add_done_callback(done)
        return call


_metrics_server: Address | None = None
_metrics_lock = threading.Lock()


def start_metrics_server(address: Address) -> None:
    """Serve /metrics on `address` (once per process; later calls do nothing)."""
    global _metrics_server
    with _metrics_lock:
        if _metrics_server is not None:
            return
        start_http_server(address.port, addr=address.host)
        _metrics_server = address


def metrics_server_address() -> Address | None:
    """Where this process serves /metrics, once started."""
    return _metrics_server
