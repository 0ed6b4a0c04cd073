"""`python -m bench.checkout`: checkout end to end through the edge on PostgreSQL.

Every service (auth, catalog, inventory, pricing, settings, order, shipping,
engagement with the local SMTP sink) and the edge run as processes
(mesh.supervisor) on ephemeral loopback ports, each service on its own fresh
PostgreSQL database (dropped afterwards; reached as mesh.db.postgres_url says: a
server on this machine over its Unix socket, CLEANSE_POSTGRES_SOCKET_DIR= for TCP;
the table's title says which); the order service talks to a fake
Razorpay (tests/support/fake_razorpay.py) served by a thread of this process. The
demo variant's stock is set to millions through inventory's admin route, so it
never runs out.

BENCH_SHOPPERS (default 16) guest shoppers, each on its own HTTP/1.1 keep-alive
connection (bench/http1.py: a load generator's client, lighter than httpx), loop
through the edge for BENCH_DURATION seconds (default 10) after BENCH_WARMUP seconds
(default 2):

    POST /v1/carts                               create a guest cart
    POST /v1/carts/{id}:addLine                  one line
    POST /v1/checkoutSessions                    address, razorpay_upi: quote + reservation
    POST /v1/checkoutSessions/{id}:placeOrder    the saga: Razorpay order, PENDING_PAYMENT
    (fake Razorpay: the customer pays)           payment id + checkout signature
    POST /v1/orders/{id}:confirmPayment          signature, capture, CONFIRMED

A checkout counts when confirmPayment answers the order CONFIRMED and paid; every
other outcome is a failure counted by step and reason and printed. Printed: orders/s
(checkouts completed inside the measured window / its length), p50/p99 of each step
and of the whole checkout, the failure table, CPU use by process during the window
(the load generator's own share among them; the SMTP sink's and the fake
Razorpay's are the outside world's, shown as "bench: ..." and not counted as the
mesh's), and PASS/MISS against the issue's
target of 50 orders/s (printed, never asserted). Results go to .bench/checkout.json.
Without a reachable PostgreSQL it says so and exits 0.

Knobs: BENCH_SHOPPERS, BENCH_DURATION, BENCH_WARMUP, BENCH_CHECKOUT_EDGE_WORKERS
(default: the edge's own default), BENCH_ORDER_REPLICAS (default
DEFAULT_ORDER_REPLICAS: order service processes, each on its own ports, the edge
and the other services spreading their calls over them; services/order/README.md,
"Performance"), CLEANSE_LOG_LEVEL (default WARNING). The CPU table shows each
order replica (order, order#1, ...) and their sum.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import load
from bench.http1 import Http1Client, HttpError, Response
from bench.load import percentile, python_speed_ms
from mesh import registry
from mesh.supervisor import ProcessSpec, Supervisor

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".bench" / "checkout.json"
TARGET_ORDERS_PER_S = 50.0
# Order service replicas when BENCH_ORDER_REPLICAS is not set: whichever measured
# better on the 2-core VM. One: two replicas used the whole machine but cost more CPU
# per order (two event loops, two grpc poller threads, two pools), so they did not
# raise orders/s there (services/order/README.md, "Performance").
DEFAULT_ORDER_REPLICAS = 1
SERVICES = (
    "auth",
    "catalog",
    "inventory",
    "pricing",
    "settings",
    "order",
    "shipping",
    "engagement",
)
PRODUCT_SLUG = "kumkumadi-tailam"
WAREHOUSES = ("blr-1", "bhw-1", "ggn-1")
STOCK = 1_000_000  # the admin route's maximum per warehouse
PAYMENT_METHOD = "razorpay_upi"
STEPS = ("create_cart", "add_line", "checkout_session", "place_order", "pay", "confirm_payment")
ADDRESS = {
    "recipientName": "Meera Iyer",
    "phone": "9876543210",
    "line1": "12, 4th Cross, Koramangala 5th Block",
    "city": "Bengaluru",
    "stateCode": "KA",
    "pincode": "560034",
    "countryCode": "IN",
}
DB_PREFIX = "cleanse_bench_checkout_"
LOADGEN_BOUND = 0.5  # cores: the bench process using more than this is a bottleneck, say so
IDLE_S = 3.0  # the mesh's CPU at rest is measured this long before the load
# Processes the bench starts in place of the outside world: their CPU is the bench's,
# not the mesh's (as the fake Razorpay's is).
OUTSIDE_PARTIES = {"smtp": "bench: SMTP sink"}
SHARED_BOUND = 0.3  # cores used outside the bench: the machine was not ours alone, say so


def log(msg: str) -> None:
    print(f"[bench.checkout] {msg}", flush=True)


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
    shoppers: int
    duration_s: int
    warmup_s: int
    edge_workers: int | None
    order_replicas: int = 1

    @classmethod
    def from_env(cls) -> Settings:
        workers = os.environ.get("BENCH_CHECKOUT_EDGE_WORKERS", "").strip()
        replicas = _env_int("BENCH_ORDER_REPLICAS", DEFAULT_ORDER_REPLICAS)
        if replicas > registry.MAX_REPLICAS:
            raise SystemExit(f"BENCH_ORDER_REPLICAS={replicas}: at most {registry.MAX_REPLICAS}")
        return cls(
            shoppers=_env_int("BENCH_SHOPPERS", 16),
            duration_s=_env_int("BENCH_DURATION", 10),
            warmup_s=_env_int("BENCH_WARMUP", 2),
            edge_workers=_env_int("BENCH_CHECKOUT_EDGE_WORKERS", 1) if workers else None,
            order_replicas=replicas,
        )


def postgres_transport() -> str:
    """How the services reach PostgreSQL (mesh.db.postgres_socket_dir)."""
    from mesh.db import POSTGRES_SOCKET_DIR_ENV, postgres_socket_dir

    folder = postgres_socket_dir()
    if folder:
        return f"over its Unix socket in {folder}; {POSTGRES_SOCKET_DIR_ENV}= for TCP"
    return f"over TCP to {registry.address('postgres')}"


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


@contextlib.asynccontextmanager
async def databases(names: tuple[str, ...]) -> AsyncIterator[dict[str, str]]:
    """One fresh PostgreSQL database per service, dropped afterwards."""
    from sqlalchemy.engine import make_url

    from mesh.db import create_postgres_database, drop_postgres_database, postgres_url

    tag = secrets.token_hex(4)
    urls: dict[str, str] = {}
    try:
        for n in names:
            url = postgres_url(f"{DB_PREFIX}{n}_{tag}")
            await create_postgres_database(make_url(url))
            urls[n] = url
        yield urls
    finally:
        for url in urls.values():
            with contextlib.suppress(Exception):
                await drop_postgres_database(url)


# --- CPU accounting from /proc ------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(path: str) -> tuple[int, float] | None:
    """(ppid, user+system seconds) from a /proc/.../stat file; None when it is gone."""
    try:
        raw = Path(path).read_text()
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[1]), (int(rest[11]) + int(rest[12])) / _TICK


def _machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) over all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return (total - idle) / _TICK, total / _TICK


@dataclass
class WorkSnapshot:
    """What the mesh did so far: gRPC requests served and PostgreSQL transactions."""

    calls: Counter[tuple[str, str]]  # (service, "Service/Method") -> requests handled
    transactions: Counter[str]  # service -> commits + rollbacks in its database


def _served(text: str) -> Counter[str]:
    """grpc_server_handled_total summed over codes, by "Service/Method", from /metrics."""
    out: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.startswith("grpc_server_handled_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        got = dict(
            part.split("=", 1)
            for part in labels[labels.index("{") + 1 : -1].split(",")
            if "=" in part
        )
        service = got.get("grpc_service", "").strip('"').rsplit(".", 1)[-1]
        method = got.get("grpc_method", "").strip('"')
        if service == "Health":
            continue
        out[f"{service}/{method}"] += int(float(value))
    return out


async def work_snapshot(env: dict[str, str], urls: dict[str, str]) -> WorkSnapshot:
    import asyncpg
    from sqlalchemy.engine import make_url

    calls: Counter[tuple[str, str]] = Counter()
    async with httpx.AsyncClient(timeout=5) as http:
        for name in SERVICES:
            for addr in registry.metrics_addresses(name, env):  # every replica's
                try:
                    r = await http.get(f"{addr.url}/metrics")
                except httpx.HTTPError:
                    continue
                for method, n in _served(r.text).items():
                    calls[(name, method)] += n
    transactions: Counter[str] = Counter()
    addr = registry.address("postgres")
    conn = await asyncpg.connect(user="postgres", host=addr.host, port=addr.port, timeout=3)
    try:
        by_db = {str(make_url(u).database): n for n, u in urls.items()}
        rows = await conn.fetch(
            "SELECT datname, xact_commit + xact_rollback AS n FROM pg_stat_database"
            " WHERE datname = ANY($1::text[])",
            list(by_db),
        )
    finally:
        await conn.close()
    for row in rows:
        transactions[by_db[row["datname"]]] = int(row["n"])
    return WorkSnapshot(calls, transactions)


@dataclass
class CpuSnapshot:
    at: float
    pids: dict[int, float]  # pid -> cpu seconds, for every process we can see
    groups: dict[int, str]  # pid -> what it is (a supervised child, or a PostgreSQL backend)
    loadgen: float  # this process, without the fake Razorpay thread
    fake_razorpay: float
    machine_busy: float
    machine_total: float


async def postgres_backends(prefix: str) -> set[int]:
    """PIDs of the PostgreSQL backends serving databases whose name starts with `prefix`."""
    import asyncpg

    addr = registry.address("postgres")
    try:
        conn = await asyncpg.connect(
            user="postgres", host=addr.host, port=addr.port, database="postgres", timeout=3
        )
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return set()
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname LIKE $1", prefix + "%"
        )
    finally:
        await conn.close()
    return {int(r["pid"]) for r in rows}


def process_group(name: str) -> str:
    """The CPU table's row for a process the supervisor started as `name`."""
    return OUTSIDE_PARTIES.get(name, name)


