"""The service registry: the ONE place a service name maps to a host and port.

Every server, client, the edge, the supervisor, compose.yaml, the Envoy config
and the tests read addresses from here. A contract test fails if one of these
port numbers is written anywhere else in the source.

Override any address with one environment variable per endpoint:
``CLEANSE_<NAME>_ADDR=host:port`` (gRPC or HTTP listener) and
``CLEANSE_<NAME>_METRICS_ADDR=host:port`` (Prometheus /metrics). ``CLEANSE_HOST``
changes the default host for all of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"


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
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{var}={value!r}: expected host:port")
    return Address(host.strip("[]"), int(port))


def spec(name: str) -> ServiceSpec:
    try:
        return SERVICES[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}") from None


def address(name: str, env: Mapping[str, str] | None = None) -> Address:
    """Where `name` listens (gRPC for services, HTTP for the edge)."""
    env = os.environ if env is None else env
    var = _env_key(name, "ADDR")
    if var in env:
        return _parse(env[var], var)
    return Address(env.get("CLEANSE_HOST", DEFAULT_HOST), spec(name).port)


def metrics_address(name: str, env: Mapping[str, str] | None = None) -> Address:
    """Where `name` serves Prometheus /metrics (the edge: its own HTTP address)."""
    env = os.environ if env is None else env
    var = _env_key(name, "METRICS_ADDR")
    if var in env:
        return _parse(env[var], var)
    s = spec(name)
    if s.metrics_port is None:
        return address(name, env)
    return Address(env.get("CLEANSE_HOST", DEFAULT_HOST), s.metrics_port)


def override_env(
    addresses: Mapping[str, Address], metrics: Mapping[str, Address]
) -> dict[str, str]:
    """Environment variables that point the registry at other addresses (tests)."""
    out = {_env_key(n, "ADDR"): str(a) for n, a in addresses.items()}
    out.update({_env_key(n, "METRICS_ADDR"): str(a) for n, a in metrics.items()})
    return out


def service_for_package(proto_package: str) -> str:
    """The mesh service that serves a proto package, e.g. cleanse.auth.v1 -> auth."""
    for s in _SPECS:
        if s.proto_package == proto_package:
            return s.name
    raise KeyError(f"no service serves proto package {proto_package!r}")
