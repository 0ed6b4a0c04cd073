"""`python -m bench.mesh_client`: the CPU a call between services costs its caller.

Starts the auth service (mesh.supervisor, SQLite in a temporary folder), then calls
GetJwks from this process, as a service would call another one: inside a served
call's context (a span, a deadline, a request id), through `mesh.client.stub`. Each
row runs BENCH_CALLS calls (default 5000, after 500 to warm up) and reports this
process's CPU time (time.process_time(): every thread, grpc's included) per call.
The machine may be shared, so CPU per call is the figure, not calls per second.

Rows: a bare grpc.aio stub (no interceptors: the floor grpc.aio sets), a bare stub
over mesh/h2grpc.py (the lean client's floor), then mesh.client over each gRPC
client it can use (CLEANSE_GRPC_CLIENT: lean, grpcio). One table per gRPC server the
auth service can run (CLEANSE_GRPC_SERVER; BENCH_SERVERS, default "lean,grpcio"):
the second figure of each cell is what serving the call cost.
BENCH_CONCURRENCY (default "1,16"): calls in flight at once. BENCH_LOOP (default
uvloop, as services run; or asyncio).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc

from bench.load import python_speed_ms
from mesh import registry
from mesh.supervisor import ProcessSpec, Supervisor


def _ints(name: str, default: str) -> list[int]:
    return [int(v) for v in os.environ.get(name, default).split(",") if v.strip()]


def _env(tmp: Path) -> dict[str, str]:
    host = registry.DEFAULT_HOST
    env = registry.override_env(
        {"auth": registry.free_address(host)},
        {"auth": registry.free_address(host)},
    )
    env.update(
        {
            "CLEANSE_DATA_DIR": str(tmp / "data"),
            "CLEANSE_AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'data' / 'auth.db'}",
            "CLEANSE_OTEL_EXPORTER": "none",
        }
    )
    return env


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of process `pid`, every thread (from /proc)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(
    call: Callable[[], Awaitable[Any]], n: int, concurrency: int, server_pid: int
) -> tuple[float, float]:
    """(client, server) CPU seconds per call over `n` calls, `concurrency` at a time."""

    async def worker(k: int) -> None:
        for _ in range(k):
            await call()

    async def batch(total: int) -> None:
        share, extra = divmod(total, concurrency)
        await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))

    await batch(max(n // 10, concurrency))  # warm up: connections, caches
    started, server = time.process_time(), _process_cpu(server_pid)
    await batch(n)
    return (time.process_time() - started) / n, (_process_cpu(server_pid) - server) / n


async def main() -> None:
    calls = _ints("BENCH_CALLS", "5000")[0]
    levels = _ints("BENCH_CONCURRENCY", "1,16")
    servers = [s.strip() for s in os.environ.get("BENCH_SERVERS", "lean,grpcio").split(",")]
    for server in filter(None, servers):
        await _table(server, calls, levels)
    print(f"this machine's Python speed: a million-step loop in {python_speed_ms():.1f} ms")


async def _table(server: str, calls: int, levels: list[int]) -> None:
    """The rows against an auth service running gRPC server `server`."""
    from opentelemetry import context as otel_context

    from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
    from mesh import client, deadlines, h2grpc
    from mesh import context as call_context
    from observability import configure_tracing
    from observability._server import _fast_context

    with tempfile.TemporaryDirectory(prefix="cleanse-bench-client-") as tmp:
        env = _env(Path(tmp)) | {"CLEANSE_GRPC_SERVER": server}
        sup = Supervisor([ProcessSpec.service("auth")], env=env, data_dir=Path(tmp) / "data")
        await sup.start()
        try:
            os.environ.update(env)
            os.environ["CLEANSE_INTERNAL_SECRET"] = sup.env["CLEANSE_INTERNAL_SECRET"]
            configure_tracing("bench")  # as a service: a tracer provider, no exporter
            client.configure("order")
            # As a handler would call: inside a served call's span, deadline, request id.
            otel_context.attach(_fast_context((("traceparent", f"00-{'ab' * 16}-{'cd' * 8}-01"),)))
            deadlines.set_deadline(3600.0)
            call_context.set_current(call_context.CallContext(request_id="bench-1"))

            request = auth_service_pb2.GetJwksRequest()
            address = str(registry.address("auth"))
            bare_channel = grpc.aio.insecure_channel(address)
            lean_channel = h2grpc.Channel(address)
            bare = auth_service_pb2_grpc.AuthServiceStub(bare_channel)
            lean = auth_service_pb2_grpc.AuthServiceStub(lean_channel)
            stub = client.stub("auth", auth_service_pb2_grpc.AuthServiceStub)
            rows: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = [
                ("grpc.aio stub, no interceptors", "", lambda: bare.GetJwks(request)),
                ("h2grpc stub, no mesh", "", lambda: lean.GetJwks(request, timeout=5)),
                ("mesh.client, lean", "lean", lambda: stub.GetJwks(request)),
                ("mesh.client, grpcio", "grpcio", lambda: stub.GetJwks(request)),
            ]
            pid = sup.procs["auth"].pid
            assert pid is not None
            print(
                f"GetJwks on the {server} gRPC server, {calls} calls per row; CPU per call "
                "in µs: the caller (time.process_time) / the auth service serving it "
                "(/proc, every thread)"
            )
            print(f"{'':34}" + "".join(f"{f'{c} in flight':>20}" for c in levels))
            for label, grpc_client, call in rows:
                if grpc_client:
                    client.update_settings(grpc_client=grpc_client)
                cells = []
                for c in levels:
                    mine, theirs = await _run(call, calls, c, pid)
                    cells.append(f"{mine * 1e6:>9.1f} /{theirs * 1e6:>7.1f}")
                print(f"{label:34}" + "".join(f"{c:>20}" for c in cells), flush=True)
            await bare_channel.close()
            await lean_channel.close()
            await client.close_all()
        finally:
            await sup.stop()


if __name__ == "__main__":
    if os.environ.get("BENCH_LOOP", "uvloop") == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
