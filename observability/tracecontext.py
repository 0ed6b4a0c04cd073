"""W3C trace context without the OpenTelemetry SDK, for when no span exporter is installed
(the edge's request path and every server's interceptor).

With CLEANSE_OTEL_EXPORTER=none (the default) a span is only a carrier of ids:
nothing records or exports it. Creating OpenTelemetry SDK spans for it costs more
than the rest of the edge's own work, so the edge then does what the SDK would do
for propagation alone: continue the incoming `traceparent` (OpenTelemetry's
validity rules), give the edge's span a fresh id, keep the sampled flag as the
default ParentBased(ALWAYS_ON) sampler would, and pass `tracestate` on.

When an exporter is installed (observability.tracing.exporting()), the edge
creates real spans through the SDK instead.
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar, Token
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace.span import _TRACECONTEXT_MAXIMUM_TRACESTATE_LENGTH, TraceState

# As opentelemetry's TraceContextTextMapPropagator parses it.
_TRACEPARENT = re.compile(
    r"^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:(-.*)|[ \t]*)$"
)
_MAX_TRACEPARENT = 512
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_getrandbits = random.getrandbits


def new_span_id() -> str:
    while True:
        n = _getrandbits(64)
        if n:
            return f"{n:016x}"


def new_trace_id() -> str:
    while True:
        n = _getrandbits(128)
        if n:
            return f"{n:032x}"


@dataclass(slots=True)
class FastSpan:
    """The ids of the edge's (unrecorded) SERVER span for one request."""

    trace_id: str
    span_id: str
    sampled: bool
    parent_span_id: str = ""  # the caller's span, when the trace was continued
    tracestate: str = ""  # already validated and re-rendered

    def traceparent(self) -> str:
        """The header a backend call carries: this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    def span_context(self) -> trace.SpanContext:
        """As an OpenTelemetry SpanContext (for logs written during the request)."""
        return trace.SpanContext(
            int(self.trace_id, 16),
            int(self.span_id, 16),
            is_remote=False,
            trace_flags=trace.TraceFlags(1 if self.sampled else 0),
            trace_state=TraceState.from_header([self.tracestate]) if self.tracestate else None,
        )


def start(traceparent: str | None, tracestate: str | None) -> FastSpan:
    """The edge's span: a child of a valid incoming `traceparent`, else a new trace."""
    if traceparent and len(traceparent) <= _MAX_TRACEPARENT:
        m = _TRACEPARENT.match(traceparent)
        if m is not None:
            version, trace_id, parent, flags, rest = m.groups()
            if (
                trace_id != _ZERO_TRACE
                and parent != _ZERO_SPAN
                and version != "ff"
                and not (version == "00" and rest)
            ):
                state = ""
                if tracestate and len(tracestate) <= _TRACECONTEXT_MAXIMUM_TRACESTATE_LENGTH:
                    state = TraceState.from_header([tracestate]).to_header()
                return FastSpan(trace_id, new_span_id(), bool(int(flags, 16) & 1), parent, state)
    ids = f"{_getrandbits(192):048x}"  # a new trace: both ids from one draw
    trace_id, span_id = ids[:32], ids[32:]
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return FastSpan(new_trace_id(), new_span_id(), True)
    return FastSpan(trace_id, span_id, True)


# The request's FastSpan, for calls the edge makes on the request's behalf outside the
# main backend call (the JWKS refresh). Each request runs in its own task.
_current: ContextVar[FastSpan | None] = ContextVar("edge_fast_span", default=None)


def set_current(span: FastSpan | None) -> Token[FastSpan | None]:
    return _current.set(span)


def reset_current(token: Token[FastSpan | None]) -> None:
    _current.reset(token)


def current() -> FastSpan | None:
    return _current.get()
