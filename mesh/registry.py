"""The service registry: the ONE place a service name maps to a host and port.

Every server, client, the edge, the supervisor, compose.yaml, the Envoy config
and the tests read addresses from here. A contract test fails if one of these
port numbers is written anywhere else in the source.

Override any address with one environment variable per endpoint:
``CLEANSE_<NAME>_ADDR=host:port`` (gRPC or HTTP listener) and
``CLEANSE_<NAME>_METRICS_ADDR=host:port`` (Prometheus /metrics). ``CLEANSE_HOST``
changes the default host for all of them.

Replicas. A gRPC service runs as ``CLEANSE_<NAME>_REPLICAS=N`` processes (default
1, at most MAX_REPLICAS). Replica i listens on the service's ports + 100 * i
(gRPC and metrics alike): replica 0 is the service's one address of old, and the
stride keeps every replica port apart from every other registry port (checked
when this module is imported). With N > 1, an ``_ADDR`` / ``_METRICS_ADDR``
override lists one host:port per replica, comma-separated, replica 0 first; the
list must have exactly N entries (REPLICAS says how many there are, the lists
only where). A process knows which replica it is from ``CLEANSE_REPLICA`` (set by
the supervisor, compose, or by hand; default 0): `own_address()`.

    addresses("order")          # every replica's gRPC address, replica 0 first
    address("order")            # replica 0 (what a single-address caller gets)
    own_address("order")        # where THIS process listens (CLEANSE_REPLICA)
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
REPLICA_ENV = "CLEANSE_REPLICA"
# Replica i of a service listens on its registry ports + REPLICA_PORT_STRIDE * i.
REPLICA_PORT_STRIDE = 100
# At most this many replicas of one service: the stride then stays clear of every
# other registry port (metrics 9101 + 100 * 8 would reach Envoy's admin port).
MAX_REPLICAS = 8


@dataclass(frozen=True)
class ServiceSpec:
    """A mesh member as ARCHITECTURE.md lists it."""

    name: str
    port: int
    metrics_port: int | None
    proto_package: str | None  # None for the edge and infrastructure
    kind: str = "grpc"  # "grpc" | "http" | "infra"


# ARCHITECTURE.md's table. Metrics ports are 9100 + the service's number; the edge
# serves /metrics on its own HTTP port.
_SPECS: tuple[ServiceSpec, ...] = (
    ServiceSpec("edge", 3000, None, None, kind="http"),
    ServiceSpec("auth", 3001, 9101, "cleanse.auth.v1"),
    ServiceSpec("catalog", 3002, 9102, "cleanse.catalog.v1"),
    ServiceSpec("order", 3003, 9103, "cleanse.order.v1"),
    ServiceSpec("pricing", 3004, 9104, "cleanse.pricing.v1"),
    ServiceSpec("inventory", 3005, 9105, "cleanse.inventory.v1"),
    ServiceSpec("shipping", 3007, 9107, "cleanse.shipping.v1"),
    ServiceSpec("engagement", 3008, 9108, "cleanse.engagement.v1"),
    ServiceSpec("cms", 3009, 9109, "cleanse.cms.v1"),
    ServiceSpec("settings", 3010, 9110, "cleanse.settings.v1"),
    # Infrastructure the mesh talks to.
    ServiceSpec("postgres", 5432, None, None, kind="infra"),
    ServiceSpec("otlp", 4317, None, None, kind="infra"),
    # Outgoing mail. `make run` starts a local SMTP sink here (services/engagement).
    ServiceSpec("smtp", 2525, None, None, kind="infra"),
    # Envoy data plane in front of the services (bench, compose): listener + admin.
    ServiceSpec("envoy", 8080, 9901, None, kind="infra"),
    # Prometheus (compose): scrapes every replica's metrics address (scrape_targets).
    ServiceSpec("prometheus", 9090, None, None, kind="infra"),
)

SERVICES: Mapping[str, ServiceSpec] = {s.name: s for s in _SPECS}
GRPC_SERVICES: tuple[str, ...] = tuple(s.name for s in _SPECS if s.kind == "grpc")


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _env_key(name: str, suffix: str) -> str:
    return f"CLEANSE_{name.upper()}_{suffix}"


def _parse(value: str, var: str) -> Address:
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{var}={value!r}: expected host:port")
    return Address(host.strip("[]"), int(port))


def spec(name: str) -> ServiceSpec:
    try:
        return SERVICES[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}") from None


def replicas(name: str, env: Mapping[str, str] | None = None) -> int:
    """How many processes serve `name`: CLEANSE_<NAME>_REPLICAS (default 1).

    Only gRPC services run as replicas (the edge scales with CLEANSE_EDGE_WORKERS,
    processes sharing one port; infrastructure is not ours to start)."""
    env = os.environ if env is None else env
    s = spec(name)
    var = _env_key(name, "REPLICAS")
    raw = env.get(var, "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_REPLICAS:
        raise ValueError(f"{var}={raw!r}: expected a whole number from 1 to {MAX_REPLICAS}")
    n = int(raw)
    if n > 1 and s.kind != "grpc":
        hint = " (the edge scales with CLEANSE_EDGE_WORKERS)" if s.kind == "http" else ""
        raise ValueError(f"{var}={raw!r}: only gRPC services run as replicas{hint}")
    return n


def _addresses(name: str, env: Mapping[str, str], suffix: str, port: int) -> tuple[Address, ...]:
    n = replicas(name, env)
    var = _env_key(name, suffix)
    raw = env.get(var)
    if raw is not None:
        parts = raw.split(",")
        if len(parts) != n:
            raise ValueError(
                f"{var}={raw!r} lists {len(parts)} address(es) but {name} runs {n} "
                f"replica(s) ({_env_key(name, 'REPLICAS')}={n}): give exactly one host:port "
                "per replica, comma-separated, replica 0 first"
            )
        return tuple(_parse(p, var) for p in parts)
    host = env.get("CLEANSE_HOST", DEFAULT_HOST)
    return tuple(Address(host, port + REPLICA_PORT_STRIDE * i) for i in range(n))


# Answers by (name, the variables they depend on): mesh.client asks for a
# dependency's addresses on every stub() (services make stubs per call), so a
# repeated question costs three environment reads and a dictionary lookup.
_VARS: dict[str, tuple[str, str, str]] = {}
_ANSWERS: dict[tuple[str, str, str | None, str | None, str | None], tuple[Address, ...]] = {}


def _cached(name: str, env: Mapping[str, str], metrics: bool) -> tuple[Address, ...]:
    names = _VARS.get(name)
    if names is None:
        spec(name)  # unknown names fail here, never cached
        names = _VARS[name] = (
            _env_key(name, "ADDR"),
            _env_key(name, "METRICS_ADDR"),
            _env_key(name, "REPLICAS"),
        )
    var = names[1] if metrics else names[0]
    key = (name, var, env.get(var), env.get(names[2]), env.get("CLEANSE_HOST"))
    found = _ANSWERS.get(key)
    if found is None:
        s = SERVICES[name]
        if not metrics:
            found = _addresses(name, env, "ADDR", s.port)
        elif s.metrics_port is None and var not in env:
            found = _cached(name, env, False)
        else:
            found = _addresses(name, env, "METRICS_ADDR", s.metrics_port or s.port)
        if len(_ANSWERS) >= 1024:
            _ANSWERS.clear()
        _ANSWERS[key] = found
    return found


def addresses(name: str, env: Mapping[str, str] | None = None) -> tuple[Address, ...]:
    """Where each replica of `name` listens (gRPC; HTTP for the edge), replica 0 first."""
    return _cached(name, os.environ if env is None else env, False)


def metrics_addresses(name: str, env: Mapping[str, str] | None = None) -> tuple[Address, ...]:
    """Where each replica of `name` serves Prometheus /metrics (the edge: its HTTP
    address), replica 0 first."""
    return _cached(name, os.environ if env is None else env, True)


def _one(found: tuple[Address, ...], name: str, replica: int) -> Address:
    if not 0 <= replica < len(found):
        raise ValueError(
            f"{name} has no replica {replica}: it runs {len(found)} ({_env_key(name, 'REPLICAS')})"
        )
    return found[replica]


def address(name: str, env: Mapping[str, str] | None = None, replica: int = 0) -> Address:
    """Where replica `replica` (default 0) of `name` listens."""
    return _one(addresses(name, env), name, replica)


def metrics_address(name: str, env: Mapping[str, str] | None = None, replica: int = 0) -> Address:
    """Where replica `replica` (default 0) of `name` serves /metrics."""
    return _one(metrics_addresses(name, env), name, replica)


def replica_index(env: Mapping[str, str] | None = None) -> int:
    """Which replica this process is: CLEANSE_REPLICA (default 0)."""
    env = os.environ if env is None else env
    raw = env.get(REPLICA_ENV, "").strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise ValueError(f"{REPLICA_ENV}={raw!r}: expected a replica number (0, 1, ...)")
    return int(raw)


def own_address(name: str, env: Mapping[str, str] | None = None) -> Address:
    """Where this process, replica CLEANSE_REPLICA of `name`, listens."""
    return address(name, env, replica_index(env))


def own_metrics_address(name: str, env: Mapping[str, str] | None = None) -> Address:
    """Where this process, replica CLEANSE_REPLICA of `name`, serves /metrics."""
    return metrics_address(name, env, replica_index(env))


def replica_name(name: str, replica: int) -> str:
    """How logs, the supervisor and the benches name a replica: order, order#1, ..."""
    return name if replica == 0 else f"{name}#{replica}"


