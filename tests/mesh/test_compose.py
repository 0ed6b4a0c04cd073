"""compose.yaml is generated from the registry and stays in sync with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

from mesh import registry

ROOT = Path(__file__).resolve().parents[2]


def compose_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cleanse_tools_compose", ROOT / "tools/compose.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_compose_file_matches_the_generator() -> None:
    tool = compose_tool()
    committed = (ROOT / "compose.yaml").read_text()
    assert committed == tool.render(), "compose.yaml is stale: run tools/compose.py"


def test_compose_ports_and_addresses_come_from_the_registry() -> None:
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = doc["services"]
    expected = {*registry.GRPC_SERVICES, "edge", "postgres"}
    assert set(services) == expected
    for name in [*registry.GRPC_SERVICES, "edge"]:
        spec = registry.spec(name)
        svc = services[name]
        published = {int(p.split(":")[0]): int(p.split(":")[1]) for p in svc["ports"]}
        assert published[spec.port] == spec.port
        if spec.metrics_port is not None:
            assert published[spec.metrics_port] == spec.metrics_port
        env = svc["environment"]
        module = "edge" if name == "edge" else f"services.{name}"
        assert svc["command"] == ["python", "-m", module]
        assert svc["build"]["dockerfile"] == "Dockerfile"
        assert (ROOT / svc["build"]["dockerfile"]).is_file()
        assert env["CLEANSE_HOST"] == "0.0.0.0"
        # Peers resolve through the registry (env parsed exactly as the service will).
        for peer in [*registry.GRPC_SERVICES, "edge"]:
            if peer == name:
                assert f"CLEANSE_{peer.upper()}_ADDR" not in env
                continue
            addr = registry.address(peer, env)
            assert (addr.host, addr.port) == (peer, registry.spec(peer).port)
        own = registry.address(name, env)
        assert (own.host, own.port) == ("0.0.0.0", spec.port)
        if name != "edge":
            url = env[f"CLEANSE_{name.upper()}_DATABASE_URL"]
            pg = registry.spec("postgres")
            assert url.startswith("postgresql+asyncpg://")
            assert f"@postgres:{pg.port}/cleanse_{name}" in url
            assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    pg = registry.spec("postgres")
    assert services["postgres"]["ports"] == [f"{pg.port}:{pg.port}"]
    init = doc["configs"]["postgres-init"]["content"]
    for name in registry.GRPC_SERVICES:
        assert f"CREATE DATABASE cleanse_{name};" in init
