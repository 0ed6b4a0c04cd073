"""Per-RPC context a servicer can read: who is calling, the request id, the peer IP.

Set by the contract interceptor before the servicer runs (each RPC runs in its own
asyncio task, so context variables never leak between calls).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from mesh.identity import ANONYMOUS, Identity


@dataclass(frozen=True)
class CallContext:
    identity: Identity = ANONYMOUS
    # The mesh service that relayed the call (verified internal token), "" otherwise.
    caller_service: str = ""
    request_id: str = ""
    client_ip: str = ""
    user_agent: str = ""
    authorization: str = ""  # forwarded to downstream calls made on the caller's behalf


_DEFAULT = CallContext()
_current: ContextVar[CallContext] = ContextVar(
    "cleanse_call_context",
    default=_DEFAULT,  # a frozen dataclass: immutable, safe to share
)


def current() -> CallContext:
    return _current.get()


def identity() -> Identity:
    return _current.get().identity


def set_current(ctx: CallContext):  # returns a Token for reset
    return _current.set(ctx)


def reset(token) -> None:
    _current.reset(token)