def mesh_cores(cores_by_process: dict[str, float]) -> float:
    """Cores used by the mesh: every row but the bench's own (load generator, fakes)."""
    return sum(v for k, v in cores_by_process.items() if not k.startswith("bench"))


def cpu_snapshot(
    sup: Supervisor, fake_thread: threading.Thread | None, pg_pids: set[int]
) -> CpuSnapshot:
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    if Path("/proc").is_dir():
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                got = _proc_cpu(f"/proc/{entry.name}/stat")
                if got is not None:
                    parents[int(entry.name)], cpu[int(entry.name)] = got
    roots = {p.pid: name for name, p in sup.procs.items() if p.pid is not None}
    groups: dict[int, str] = {}
    for pid in cpu:
        if pid in pg_pids:
            groups[pid] = "postgres (bench databases)"
            continue
        walk, seen = pid, 0
        while walk not in roots and walk in parents and walk > 1 and seen < 64:
            walk, seen = parents[walk], seen + 1
        if walk in roots:
            groups[pid] = process_group(roots[walk])
    fake = 0.0
    tid = fake_thread.native_id if fake_thread is not None else None
    if tid is not None:
        got = _proc_cpu(f"/proc/self/task/{tid}/stat")
        fake = got[1] if got else 0.0
    usage = os.times()
    busy, total = _machine_busy() if Path("/proc/stat").exists() else (0.0, 0.0)
    return CpuSnapshot(
        time.monotonic(),
        {pid: cpu[pid] for pid in groups},
        groups,
        usage.user + usage.system - fake,
        fake,
        busy,
        total,
    )


