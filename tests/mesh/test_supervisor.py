"""The supervisor with real child processes (a health-only fake service)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh import registry
from mesh.registry import free_port
from mesh.supervisor import ROOT, ProcessSpec, Supervisor, discover, ensure_internal_secret

FAKE = (sys.executable, "-m", "tests.mesh.fake_service")


def fake(name: str) -> ProcessSpec:
    return ProcessSpec(name, (*FAKE, name))


def ephemeral_env(names: list[str]) -> dict[str, str]:
    host = registry.DEFAULT_HOST
    env = registry.override_env(
        {n: registry.Address(host, free_port()) for n in names},
        {n: registry.Address(host, free_port()) for n in names},
    )
    env["PYTHONPATH"] = str(ROOT)
    env.pop("CLEANSE_INTERNAL_SECRET", None)
    return env


async def health(name: str, env: dict[str, str]) -> int:
    async with grpc.aio.insecure_channel(str(registry.address(name, env))) as ch:
        resp = await health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=2
        )
    return resp.status


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    stat_path = Path(f"/proc/{pid}/stat")
    return not (stat_path.exists() and stat_path.read_text().split()[2] == "Z")


def thread_names(pid: int) -> set[str]:
    return {p.read_text().strip() for p in Path(f"/proc/{pid}/task").glob("*/comm")}


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not check():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_starts_serves_restarts_a_crashed_process_and_stops(tmp_path: Path) -> None:
    names = ["catalog", "pricing"]
    env = ephemeral_env(names)
    out = io.StringIO()
    sup = Supervisor(
        [fake(n) for n in names], env=env, data_dir=tmp_path, out=out, backoff_base=0.1
    )
    await sup.start()
    try:
        for n in names:
            assert sup.state(n) == "serving"
            assert await health(n, env) == health_pb2.HealthCheckResponse.SERVING
        # Each child got the generated secret and the data folder.
        secret_file = tmp_path / "internal-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text().strip()
        seen = json.loads((tmp_path / "catalog.env.json").read_text())
        assert seen["CLEANSE_INTERNAL_SECRET"] == secret and len(secret) >= 32
        assert seen["CLEANSE_DATA_DIR"] == str(tmp_path)
        assert seen["CLEANSE_SERVICE_NAME"] == "catalog"

        # Crash one: it comes back with a new pid, serving again.
        old = sup.pid("catalog")
        assert old is not None
        os.kill(old, signal.SIGKILL)
        await eventually(lambda: sup.state("catalog").startswith("restarting"))
        await sup.wait_serving("catalog", within=15)
        assert sup.pid("catalog") not in (None, old)
        assert sup.procs["catalog"].restarts == 1
        assert await health("catalog", env) == health_pb2.HealthCheckResponse.SERVING
        assert sup.state("pricing") == "serving"
    finally:
        pids = [sup.pid(n) for n in names]
        await sup.stop()
    for pid in pids:
        assert pid is not None and not alive(pid)
    assert all(sup.state(n) == "stopped" for n in names)
    text = out.getvalue()
    assert "restarting(1)" in text and "serving" in text
    log = (tmp_path / "logs" / "catalog.log").read_text()
    assert "exited with" in log
    assert "Cleanse Mesh is up" in sup.summary()


async def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    env = ephemeral_env(["cms"]) | {"FAKE_IGNORE_SIGTERM": "1"}
    sup = Supervisor([fake("cms")], env=env, data_dir=tmp_path, out=io.StringIO(), stop_timeout=0.5)
    await sup.start()
    pid = sup.pid("cms")
    assert pid is not None
    await sup.stop()
    assert not alive(pid)
    assert sup.procs["cms"].process is not None
    assert sup.procs["cms"].process.returncode == -signal.SIGKILL


async def test_one_process_stops_stays_stopped_and_starts_again(tmp_path: Path) -> None:
    names = ["inventory", "catalog"]
    env = ephemeral_env(names)
    sup = Supervisor(
        [fake(n) for n in names], env=env, data_dir=tmp_path, out=io.StringIO(), backoff_base=0.1
    )
    await sup.start()
    try:
        old = sup.pid("inventory")
        assert old is not None
        await sup.stop_process("inventory")
        assert not alive(old) and sup.state("inventory") == "stopped"
        # Not restarted (a crash would be, after backoff_base), and the other keeps serving.
        await asyncio.sleep(0.5)
        assert sup.state("inventory") == "stopped"
        with pytest.raises(grpc.aio.AioRpcError):
            await health("inventory", env)
        assert await health("catalog", env) == health_pb2.HealthCheckResponse.SERVING
        await sup.start_process("inventory", within=15)
        assert sup.state("inventory") == "serving"
        assert sup.pid("inventory") not in (None, old)
        assert await health("inventory", env) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(RuntimeError):
            await sup.start_process("inventory")
    finally:
        pids = [sup.pid(n) for n in names]
        await sup.stop()
    assert all(pid is not None and not alive(pid) for pid in pids)


async def test_seeded_admin_credentials_are_shown_once(tmp_path: Path) -> None:
    (tmp_path / "admin-credentials.txt").write_text("admin@cleanse.in / s3cret-pass\n")
    for expected in (1, 0):
        out = io.StringIO()
        env = ephemeral_env(["auth"])
        sup = Supervisor([fake("auth")], env=env, data_dir=tmp_path, out=out)
        await sup.start()
        await sup.stop()
        assert out.getvalue().count("seeded admin: admin@cleanse.in / s3cret-pass") == expected


def test_internal_secret_is_generated_once(tmp_path: Path) -> None:
    first = ensure_internal_secret(tmp_path)
    assert ensure_internal_secret(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "internal-secret").stat().st_mode) == 0o600


def test_discover_lists_implemented_services_then_the_edge(tmp_path: Path) -> None:
    for name in ("auth", "cms"):
        (tmp_path / "services" / name).mkdir(parents=True)
        (tmp_path / "services" / name / "__main__.py").touch()
    (tmp_path / "services" / "order").mkdir(parents=True)  # not implemented
    assert [s.name for s in discover(tmp_path, env={})] == ["auth", "cms"]
    (tmp_path / "edge").mkdir()
    (tmp_path / "edge" / "__main__.py").touch()
    specs = discover(tmp_path, env={})
    assert [s.name for s in specs] == ["auth", "cms", "edge"]
    assert specs[0].argv[1:] == ("-m", "services.auth")
    assert specs[-1].argv[1:] == ("-m", "edge") and specs[-1].kind == "http"


def test_local_infrastructure_starts_first_unless_pointed_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "services" / "engagement").mkdir(parents=True)
    (tmp_path / "services" / "engagement" / "__main__.py").touch()
    (tmp_path / "services" / "engagement" / "smtp_sink.py").touch()
    specs = discover(tmp_path, env={})
    assert [(s.name, s.kind) for s in specs] == [("smtp", "tcp"), ("engagement", "grpc")]
    assert specs[0].argv[1:] == ("-m", "services.engagement.smtp_sink")
    # A real SMTP server configured: no local sink.
    elsewhere = discover(tmp_path, env={"CLEANSE_SMTP_ADDR": "mail.example.in:587"})
    assert [s.name for s in elsewhere] == ["engagement"]


@pytest.mark.parametrize("argv", [["list"]])
def test_cli_lists(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from mesh.cli import main

    assert main(argv) == 0


# --- replicas -----------------------------------------------------------------------------


async def health_at(addr: registry.Address) -> int:
    async with grpc.aio.insecure_channel(str(addr)) as ch:
        resp = await health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=2
        )
    return resp.status


async def test_a_service_with_two_replicas_runs_two_processes_each_on_its_own(
    tmp_path: Path,
) -> None:
    host = registry.DEFAULT_HOST
    env = registry.override_env(
        {"catalog": [registry.Address(host, free_port()) for _ in range(2)]},
        {"catalog": [registry.Address(host, free_port()) for _ in range(2)]},
    ) | {"PYTHONPATH": str(ROOT)}
    assert env["CLEANSE_CATALOG_REPLICAS"] == "2"
    out = io.StringIO()
    sup = Supervisor([fake("catalog")], env=env, data_dir=tmp_path, out=out, backoff_base=0.1)
    assert list(sup.procs) == ["catalog", "catalog#1"] == sup.replicas("catalog")
    await sup.start()
    try:
        addrs = registry.addresses("catalog", env)
        for key, addr in zip(sup.replicas("catalog"), addrs, strict=True):
            assert sup.state(key) == "serving"
            assert await health_at(addr) == health_pb2.HealthCheckResponse.SERVING
        pids = {k: sup.pid(k) for k in sup.replicas("catalog")}
        assert None not in pids.values() and len(set(pids.values())) == 2
        # Each knows which replica it is; each logs to a file of its own.
        first = json.loads((tmp_path / "catalog.env.json").read_text())
        second = json.loads((tmp_path / "catalog-1.env.json").read_text())
        assert (first["CLEANSE_REPLICA"], second["CLEANSE_REPLICA"]) == ("0", "1")
        assert first["CLEANSE_SERVICE_NAME"] == second["CLEANSE_SERVICE_NAME"] == "catalog"
        assert (tmp_path / "logs" / "catalog.log").exists()
        assert (tmp_path / "logs" / "catalog-1.log").exists()

        # Replica 1 crashes: it alone is restarted, replica 0 keeps its process.
        second_pid = pids["catalog#1"]
        assert second_pid is not None
        os.kill(second_pid, signal.SIGKILL)
        await eventually(lambda: sup.state("catalog#1").startswith("restarting"))
        await sup.wait_serving("catalog#1", within=15)
        assert sup.pid("catalog#1") not in (None, second_pid)
        assert sup.pid("catalog") == pids["catalog"] and sup.state("catalog") == "serving"
        assert sup.procs["catalog#1"].restarts == 1 and sup.procs["catalog"].restarts == 0
        assert await health_at(addrs[1]) == health_pb2.HealthCheckResponse.SERVING
        assert "exited with" in (tmp_path / "logs" / "catalog-1.log").read_text()

        # Replica 0 stopped on purpose: replica 1 serves on; replica 0 comes back alone.
        await sup.stop_process("catalog")
        with pytest.raises(grpc.aio.AioRpcError):
            await health_at(addrs[0])
        assert await health_at(addrs[1]) == health_pb2.HealthCheckResponse.SERVING
        await sup.start_process("catalog", within=15)
        assert await health_at(addrs[0]) == health_pb2.HealthCheckResponse.SERVING
    finally:
        all_pids = [sup.pid(k) for k in sup.replicas("catalog")]
        await sup.stop()
    assert all(pid is not None and not alive(pid) for pid in all_pids)
    text = out.getvalue()
    assert f"catalog#1    pid {second_pid}" in text and "restarting(1)" in text
    assert f"grpc {addrs[1]}" in sup.summary()


def test_replica_mistakes_are_refused_before_anything_starts(tmp_path: Path) -> None:
    host = registry.DEFAULT_HOST
    # Two addresses for three replicas.
    env = {
        "CLEANSE_CATALOG_REPLICAS": "3",
        "CLEANSE_CATALOG_ADDR": f"{host}:{free_port()},{host}:{free_port()}",
    }
    with pytest.raises(ValueError, match="lists 2 address"):
        Supervisor([fake("catalog")], env=env, data_dir=tmp_path, out=io.StringIO())
    # Two supervised processes on one port.
    port = free_port()
    env = {
        "CLEANSE_CATALOG_ADDR": f"{host}:{port}",
        "CLEANSE_PRICING_ADDR": f"{host}:{port}",
        "CLEANSE_CATALOG_METRICS_ADDR": f"{host}:{free_port()}",
        "CLEANSE_PRICING_METRICS_ADDR": f"{host}:{free_port()}",
    }
    with pytest.raises(ValueError, match="catalog and pricing both on"):
        Supervisor(
            [fake("catalog"), fake("pricing")], env=env, data_dir=tmp_path, out=io.StringIO()
        )


_KILLED_SUPERVISOR = """
import asyncio, json, sys
from pathlib import Path
from mesh.supervisor import ProcessSpec, Supervisor

