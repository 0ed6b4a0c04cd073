"""Who is calling the edge: bearer JWT verification with a short-lived cache.

Tokens are verified with `mesh.identity.TokenVerifier` against the JWK set the auth
service publishes (AuthService/GetJwks over gRPC). A verified token's identity is
cached, keyed by a hash of the token, for its remaining lifetime but at most
`max_ttl` seconds (services verify every token again, so a revoked session is
refused there at once). Failed verifications are never cached.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence

import grpc
import orjson

from cleanse.auth.v1 import auth_service_pb2
from edge.backends import Backend, BackendCall, Backends
from mesh.identity import ANONYMOUS, Identity, JwksSource, TokenVerifier, bearer_token
from observability import tracecontext

try:
    from observability.tracing import exporting as _spans_exported
except ImportError:  # observability is optional for the edge's own unit tests

    def _spans_exported() -> bool:
        return False


GET_JWKS = "/cleanse.auth.v1.AuthService/GetJwks"
AUTH_PACKAGE = "cleanse.auth.v1"


def grpc_jwks_source(channel: Callable[[], grpc.aio.Channel], timeout: float = 5.0) -> JwksSource:
    """Fetch the JWK set from the auth service's GetJwks RPC."""

    async def fetch() -> Sequence[Mapping[str, str]]:
        call = channel().unary_unary(
            GET_JWKS,
            request_serializer=auth_service_pb2.GetJwksRequest.SerializeToString,
            response_deserializer=auth_service_pb2.GetJwksResponse.FromString,
        )
        resp = await call(auth_service_pb2.GetJwksRequest(), timeout=timeout)
        return [
            {"kty": k.kty, "crv": k.crv, "x": k.x, "kid": k.kid, "alg": k.alg, "use": k.use}
            for k in resp.keys
        ]

    return fetch


def backend_jwks_source(
    backends: Backends, backend: Backend, observed: bool = True, timeout: float = 5.0
) -> JwksSource:
    """GetJwks through a BackendCall: the call is measured and traced like the edge's
    own backend calls (and continues the trace of the request that triggered it)."""
    call = BackendCall(
        backends,
        backend,
        GET_JWKS,
        auth_service_pb2.GetJwksRequest.SerializeToString,
        auth_service_pb2.GetJwksResponse.FromString,
        observed=observed,
    )

    async def fetch() -> Sequence[Mapping[str, str]]:
        fast = tracecontext.current()
        metadata = None
        if fast is not None:
            metadata = [("traceparent", fast.traceparent())]
            if fast.tracestate:
                metadata.append(("tracestate", fast.tracestate))
        resp = await call(
            auth_service_pb2.GetJwksRequest(),
            timeout=timeout,
            metadata=metadata,
            span=fast is None and _spans_exported(),
        )
        return [
            {"kty": k.kty, "crv": k.crv, "x": k.x, "kid": k.kid, "alg": k.alg, "use": k.use}
            for k in resp.keys
        ]

    return fetch


def _expiry(token: str) -> float:
    """`exp` of an already verified token (0 when absent)."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims.get("exp", 0))
    except (IndexError, ValueError, TypeError, orjson.JSONDecodeError):
        return 0.0


class EdgeAuth:
    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        max_ttl: float = 60.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = verifier
        self._max_ttl = max_ttl
        self._max_entries = max_entries
        self._clock = clock
        self._cache: dict[bytes, tuple[Identity, float]] = {}

    async def identity(self, authorization: str | None) -> Identity:
        """ANONYMOUS without a token; raises Unauthenticated for a bad one."""
        token = bearer_token(authorization)
        if token is None:
            return ANONYMOUS
        key = hashlib.blake2b(token.encode(), digest_size=20).digest()
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None:
            if hit[1] > now:
                return hit[0]
            del self._cache[key]
        ident = await self.verifier.verify(token)
        until = min(_expiry(token), now + self._max_ttl)
        if until > now:
            if len(self._cache) >= self._max_entries:
                self._evict(now)
            self._cache[key] = (ident, until)
        return ident

    def _evict(self, now: float) -> None:
        expired = [k for k, (_, until) in self._cache.items() if until <= now]
        for k in expired:
            del self._cache[k]
        while len(self._cache) >= self._max_entries:  # oldest insertions first
            del self._cache[next(iter(self._cache))]
