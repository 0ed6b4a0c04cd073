"""`python -m bench.pricing`: CalculatePrice over gRPC against a real pricing process.

A 10-line cart with 3 coupon codes, against 5 active automatic discounts, two tiers
and a free-gift rule. The pricing service runs as its own process (mesh.supervisor)
on SQLite in a temporary folder; catalog, settings and inventory are small fakes
served over real gRPC from this process (tests/pricing/fakes.py). h2load (as in
`make bench`) drives 16 callers (one connection, one request in flight each) for
BENCH_DURATION seconds (default 5) after BENCH_WARMUP (default 1); requests/s and
p50/p99 are printed against the target (p99 < 20 ms; printed, never asserted) and
written to .bench/pricing.json. Knob: BENCH_CALLERS (default 16).

Pricing caches catalog variants for 5 s and settings for 30 s (services/pricing
README "Caches"), so steady state measures pricing's own path: rules, the engine,
the breakdown proto.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

import grpc

from bench import load
from bench.load import log
from cleanse.common.v1 import money_pb2
from cleanse.pricing.v1 import breakdown_pb2, pricing_service_pb2, pricing_service_pb2_grpc
from cleanse.pricing.v1 import resources_pb2 as pb
from mesh import registry
from mesh.db import Database, utcnow
from mesh.supervisor import ProcessSpec, Supervisor
from services.pricing import convert, models
from tests.pricing.fakes import snapshot, start_peers

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".bench" / "pricing.json"
TARGET_P99_MS = 20.0
CODES = ("BENCH10", "BENCHSHIP", "BENCHB2G1")


def _rs(rupees: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=rupees * 100, currency_code="INR")


def _variants() -> list[str]:
    return [f"var_bench-{i}" for i in range(10)]


async def _seed(url: str) -> None:
    db = Database("pricing", url)
    await db.migrate()
    now = utcnow()
    vids = _variants()
    coupons = [
        pb.Coupon(
            code="BENCH10",
            kind=pb.DISCOUNT_KIND_PERCENTAGE,
            percent_basis_points=1000,
            max_discount=_rs(300),
            active=True,
            listed=True,
        ),
        pb.Coupon(
            code="BENCHSHIP",
            kind=pb.DISCOUNT_KIND_FREE_SHIPPING,
            combination_group="shipping",
            active=True,
        ),
        pb.Coupon(
            code="BENCHB2G1",
            kind=pb.DISCOUNT_KIND_BUY_X_GET_Y,
            buy_x_get_y=pb.BuyXGetY(buy_quantity=2, get_quantity=1),
            eligibility=pb.Eligibility(variant_ids=vids[:3]),
            combination_group="product",
            active=True,
        ),
    ]
    autos = [
        pb.AutomaticDiscount(
            title=f"auto {i}",
            kind=pb.DISCOUNT_KIND_PERCENTAGE,
            percent_basis_points=200 + 100 * i,
            priority=i,
            active=True,
            combines_with_coupons=True,
            eligibility=pb.Eligibility(variant_ids=vids[i * 2 : i * 2 + 3]),
        )
        for i in range(5)
    ]
    tiers = [
        pb.TierDiscount(title="5%", min_subtotal=_rs(999), percent_basis_points=500, active=True),
        pb.TierDiscount(
            title="10%", min_subtotal=_rs(1999), percent_basis_points=1000, active=True
        ),
    ]
    gifts = [
        pb.FreeGiftRule(
            title="gift", min_subtotal=_rs(2499), gift_variant_id="var_gift", active=True
        )
    ]
    async with db.transaction() as s:
        for model, items in (
            (models.Coupon, coupons),
            (models.AutomaticDiscount, autos),
            (models.TierDiscount, tiers),
            (models.FreeGiftRule, gifts),
        ):
            for res in items:
                row = model(
                    spec=convert.spec_of(res),
                    active=True,
                    created_by="bench",
                    create_time=now,
                    update_time=now,
                )
                if isinstance(row, models.Coupon):
                    row.code, row.listed = res.code, res.listed
                    row.usage_limit = row.per_customer_limit = 0
                    row.times_reserved = row.times_used = 0
                s.add(row)
    await db.dispose()


def _request() -> pricing_service_pb2.CalculatePriceRequest:
    return pricing_service_pb2.CalculatePriceRequest(
        cart=breakdown_pb2.Cart(
            lines=[
                breakdown_pb2.CartLine(variant_id=v, quantity=1 + i % 3)
                for i, v in enumerate(_variants())
            ],
            coupon_codes=list(CODES),
            delivery_pincode="400001",
            payment_method="cod",
        )
    )


async def _load(address: str, callers: int, warmup: int, duration: int, tmp: Path) -> dict:
    """h2load drives CalculatePrice (one request in flight per client): the load
    generator is C, so the numbers are the service's, not a Python client's."""
    req = _request()
    async with grpc.aio.insecure_channel(address) as ch:
        stub = pricing_service_pb2_grpc.PricingServiceStub(ch)
        first = await stub.CalculatePrice(req, timeout=10)  # the body is a valid call
    body = tmp / "calculate.grpc"
    payload = req.SerializeToString()
    body.write_bytes(b"\x00" + len(payload).to_bytes(4, "big") + payload)
    path = "/cleanse.pricing.v1.PricingService/CalculatePrice"
    result = await load.run(
        load.ensure_tool(),
        load.Load(
            url=f"http://{address}{path}",
            connections=callers,
            duration_s=duration,
            warmup_s=warmup,
            data_file=body,
            headers=("content-type: application/grpc", "te: trailers"),
        ),
    )
    async with grpc.aio.insecure_channel(address) as ch:  # still answering correctly
        stub = pricing_service_pb2_grpc.PricingServiceStub(ch)
        last = await stub.CalculatePrice(req, timeout=10)
    return {
        "callers": callers,
        "requests": result.requests,
        "errors": result.problems,
        "rps": round(result.rps, 1),
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "target_p99_ms": TARGET_P99_MS,
        "total_paise": first.total.amount_minor,
        "same_total_after": last.total.amount_minor == first.total.amount_minor,
        "discounts": len(first.discounts),
    }


async def main() -> dict:
    callers = int(os.environ.get("BENCH_CALLERS", "16"))
    duration = int(os.environ.get("BENCH_DURATION", "5"))
    warmup = int(os.environ.get("BENCH_WARMUP", "1"))
    peers = await start_peers()
    for i, vid in enumerate(_variants()):
        peers.catalog.variants[vid] = snapshot(vid, 19900 + 10000 * i, 24900 + 10000 * i)
    peers.catalog.variants["var_gift"] = snapshot("var_gift", 24900, tax_class="gst_12")
    peers.inventory.stock["var_gift"] = 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-pricing-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        url = f"sqlite+aiosqlite:///{data / 'pricing.db'}"
        await _seed(url)
        host = registry.DEFAULT_HOST

        env = registry.override_env(
            {"pricing": registry.free_address(host)},
            {"pricing": registry.free_address(host)},
        )
        env.update(
            {
                f"CLEANSE_{n.upper()}_ADDR": peers.address
                for n in ("catalog", "settings", "inventory")
            }
        )
        env.update(
            {
                "CLEANSE_PRICING_DATABASE_URL": url,
                "CLEANSE_PRICING_SEED_DEMO": "0",
                # The bench prices against fake peers: shipping is the flat rate from
                # (fake) settings, not a quote from a shipping service.
                "CLEANSE_PRICING_SHIPPING_QUOTES": "0",
                "CLEANSE_OTEL_EXPORTER": "none",
                "CLEANSE_LOG_LEVEL": "WARNING",
            }
        )
        sup = Supervisor([ProcessSpec.service("pricing")], env=env, data_dir=data)
        await sup.start()
        try:
            address = env["CLEANSE_PRICING_ADDR"]
            log(f"pricing at {address}; {callers} callers, {duration}s after {warmup}s warm-up")
            result = await _load(address, callers, warmup, duration, Path(tmp))
        finally:
            await sup.stop()
            await peers.server.stop(0)
    result["python_speed_ms"] = round(load.python_speed_ms(), 1)
    verdict = "OK" if result["p99_ms"] < TARGET_P99_MS else "MISSED"
    log(
        f"CalculatePrice (10 lines, 3 coupons, 5 automatic discounts): "
        f"{result['rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms "
        f"(target p99 < {TARGET_P99_MS} ms: {verdict}); errors {result['errors']}; "
        f"this machine's Python speed: a million-step loop in {result['python_speed_ms']} ms"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    asyncio.run(main())