def cpu_report(a: CpuSnapshot, b: CpuSnapshot) -> dict[str, Any]:
    """Cores used (cpu seconds / wall seconds) by each process group between a and b."""
    wall = max(b.at - a.at, 1e-9)
    used: Counter[str] = Counter()
    for pid, seconds in b.pids.items():
        used[b.groups[pid]] += seconds - a.pids.get(pid, 0.0)
    cores = {n: v / wall for n, v in used.items()}
    # A service's replicas (order, order#1, ...) summed as well.
    replicas: dict[str, list[str]] = {}
    for key in cores:
        replicas.setdefault(key.split("#", 1)[0], []).append(key)
    services = {
        name: round(sum(cores[k] for k in keys), 3)
        for name, keys in replicas.items()
        if len(keys) > 1
    }
    cores["bench: load generator"] = (b.loadgen - a.loadgen) / wall
    cores["bench: fake Razorpay"] = (b.fake_razorpay - a.fake_razorpay) / wall
    busy = (b.machine_busy - a.machine_busy) / wall
    total = (b.machine_total - a.machine_total) / wall or float(os.cpu_count() or 1)
    ours = sum(cores.values())
    return {
        "wall_s": round(wall, 2),
        "cores_by_process": {k: round(v, 3) for k, v in cores.items()},
        "replicas_summed": services,
        "machine_busy_cores": round(busy, 3),
        "machine_cores": round(total, 2),
        # Not started by this bench: other work on the machine, PostgreSQL's background
        # processes (WAL writer, checkpointer) and backends of other databases.
        "outside_bench_cores": round(max(busy - ours, 0.0), 3),
    }


