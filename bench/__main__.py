"""`make bench`: the foundation bench, then every sub-bench, each printing its table.

BENCH_SUITE (default "foundation,catalog,inventory,pricing,checkout") picks and
orders them: "foundation" is this module's GetJwks bench (below); any other name
runs `python -m bench.<name>` as its own process when bench/<name>.py exists
(catalog: product page and search through the edge; inventory: reservations per
second; pricing: CalculatePrice; checkout: orders per second end to end;
mesh_client: a service's CPU per call to another; http_client: the outside-party
HTTP client's CPU per request, mesh/http.py against httpx; postgres_transport: a
PostgreSQL round trip's CPU over loopback TCP and over the Unix socket). One
that fails is reported and the others still run; the exit status is non-zero only
when one crashed (a missed target is not a crash).

The foundation: GetJwks straight over gRPC, through our edge, and through Envoy.

One auth process serves all three paths. h2load drives each at 1 and at 32
connections (one request in flight per connection), then the ratios are printed
against the foundation targets (printed, never asserted). Results also go to
.bench/foundation.json.

Knobs (environment): BENCH_EDGE_WORKERS (default "1,2": edge worker counts to run),
BENCH_DURATION (seconds measured, default 5), BENCH_WARMUP (default 1),
BENCH_CONNECTIONS (default "1,32"), BENCH_ENVOY_CONCURRENCY (default 1),
BENCH_BACKEND ("auth", the real service, default; or "stub": bench/stub_auth.py, GetJwks
from memory, to see the proxies' own cost; results then go to .bench/foundation-stub.json).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import checks, envoy, load
from bench.load import log
from mesh import registry
from mesh.supervisor import ProcessSpec, Supervisor

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".bench" / "foundation.json"
TARGET_RPS_RATIO = 0.85  # edge rps / envoy rps at the high connection count
TARGET_ADDED_P50_MS = 0.5  # edge p50 - direct p50 at one connection
BACKEND_BOUND = 0.9  # envoy rps / direct rps above this: the backend, not the proxy, limits


def _ints(name: str, default: str) -> list[int]:
    raw = os.environ.get(name, default)
    try:
        values = [int(v) for v in raw.replace(" ", "").split(",") if v]
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected comma-separated integers") from None
    if not values or min(values) < 1:
        raise SystemExit(f"{name}={raw!r}: expected positive integers")
    return values


@dataclass(frozen=True)
class Settings:
    edge_workers: list[int]
    connections: list[int]
    duration_s: int
    warmup_s: int
    envoy_concurrency: int
    backend: str = "auth"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            edge_workers=_ints("BENCH_EDGE_WORKERS", "1,2"),
            connections=_ints("BENCH_CONNECTIONS", "1,32"),
            duration_s=_ints("BENCH_DURATION", "5")[0],
            warmup_s=_ints("BENCH_WARMUP", "1")[0],
            envoy_concurrency=_ints("BENCH_ENVOY_CONCURRENCY", "1")[0],
            backend=_backend(),
        )

    @property
    def out(self) -> Path:
        return OUT if self.backend == "auth" else OUT.with_name(f"foundation-{self.backend}.json")


def _backend() -> str:
    value = os.environ.get("BENCH_BACKEND", "auth")
    if value not in ("auth", "stub"):
        raise SystemExit(f"BENCH_BACKEND={value!r}: expected auth or stub")
    return value


@dataclass
class Row:
    key: str  # "direct", "envoy", "edge-w1", ...
    label: str
    results: dict[int, load.Result] = field(default_factory=dict)
    # Non-OK gRPC codes the auth service counted during each run, by connections.
    backend_errors: dict[int, dict[str, int]] = field(default_factory=dict)
    cut_off: dict[int, int] = field(default_factory=dict)  # CANCELLED at h2load's deadline
    baseline_p50_ms: float | None = None  # direct gRPC p50 measured right after this row
    restarts: int = 0


def mesh_env(tmp: Path) -> dict[str, str]:
    """Registry overrides: everything on ephemeral loopback ports, SQLite in `tmp`.

    CLEANSE_INTERNAL_SECRET: the supervisor generates a random one into the (temporary)
    data dir and hands it to every child.
    """
    host = os.environ.get("CLEANSE_HOST", registry.DEFAULT_HOST)

    def addr() -> registry.Address:
        return registry.free_address(host)

    # The edge serves /metrics on its own HTTP address: no separate override.
    env = registry.override_env(
        {n: addr() for n in ("auth", "edge", "envoy")}, {n: addr() for n in ("auth", "envoy")}
    )
    env.update(
        {
            "CLEANSE_DATA_DIR": str(tmp / "data"),
            "CLEANSE_AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'data' / 'auth.db'}",
            # No span export: Envoy exports none either. Log level: the services' default.
            "CLEANSE_OTEL_EXPORTER": "none",
        }
    )
    return env


def _restarts(sup: Supervisor) -> int:
    return sum(p.restarts for p in sup.procs.values())


async def _wait_rest(url: str, within: float = 30.0) -> list[str]:
    deadline = time.monotonic() + within
    while True:
        try:
            return await asyncio.to_thread(checks.rest_kids, url, 2.0)
        except (checks.CheckFailed, OSError, ValueError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


class Bench:
    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.s = settings
        self.tmp = tmp
        self.env = mesh_env(tmp)
        self.h2load = load.ensure_tool("h2load")
        self.nghttp = load.ensure_tool("nghttp")
        self.body = tmp / "getjwks.grpc"
        self.body.write_bytes(checks.grpc_frame())
        self.rows: list[Row] = []
        self.kids: list[str] = []

    def _addr(self, name: str) -> registry.Address:
        return registry.address(name, self.env)

    async def _measure(self, row: Row, base: load.Load, *sups: Supervisor) -> None:
        s = self.s
        restarts = sum(_restarts(sup) for sup in sups)
        for c in s.connections:
            log(f"{row.label}, {c} connection(s), {s.duration_s}s (+{s.warmup_s}s warm-up) ...")
            before = await asyncio.to_thread(checks.settled_handled, self.env)
            r = await load.run(self.h2load, replace(base, connections=c))
            after = await asyncio.to_thread(checks.settled_handled, self.env)
            row.results[c] = r
            bad = f", NON-2XX/FAILED: {r.non_2xx}" if r.problems else ""
            log(f"  {r.rps:,.0f} req/s, p50 {r.p50_ms:.3f} ms, p99 {r.p99_ms:.3f} ms{bad}")
            if before is None or after is None:
                if self.s.backend == "auth":
                    log("  (auth /metrics not reachable: gRPC status codes not cross-checked)")
                continue
            codes = {k: v for k, v in checks.delta(before, after).items() if k != "OK"}
            # h2load stops at the deadline with up to one request in flight per connection;
            # the backend sees those as CANCELLED. More than that is an error.
            if codes.get("CANCELLED", 0) <= c:
                row.cut_off[c] = codes.pop("CANCELLED", 0)
            if codes:
                row.backend_errors[c] = codes
                log(f"  AUTH ANSWERED NON-OK gRPC CODES: {codes}")
        row.restarts = sum(_restarts(sup) for sup in sups) - restarts
        if row.restarts:
            log(f"  WARNING: {row.restarts} process restart(s) during this run")
        self.rows.append(row)

    async def run(self) -> None:
        cfg = envoy.write_config(self.tmp / "envoy.yaml", self.env)
        done = envoy.validate(cfg)
        if done.returncode != 0:
            raise RuntimeError(f"envoy rejected {cfg}:\n{done.stdout}{done.stderr}")
        envoy_cmd = envoy.command(cfg, concurrency=self.s.envoy_concurrency)
        backends = Supervisor(
            [self._backend_spec(), ProcessSpec("envoy", tuple(envoy_cmd), kind="http")],
            env=self.env,
            data_dir=self.tmp / "data",
            ready_timeout=90.0,
        )
        log(
            f"starting {self.s.backend} on {self._addr('auth')} and envoy on "
            f"{self._addr('envoy')} ..."
        )
        try:
            await backends.start()
            await self._verify_backends()
            await self._measure(Row("direct", "direct gRPC (h2c)"), self._direct_load(), backends)
            await self._measure(
                Row("envoy", f"envoy transcoder (concurrency {self.s.envoy_concurrency})"),
                self._rest_load("envoy"),
                backends,
            )
            for workers in self.s.edge_workers:
                await self._edge(workers, backends)
        finally:
            log("stopping auth and envoy ...")
            await backends.stop()

    def _direct_load(self, connections: int = 1) -> load.Load:
        return load.Load(
            url=f"{self._addr('auth').url}{checks.GRPC_PATH}",
            connections=connections,
            duration_s=self.s.duration_s,
            warmup_s=self.s.warmup_s,
            data_file=self.body,
            headers=checks.GRPC_HEADERS,
        )

    def _backend_spec(self) -> ProcessSpec:
        if self.s.backend == "stub":
            return ProcessSpec("auth", (sys.executable, "-m", "bench.stub_auth"))
        return ProcessSpec.service("auth")

    def _rest_load(self, name: str) -> load.Load:
        return load.Load(
            url=f"{self._addr(name).url}{checks.REST_PATH}",
            connections=1,
            duration_s=self.s.duration_s,
            warmup_s=self.s.warmup_s,
            h1=True,
        )

    async def _verify_backends(self) -> None:
        self.kids = await asyncio.to_thread(checks.grpc_kids, self.env)
        log(f"gRPC GetJwks OK: {len(self.kids)} key(s) {self.kids}")
        url = f"{self._addr('auth').url}{checks.GRPC_PATH}"
        status = await asyncio.to_thread(checks.raw_h2c_status, self.nghttp, url, self.body)
        if status != 0:
            raise checks.CheckFailed(f"raw h2c GetJwks (as h2load sends it): grpc-status {status}")
        log("raw h2c request shaped like the load answers grpc-status 0")
        kids = await _wait_rest(f"{self._addr('envoy').url}{checks.REST_PATH}")
        if kids != self.kids:
            raise checks.CheckFailed(f"envoy returned keys {kids}, gRPC {self.kids}")
        log("envoy GET /v1/auth/jwks OK (same keys)")

    async def _edge(self, workers: int, backends: Supervisor) -> None:
        env = {**self.env, "CLEANSE_EDGE_WORKERS": str(workers)}
        sup = Supervisor([ProcessSpec.edge()], env=env, data_dir=self.tmp / "data")
        log(f"starting edge with {workers} worker(s) on {self._addr('edge')} ...")
        try:
            await sup.start()
            kids = await _wait_rest(f"{self._addr('edge').url}{checks.REST_PATH}")
            if kids != self.kids:
                raise checks.CheckFailed(f"edge returned keys {kids}, gRPC {self.kids}")
            log("edge GET /v1/auth/jwks OK (same keys)")
            row = Row(f"edge-w{workers}", f"edge ({workers} worker{'s' if workers > 1 else ''})")
            await self._measure(row, self._rest_load("edge"), sup, backends)
            # The backend's latency drifts on a shared machine: re-measure direct gRPC at
            # one connection right after the edge, and compare the p50s of adjacent runs.
            lo = min(self.s.connections)
            log(f"direct gRPC again, {lo} connection(s), as the edge's latency baseline ...")
            again = await load.run(self.h2load, self._direct_load(lo))
            row.baseline_p50_ms = again.p50_ms
            bad = f", NON-2XX/FAILED: {again.non_2xx}" if again.problems else ""
            log(f"  {again.rps:,.0f} req/s, p50 {again.p50_ms:.3f} ms{bad}")
        finally:
            log("stopping edge ...")
            await sup.stop()

    # --- report --------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        lo, hi = min(self.s.connections), max(self.s.connections)
        rows = {r.key: r for r in self.rows}
        print()
        backend = "the auth service" if self.s.backend == "auth" else "bench/stub_auth.py"
        print(
            f"GetJwks ({checks.SERVICE}/{checks.METHOD}; REST GET {checks.REST_PATH}),"
            f" backend: {backend}"
        )
        print(
            f"h2load, {self.s.duration_s}s measured after {self.s.warmup_s}s warm-up, "
            f"1 request in flight per connection; {os.cpu_count()} CPUs shared by all processes"
        )
        head = f"{'path':<34}{'conns':>6}{'req/s':>11}{'p50 ms':>9}{'p99 ms':>9}  errors"
        print(head)
        print("-" * len(head))
        for r in self.rows:
            for c, res in r.results.items():
                errs = {f"HTTP {k}" if k > 0 else "failed": v for k, v in res.non_2xx.items()}
                errs |= {f"grpc {k}": v for k, v in r.backend_errors.get(c, {}).items()}
                err = "none" if not errs else ", ".join(f"{k}: {v}" for k, v in errs.items())
                nums = f"{res.rps:>11,.0f}{res.p50_ms:>9.3f}{res.p99_ms:>9.3f}"
                print(f"{r.label:<34}{c:>6}{nums}  {err}")
        print()
        ratios: dict[str, Any] = {}
        direct, env_row = rows.get("direct"), rows.get("envoy")
        for w in self.s.edge_workers:
            edge = rows.get(f"edge-w{w}")
            if not (edge and direct and env_row):
                continue
            rps_ratio = edge.results[hi].rps / env_row.results[hi].rps
            base = edge.baseline_p50_ms or direct.results[lo].p50_ms
            added = edge.results[lo].p50_ms - base
            ok_rps = rps_ratio >= TARGET_RPS_RATIO
            ok_p50 = added <= TARGET_ADDED_P50_MS
            ratios[f"edge-w{w}"] = {
                "edge_over_envoy_rps": round(rps_ratio, 3),
                "edge_minus_direct_p50_ms": round(added, 3),
                "direct_p50_ms_adjacent": round(base, 3),
                "rps_target_met": ok_rps,
                "p50_target_met": ok_p50,
            }
            verdict = {True: "PASS", False: "MISS"}
            print(f"edge, {w} worker(s) vs envoy --concurrency {self.s.envoy_concurrency}:")
            print(
                f"  edge rps / envoy rps at {hi} connections = {rps_ratio:.2f}"
                f"  (target >= {TARGET_RPS_RATIO})  {verdict[ok_rps]}"
            )
            print(
                f"  edge p50 - direct p50 at {lo} connection = {added:+.3f} ms"
                f"  (target <= {TARGET_ADDED_P50_MS} ms; direct re-measured next to it:"
                f" {base:.3f} ms)  {verdict[ok_p50]}"
            )
        if direct and env_row and lo in direct.results and lo in env_row.results:
            env_added = env_row.results[lo].p50_ms - direct.results[lo].p50_ms
            ratios["envoy_minus_direct_p50_ms"] = round(env_added, 3)
            print(f"(reference: envoy p50 - direct p50 at {lo} connection = {env_added:+.3f} ms)")
        if direct and env_row and hi in direct.results and hi in env_row.results:
            share = env_row.results[hi].rps / direct.results[hi].rps
            ratios["envoy_over_direct_rps"] = round(share, 3)
            if share >= BACKEND_BOUND:
                print(
                    f"NOTE: envoy reaches {share:.0%} of direct gRPC's req/s at {hi} connections:"
                    " the auth process is the bottleneck, so the rps ratio measures the backend"
                    " more than the proxies."
                )
        cut = {r.key: sum(r.cut_off.values()) for r in self.rows if any(r.cut_off.values())}
        if cut:
            print(f"(in flight at h2load's deadline, so CANCELLED at auth; not errors: {cut})")
        return {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rpc": f"{checks.SERVICE}/{checks.METHOD}",
            "backend": self.s.backend,
            "rest": f"GET {checks.REST_PATH}",
            "machine": {
                "cpus": os.cpu_count(),
                "python": load.interpreter(),
                "envoy": _version([str(envoy.ENVOY_BIN), "--version"]).split("version: ")[-1],
                "h2load": _version([self.h2load, "--version"]),
            },
            "settings": {
                "duration_s": self.s.duration_s,
                "warmup_s": self.s.warmup_s,
                "connections": self.s.connections,
                "edge_workers": self.s.edge_workers,
                "envoy_concurrency": self.s.envoy_concurrency,
            },
            "targets": {
                "edge_over_envoy_rps_min": TARGET_RPS_RATIO,
                "edge_minus_direct_p50_ms_max": TARGET_ADDED_P50_MS,
            },
            "results": {
                r.key: {
                    "label": r.label,
                    "by_connections": {str(c): res.as_dict() for c, res in r.results.items()},
                    "backend_non_ok": {str(c): e for c, e in r.backend_errors.items()},
                    "cancelled_at_cut_off": {str(c): n for c, n in r.cut_off.items()},
                    "restarts": r.restarts,
                }
                for r in self.rows
            },
            "ratios": ratios,
        }


def _version(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    return (done.stdout or done.stderr).strip().splitlines()[-1] if done.stdout else "?"


def write_json(data: Mapping[str, Any], path: Path = OUT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    log(f"wrote {path.relative_to(ROOT)}")


def _cancel_on_signals() -> None:
    """Ctrl-C / SIGTERM cancel the run once, so teardown runs; later signals don't cut it."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    assert task is not None
    cancelled = False

    def interrupt() -> None:
        nonlocal cancelled
        if cancelled:
            log("still stopping the processes ...")
            return
        cancelled = True
        log("interrupted: stopping everything ...")
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)


