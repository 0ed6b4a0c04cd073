"""Metrics, traces and logs for every process of the mesh.

server_interceptors("order")   # ServiceApp installs these outside the contract one
client_interceptors("order")   # mesh.client's streams (its unary calls do the same inline)
start_metrics_server(registry.metrics_address("order"))
logs.configure_logging("order")
tracing.configure_tracing("order")      # server_interceptors() does it from the env
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from observability._grpc import ObservingServerInterceptor
from observability.metrics import (
    MetricsClientInterceptor,
    MetricsServerInterceptor,
    counter,
    gauge,
    histogram,
    start_metrics_server,
)
from observability.tracing import (
    TracingClientInterceptor,
    TracingServerInterceptor,
    configure_tracing,
)

__all__ = [
    "MetricsServerInterceptor",
    "TracingServerInterceptor",
    "client_interceptors",
    "configure_tracing",
    "counter",
    "gauge",
    "histogram",
    "server_interceptors",
    "start_metrics_server",
]


def server_interceptors(
    service: str,
    parts: Sequence[ObservingServerInterceptor] = (),
    inner: Any = None,
) -> list[grpc.aio.ServerInterceptor]:
    """Tracing (outermost, so logs inside carry the trace id), then metrics, then
    `parts` (ServiceApp passes the deadline one), as ONE interceptor layer; `inner`
    (a grpc_interceptor AsyncServerInterceptor: ServiceApp's contract one) runs
    inside that same layer, as if it came next in the chain.

    Also configures tracing for the process from CLEANSE_OTEL_EXPORTER (once).
    """
    from observability._server import ServerObservabilityInterceptor

    configure_tracing(service)
    return [ServerObservabilityInterceptor(service, parts, inner)]


def client_interceptors(service: str, target: str = "") -> list[grpc.aio.ClientInterceptor]:
    """Tracing (injects traceparent), then metrics; `service` is the caller."""
    return [TracingClientInterceptor(service, target), MetricsClientInterceptor()]