def work_report(a: WorkSnapshot, b: WorkSnapshot) -> dict[str, Any]:
    """gRPC requests each service served and PostgreSQL transactions, between a and b."""
    calls = {f"{svc} {m}": n - a.calls.get((svc, m), 0) for (svc, m), n in b.calls.items()}
    txns = {svc: n - a.transactions.get(svc, 0) for svc, n in b.transactions.items()}
    return {
        "grpc_requests": {k: v for k, v in sorted(calls.items()) if v > 0},
        "pg_transactions": {k: v for k, v in sorted(txns.items()) if v > 0},
    }


# --- the shoppers -------------------------------------------------------------------------


class StepFailed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


def _reason(resp: Response) -> str:
    """HTTP status plus the error's reason (ErrorInfo) or code, from the edge's error body."""
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}: {resp.text[:80]!r}"
    found = ""
    if isinstance(body, dict):
        for d in body.get("details") or []:
            if isinstance(d, dict) and d.get("reason"):
                found = str(d["reason"])
                break
        if not found:
            err = body.get("error") if isinstance(body.get("error"), dict) else body
            found = str(err.get("reason") or err.get("status") or err.get("code") or "")
            msg = str(err.get("message") or "")[:60]
            found = f"{found} {msg}".strip()
    return f"HTTP {resp.status_code} {found}".strip()


@dataclass
class Checkout:
    start: float
    end: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds
    failure: tuple[str, str] | None = None  # (step, reason)


class Shopper:
    def __init__(self, base_url: str, variant_id: str, fake: Any, n: int) -> None:
        url = httpx.URL(base_url)
        self.http = Http1Client(url.host, url.port or 80, timeout=30.0)
        self.variant_id = variant_id
        self.fake = fake
        self.n = n

    async def close(self) -> None:
        await self.http.close()

    async def _post(self, c: Checkout, step: str, path: str, body: dict[str, Any]) -> Any:
        t0 = time.perf_counter()
        try:
            resp = await self.http.post(path, body)
        except HttpError as exc:
            raise StepFailed(step, str(exc)) from exc
        c.steps[step] = time.perf_counter() - t0
        if resp.status_code != 200:
            raise StepFailed(step, _reason(resp))
        return resp.json()

    async def checkout(self) -> Checkout:
        c = Checkout(start=time.monotonic())
        try:
            await self._checkout(c)
        except StepFailed as exc:
            c.failure = (exc.step, exc.reason)
        except Exception as exc:  # a bug here must show up as a failure, not vanish
            c.failure = ("bench", f"{type(exc).__name__}: {exc}"[:120])
        c.end = time.monotonic()
        return c

    async def _checkout(self, c: Checkout) -> None:
        cart = await self._post(c, "create_cart", "/v1/carts", {})
        name, token = cart["name"], cart.get("cartToken", "")
        if not token:
            raise StepFailed("create_cart", "no cartToken in the answer")
        body = {"cartToken": token, "variantId": self.variant_id, "quantity": 1}
        cart = await self._post(c, "add_line", f"/v1/{name}:addLine", body)
        if int(cart.get("itemCount") or 0) != 1:
            raise StepFailed("add_line", f"itemCount {cart.get('itemCount')!r}")
        session = await self._post(
            c,
            "checkout_session",
            "/v1/checkoutSessions",
            {
                "cart": name,
                "cartToken": token,
                "deliveryAddress": ADDRESS,
                "email": f"shopper-{self.n}@example.in",
                "phone": ADDRESS["phone"],
                "paymentMethod": PAYMENT_METHOD,
            },
        )
        if session.get("state") != "CHECKOUT_SESSION_STATE_OPEN":
            raise StepFailed("checkout_session", f"state {session.get('state')!r}")
        order = await self._post(
            c,
            "place_order",
            f"/v1/{session['name']}:placeOrder",
            {"requestId": secrets.token_hex(16), "cartToken": token},
        )
        if order.get("status") != "ORDER_STATUS_PENDING_PAYMENT":
            raise StepFailed("place_order", f"status {order.get('status')!r}")
        provider_order = (order.get("payment") or {}).get("providerOrderId", "")
        if not provider_order:
            raise StepFailed("place_order", "no payment.providerOrderId")
        t0 = time.perf_counter()
        try:
            payment_id, signature = self.fake.pay(provider_order)
        except KeyError:
            raise StepFailed("pay", "fake Razorpay does not know the order") from None
        c.steps["pay"] = time.perf_counter() - t0
        done = await self._post(
            c,
            "confirm_payment",
            f"/v1/{order['name']}:confirmPayment",
            {
                "providerOrderId": provider_order,
                "providerPaymentId": payment_id,
                "signature": signature,
                "cartToken": token,
            },
        )
        if done.get("status") != "ORDER_STATUS_CONFIRMED" or not done.get("paid"):
            raise StepFailed(
                "confirm_payment", f"status {done.get('status')!r}, paid {done.get('paid')!r}"
            )


