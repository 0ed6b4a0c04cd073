"""The registry's replicas: one address per replica, computed or listed, never shared."""

from __future__ import annotations

import pytest

from mesh import registry
from mesh.registry import Address

STRIDE = registry.REPLICA_PORT_STRIDE


def test_one_replica_is_the_address_of_old() -> None:
    for name, s in registry.SERVICES.items():
        assert registry.replicas(name, {}) == 1
        assert registry.addresses(name, {}) == (Address(registry.DEFAULT_HOST, s.port),)
        assert registry.address(name, {}) == Address(registry.DEFAULT_HOST, s.port)
        metrics = s.metrics_port if s.metrics_port is not None else s.port
        assert registry.metrics_address(name, {}).port == metrics


def test_replica_addresses_are_computed_from_the_service_ports() -> None:
    env = {"CLEANSE_ORDER_REPLICAS": "3", "CLEANSE_HOST": "10.0.0.5"}
    order = registry.spec("order")
    assert order.metrics_port is not None
    assert registry.addresses("order", env) == tuple(
        Address("10.0.0.5", order.port + STRIDE * i) for i in range(3)
    )
    assert registry.metrics_addresses("order", env) == tuple(
        Address("10.0.0.5", order.metrics_port + STRIDE * i) for i in range(3)
    )
    # Replica 0 keeps the service's address; address() answers for any replica.
    assert registry.address("order", env) == Address("10.0.0.5", order.port)
    assert registry.address("order", env, 2).port == order.port + 2 * STRIDE
    with pytest.raises(ValueError, match="no replica 3"):
        registry.address("order", env, 3)
    # Other services are untouched.
    assert len(registry.addresses("pricing", env)) == 1


def test_which_replica_this_process_is() -> None:
    env = {"CLEANSE_ORDER_REPLICAS": "2", "CLEANSE_REPLICA": "1"}
    order = registry.spec("order")
    assert registry.replica_index(env) == 1
    assert registry.own_address("order", env).port == order.port + STRIDE
    assert registry.own_metrics_address("order", env).port == (order.metrics_port or 0) + STRIDE
    assert registry.own_address("order", {}).port == order.port  # default: replica 0
    with pytest.raises(ValueError, match="CLEANSE_REPLICA"):
        registry.replica_index({"CLEANSE_REPLICA": "first"})
    with pytest.raises(ValueError, match="no replica 1"):
        registry.own_address("pricing", env)  # pricing runs one replica
    assert registry.replica_name("order", 0) == "order"
    assert registry.replica_name("order", 1) == "order#1"