def scrape_targets(env: Mapping[str, str] | None = None) -> dict[str, tuple[Address, ...]]:
    """Prometheus jobs: every gRPC service's replicas' metrics addresses, and the edge."""
    names = [*GRPC_SERVICES, "edge"]
    return {n: metrics_addresses(n, env) for n in names}


def listeners(env: Mapping[str, str] | None = None) -> dict[str, Address]:
    """Every address something listens on, by "<replica name>" / "<replica name> metrics"."""
    out: dict[str, Address] = {}
    for s in _SPECS:
        for i, a in enumerate(addresses(s.name, env)):
            out[replica_name(s.name, i)] = a
        if s.metrics_port is not None:
            for i, a in enumerate(metrics_addresses(s.name, env)):
                out[f"{replica_name(s.name, i)} metrics"] = a
    return out


def check(env: Mapping[str, str] | None = None) -> None:
    """Refuse a configuration where two listeners share a host and port (ValueError),
    besides every malformed variable the functions above refuse."""
    seen: dict[tuple[str, int], str] = {}
    clashes = []
    for who, a in listeners(env).items():
        key = (a.host, a.port)
        if key in seen:
            clashes.append(f"{seen[key]} and {who} both on {a}")
        else:
            seen[key] = who
    if clashes:
        raise ValueError("address collision: " + "; ".join(clashes))