async def main() -> None:
    env = json.loads(sys.argv[1])
    spec = ProcessSpec("catalog", (sys.executable, "-m", "tests.mesh.fake_service", "catalog"))
    sup = Supervisor([spec], env=env, data_dir=Path(sys.argv[2]))
    await sup.start()
    print(sup.procs["catalog"].pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_killed_supervisor_takes_its_services_with_it(tmp_path: Path) -> None:
    """SIGKILL the supervisor: its service gets SIGTERM from the kernel and exits, so
    the next `make run` does not find the port taken by an orphan. (And, while it
    ran, the supervisor ran no grpcio thread.)"""
    env = ephemeral_env(["catalog"])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _KILLED_SUPERVISOR,
        json.dumps(env),
        str(tmp_path),
        cwd=str(ROOT),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    child = 0
    while not child:  # the supervisor's table comes first, then the pid alone
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line, "the supervisor exited before its service served"
        if line.strip().isdigit():
            child = int(line)
    try:
        assert alive(child)
        # Its readiness checks used the lean gRPC client: grpcio's core, whose event
        # engine thread has crashed processes here (SIGSEGV in cygrpc), never started.
        threads = thread_names(proc.pid)
        assert not {t for t in threads if t.startswith(("event_engine", "grpc"))}, threads
        proc.kill()
        await proc.wait()
        await eventually(lambda: not alive(child))
    finally:
        if alive(child):  # the test failed: leave no orphan behind it either
            os.kill(child, signal.SIGKILL)
