"""Two in-process test services ("catalog" in front, "inventory" behind it) serving
the echo test proto through the real ServiceApp, on ephemeral loopback ports that
the registry learns from CLEANSE_<NAME>_ADDR."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mesh import client, registry
from mesh.contracts import MethodContract, contracts_from_file_set
from mesh.registry import free_port
from mesh.server import ServiceApp
from tests.mesh.helpers import EchoServicer, echo_modules
from tests.support.protos import compile_test_protos
from tests.support.rpc import TestKeys

FRONT = "catalog"
BACK = "inventory"


@dataclass
class Mesh:
    apps: dict[str, ServiceApp]
    servicers: dict[str, EchoServicer]
    metrics: dict[str, registry.Address]
    pb2: Any
    pb2_grpc: Any
    keys: TestKeys

    def stub(self, name: str) -> Any:
        return client.stub(name, self.pb2_grpc.EchoServiceStub)

    def customer_token(self, subject: str = "users/u1") -> str:
        """An access token the test services accept (signed with the test JWKS key)."""
        return self.keys.mint("customer", sub=subject)


@pytest.fixture(scope="session")
def test_contracts() -> dict[str, MethodContract]:
    return contracts_from_file_set(compile_test_protos().descriptor_set, packages_prefix="testing.")


@pytest.fixture(scope="session")
def mesh_env() -> Iterator[dict[str, str]]:
    host = registry.DEFAULT_HOST
    addrs = {n: registry.Address(host, free_port()) for n in (FRONT, BACK)}
    metrics = {n: registry.Address(host, free_port()) for n in (FRONT, BACK)}
    env = registry.override_env(addrs, metrics)
    env.setdefault("CLEANSE_INTERNAL_SECRET", os.environ.get("CLEANSE_INTERNAL_SECRET", ""))
    if len(env["CLEANSE_INTERNAL_SECRET"]) < 32:
        env["CLEANSE_INTERNAL_SECRET"] = secrets.token_urlsafe(48)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield env


@pytest.fixture(scope="session")
async def mesh(
    mesh_env: dict[str, str], test_contracts: dict[str, MethodContract]
) -> AsyncIterator[Mesh]:
    pb2, pb2_grpc = echo_modules()
    keys = TestKeys.generate("test")
    apps: dict[str, ServiceApp] = {}
    servicers: dict[str, EchoServicer] = {}
    for name in (BACK, FRONT):
        app = ServiceApp(name, contracts=test_contracts, grace=0.5, jwks_source=keys.source)
        servicers[name] = EchoServicer()
        app.add(pb2_grpc.add_EchoServiceServicer_to_server, servicers[name])
        await app.start()
        apps[name] = app
    # The test process calls as if it were the front service.
    client.configure(FRONT, contracts=test_contracts)
    yield Mesh(
        apps=apps,
        servicers=servicers,
        metrics={n: registry.metrics_address(n) for n in apps},
        pb2=pb2,
        pb2_grpc=pb2_grpc,
        keys=keys,
    )
    await client.close_all()
    for app in apps.values():
        await app.stop()


@pytest.fixture(autouse=True)
def fresh_client_state() -> Iterator[None]:
    """Each test starts with closed breakers and fast, default-shaped settings."""
    saved = client.settings()
    client.update_settings(backoff_base=0.01, backoff_cap=0.05)
    client.reset_breakers()
    yield
    client.update_settings(**saved.__dict__)
    client.reset_breakers()


@pytest.fixture(params=["lean", "grpcio"])
def grpc_client(request: pytest.FixtureRequest) -> str:
    """Run the test over each gRPC client mesh.client can use (CLEANSE_GRPC_CLIENT)."""
    client.update_settings(grpc_client=request.param)
    return str(request.param)
