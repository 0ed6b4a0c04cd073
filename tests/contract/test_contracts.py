"""The rules that make drift impossible, checked over the real contracts and source."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cleanse.common.v1 import access_pb2
from mesh import registry
from mesh.contracts import all_contracts, contracts_from_file_set, load_descriptor_set

ROOT = Path(__file__).resolve().parents[2]
Audience = access_pb2.Audience


def test_every_rpc_declares_an_access_policy() -> None:
    contracts = all_contracts()
    assert contracts, "no RPCs found in gen/descriptor_set.binpb"
    missing = [p for p, c in contracts.items() if c.audience == Audience.AUDIENCE_UNSPECIFIED]
    assert not missing, f"RPCs without (cleanse.common.v1.access): {missing}"


def test_admin_rpcs_name_a_permission() -> None:
    bad = [
        p
        for p, c in all_contracts().items()
        if c.audience == Audience.AUDIENCE_ADMIN and not c.permission
    ]
    assert not bad, f"admin RPCs without a permission: {bad}"


def test_no_internal_rpc_has_an_http_binding() -> None:
    exposed = [
        p
        for p, c in all_contracts().items()
        if c.audience == Audience.AUDIENCE_INTERNAL and c.http_rules
    ]
    assert not exposed, f"internal RPCs exposed over HTTP: {exposed}"


def test_every_proto_package_is_served_by_a_registered_service() -> None:
    for c in all_contracts().values():
        if c.package.startswith("cleanse.common"):
            continue
        assert registry.service_for_package(c.package)


def test_contract_checks_catch_a_violation() -> None:
    """The checks above really look at the options: a doctored contract fails them."""
    fds = load_descriptor_set()
    for f in fds.file:
        for s in f.service:
            for m in s.method:
                if m.name == "BatchGetUsers":
                    m.options.Extensions[access_pb2.access].audience = Audience.AUDIENCE_INTERNAL
                    m.options.Extensions[
                        __import__("google.api.annotations_pb2").api.annotations_pb2.http
                    ].get = "/v1/leak"
                if m.name == "GetProfile":
                    m.options.ClearExtension(access_pb2.access)
    doctored = contracts_from_file_set(fds)
    leak = doctored["/cleanse.auth.v1.AuthService/BatchGetUsers"]
    assert leak.audience == Audience.AUDIENCE_INTERNAL and leak.http_rules
    prof = doctored["/cleanse.auth.v1.AccountService/GetProfile"]
    assert prof.audience == Audience.AUDIENCE_UNSPECIFIED


# --- one place for ports -----------------------------------------------------------

SCANNED_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".sh", ".proto"}
SCANNED_NAMES = {"Makefile", "Dockerfile", "run"}
# Generated from the registry and checked against it by their own tests.
GENERATED_FROM_REGISTRY = {"compose.yaml"}


def _registry_ports() -> set[int]:
    """Every port the registry hands out, replicas' ports included."""
    ports: set[int] = set(registry.default_ports())
    for s in registry.SERVICES.values():
        ports.add(s.port)
        if s.metrics_port:
            ports.add(s.metrics_port)
    return ports


def _tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / p for p in out]


def port_literals(text: str, ports: set[int]) -> list[str]:
    """Lines that write one of the registry's ports as an address or a port setting.

    Caught: "host:PORT", "localhost:PORT/x", "port = PORT", "--port PORT",
    ("127.0.0.1", PORT). Not caught: the same digits as data (an HSN code, a
    duration in seconds, "v1.NNNN", an amount in paise). The self-test below shows
    both kinds with real registry ports.
    """
    alt = "|".join(str(p) for p in sorted(ports))
    hosts = "|".join(
        [r"localhost", r"\d{1,3}(?:\.\d{1,3}){3}", r"\[[0-9a-fA-F:]*\]", r"\}", r"host"]
        + [re.escape(n) for n in registry.SERVICES]
    )
    patterns = [
        re.compile(rf"(?:{hosts}):(?:{alt})(?![\w.])", re.IGNORECASE),  # host:port
        re.compile(rf"port\w*[\"']?\s*[=:,(]?\s*[\"']?(?:{alt})(?![\w.])", re.IGNORECASE),
        re.compile(rf"[\"'](?:localhost|[\d.]+)[\"']\s*,\s*(?:{alt})(?![\w.])"),
    ]
    hits = []
    for n, line in enumerate(text.splitlines(), 1):
        if any(p.search(line) for p in patterns):
            hits.append(f"{n}: {line.strip()}")
    return hits


def test_port_scan_finds_a_literal() -> None:
    pricing = registry.spec("pricing").port
    auth = registry.spec("auth").port
    ports = _registry_ports()
    for text in (
        f'addr = "127.0.0.1:{pricing}"',
        f"PRICING_SERVICE_URL=http://localhost:{pricing}",  # the seed's bug
        f"PORT = {auth}\n",
        f"    port: {auth}",
        f"server.add_insecure_port('[::]:{auth}')",
        f'CLEANSE_AUTH_ADDR="auth:{auth}"',
        f'f"{{HOST}}:{auth}"',
        f'sock.connect(("127.0.0.1", {auth}))',
        f"uvicorn app --port {auth}",
    ):
        assert port_literals(text, ports), text
    for text in (
        f"amount = {pricing}0  # paise",
        f"v1.{pricing}",
        f'hsn_code: "{pricing}"',
        f'rule("hsn:{pricing}", [(0, 1200)])',
        f"assert retry.seconds > {auth - 1}",
        f"hsn {pricing} gst 12%",
    ):
        assert not port_literals(text, ports), text


def test_no_port_literal_outside_the_registry() -> None:
    ports = _registry_ports()
    offenders: dict[str, list[str]] = {}
    for path in _tracked_files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {"gen", "node_modules", "build", ".venv", "data"}:
            continue
        if str(rel) in GENERATED_FROM_REGISTRY or rel == Path("mesh/registry.py"):
            continue
        if path.suffix not in SCANNED_SUFFIXES and path.name not in SCANNED_NAMES:
            continue
        if not path.is_file():
            continue
        hits = port_literals(path.read_text(errors="replace"), ports)
        if hits:
            offenders[str(rel)] = hits
    assert not offenders, f"port literals outside mesh/registry.py: {offenders}"


@pytest.mark.parametrize("name", sorted(registry.SERVICES))
def test_registry_env_override(name: str) -> None:
    env = {f"CLEANSE_{name.upper()}_ADDR": "10.1.2.3:1234"}
    assert str(registry.address(name, env)) == "10.1.2.3:1234"
    assert registry.address(name, {}).port == registry.SERVICES[name].port