async def main() -> int:
    settings = Settings.from_env()
    _cancel_on_signals()
    with tempfile.TemporaryDirectory(prefix="cleanse-bench-") as tmp:
        bench = Bench(settings, Path(tmp))
        log(
            f"edge workers {settings.edge_workers}, envoy --concurrency "
            f"{settings.envoy_concurrency}, connections {settings.connections}"
        )
        complete = False
        try:
            await bench.run()
            complete = True
        finally:
            if bench.rows:
                write_json({**bench.report(), "complete": complete}, settings.out)
    return 0


# --- the suite: the foundation, then the sub-benches ----------------------------------

SUITE_DEFAULT = "foundation,catalog,inventory,pricing,checkout"
INTERRUPTED = 130


class Interrupted(Exception):
    pass


def suite(env: Mapping[str, str] | None = None) -> list[str]:
    raw = (os.environ if env is None else env).get("BENCH_SUITE", SUITE_DEFAULT)
    names = [n for n in raw.replace(" ", "").split(",") if n]
    bad = [n for n in names if not n.isidentifier()]
    if not names or bad:
        raise SystemExit(f"BENCH_SUITE={raw!r}: expected comma-separated bench names")
    return names


def _foundation() -> int:
    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; everything the bench started has been stopped")
        raise Interrupted from None