@dataclass
class Outcome:
    measured: list[Checkout]
    failures: Counter[tuple[str, str]]
    in_window_s: float
    started: int
    warmup_done: int
    cpu: dict[str, Any]
    work: dict[str, Any]
    python_speed_ms: float


async def drive(
    settings: Settings,
    base_url: str,
    variant_id: str,
    fake: Any,
    sup: Supervisor,
    fake_thread: threading.Thread | None,
    work: Callable[[], Awaitable[WorkSnapshot]],
) -> Outcome:
    start = time.monotonic()
    measure_from = start + settings.warmup_s
    stop_at = measure_from + settings.duration_s
    everything: list[Checkout] = []
    snapshots: dict[str, CpuSnapshot] = {}
    done: dict[str, WorkSnapshot] = {}

    async def shopper(n: int) -> None:
        s = Shopper(base_url, variant_id, fake, n)
        try:
            while time.monotonic() < stop_at:
                everything.append(await s.checkout())
        finally:
            await s.close()

    async def sample() -> None:
        await asyncio.sleep(max(measure_from - time.monotonic(), 0))
        pg = await postgres_backends(DB_PREFIX)
        snapshots["from"] = await asyncio.to_thread(cpu_snapshot, sup, fake_thread, pg)
        done["from"] = await work()
        await asyncio.sleep(max(stop_at - time.monotonic(), 0))
        pg = await postgres_backends(DB_PREFIX)
        snapshots["to"] = await asyncio.to_thread(cpu_snapshot, sup, fake_thread, pg)
        done["to"] = await work()

    await asyncio.gather(sample(), *(shopper(i) for i in range(settings.shoppers)))
    speed = python_speed_ms()  # after the load: the machine, not the mesh, is measured
    measured = [c for c in everything if measure_from <= c.end <= stop_at]
    failures = Counter(c.failure for c in measured if c.failure is not None)
    return Outcome(
        measured=measured,
        failures=failures,
        in_window_s=stop_at - measure_from,
        started=len(everything),
        warmup_done=sum(1 for c in everything if c.end < measure_from),
        cpu=cpu_report(snapshots["from"], snapshots["to"]),
        work=work_report(done["from"], done["to"]),
        python_speed_ms=speed,
    )


# --- setting up the mesh --------------------------------------------------------------------


def mesh_env(tmp: Path, urls: dict[str, str], settings: Settings) -> dict[str, str]:
    host = os.environ.get("CLEANSE_HOST", registry.DEFAULT_HOST)
    n = settings.order_replicas
    addresses: dict[str, registry.Address | list[registry.Address]] = {
        name: registry.free_address(host) for name in (*SERVICES, "edge", "smtp")
    }
    metrics: dict[str, registry.Address | list[registry.Address]] = {
        name: registry.free_address(host) for name in SERVICES
    }
    if n > 1:  # CLEANSE_ORDER_REPLICAS=n, one address (and metrics address) each
        addresses["order"] = [registry.free_address(host) for _ in range(n)]
        metrics["order"] = [registry.free_address(host) for _ in range(n)]
    env = registry.override_env(addresses, metrics)
    env.update({f"CLEANSE_{n.upper()}_DATABASE_URL": url for n, url in urls.items()})
    env.update(
        {
            "CLEANSE_DATA_DIR": str(tmp / "data"),
            "CLEANSE_OTP_OUTBOX_FILE": str(tmp / "data" / "otp-outbox.jsonl"),
            "CLEANSE_OTEL_EXPORTER": "none",
            "CLEANSE_LOG_LEVEL": os.environ.get("CLEANSE_LOG_LEVEL", "WARNING"),
        }
    )
    if settings.edge_workers is not None:
        env["CLEANSE_EDGE_WORKERS"] = str(settings.edge_workers)
    return env