def test_list_overrides_give_one_address_per_replica() -> None:
    env = {
        "CLEANSE_ORDER_REPLICAS": "2",
        "CLEANSE_ORDER_ADDR": "order-a:7001, order-b:7002",
        "CLEANSE_ORDER_METRICS_ADDR": "order-a:9001,order-b:9002",
    }
    assert registry.addresses("order", env) == (Address("order-a", 7001), Address("order-b", 7002))
    assert registry.metrics_addresses("order", env) == (
        Address("order-a", 9001),
        Address("order-b", 9002),
    )
    # A single address override still works for one replica (as before).
    assert registry.address("order", {"CLEANSE_ORDER_ADDR": "10.1.2.3:1234"}) == Address(
        "10.1.2.3", 1234
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # The list must match REPLICAS: too few, too many, a list without REPLICAS.
        ({"CLEANSE_ORDER_REPLICAS": "2", "CLEANSE_ORDER_ADDR": "h:1"}, "lists 1 address"),
        ({"CLEANSE_ORDER_REPLICAS": "2", "CLEANSE_ORDER_ADDR": "h:1,h:2,h:3"}, "lists 3"),
        ({"CLEANSE_ORDER_ADDR": "h:1,h:2"}, "runs 1 replica"),
        ({"CLEANSE_ORDER_REPLICAS": "2", "CLEANSE_ORDER_METRICS_ADDR": "h:1"}, "lists 1"),
        # REPLICAS itself.
        ({"CLEANSE_ORDER_REPLICAS": "0"}, "from 1 to"),
        ({"CLEANSE_ORDER_REPLICAS": "two"}, "from 1 to"),
        ({"CLEANSE_ORDER_REPLICAS": str(registry.MAX_REPLICAS + 1)}, "from 1 to"),
        ({"CLEANSE_ORDER_REPLICAS": "2", "CLEANSE_ORDER_ADDR": "h:1,nope"}, "host:port"),
    ],
)
def test_mismatches_are_refused_clearly(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        registry.addresses("order", env)
        registry.metrics_addresses("order", env)


def test_only_grpc_services_run_as_replicas() -> None:
    with pytest.raises(ValueError, match="CLEANSE_EDGE_WORKERS"):
        registry.addresses("edge", {"CLEANSE_EDGE_REPLICAS": "2"})
    with pytest.raises(ValueError, match="only gRPC services"):
        registry.addresses("postgres", {"CLEANSE_POSTGRES_REPLICAS": "3"})
    assert registry.replicas("edge", {"CLEANSE_EDGE_REPLICAS": "1"}) == 1


def test_no_default_port_collides_even_at_the_most_replicas() -> None:
    ports = registry.default_ports()
    wanted = sum(
        (registry.MAX_REPLICAS if s.kind == "grpc" else 1) * (1 + (s.metrics_port is not None))
        for s in registry.SERVICES.values()
    )
    assert len(ports) == wanted  # every replica of every service: a port of its own
    most = str(registry.MAX_REPLICAS)
    env = {f"CLEANSE_{n.upper()}_REPLICAS": most for n in registry.GRPC_SERVICES}
    registry.check(env)  # every listener of that configuration apart
    assert len(set(registry.listeners(env).values())) == len(registry.listeners(env))
    assert ports[registry.spec("order").port + STRIDE] == "order#1"


def test_colliding_overrides_are_refused() -> None:
    auth = registry.spec("auth").port
    env = {
        "CLEANSE_ORDER_REPLICAS": "2",
        "CLEANSE_ORDER_ADDR": f"{registry.DEFAULT_HOST}:7001,{registry.DEFAULT_HOST}:{auth}",
    }
    with pytest.raises(ValueError, match=r"auth and order#1 both on"):
        registry.check(env)


def test_override_env_takes_lists() -> None:
    a = [Address("127.0.0.1", 7001), Address("127.0.0.1", 7002)]
    m = [Address("127.0.0.1", 9001), Address("127.0.0.1", 9002)]
    env = registry.override_env({"order": a, "auth": Address("127.0.0.1", 7000)}, {"order": m})
    assert env == {
        "CLEANSE_ORDER_ADDR": "127.0.0.1:7001,127.0.0.1:7002",
        "CLEANSE_ORDER_REPLICAS": "2",
        "CLEANSE_AUTH_ADDR": "127.0.0.1:7000",
        "CLEANSE_ORDER_METRICS_ADDR": "127.0.0.1:9001,127.0.0.1:9002",
    }
    assert registry.addresses("order", env) == tuple(a)
    assert registry.metrics_addresses("order", env) == tuple(m)
    with pytest.raises(ValueError, match="2 addresses but 1 metrics"):
        registry.override_env({"order": a}, {"order": m[:1]})


def test_answers_follow_the_environment() -> None:
    """The registry caches its answers: a changed variable is a new answer."""
    env = {"CLEANSE_ORDER_REPLICAS": "2"}
    assert len(registry.addresses("order", env)) == 2
    env["CLEANSE_ORDER_REPLICAS"] = "3"
    assert len(registry.addresses("order", env)) == 3
    env["CLEANSE_ORDER_ADDR"] = "a:1,b:2,c:3"
    assert registry.addresses("order", env)[2] == Address("c", 3)
    env["CLEANSE_HOST"] = "0.0.0.0"
    assert registry.metrics_addresses("order", env)[0].host == "0.0.0.0"


def test_free_port_never_hands_out_a_port_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    # The OS may offer a just-closed port again: here it offers 40001 three times
    # running, then 40002. Two services on one port would be an address collision.
    offered = iter([40001, 40001, 40001, 40002])

    class OfferingSocket:
        def __init__(self, *_: object) -> None:
            self.port = next(offered)

        def __enter__(self) -> OfferingSocket:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def bind(self, _addr: object) -> None:
            return None

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(registry, "_handed_out", set())
    monkeypatch.setattr(registry.socket, "socket", OfferingSocket)
    assert [registry.free_port(), registry.free_port()] == [40001, 40002]