def default_ports() -> dict[int, str]:
    """Every port the registry hands out by default, for up to MAX_REPLICAS replicas of
    each gRPC service: port -> who. Raises if two would collide."""
    out: dict[int, str] = {}
    for s in _SPECS:
        count = MAX_REPLICAS if s.kind == "grpc" else 1
        for i in range(count):
            for port, what in ((s.port, ""), (s.metrics_port, " metrics")):
                if port is None:
                    continue
                p = port + REPLICA_PORT_STRIDE * i
                who = replica_name(s.name, i) + what
                if p in out:
                    raise RuntimeError(f"registry ports collide: {out[p]} and {who} on {p}")
                out[p] = who
    return out


default_ports()  # a port added above that collides with a replica's fails at import


def override_env(
    addresses: Mapping[str, Address | Sequence[Address]],
    metrics: Mapping[str, Address | Sequence[Address]],
) -> dict[str, str]:
    """Environment variables that point the registry at other addresses (tests).

    A sequence of addresses makes the service run that many replicas
    (CLEANSE_<NAME>_REPLICAS); its metrics sequence, when given, must be as long."""
    out: dict[str, str] = {}
    counts: dict[str, int] = {}
    for suffix, given in (("ADDR", addresses), ("METRICS_ADDR", metrics)):
        for n, a in given.items():
            if isinstance(a, Address):
                out[_env_key(n, suffix)] = str(a)
                continue
            listed = list(a)
            if not listed:
                raise ValueError(f"{n}: an empty list of addresses")
            if counts.setdefault(n, len(listed)) != len(listed):
                raise ValueError(f"{n}: {counts[n]} addresses but {len(listed)} metrics addresses")
            out[_env_key(n, suffix)] = ",".join(str(x) for x in listed)
            out[_env_key(n, "REPLICAS")] = str(len(listed))
    return out


def service_for_package(proto_package: str) -> str:
    """The mesh service that serves a proto package, e.g. cleanse.auth.v1 -> auth."""
    for s in _SPECS:
        if s.proto_package == proto_package:
            return s.name
    raise KeyError(f"no service serves proto package {proto_package!r}")


# Ports `free_port` handed out in this process.
_handed_out: set[int] = set()


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port the OS says is free right now (bind to 0, read it, close), never one this
    process handed out before: the OS may offer a just-closed port again, and two
    services of one environment on one port is an address collision. For tests and
    benchmarks that put a mesh on ephemeral ports (`override_env`)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def free_address(host: str = DEFAULT_HOST) -> Address:
    """`host` and a `free_port` on it."""
    return Address(host, free_port(host))
