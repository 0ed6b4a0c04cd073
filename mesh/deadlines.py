"""The deadline of the call being served, so calls made on its behalf never outlive it.

A small server interceptor (installed by ServiceApp) records the incoming call's
absolute deadline in a context variable; `mesh.client` gives every outgoing call
the shorter of its own timeout and what is left of that deadline. The edge, which
is not a gRPC server, opens the same scope from the HTTP request's `Grpc-Timeout`:

    with deadline_scope(seconds):
        await stub.GetProduct(...)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

import grpc

from observability._grpc import ObservingServerInterceptor, RpcInfo

# A deadline further away than this means "no deadline" (grpc reports huge values).
_NO_DEADLINE = 365 * 24 * 3600.0

_deadline: ContextVar[float | None] = ContextVar("cleanse_deadline", default=None)


def current_deadline() -> float | None:
    """The absolute deadline (time.monotonic() clock) of the call being served."""
    return _deadline.get()


def remaining() -> float | None:
    """Seconds left before the served call's deadline (may be <= 0), None if none."""
    d = _deadline.get()
    return None if d is None else d - time.monotonic()


def set_deadline(seconds: float | None) -> Token[float | None]:
    """Narrow the current deadline to `seconds` from now (never widen it)."""
    current = _deadline.get()
    if seconds is None or seconds >= _NO_DEADLINE:
        return _deadline.set(current)
    new = time.monotonic() + seconds
    return _deadline.set(new if current is None else min(current, new))


def reset(token: Token[float | None]) -> None:
    _deadline.reset(token)


@contextmanager
def deadline_scope(seconds: float | None) -> Iterator[None]:
    token = set_deadline(seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


class DeadlineInterceptor(ObservingServerInterceptor):
    """Records each incoming call's deadline for the calls its handler makes."""

    def begin(self, info: RpcInfo, context: grpc.aio.ServicerContext) -> Any:
        left = context.time_remaining()
        # Each RPC runs in its own task: start from "no deadline", not a stale one.
        return _deadline.set(
            None if left is None or left >= _NO_DEADLINE else time.monotonic() + left
        )

    def end(self, state: Any, code: grpc.StatusCode, error: BaseException | None) -> None:
        _deadline.reset(state)
