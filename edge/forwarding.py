"""Request headers an RPC asks the edge to forward (`cleanse.common.v1.forward_headers`).

The edge passes a fixed allow-list of headers to every service (edge/app.py). An RPC
whose HTTP caller authenticates with headers of its own (a payment provider's webhook
signature and event id) names them in its contract; the edge then forwards those,
and only those, to that RPC as gRPC metadata under their lower-case names. Names
are checked once at start-up: the edge refuses to build routes for a contract that
names a header it owns, one gRPC reserves, or one that is no valid metadata key.
"""

from __future__ import annotations

import re

from mesh.contracts import MethodContract
from mesh.identity import INTERNAL_HEADER

MAX_VALUE_BYTES_LIMIT = 8192

# Headers the edge sets or filters itself, hop-by-hop headers, and gRPC's own.
RESERVED = frozenset(
    {
        "authorization",
        "x-request-id",
        "traceparent",
        "tracestate",
        "x-forwarded-for",
        "user-agent",
        "x-user-agent",
        INTERNAL_HEADER,
        "content-type",
        "content-length",
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "transfer-encoding",
        "upgrade",
        "te",
        "trailer",
    }
)
# gRPC metadata keys: lower-case ASCII letters, digits, "-", "_" and ".".
_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")


class ForwardHeaderError(ValueError):
    """A contract names a header the edge must not forward."""


def forwarded_headers(contract: MethodContract) -> tuple[tuple[bytes, str], ...]:
    """(ASGI header key, metadata key) for each header the RPC's contract forwards."""
    out: list[tuple[bytes, str]] = []
    limit = contract.forward_header_max_bytes
    if not 0 < limit <= MAX_VALUE_BYTES_LIMIT:
        raise ForwardHeaderError(
            f"{contract.full_name}: forward_headers.max_value_bytes must be "
            f"1..{MAX_VALUE_BYTES_LIMIT}"
        )
    for name in contract.forward_headers:
        if not _KEY.match(name):
            raise ForwardHeaderError(f"{contract.full_name}: {name!r} is no valid metadata key")
        if name in RESERVED or name.startswith("grpc-") or name.endswith("-bin"):
            raise ForwardHeaderError(f"{contract.full_name}: the edge never forwards {name!r}")
        out.append((name.encode("ascii"), name))
    return tuple(out)
