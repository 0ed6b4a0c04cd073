"""Start a real slice of the mesh on loopback: chosen services as processes, then the edge.

    async with start_stack("postgres", tmp, ["auth", "catalog", "inventory"]) as stack:
        r = await stack.http.get("/v1/products/kumkumadi-tailam")
        await stack.stop_process("inventory")      # a real process, really stopped
        await stack.start_process("inventory")

Every address is an ephemeral port handed to the processes through the registry's
environment overrides (CLEANSE_<NAME>_ADDR / _METRICS_ADDR); nothing here names a
port. Each service gets its own fresh database on `backend` (SQLite files in the data
folder, or a `cleanse_test_<random>` PostgreSQL database dropped afterwards).

`stand_ins`: registry names served by a health-only process (tests/mesh/fake_service)
instead of the real service: for backends the edge routes to that are not the
subject of a test (or not implemented yet), so the edge's /healthz can be SERVING.

`infra`: local infrastructure from the supervisor's LOCAL_INFRA (e.g. "smtp", the
SMTP sink writing <data dir>/mail/*.eml) run as processes of their own on ephemeral
ports, started before the services.

`replicas`: services run as several processes ({"order": 2}): each replica on its own
ephemeral ports (CLEANSE_<NAME>_REPLICAS and address lists), supervised as order,
order#1, ...; everything that calls the service spreads its calls over them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mesh import registry
from mesh.supervisor import LOCAL_INFRA, ROOT, ProcessSpec, Supervisor
from tests.conftest import free_address, temporary_database

STAND_IN = (sys.executable, "-m", "tests.mesh.fake_service")


def implemented(name: str) -> bool:
    return (ROOT / "services" / name / "__main__.py").is_file()


def edge_backends() -> list[str]:
    """The mesh services the edge routes to (its /healthz checks each of them)."""
    from edge.bindings import bindings_from_file_set
    from mesh.contracts import load_descriptor_set

    packages = {b.contract.package for b in bindings_from_file_set(load_descriptor_set())}
    return sorted({registry.service_for_package(p) for p in packages})


@dataclass
class Stack:
    backend: str
    data_dir: Path
    env: dict[str, str]
    sup: Supervisor
    http: httpx.AsyncClient
    services: tuple[str, ...]
    stand_ins: tuple[str, ...] = ()
    database_urls: dict[str, str] = field(default_factory=dict)

    # --- addresses (all from the registry, with this stack's overrides) ----------------

    def addr(self, name: str, replica: int = 0) -> registry.Address:
        return registry.address(name, self.env, replica)

    def metrics(self, name: str, replica: int = 0) -> registry.Address:
        return registry.metrics_address(name, self.env, replica)

    @property
    def edge_addr(self) -> registry.Address:
        return self.addr("edge")

    @property
    def edge_url(self) -> str:
        return self.edge_addr.url

    @property
    def auth_addr(self) -> registry.Address:
        return self.addr("auth")

    @property
    def auth_metrics(self) -> registry.Address:
        return self.metrics("auth")

    @property
    def mail_dir(self) -> Path:
        """Where the SMTP sink (infra "smtp") stores every message it accepted."""
        return self.data_dir / "mail"

    @property
    def otp_file(self) -> Path:
        return self.data_dir / "otp-outbox.jsonl"

    # --- what the processes wrote ------------------------------------------------------

    def otp_for(self, phone: str) -> str:
        """The latest login code the log OTP sender wrote for `phone`."""
        codes = [
            json.loads(line) for line in self.otp_file.read_text().splitlines() if line.strip()
        ]
        mine = [c for c in codes if c["phone"].endswith(phone[-10:])]
        assert mine, f"no OTP was sent to {phone}"
        return str(mine[-1]["code"])

    def admin_credentials(self) -> tuple[str, str]:
        text = (self.data_dir / "admin-credentials.txt").read_text()
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        return fields["email"].strip(), fields["password"].strip()

    def log(self, name: str) -> str:
        """A process's log: "order" (replica 0), "order#1", "auth", ..."""
        return self.sup.procs[name].log_path.read_text(errors="replace")

    # --- one process at a time ---------------------------------------------------------

    async def stop_process(self, name: str) -> None:
        await self.sup.stop_process(name)

    async def start_process(self, name: str, within: float = 60.0) -> None:
        await self.sup.start_process(name, within=within)


def _dump_logs(data_dir: Path, names: Sequence[str]) -> None:
    for name in names:
        p = data_dir / "logs" / f"{name}.log"
        if p.exists():
            sys.stderr.write(f"--- {name}.log ---\n{p.read_text(errors='replace')[-4000:]}\n")


@contextlib.asynccontextmanager
async def start_stack(
    backend: str,
    data_dir: Path,
    services: Sequence[str],
    *,
    stand_ins: Sequence[str] = (),
    infra: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    ready_timeout: float = 90.0,
    replicas: Mapping[str, int] | None = None,
) -> AsyncIterator[Stack]:
    """Start `infra` + `services` (real processes, `replicas` of some) + `stand_ins` +
    the edge; stop them all after."""
    names = [*services, *stand_ins]
    async with contextlib.AsyncExitStack() as exits:
        urls: dict[str, str] = {}
        for name in services:
            folder = data_dir / "db"
            folder.mkdir(parents=True, exist_ok=True)
            urls[name] = await exits.enter_async_context(temporary_database(backend, folder))
        addresses: dict[str, registry.Address | list[registry.Address]] = {
            n: free_address() for n in [*infra, *names, "edge"]
        }
        metrics: dict[str, registry.Address | list[registry.Address]] = {
            n: free_address() for n in names
        }
        for n, count in (replicas or {}).items():
            if count > 1:
                addresses[n] = [free_address() for _ in range(count)]
                metrics[n] = [free_address() for _ in range(count)]
        env = {
            **registry.override_env(addresses, metrics),
            **{f"CLEANSE_{n.upper()}_DATABASE_URL": url for n, url in urls.items()},
            "CLEANSE_DATA_DIR": str(data_dir),
            "CLEANSE_OTP_OUTBOX_FILE": str(data_dir / "otp-outbox.jsonl"),
            "CLEANSE_INTERNAL_SECRET": "it-" + secrets.token_hex(24),
            "CLEANSE_OTEL_EXPORTER": "console",
            "CLEANSE_LOG_LEVEL": "INFO",
            **(extra_env or {}),
        }
        specs = [ProcessSpec(n, (sys.executable, "-m", LOCAL_INFRA[n]), kind="tcp") for n in infra]
        specs += [ProcessSpec.service(n) for n in services]
        specs += [ProcessSpec(n, (*STAND_IN, n)) for n in stand_ins]
        sup = Supervisor(
            [*specs, ProcessSpec.edge()],
            env={**os.environ, **env},
            data_dir=data_dir,
            out=io.StringIO(),
            ready_timeout=ready_timeout,
        )
        try:
            await sup.start()
        except BaseException:
            _dump_logs(data_dir, [p.log_path.stem for p in sup.procs.values()])
            await sup.stop()
            raise
        exits.push_async_callback(sup.stop)
        http = await exits.enter_async_context(
            httpx.AsyncClient(base_url=registry.address("edge", env).url, timeout=20)
        )
        yield Stack(
            backend=backend,
            data_dir=data_dir,
            env=env,
            sup=sup,
            http=http,
            services=tuple(services),
            stand_ins=tuple(stand_ins),
            database_urls=urls,
        )
