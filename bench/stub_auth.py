"""A stand-in auth backend for `BENCH_BACKEND=stub python -m bench`.

It answers AuthService/GetJwks from memory (one freshly generated Ed25519 key) and
the standard health check, on the registry's "auth" address; every other RPC is
UNIMPLEMENTED. With a backend this cheap the bench measures what the edge and
Envoy themselves cost, instead of the real service's database round trip.
"""

from __future__ import annotations

import asyncio
import base64
import signal

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc, resources_pb2
from mesh import registry


def _jwk() -> resources_pb2.Jwk:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return resources_pb2.Jwk(
        kty="OKP", crv="Ed25519", x=x, kid="bench-stub", alg="EdDSA", use="sig"
    )


class StubAuth(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self) -> None:
        self._jwks = auth_service_pb2.GetJwksResponse(keys=[_jwk()])

    async def GetJwks(
        self, request: auth_service_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.GetJwksResponse:
        return self._jwks


async def serve() -> None:
    server = grpc.aio.server()
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(StubAuth(), server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    await checker.set("", health_pb2.HealthCheckResponse.SERVING)
    if server.add_insecure_port(str(registry.address("auth"))) == 0:
        raise SystemExit(f"cannot listen on {registry.address('auth')}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1.0)


if __name__ == "__main__":
    asyncio.run(serve())