async def _eventually(what: str, probe: Any, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    last = ""
    while True:
        try:
            return await probe()
        except (httpx.HTTPError, AssertionError, KeyError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready within {within:.0f}s ({last})")
        await asyncio.sleep(0.5)


async def prepare(http: httpx.AsyncClient, data_dir: Path) -> str:
    """Log in as the admin, find the demo variant, stock it in every warehouse."""
    text = (data_dir / "admin-credentials.txt").read_text()
    creds = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    r = await http.post(
        "/v1/admin/auth:login",
        json={"email": creds["email"].strip(), "password": creds["password"].strip()},
    )
    assert r.status_code == 200, f"admin login: HTTP {r.status_code} {r.text[:200]}"
    admin = {"authorization": f"Bearer {r.json()['tokens']['accessToken']}"}

    async def product() -> dict[str, Any]:
        r = await http.get(f"/v1/products/{PRODUCT_SLUG}")
        assert r.status_code == 200, f"product page: HTTP {r.status_code} {r.text[:200]}"
        return dict(r.json())

    page = await _eventually("the demo product page", product)
    variant = page["variants"][0]
    variant_id = str(variant["id"])
    for wh in WAREHOUSES:
        r = await http.post(
            f"/v1/admin/warehouses/{wh}/stockLevels/{variant_id}:set",
            json={"onHand": str(STOCK), "note": "bench: never runs out"},
            headers=admin,
        )
        assert r.status_code == 200, f"stock {wh}: HTTP {r.status_code} {r.text[:200]}"
    where = ", ".join(WAREHOUSES)
    log(f"variant {variant_id} ({variant.get('sku')}): on hand {STOCK:,} in {where}")
    return variant_id


async def run(settings: Settings, tmp: Path) -> dict[str, Any]:
    from tests.support.fake_razorpay import FakeRazorpay

    async with databases(SERVICES) as urls:
        env = mesh_env(tmp, urls, settings)
        with FakeRazorpay.running() as fake:
            env.update(fake.env())
            fake_thread = next(
                (t for t in threading.enumerate() if t.name == "fake-razorpay"), None
            )
            specs = [
                ProcessSpec("smtp", (sys.executable, "-m", "services.engagement.smtp_sink"), "tcp"),
                *(ProcessSpec.service(n) for n in SERVICES),
                ProcessSpec.edge(),
            ]
            sup = Supervisor(
                specs,
                env=env,
                data_dir=tmp / "data",
                out=io.StringIO(),
                ready_timeout=180.0,
            )
            edge = registry.address("edge", env)
            order = ", ".join(sup.replicas("order"))
            log(
                f"starting smtp sink, {', '.join(SERVICES)} (order as {order}) and the edge "
                "on PostgreSQL ..."
            )
            try:
                await sup.start()
                async with httpx.AsyncClient(base_url=edge.url, timeout=30) as http:
                    variant_id = await prepare(http, tmp / "data")
                    # One checkout on its own: a broken flow is reported before the load.
                    probe = Shopper(edge.url, variant_id, fake, 0)
                    try:
                        first = await probe.checkout()
                    finally:
                        await probe.close()
                    if first.failure is not None:
                        log(f"a single checkout FAILED at {first.failure[0]}: {first.failure[1]}")
                    else:
                        took = 1000 * (first.end - first.start)
                        log(f"a single checkout: CONFIRMED in {took:.0f} ms")
                log(
                    f"{settings.shoppers} shoppers, {settings.warmup_s}s warm-up + "
                    f"{settings.duration_s}s measured ..."
                )
                # The mesh at rest (sweepers, outbox relays, health checks): its fixed cost.
                pg = await postgres_backends(DB_PREFIX)
                before = await asyncio.to_thread(cpu_snapshot, sup, fake_thread, pg)
                await asyncio.sleep(IDLE_S)
                after = await asyncio.to_thread(cpu_snapshot, sup, fake_thread, pg)
                idle = cpu_report(before, after)
                mesh_idle = mesh_cores(idle["cores_by_process"])
                log(
                    f"mesh at rest for {IDLE_S:.0f}s: {mesh_idle:.2f} cores; machine busy "
                    f"{idle['machine_busy_cores']:.2f} of {idle['machine_cores']:.0f} "
                    f"({idle['outside_bench_cores']:.2f} outside the bench)"
                )
                restarts = sum(p.restarts for p in sup.procs.values())
                outcome = await drive(
                    settings,
                    edge.url,
                    variant_id,
                    fake,
                    sup,
                    fake_thread,
                    lambda: work_snapshot(env, urls),
                )
                restarts = sum(p.restarts for p in sup.procs.values()) - restarts
            except BaseException:
                _dump_logs(tmp / "data", [p.log_path.stem for p in sup.procs.values()])
                raise
            finally:
                log("stopping ...")
                await sup.stop()
    outcome.cpu["at_rest"] = {**idle, "mesh_cores": round(mesh_idle, 3)}
    return report(settings, outcome, restarts)


def _dump_logs(data_dir: Path, names: list[str]) -> None:
    for name in names:
        p = data_dir / "logs" / f"{name}.log"
        if p.exists() and p.stat().st_size:
            tail = p.read_text(errors="replace")[-2000:]
            sys.stderr.write(f"--- {name}.log (tail) ---\n{tail}\n")


# --- report -------------------------------------------------------------------------------


def _ms(values: list[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 2) if values else float("nan")


def _print_work(work: dict[str, Any], confirmed: int) -> None:
    """Per confirmed order: the gRPC requests each service served, its PG transactions."""
    calls = work["grpc_requests"]
    per_service: Counter[str] = Counter()
    for key, n in calls.items():
        per_service[key.split(" ", 1)[0]] += n
    total = sum(per_service.values())
    print()
    print(f"gRPC requests served per confirmed order: {total / confirmed:.1f}")
    for svc, n in per_service.most_common():
        methods = sorted(
            ((k.split(" ", 1)[1], v) for k, v in calls.items() if k.startswith(svc + " ")),
            key=lambda kv: -kv[1],
        )
        shown = ", ".join(f"{m.rsplit('/', 1)[-1]} {v / confirmed:.1f}" for m, v in methods)
        print(f"  {svc:<11}{n / confirmed:>5.1f}  ({shown})")
    txns = work["pg_transactions"]
    shown = ", ".join(
        f"{k} {v / confirmed:.1f}" for k, v in sorted(txns.items(), key=lambda kv: -kv[1])
    )
    per_order = sum(txns.values()) / confirmed
    print(f"PostgreSQL transactions per confirmed order: {per_order:.1f} ({shown})")


def report(settings: Settings, o: Outcome, restarts: int) -> dict[str, Any]:
    ok = [c for c in o.measured if c.failure is None]
    rate = len(ok) / o.in_window_s
    print()
    print(
        f"Checkout end to end through the edge, PostgreSQL ({postgres_transport()}), "
        f"every service running; "
        f"{settings.shoppers} guest shoppers, {settings.duration_s}s measured after "
        f"{settings.warmup_s}s warm-up; order service replicas: {settings.order_replicas} "
        f"(BENCH_ORDER_REPLICAS); {os.cpu_count()} CPUs shared by all processes"
    )
    head = f"{'step':<22}{'count':>7}{'p50 ms':>10}{'p99 ms':>10}"
    print(head)
    print("-" * len(head))
    steps: dict[str, dict[str, Any]] = {}
    for step in (*STEPS, "checkout (all steps)"):
        if step in STEPS:
            values = [c.steps[step] for c in ok if step in c.steps]
        else:
            values = [c.end - c.start for c in ok]
        steps[step] = {"count": len(values), "p50_ms": _ms(values, 50), "p99_ms": _ms(values, 99)}
        s = steps[step]
        print(f"{step:<22}{s['count']:>7}{s['p50_ms']:>10.2f}{s['p99_ms']:>10.2f}")
    print("(latencies of checkouts that ended CONFIRMED inside the measured window)")
    print()
    total = len(o.measured)
    print(
        f"checkouts ended in the window: {total}; CONFIRMED: {len(ok)}; failed: {total - len(ok)}"
    )
    if o.failures:
        print(f"{'failed at':<20}{'count':>7}  reason")
        for (step, reason), n in o.failures.most_common():
            print(f"{step:<20}{n:>7}  {reason}")
    else:
        print("failures: none")
    print()
    cpu = o.cpu
    print(
        f"CPU during the window (cores; machine busy {cpu['machine_busy_cores']:.2f} "
        f"of {cpu['machine_cores']:.0f}):"
    )
    by = dict(sorted(cpu["cores_by_process"].items(), key=lambda kv: -kv[1]))
    by["outside the bench"] = cpu["outside_bench_cores"]
    print("  " + ", ".join(f"{k} {v:.2f}" for k, v in by.items()))
    for name, total in cpu.get("replicas_summed", {}).items():
        parts = " + ".join(
            f"{k} {v:.2f}" for k, v in cpu["cores_by_process"].items() if k.split("#")[0] == name
        )
        print(f"  {name} replicas together: {parts} = {total:.2f} cores")
    mesh = mesh_cores(cpu["cores_by_process"])
    if ok:
        per = 1000 * mesh / rate
        cpu["mesh_cpu_ms_per_order"] = round(per, 1)
        print(
            f"  the mesh (services, edge, their PostgreSQL backends): {mesh:.2f} cores = "
            f"{per:.0f} ms of CPU per confirmed order; at rest it used "
            f"{cpu.get('at_rest', {}).get('mesh_cores', float('nan')):.2f} cores"
        )
    loadgen = cpu["cores_by_process"]["bench: load generator"]
    busy = cpu["machine_busy_cores"] or 1e-9
    share = loadgen / busy
    cpu["loadgen_share_of_busy"] = round(share, 3)
    note = f"the load generator itself used {loadgen:.2f} cores ({share:.0%} of the busy CPU)"
    if loadgen >= LOADGEN_BOUND:
        print(
            f"NOTE: {note}: the Python client competes with the mesh for the 2 cores, so "
            "the figure understates what the mesh alone would do."
        )
    else:
        print(f"({note}: not the bottleneck)")
    outside = cpu["outside_bench_cores"]
    if outside >= SHARED_BOUND:
        print(
            f"NOTE: {outside:.2f} cores went to processes this bench did not start (other "
            "work on the machine, PostgreSQL's background writers): the figures are lower "
            "than on an otherwise idle machine."
        )
    if ok:
        _print_work(o.work, len(ok))
    if restarts:
        print(f"WARNING: {restarts} process restart(s) during the run")
    print(
        f"this machine's Python speed: a million-step loop in {o.python_speed_ms:.1f} ms "
        f"on Python {load.interpreter()} (lower is faster; compare runs only at similar "
        "speeds, on the same Python build)"
    )
    verdict = "PASS" if rate >= TARGET_ORDERS_PER_S else "MISS"
    print()
    print(
        f"orders/s = {rate:.1f}  (target >= {TARGET_ORDERS_PER_S:.0f})  {verdict};  "
        f"place-order p50 {steps['place_order']['p50_ms']:.1f} ms, "
        f"p99 {steps['place_order']['p99_ms']:.1f} ms;  checkout p50 "
        f"{steps['checkout (all steps)']['p50_ms']:.1f} ms, "
        f"p99 {steps['checkout (all steps)']['p99_ms']:.1f} ms"
    )
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": "postgresql",
        "database_transport": postgres_transport(),
        "machine": {"cpus": os.cpu_count(), "python": load.interpreter()},
        "settings": {
            "shoppers": settings.shoppers,
            "duration_s": settings.duration_s,
            "warmup_s": settings.warmup_s,
            "edge_workers": settings.edge_workers,
            "order_replicas": settings.order_replicas,
            "payment_method": PAYMENT_METHOD,
        },
        "orders_per_s": round(rate, 2),
        "confirmed": len(ok),
        "failed": total - len(ok),
        "failures": [
            {"step": step, "reason": reason, "count": n}
            for (step, reason), n in o.failures.most_common()
        ],
        "steps": steps,
        "cpu": cpu,
        "work": o.work,
        "python_speed_ms": round(o.python_speed_ms, 1),
        "restarts": restarts,
        "target_orders_per_s_min": TARGET_ORDERS_PER_S,
        "target_met": rate >= TARGET_ORDERS_PER_S,
    }


async def main() -> int:
    settings = Settings.from_env()
    if not await postgres_up():
        log(f"PostgreSQL is not reachable at {registry.address('postgres')}: skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="cleanse-bench-checkout-") as tmp:
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
