"""The real mesh on loopback: auth and the edge as separate processes.

Every address is an ephemeral port handed to the processes through the registry's
environment overrides; the supervisor starts them, waits for health SERVING, and
stops them at the end. Runs once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mesh import registry
from mesh.supervisor import ProcessSpec, Supervisor
from tests.conftest import BACKENDS, free_address, temporary_database


@dataclass
class Mesh:
    backend: str
    data_dir: Path
    edge_url: str
    auth_addr: registry.Address
    auth_metrics: registry.Address
    edge_addr: registry.Address
    otp_file: Path
    env: dict[str, str]
    http: httpx.AsyncClient

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
        return (self.data_dir / "logs" / f"{name}.log").read_text(errors="replace")


@pytest.fixture(scope="module", params=BACKENDS)
async def mesh(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mesh]:
    data_dir = tmp_path_factory.mktemp(f"mesh-{request.param}")
    async with temporary_database(request.param, data_dir) as db_url:
        auth, auth_metrics, edge = free_address(), free_address(), free_address()
        otp_file = data_dir / "otp-outbox.jsonl"
        env = {
            **registry.override_env({"auth": auth, "edge": edge}, {"auth": auth_metrics}),
            "CLEANSE_DATA_DIR": str(data_dir),
            "CLEANSE_AUTH_DATABASE_URL": db_url,
            "CLEANSE_OTP_OUTBOX_FILE": str(otp_file),
            "CLEANSE_INTERNAL_SECRET": "it-" + secrets.token_hex(24),
            "CLEANSE_OTEL_EXPORTER": "console",
            "CLEANSE_LOG_LEVEL": "INFO",
        }
        sup = Supervisor(
            [ProcessSpec.service("auth"), ProcessSpec.edge()],
            env={**os.environ, **env},
            data_dir=data_dir,
            out=io.StringIO(),
            ready_timeout=90,
        )
        try:
            await sup.start()
        except BaseException:
            for name in ("auth", "edge"):
                p = data_dir / "logs" / f"{name}.log"
                if p.exists():
                    sys.stderr.write(f"--- {name}.log ---\n{p.read_text()[-4000:]}\n")
            await sup.stop()
            raise
        async with httpx.AsyncClient(base_url=edge.url, timeout=20) as http:
            yield Mesh(
                backend=request.param,
                data_dir=data_dir,
                edge_url=edge.url,
                auth_addr=auth,
                auth_metrics=auth_metrics,
                edge_addr=edge,
                otp_file=otp_file,
                env=env,
                http=http,
            )
        await sup.stop()
