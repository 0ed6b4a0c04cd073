"""`python -m bench.catalog`: the storefront's product page and search through the edge.

auth, catalog (its demo catalogue, loaded on first start), inventory (its demo stock)
and the edge run as separate processes (mesh.supervisor) on ephemeral loopback ports,
each service on its own SQLite database in a temporary folder. h2load (HTTP/1.1, as
`make bench` drives the edge) runs BENCH_CATALOG_CONNECTIONS connections (default 32,
one request in flight each) for BENCH_DURATION seconds (default 5) after BENCH_WARMUP
(default 1) against, in one run:

- GET /v1/auth/jwks            the foundation's cheap read (edge -> auth, from memory);
- GET /v1/products/{slug}      the product page (edge -> catalog -> inventory stock);
- GET /v1/search/products      full-text search with a typo (edge -> catalog).

Each answer is checked before it is timed (200, the expected slug in the body).
Printed: req/s, p50/p99, errors, and the ratio product-page req/s / cheap-read req/s
against the issue's target (>= 0.80; printed PASS/MISS, never asserted). Results go to
.bench/catalog.json. Knob: BENCH_CATALOG_EDGE_WORKERS (default 1).

The catalog caches each variant's stock answer for CLEANSE_CATALOG_STOCK_CACHE_SECONDS
(default 5 s, the service's default is kept), so at steady state most page views
do not call inventory; the cache's misses are part of the figure.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import load
from mesh import registry
from mesh.supervisor import ProcessSpec, Supervisor

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".bench" / "catalog.json"
TARGET_RATIO = 0.80  # product page rps / cheap read rps, same run
SERVICES = ("auth", "catalog", "inventory")
PRODUCT_SLUG = "kumkumadi-tailam"
SEARCH_QUERY = "ashwganda"  # one letter missing: the typo-tolerant path
SEARCH_EXPECTS = "ashwagandha-capsules"


def log(msg: str) -> None:
    print(f"[bench.catalog] {msg}", flush=True)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw.split(",")[0]) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected an integer") from None
    if value < 1:
        raise SystemExit(f"{name}={raw!r}: expected a positive integer")
    return value


@dataclass(frozen=True)
class Settings:
    connections: int
    duration_s: int
    warmup_s: int
    edge_workers: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            connections=_env_int("BENCH_CATALOG_CONNECTIONS", 32),
            duration_s=_env_int("BENCH_DURATION", 5),
            warmup_s=_env_int("BENCH_WARMUP", 1),
            edge_workers=_env_int("BENCH_CATALOG_EDGE_WORKERS", 1),
        )


@dataclass(frozen=True)
class Probe:
    key: str
    label: str
    path: str
    expect: str  # must appear in a 200 body


PATHS = (
    Probe("cheap_read", "GET /v1/auth/jwks (cheap read)", "/v1/auth/jwks", '"keys"'),
    Probe(
        "product_page",
        "GET /v1/products/{slug}",
        f"/v1/products/{PRODUCT_SLUG}",
        f'"slug":"{PRODUCT_SLUG}"',
    ),
    Probe(
        "search",
        "GET /v1/search/products",
        "/v1/search/products?" + urllib.parse.urlencode({"query": SEARCH_QUERY}),
        f'"slug":"{SEARCH_EXPECTS}"',
    ),
)


def mesh_env(tmp: Path, edge_workers: int) -> dict[str, str]:
    """Registry overrides (ephemeral ports) and one SQLite file per service in `tmp`."""
    host = os.environ.get("CLEANSE_HOST", registry.DEFAULT_HOST)
    env = registry.override_env(
        {n: registry.free_address(host) for n in (*SERVICES, "edge")},
        {n: registry.free_address(host) for n in SERVICES},
    )
    data = tmp / "data"
    env.update(
        {
            f"CLEANSE_{n.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{data / n}.db"
            for n in SERVICES
        }
    )
    env.update(
        {
            "CLEANSE_DATA_DIR": str(data),
            "CLEANSE_OTEL_EXPORTER": "none",
            "CLEANSE_LOG_LEVEL": os.environ.get("CLEANSE_LOG_LEVEL", "WARNING"),
            "CLEANSE_EDGE_WORKERS": str(edge_workers),
        }
    )
    return env


class CheckFailed(RuntimeError):
    pass


def check(url: str, expect: str, timeout: float = 10.0) -> int:
    """GET `url`: 200 with `expect` in the (compact JSON) body; the body's size."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        raise CheckFailed(f"GET {url}: HTTP {exc.code}: {exc.read()[:300]!r}") from exc
    compact = json.dumps(json.loads(body), separators=(",", ":"))
    if status != 200 or expect not in compact:
        raise CheckFailed(f"GET {url}: HTTP {status}, {expect!r} not in {compact[:300]}")
    return len(body)


