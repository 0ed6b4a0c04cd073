"""Typed clients for calling another service of the mesh by name.

    from cleanse.auth.v1 import auth_service_pb2_grpc
    auth = stub("auth", "cleanse.auth.v1.AuthService")   # typed AuthServiceStub
    resp = await auth.GetJwks(GetJwksRequest())

(MINIMAL VERSION: channels per service from the registry. The full version adds
deadlines with propagation, retries for idempotent methods, a circuit breaker per
dependency, internal tokens and client interceptors.)
"""

from __future__ import annotations

import importlib
from typing import Any

import grpc

from mesh import registry

_channels: dict[str, grpc.aio.Channel] = {}


def channel(service: str) -> grpc.aio.Channel:
    ch = _channels.get(service)
    if ch is None:
        ch = _channels[service] = grpc.aio.insecure_channel(str(registry.address(service)))
    return ch


def stub(service: str, full_service_name: str) -> Any:
    package, _, short = full_service_name.rpartition(".")
    from mesh.contracts import service_descriptor

    desc = service_descriptor(full_service_name)
    module = importlib.import_module(
        desc.file.name.removesuffix(".proto").replace("/", ".") + "_pb2_grpc"
    )
    return getattr(module, f"{short}Stub")(channel(service))


async def close_all() -> None:
    for ch in list(_channels.values()):
        await ch.close()
    _channels.clear()
