"""What every service's tests need to talk to a real gRPC server and read its answers.

reason(err) / violations(err) / detail(err, RetryInfo)   # the google.rpc details
server, addr = await serve(FakeCatalog(), add_CatalogInternalServiceServicer_to_server)
keys = TestKeys.generate(); keys.mint("admin", perms=("catalog.write",))
ServiceApp(..., jwks_source=keys.source)                 # services trust these tokens
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from mesh.identity import AUDIENCE, ISSUER
from tests.conftest import free_address


def detail(err: grpc.aio.AioRpcError, kind: Any) -> Any:
    """The first google.rpc detail of type `kind` in the error, or None."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    for d in status.details if status else []:
        if d.Is(kind.DESCRIPTOR):
            out = kind()
            d.Unpack(out)
            return out
    return None


def error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    return detail(err, error_details_pb2.ErrorInfo)


def reason(err: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason (UPPER_SNAKE), or ""."""
    info = error_info(err)
    return info.reason if info else ""


def violations(err: grpc.aio.AioRpcError) -> dict[str, str]:
    """BadRequest field violations as {field: description}."""
    bad = detail(err, error_details_pb2.BadRequest)
    return {v.field: v.description for v in bad.field_violations} if bad else {}


def retry_delay(err: grpc.aio.AioRpcError) -> float | None:
    info = detail(err, error_details_pb2.RetryInfo)
    if info is None:
        return None
    return info.retry_delay.seconds + info.retry_delay.nanos / 1e9


async def serve(
    servicer: Any, add_fn: Callable[[Any, grpc.aio.Server], None]
) -> tuple[grpc.aio.Server, str]:
    """A plain gRPC server for a fake peer (an outside service's stand-in) on loopback."""
    server = grpc.aio.server()
    add_fn(servicer, server)
    address = str(free_address())
    server.add_insecure_port(address)
    await server.start()
    return server, address


def jwk_of(key: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


@dataclass
class TestKeys:
    """An Ed25519 signing key standing in for the auth service's, and its JWK set."""

    __test__ = False  # not a test class

    private: Ed25519PrivateKey
    kid: str = "test-key-1"

    @classmethod
    def generate(cls, kid: str = "test-key-1") -> TestKeys:
        return cls(Ed25519PrivateKey.generate(), kid)

    @property
    def jwks(self) -> list[dict[str, str]]:
        return [jwk_of(self.private, self.kid)]

    async def source(self) -> list[dict[str, str]]:
        """A JWKS source for ServiceApp(jwks_source=...) or the edge."""
        return self.jwks

    def mint(
        self,
        role: str = "customer",
        perms: tuple[str, ...] | list[str] = (),
        *,
        sub: str | None = None,
        ttl: int = 300,
        key: Ed25519PrivateKey | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """An access token as the auth service would sign it (claims overridable)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub or ("users/u1" if role == "customer" else "adminUsers/a1"),
            "role": role,
            "perms": list(perms),
            "sid": "sessions/s1",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
        }
        body.update(claims)
        return jwt.encode(
            body, key or self.private, algorithm="EdDSA", headers={"kid": kid or self.kid}
        )
