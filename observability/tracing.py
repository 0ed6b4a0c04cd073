"""OpenTelemetry tracing: one trace from the edge through every service it touches.

    configure_tracing("order")                  # exporter from CLEANSE_OTEL_EXPORTER
    configure_tracing("order", InMemorySpanExporter())   # tests

CLEANSE_OTEL_EXPORTER: "none" (default: spans are created and propagated, not
exported), "console" (stderr), "otlp" (OTLP/gRPC to the registry's "otlp" address).

The server interceptor continues the W3C `traceparent` from the incoming metadata
and opens a SERVER span named "/pkg.Service/Method" with rpc.* attributes; the
client interceptor opens a CLIENT span and injects `traceparent` into the outgoing
metadata, so a call made while serving a call joins the caller's trace. Span
status follows the OpenTelemetry gRPC conventions: a client span is an error for
any non-OK code; a server span only for codes that mean the server failed.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from mesh import registry
from observability._grpc import ObservingServerInterceptor, RpcInfo, with_metadata
from observability.metrics import client_error_code

EXPORTER_ENV = "CLEANSE_OTEL_EXPORTER"
TRACER_NAME = "cleanse.mesh"
PROPAGATOR = TraceContextTextMapPropagator()

# Server spans are errors only for these codes (OpenTelemetry semantic conventions).
SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)

_lock = threading.Lock()
_provider: TracerProvider | None = None
_env_exporter_installed = False
_exporting = False


def _exporter_from_env() -> tuple[SpanExporter | None, bool]:
    """(exporter, batch?) chosen by CLEANSE_OTEL_EXPORTER."""
    choice = os.environ.get(EXPORTER_ENV, "none").strip().lower()
    if choice in ("", "none"):
        return None, False
    if choice == "console":
        # One JSON object per line, like the logs it is interleaved with.
        return ConsoleSpanExporter(
            out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n"
        ), False
    if choice == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=str(registry.address("otlp")), insecure=True), True
    raise RuntimeError(f"{EXPORTER_ENV}={choice!r}: expected otlp, console or none")


def configure_tracing(service: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install this process's tracer provider (once) and add an exporter.

    With `exporter` (tests: InMemorySpanExporter) spans go to it synchronously;
    without, the exporter named by CLEANSE_OTEL_EXPORTER is installed once.
    """
    global _provider, _env_exporter_installed, _exporting
    with _lock:
        if _provider is None:
            _provider = TracerProvider(resource=Resource.create({"service.name": service}))
            trace.set_tracer_provider(_provider)
        if exporter is not None:
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
            _exporting = True
        elif not _env_exporter_installed:
            _env_exporter_installed = True
            chosen, batch = _exporter_from_env()
            if chosen is not None:
                processor = BatchSpanProcessor(chosen) if batch else SimpleSpanProcessor(chosen)
                _provider.add_span_processor(processor)
                _exporting = True
        return _provider


def exporting() -> bool:
    """True once configure_tracing installed an exporter: spans then go somewhere.

    Until then a span is only a carrier of ids, so a hot path may skip the SDK and
    propagate `traceparent` itself (the edge does).
    """
    return _exporting


_tracer: tuple[object, trace.Tracer] | None = None


def tracer() -> trace.Tracer:
    """This process's tracer (looked up once per provider, not per span)."""
    global _tracer
    provider = _provider if _provider is not None else trace.get_tracer_provider()
    cached = _tracer
    if cached is None or cached[0] is not provider:
        cached = _tracer = (provider, provider.get_tracer(TRACER_NAME))
    return cached[1]


def current_ids() -> tuple[str, str]:
    """(trace_id, span_id) of the current span as hex, or ("", "") outside one."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return "", ""
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def inject_headers(carrier: dict[str, str] | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) for the current span, e.g. for HTTP calls."""
    carrier = {} if carrier is None else carrier
    PROPAGATOR.inject(carrier)
    return carrier


def _attributes(info: RpcInfo) -> dict[str, str]:
    return {"rpc.system": "grpc", "rpc.service": info.service, "rpc.method": info.method}


class TracingServerInterceptor(ObservingServerInterceptor):
    def __init__(self, service: str) -> None:
        self.service = service

    def begin(self, info: RpcInfo, context: grpc.aio.ServicerContext) -> Any:
        carrier = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        parent = PROPAGATOR.extract(carrier)
        span = tracer().start_span(
            info.path,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={**_attributes(info), "cleanse.service": self.service},
        )
        request_id = carrier.get("x-request-id")
        if request_id:
            span.set_attribute("cleanse.request_id", request_id)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return span, token

    def end(self, state: Any, code: grpc.StatusCode, error: BaseException | None) -> None:
        span, token = state
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in SERVER_ERROR_CODES:
            span.set_status(Status(StatusCode.ERROR, code.name))
        if error is not None and not isinstance(error, grpc.aio.AbortError):
            span.record_exception(error)
        span.end()
        otel_context.detach(token)


class TracingClientInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor
):
    """A CLIENT span per call; `traceparent` injected into the outgoing metadata."""

    def __init__(self, service: str, target: str = "") -> None:
        self.service = service
        self.target = target

    def _start(self, details: Any, rpc_type: str) -> tuple[Any, Any, Any]:
        info = RpcInfo.from_path(details.method, rpc_type)
        attrs = _attributes(info)
        if self.target:
            attrs["peer.service"] = self.target
        span = tracer().start_span(info.path, kind=SpanKind.CLIENT, attributes=attrs)
        ctx = trace.set_span_in_context(span)
        carrier: dict[str, str] = {}
        PROPAGATOR.inject(carrier, context=ctx)
        token = otel_context.attach(ctx)
        return span, token, with_metadata(details, carrier)

    @staticmethod
    def _finish(span: Any, token: Any, code: grpc.StatusCode) -> None:
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code is not grpc.StatusCode.OK:
            span.set_status(Status(StatusCode.ERROR, code.name))
        span.end()
        otel_context.detach(token)

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        span, token, details = self._start(client_call_details, "unary")
        code = grpc.StatusCode.UNKNOWN
        try:
            call = await continuation(details, request)
            code = await call.code()
            return call
        except BaseException as exc:
            code = client_error_code(exc)
            span.record_exception(exc)
            raise
        finally:
            self._finish(span, token, code)

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        span, token, details = self._start(client_call_details, "server_stream")
        try:
            call = await continuation(details, request)
        except BaseException as exc:
            self._finish(span, token, client_error_code(exc))
            raise
        otel_context.detach(token)
        call.add_done_callback(lambda c: span.end())
        return call
