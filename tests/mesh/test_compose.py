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
    tool = compose_tool()
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = doc["services"]
    replicas = {n: tool.replicas(n) for n in registry.GRPC_SERVICES}
    assert replicas["order"] == 2  # the deployment runs order as two replicas
    containers = {tool.container(n, i) for n, k in replicas.items() for i in range(k)}
    assert set(services) == {*containers, "edge", "postgres", "prometheus"}
    for name in [*registry.GRPC_SERVICES, "edge"]:
        spec = registry.spec(name)
        for replica in range(replicas.get(name, 1)):
            svc = services[tool.container(name, replica)]
            env = svc["environment"]
            # This container's own ports: the registry's, for its replica.
            own = registry.address(name, env, replica)
            assert (own.host, own.port) == (
                "0.0.0.0",
                spec.port + registry.REPLICA_PORT_STRIDE * replica,
            )
            assert registry.own_address(name, env) == own
            published = {int(p.split(":")[0]): int(p.split(":")[1]) for p in svc["ports"]}
            assert published[own.port] == own.port
            if spec.metrics_port is not None:
                metrics = registry.own_metrics_address(name, env)
                assert metrics.port == spec.metrics_port + registry.REPLICA_PORT_STRIDE * replica
                assert published[metrics.port] == metrics.port
            module = "edge" if name == "edge" else f"services.{name}"
            assert svc["command"] == ["python", "-m", module]
            assert svc["build"]["dockerfile"] == "Dockerfile"
            assert (ROOT / svc["build"]["dockerfile"]).is_file()
            assert env["CLEANSE_HOST"] == "0.0.0.0"
            # Peers resolve through the registry (env parsed exactly as the service
            # will): every replica of each, by its container name.
            for peer in [*registry.GRPC_SERVICES, "edge"]:
                if peer == name:
                    assert f"CLEANSE_{peer.upper()}_ADDR" not in env
                    continue
                found = registry.addresses(peer, env)
                peer_port = registry.spec(peer).port
                assert [(a.host, a.port) for a in found] == [
                    (tool.container(peer, i), peer_port + registry.REPLICA_PORT_STRIDE * i)
                    for i in range(replicas.get(peer, 1))
                ]
            if name != "edge":
                url = env[f"CLEANSE_{name.upper()}_DATABASE_URL"]
                pg = registry.spec("postgres")
                assert url.startswith("postgresql+asyncpg://")
                assert f"@postgres:{pg.port}/cleanse_{name}" in url
                assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(services["edge"]["depends_on"]) == containers
    pg = registry.spec("postgres")
    assert services["postgres"]["ports"] == [f"{pg.port}:{pg.port}"]
    init = doc["configs"]["postgres-init"]["content"]
    for name in registry.GRPC_SERVICES:
        assert f"CREATE DATABASE cleanse_{name};" in init


def test_prometheus_scrapes_every_replica() -> None:
    tool = compose_tool()
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    prom = yaml.safe_load(doc["configs"]["prometheus-config"]["content"])
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    assert set(jobs) == {*registry.GRPC_SERVICES, "edge"}
    for name in registry.GRPC_SERVICES:
        spec = registry.spec(name)
        assert spec.metrics_port is not None
        assert jobs[name] == [
            f"{tool.container(name, i)}:{spec.metrics_port + registry.REPLICA_PORT_STRIDE * i}"
            for i in range(tool.replicas(name))
        ]
    order_metrics = registry.spec("order").metrics_port
    assert order_metrics is not None
    assert jobs["order"] == [
        f"order:{order_metrics}",
        f"order-1:{order_metrics + registry.REPLICA_PORT_STRIDE}",
    ]
    assert jobs["edge"] == [f"edge:{registry.spec('edge').port}"]
    # The rules Prometheus loads are the ones in the repository.
    volumes = doc["services"]["prometheus"]["volumes"]
    assert any(v.startswith(f"./{tool.RULES_FILE}:") for v in volumes)
    assert (ROOT / tool.RULES_FILE).is_file()
    assert prom["rule_files"] == ["/etc/prometheus/rules.yml"]
