"""`python -m bench.postgres_transport`: what a PostgreSQL round trip costs, by transport.

Services reach a PostgreSQL on this machine over its Unix socket
(`mesh.db.postgres_url`, CLEANSE_POSTGRES_SOCKET_DIR) rather than loopback TCP. This
bench shows why: on uvloop, as the services run, one asyncpg connection per
transport runs BENCH_CALLS (default 20000, after 500 to warm up) sequential
executions of a prepared one-row statement, and the table gives, per round trip,
the wall time, this process's CPU (time.process_time) and the server backend's CPU
(/proc/<backend pid>/stat). Best of BENCH_ROUNDS (default 3) rounds per row: the
machine may be shared. Results go to .bench/postgres_transport.json. Without a
reachable PostgreSQL, or without its socket, it says so and exits 0.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import asyncpg
import uvloop

from bench.load import python_speed_ms
from mesh import registry
from mesh.db import DEFAULT_POSTGRES_SOCKET_DIR, POSTGRES_SOCKET_DIR_ENV, postgres_socket_dir

OUT = Path(__file__).resolve().parents[1] / ".bench" / "postgres_transport.json"
_TICK = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    """CPU seconds the backend process `pid` has used (PostgreSQL runs here)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


async def _measure(host: str, port: int, calls: int) -> dict[str, float]:
    """Per round trip, in microseconds: wall, client CPU, backend CPU."""
    conn = await asyncpg.connect(user="postgres", host=host, port=port, database="postgres")
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        stmt = await conn.prepare("SELECT $1::int + 1")
        for i in range(500):
            await stmt.fetchval(i)
        cpu0, backend0, wall0 = time.process_time(), _backend_cpu(backend), time.perf_counter()
        for i in range(calls):
            await stmt.fetchval(i)
        wall = time.perf_counter() - wall0
        return {
            "wall_us": wall / calls * 1e6,
            "client_cpu_us": (time.process_time() - cpu0) / calls * 1e6,
            "backend_cpu_us": (_backend_cpu(backend) - backend0) / calls * 1e6,
        }
    finally:
        await conn.close()


async def main() -> None:
    addr = registry.address("postgres")
    # Both ways whatever the setting says: an empty one (TCP for the services) means
    # the default folder here.
    wanted = os.environ.get(POSTGRES_SOCKET_DIR_ENV) or DEFAULT_POSTGRES_SOCKET_DIR
    folder = postgres_socket_dir({**os.environ, POSTGRES_SOCKET_DIR_ENV: wanted})
    calls = int(os.environ.get("BENCH_CALLS", "20000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    try:
        await (await asyncpg.connect(user="postgres", host=addr.host, port=addr.port)).close()
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"[bench.postgres_transport] PostgreSQL is not reachable at {addr}: {exc}; skipped")
        return
    if folder is None:
        print(f"[bench.postgres_transport] no socket of PostgreSQL at {addr} in {wanted}: skipped")
        return
    rows = {f"TCP {addr}": addr.host, f"Unix socket in {folder}": folder}
    best: dict[str, dict[str, float]] = {}
    for n in range(rounds):
        print(f"[bench.postgres_transport] round {n + 1} of {rounds}: {calls} round trips each")
        for name, host in rows.items():
            got = await _measure(host, addr.port, calls)
            if name not in best or got["client_cpu_us"] < best[name]["client_cpu_us"]:
                best[name] = got
    print()
    print(f"One prepared statement, {calls} round trips in a row (best of {rounds}), µs each")
    print(f"{'transport':34s} {'wall':>8s} {'client CPU':>11s} {'backend CPU':>12s}")
    for name, got in best.items():
        print(
            f"{name:34s} {got['wall_us']:8.1f} {got['client_cpu_us']:11.1f} "
            f"{got['backend_cpu_us']:12.1f}"
        )
    speed = python_speed_ms()
    print(f"this machine's Python speed: a million-step loop in {speed:.1f} ms")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"rows": best, "calls": calls, "python_ms": speed}, indent=2))
    print(f"[bench.postgres_transport] wrote {OUT.relative_to(OUT.parents[1])}")


if __name__ == "__main__":
    uvloop.run(main())
