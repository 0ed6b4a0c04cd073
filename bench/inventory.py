"""`python -m bench.inventory`: ReserveStock per second on PostgreSQL.

One inventory process (`python -m services.inventory`, its own fresh PostgreSQL
database on the registry's "postgres" address, demo seeding off) is driven over
real gRPC by BENCH_CLIENTS concurrent clients (default 32, each one call in
flight; internal service token as the order service would send) for
BENCH_DURATION seconds (default 10) after BENCH_WARMUP seconds (default 1), in two
scenarios:

- hot:    every reservation is for the same SKU (one stock row: row-lock bound);
- spread: each reservation picks one of 1,000 SKUs at random.

Each reservation is one unit with a fresh request id. Printed: reservations/s,
p50/p99 latency, and errors by code (printed, never asserted). Results also go
to .bench/inventory.json. Without a reachable PostgreSQL it says so and exits 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.load import percentile
from cleanse.inventory.v1 import reservation_service_pb2, reservation_service_pb2_grpc
from mesh import registry
from mesh.db import Database, create_postgres_database, drop_postgres_database, postgres_url
from mesh.identity import INTERNAL_HEADER, InternalTokens

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".bench" / "inventory.json"
SPREAD_SKUS = 1000
HOT_SKU = "var_bench-hot"
STOCK_PER_SKU = 10_000_000  # never runs out within a bounded run


def log(msg: str) -> None:
    print(f"[bench.inventory] {msg}", flush=True)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected an integer") from None
    if value < 1:
        raise SystemExit(f"{name}={raw!r}: expected a positive integer")
    return value


def _free_address() -> registry.Address:
    return registry.free_address(os.environ.get("CLEANSE_HOST", registry.DEFAULT_HOST))


@dataclass(frozen=True)
class Result:
    scenario: str
    clients: int
    seconds: float
    reservations: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]


async def postgres_up() -> bool:
    import asyncpg

    addr = registry.address("postgres")
    try:
        conn = await asyncpg.connect(
            user="postgres", host=addr.host, port=addr.port, database="postgres", timeout=3
        )
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def prepare(url: str) -> None:
    """Migrate and load one warehouse per demo region with stock for every bench SKU."""
    from services.inventory.models import Stock, Warehouse
    from services.inventory.seed import DEMO_WAREHOUSES

    db = Database("inventory", url)
    try:
        await db.migrate()
        skus = [HOT_SKU, *(f"var_bench-{i:04d}" for i in range(SPREAD_SKUS))]
        async with db.transaction() as s:
            for w in DEMO_WAREHOUSES:
                s.add(Warehouse(**w, active=True))
            await s.flush()
            for sku in skus:
                s.add(
                    Stock(
                        variant_id=sku,
                        warehouse_id=DEMO_WAREHOUSES[0]["id"],
                        on_hand=STOCK_PER_SKU,
                        reserved=0,
                        safety_stock=0,
                        reorder_point=0,
                        backorder_allowed=False,
                        backorder_limit=0,
                        backordered=0,
                        in_transit=0,
                        low_stock_alerted=False,
                    )
                )
    finally:
        await db.dispose()


async def wait_serving(address: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with grpc.aio.insecure_channel(address) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            try:
                resp = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"inventory did not become SERVING at {address} within {within:.0f}s")


async def drive(
    address: str, tokens: InternalTokens, scenario: str, clients: int, warmup: float, seconds: float
) -> Result:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    rng = random.Random(42)
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    # One channel per 8 clients: several HTTP/2 connections, like several order replicas.
    channels = [grpc.aio.insecure_channel(address) for _ in range(max(1, clients // 8))]
    stubs = [reservation_service_pb2_grpc.ReservationServiceStub(ch) for ch in channels]

    async def client(n: int) -> None:
        stub = stubs[n % len(stubs)]
        while True:
            now = time.monotonic()
            if now >= stop_at:
                return
            sku = HOT_SKU if scenario == "hot" else f"var_bench-{rng.randrange(SPREAD_SKUS):04d}"
            req = reservation_service_pb2.ReserveStockRequest(
                request_id=secrets.token_hex(12),
                lines=[reservation_service_pb2.ReserveLine(variant_id=sku, quantity=1)],
                delivery_pincode="560034",
            )
            t0 = time.perf_counter()
            try:
                await stub.ReserveStock(
                    req, metadata=((INTERNAL_HEADER, tokens.mint()),), timeout=10
                )
                code = "OK"
            except grpc.aio.AioRpcError as exc:
                code = exc.code().name
            elapsed = time.perf_counter() - t0
            if now >= measure_from:
                if code == "OK":
                    latencies.append(elapsed)
                else:
                    errors[code] += 1

    try:
        await asyncio.gather(*(client(i) for i in range(clients)))
    finally:
        for ch in channels:
            await ch.close()
    return Result(
        scenario=scenario,
        clients=clients,
        seconds=seconds,
        reservations=len(latencies),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 2) if latencies else float("nan"),
        p99_ms=round(percentile(latencies, 99) * 1000, 2) if latencies else float("nan"),
        errors=dict(errors),
    )


async def main() -> int:
    clients = _env_int("BENCH_CLIENTS", 32)
    seconds = _env_int("BENCH_DURATION", 10)
    warmup = _env_int("BENCH_WARMUP", 1)
    if not await postgres_up():
        log(f"PostgreSQL is not reachable at {registry.address('postgres')}: skipped")
        return 0
    url = postgres_url(f"cleanse_bench_inventory_{secrets.token_hex(4)}")
    from sqlalchemy.engine import make_url

    await create_postgres_database(make_url(url))
    secret = secrets.token_urlsafe(48)
    addr = _free_address()
    env = dict(os.environ)
    env.update(
        registry.override_env(
            # Nobody listens at the catalog and engagement addresses: the bench needs neither.
            {"inventory": addr, "catalog": _free_address(), "engagement": _free_address()},
            {"inventory": _free_address()},
        )
    )
    env.update(
        CLEANSE_INVENTORY_DATABASE_URL=url,
        CLEANSE_INVENTORY_SEED_DEMO="0",
        CLEANSE_INTERNAL_SECRET=secret,
        CLEANSE_OTEL_EXPORTER="none",
        CLEANSE_LOG_LEVEL=os.environ.get("CLEANSE_LOG_LEVEL", "WARNING"),
    )
    proc: asyncio.subprocess.Process | None = None
    results: list[Result] = []
    try:
        log(f"preparing {SPREAD_SKUS + 1} SKUs in {make_url(url).database}")
        await prepare(url)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.inventory",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await wait_serving(str(addr))
        tokens = InternalTokens("order", secret)
        for scenario in ("hot", "spread"):
            log(f"{scenario}: {clients} clients, {warmup}s warm-up + {seconds}s")
            results.append(await drive(str(addr), tokens, scenario, clients, warmup, seconds))
    finally:
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await drop_postgres_database(url)
    print()
    print(f"{'scenario':<8} {'clients':>7} {'res/s':>9} {'p50 ms':>8} {'p99 ms':>8}  errors")
    for r in results:
        errs = ", ".join(f"{k}={v}" for k, v in sorted(r.errors.items())) or "-"
        row = f"{r.scenario:<8} {r.clients:>7} {r.rps:>9.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
        print(f"{row}  {errs}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    log(f"results written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
