"""One server interceptor for tracing, metrics and any other begin/end "parts".

Every grpc.aio interceptor layer wraps the handler again per call, which is costly
in Python; this one wraps it once and runs its parts in order around the handler
(begin in order, end in reverse), as nested interceptors would, with the FINAL
status code (also when an inner interceptor aborted).

Without a span exporter (observability.tracing.exporting() is False) a server span
is only a carrier of ids, so tracing then continues the incoming `traceparent`
without the SDK: a non-recording span with a fresh span id becomes current, which
keeps one trace id across calls made while serving and in the logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from grpc_interceptor import AsyncServerInterceptor
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.span import TraceState

from observability import tracecontext, tracing
from observability._grpc import ObservingServerInterceptor, RpcInfo
from observability.metrics import (
    SERVER_HANDLED,
    SERVER_HANDLING,
    SERVER_MSG_RECEIVED,
    SERVER_MSG_SENT,
    SERVER_STARTED,
)


class _Children:
    """Cached metric children for one RPC method."""

    __slots__ = ("counts_sent", "handled", "handling", "labels", "received", "sent", "started")

    def __init__(self, info: RpcInfo) -> None:
        labels = (info.service, info.method, info.type)
        self.labels = labels
        self.started = SERVER_STARTED.labels(*labels)
        self.received = (
            SERVER_MSG_RECEIVED.labels(*labels) if info.type in ("unary", "server_stream") else None
        )
        self.counts_sent = info.type in ("unary", "client_stream")
        self.sent = SERVER_MSG_SENT.labels(*labels) if self.counts_sent else None
        self.handling = SERVER_HANDLING.labels(*labels)
        self.handled: dict[grpc.StatusCode, Any] = {}

    def handled_child(self, code: grpc.StatusCode) -> Any:
        child = self.handled.get(code)
        if child is None:
            child = self.handled[code] = SERVER_HANDLED.labels(*self.labels, code.name)
        return child


def _fast_context(metadata: Any) -> Any:
    """An otel Context holding a non-recording span continuing `traceparent`."""
    traceparent = tracestate = None
    for k, v in metadata or ():
        if k == "traceparent" and isinstance(v, str):
            traceparent = v
        elif k == "tracestate" and isinstance(v, str):
            tracestate = v
    fast = tracecontext.start(traceparent, tracestate)
    span = NonRecordingSpan(
        SpanContext(
            int(fast.trace_id, 16),
            int(fast.span_id, 16),
            is_remote=False,
            trace_flags=TraceFlags(1 if fast.sampled else 0),
            trace_state=TraceState.from_header([fast.tracestate]) if fast.tracestate else None,
        )
    )
    return trace.set_span_in_context(span)


def _with_inner(handler: Any, inner: AsyncServerInterceptor, method_name: str) -> Any:
    """A unary-response handler with `inner.intercept` around its behaviour."""
    behavior = handler.unary_unary or handler.stream_unary
    intercept = inner.intercept

    async def invoke(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
        return await intercept(behavior, request_or_iterator, context, method_name)

    factory = (
        grpc.unary_unary_rpc_method_handler
        if handler.unary_unary
        else grpc.stream_unary_rpc_method_handler
    )
    return factory(
        invoke,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class ServerObservabilityInterceptor(ObservingServerInterceptor):
    """Tracing (outermost), metrics, then `parts` (e.g. the deadline), as one layer.

    With `inner` (a grpc_interceptor AsyncServerInterceptor, e.g. the contract one)
    that interceptor runs inside this layer exactly as if it came next in the chain,
    and the wrapped handler is built once per method instead of once per call.
    """

    def __init__(
        self,
        service: str,
        parts: Sequence[ObservingServerInterceptor] = (),
        inner: AsyncServerInterceptor | None = None,
    ) -> None:
        self.service = service
        self.tracing = tracing.TracingServerInterceptor(service)
        self.parts = tuple(parts)
        self.inner = inner
        self._children: dict[RpcInfo, _Children] = {}
        self._handlers: dict[Any, tuple[Any, Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        inner = self.inner
        if inner is None:
            return await super().intercept_service(continuation, handler_call_details)
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        cached = self._handlers.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        if handler.response_streaming:
            # As the inner interceptor's own layer would wrap it.
            async def next_handler(_: grpc.HandlerCallDetails) -> Any:
                return handler

            wrapped_inner = await inner.intercept_service(next_handler, handler_call_details)
        else:
            name = method.decode() if isinstance(method, bytes) else method
            wrapped_inner = _with_inner(handler, inner, name)

        async def wrapped_continuation(_: grpc.HandlerCallDetails) -> Any:
            return wrapped_inner

        wrapped = await super().intercept_service(wrapped_continuation, handler_call_details)
        if not handler.response_streaming:
            self._handlers[method] = (handler, wrapped)
        return wrapped

    def begin(self, info: RpcInfo, context: grpc.aio.ServicerContext) -> Any:
        if tracing.exporting():
            trace_state = self.tracing.begin(info, context)
        else:
            trace_state = (None, otel_context.attach(_fast_context(context.invocation_metadata())))
        children = self._children.get(info)
        if children is None:
            children = self._children[info] = _Children(info)
        children.started.inc()
        if children.received is not None:
            children.received.inc()
        started = time.perf_counter()
        part_states = [part.begin(info, context) for part in self.parts]
        return trace_state, children, started, part_states

    def end(self, state: Any, code: grpc.StatusCode, error: BaseException | None) -> None:
        trace_state, children, started, part_states = state
        try:
            for part, part_state in zip(reversed(self.parts), reversed(part_states), strict=True):
                part.end(part_state, code, error)
            children.handled_child(code).inc()
            children.handling.observe(time.perf_counter() - started)
            if code is grpc.StatusCode.OK and children.sent is not None:
                children.sent.inc()
        finally:
            if trace_state[0] is None:
                otel_context.detach(trace_state[1])
            else:
                self.tracing.end(trace_state, code, error)