async def check_eventually(url: str, expect: str, within: float = 30.0) -> int:
    deadline = time.monotonic() + within
    while True:
        try:
            return await asyncio.to_thread(check, url, expect)
        except (CheckFailed, OSError, ValueError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def run(settings: Settings, tmp: Path) -> dict[str, Any]:
    h2load = load.ensure_tool("h2load")
    env = mesh_env(tmp, settings.edge_workers)
    edge = registry.address("edge", env)
    sup = Supervisor(
        [*(ProcessSpec.service(n) for n in SERVICES), ProcessSpec.edge()],
        env=env,
        data_dir=tmp / "data",
        out=io.StringIO(),  # the state lines: not part of the report
        ready_timeout=120.0,
    )
    log(f"starting {', '.join(SERVICES)} and the edge (SQLite in {tmp}) ...")
    results: dict[str, load.Result] = {}
    sizes: dict[str, int] = {}
    try:
        await sup.start()
        for p in PATHS:
            sizes[p.key] = await check_eventually(edge.url + p.path, p.expect)
            log(f"{p.label}: 200, {sizes[p.key]} bytes, {p.expect} present")
        for p in PATHS:
            log(
                f"{p.label}: {settings.connections} connections, {settings.duration_s}s "
                f"(+{settings.warmup_s}s warm-up) ..."
            )
            r = await load.run(
                h2load,
                load.Load(
                    url=edge.url + p.path,
                    connections=settings.connections,
                    duration_s=settings.duration_s,
                    warmup_s=settings.warmup_s,
                    h1=True,
                ),
            )
            results[p.key] = r
            bad = f", NON-2XX/FAILED: {r.non_2xx}" if r.problems else ""
            log(f"  {r.rps:,.0f} req/s, p50 {r.p50_ms:.3f} ms, p99 {r.p99_ms:.3f} ms{bad}")
        # Still right after the load.
        for p in PATHS:
            await asyncio.to_thread(check, edge.url + p.path, p.expect)
        restarts = sum(p.restarts for p in sup.procs.values())
    finally:
        log("stopping ...")
        await sup.stop()
    return report(settings, results, sizes, restarts)


def report(
    settings: Settings, results: dict[str, load.Result], sizes: dict[str, int], restarts: int
) -> dict[str, Any]:
    print()
    print(
        f"Storefront reads through the edge ({settings.edge_workers} worker(s)); auth, catalog, "
        f"inventory on SQLite; h2load --h1, {settings.duration_s}s after {settings.warmup_s}s "
        f"warm-up; {os.cpu_count()} CPUs shared by all processes"
    )
    head = f"{'path':<34}{'conns':>6}{'req/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'bytes':>8}  errors"
    print(head)
    print("-" * len(head))
    for p in PATHS:
        r = results[p.key]
        errs = ", ".join(
            f"{'HTTP ' + str(k) if k > 0 else 'failed'}: {v}" for k, v in r.non_2xx.items()
        )
        nums = f"{r.rps:>11,.0f}{r.p50_ms:>9.3f}{r.p99_ms:>9.3f}{sizes[p.key]:>8}"
        print(f"{p.label:<34}{r.connections:>6}{nums}  {errs or 'none'}")
    ratio = results["product_page"].rps / results["cheap_read"].rps
    verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
    print()
    print(
        f"product page rps / cheap read rps at {settings.connections} connections = "
        f"{ratio:.2f}  (target >= {TARGET_RATIO})  {verdict}"
    )
    if restarts:
        print(f"WARNING: {restarts} process restart(s) during the run")
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": "sqlite",
        "machine": {"cpus": os.cpu_count(), "python": load.interpreter()},
        "settings": {
            "connections": settings.connections,
            "duration_s": settings.duration_s,
            "warmup_s": settings.warmup_s,
            "edge_workers": settings.edge_workers,
        },
        "paths": {p.key: p.path for p in PATHS},
        "results": {k: {**r.as_dict(), "body_bytes": sizes[k]} for k, r in results.items()},
        "product_page_over_cheap_read_rps": round(ratio, 3),
        "target_min": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
        "restarts": restarts,
    }


async def main() -> int:
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="cleanse-bench-catalog-") as tmp:
        data = await run(settings, Path(tmp))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=2) + "\n")
    log(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        log("interrupted; everything the bench started has been stopped")
        sys.exit(130)
