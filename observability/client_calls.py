"""What a client call of one method records, for callers that observe it inline
rather than through grpc.aio interceptors (mesh.client's stubs, the edge's backend
calls): the grpc_client_* metric children, made once per method, and the CLIENT
span's attributes and ending.

    observer = ClientCallObserver("/cleanse.auth.v1.AuthService/GetJwks", peer="auth")
    observer.started.inc()
    span = observer.start_span() if tracing.exporting() else None
    started = time.perf_counter()
    ...                                  # the call; its final status code
    observer.finish(code, started, span)
"""

from __future__ import annotations

import time
from typing import Any

import grpc
from opentelemetry.trace import SpanKind, Status, StatusCode

from observability import metrics, tracing

_OK = grpc.StatusCode.OK


class ClientCallObserver:
    __slots__ = ("_handled", "attributes", "handling", "labels", "path", "started")

    def __init__(self, path: str, peer: str) -> None:
        service, _, method = path.lstrip("/").partition("/")
        self.path = path
        self.labels = (service, method, "unary")
        self.attributes = {
            "rpc.system": "grpc",
            "rpc.service": service,
            "rpc.method": method,
            "peer.service": peer,
        }
        self.started = metrics.CLIENT_STARTED.labels(*self.labels)
        self.handling = metrics.CLIENT_HANDLING.labels(*self.labels)
        self._handled: dict[grpc.StatusCode, Any] = {}

    def start_span(self) -> Any:
        """A CLIENT span for one call, child of the current context (not made current)."""
        return tracing.tracer().start_span(
            self.path, kind=SpanKind.CLIENT, attributes=self.attributes
        )

    def finish(self, code: grpc.StatusCode, started: float, span: Any = None) -> None:
        """A call that began at `started` (perf_counter) ended with `code`."""
        self.handling.observe(time.perf_counter() - started)
        handled = self._handled.get(code)
        if handled is None:
            handled = self._handled[code] = metrics.CLIENT_HANDLED.labels(*self.labels, code.name)
        handled.inc()
        if span is not None:
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            if code is not _OK:
                span.set_status(Status(StatusCode.ERROR, code.name))
            span.end()