def _sub_bench(name: str) -> int | None:
    """Run `python -m bench.<name>`; its exit status, or None when there is no such bench."""
    if not (ROOT / "bench" / f"{name}.py").is_file():
        return None
    proc = subprocess.Popen([sys.executable, "-m", f"bench.{name}"], cwd=ROOT)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the child too (same process group): let it clean up.
        proc.wait()
        raise Interrupted from None
    if code in (INTERRUPTED, -signal.SIGINT):
        raise Interrupted
    return code


def run_suite(names: list[str]) -> int:
    outcomes: dict[str, str] = {}
    for name in names:
        print(flush=True)
        log(f"===== {name} =====")
        try:
            if name == "foundation":
                code: int | None = _foundation()
            else:
                code = _sub_bench(name)
        except Interrupted:
            log(f"interrupted during {name}: the rest of the suite is skipped")
            return INTERRUPTED
        except SystemExit as exc:  # a bad knob: reported like a crash
            log(f"{name}: {exc}")
            code = exc.code if isinstance(exc.code, int) and exc.code else 1
        except Exception:  # one crash must not hide the other figures
            traceback.print_exc()
            code = 1
        if code is None:
            outcomes[name] = f"skipped (no bench/{name}.py)"
        else:
            outcomes[name] = "ok" if code == 0 else f"CRASHED (exit {code})"
    print(flush=True)
    log("suite: " + ", ".join(f"{n} {o}" for n, o in outcomes.items()))
    return 1 if any(o.startswith("CRASHED") for o in outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(run_suite(suite()))
