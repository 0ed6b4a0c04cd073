"""The order service as two replicas behind the edge, every service its own process.

auth, catalog, inventory, pricing, settings and order (twice: order and order#1, each
on its own ports, one database) run as real processes (tests/integration/stack.py);
the edge spreads its order calls over both. Proven: guest checkouts through the edge
are CONFIRMED, and both replicas served them (their own /metrics say so); with one
replica stopped, checkouts still succeed through the other; the sweeper runs on one
replica at a time (the lease in order's database names one holder, and exactly one
replica reports `lease_held` 1).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mesh.db import Database
from services.order.models import LEASES
from tests.conftest import BACKENDS, require_postgres
from tests.integration.stack import Stack, edge_backends, start_stack

pytestmark = pytest.mark.integration

SERVICES = ["auth", "catalog", "inventory", "pricing", "settings", "order"]
SKU = "VAN-KUMK-12ML"  # kumkumadi-tailam, plenty in stock
ADDRESS = {
    "recipientName": "Meera Iyer",
    "phone": "9876543210",
    "line1": "12, 4th Cross, Indiranagar",
    "city": "Bengaluru",
    "stateCode": "KA",
    "pincode": "560001",
    "countryCode": "IN",
}
CHECKOUT_METHODS = ("CartService", "CheckoutService")


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return dict(r.json())


@pytest.fixture(scope="module", params=BACKENDS)
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    if request.param == "postgres":
        await require_postgres()
    data_dir = tmp_path_factory.mktemp(f"order-replicas-{request.param}")
    stand_ins = [n for n in edge_backends() if n not in SERVICES]
    extra = {
        "CLEANSE_PRICING_SHIPPING_QUOTES": "0",  # shipping is a stand-in: flat rate
        "CLEANSE_ORDER_SWEEP_SECONDS": "0.5",  # both replicas try for the lease often
        "CLEANSE_ORDER_SWEEP_LEASE_SECONDS": "5",
    }
    async with start_stack(
        request.param,
        data_dir,
        SERVICES,
        stand_ins=stand_ins,
        extra_env=extra,
        replicas={"order": 2},
    ) as s:
        yield s


async def variant_id(stack: Stack) -> str:
    page = ok(await stack.http.get("/v1/products/kumkumadi-tailam"))
    return next(v["id"] for v in page["variants"] if v["sku"] == SKU)


async def guest_checkout(stack: Stack, variant: str) -> dict[str, Any]:
    http = stack.http
    cart = ok(await http.post("/v1/carts", json={}))
    token = cart["cartToken"]
    body = {"cartToken": token, "variantId": variant, "quantity": 1}
    ok(await http.post(f"/v1/{cart['name']}:addLine", json=body))
    session = ok(
        await http.post(
            "/v1/checkoutSessions",
            json={
                "cart": cart["name"],
                "cartToken": token,
                "deliveryAddress": ADDRESS,
                "paymentMethod": "cod",
                "email": f"guest-{secrets.token_hex(4)}@example.in",
                "phone": "9876543210",
            },
        )
    )
    order = ok(
        await http.post(
            f"/v1/{session['name']}:placeOrder",
            json={"requestId": secrets.token_hex(16), "cartToken": token},
        )
    )
    assert order["status"] == "ORDER_STATUS_CONFIRMED", order
    return order


async def served(stack: Stack, replica: int) -> tuple[int, float]:
    """(checkout-path requests order replica `replica` handled, its lease_held)."""
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"{stack.metrics('order', replica).url}/metrics")).text
    handled, held = 0, 0.0
    for line in text.splitlines():
        if line.startswith("grpc_server_handled_total{") and any(
            f'.{m}"' in line for m in CHECKOUT_METHODS
        ):
            handled += int(float(line.rsplit(" ", 1)[1]))
        if line.startswith("lease_held{") and 'lease="order.sweeper"' in line:
            held = float(line.rsplit(" ", 1)[1])
    return handled, held


async def test_checkouts_through_the_edge_are_served_by_both_replicas(stack: Stack) -> None:
    assert stack.sup.replicas("order") == ["order", "order#1"]
    assert stack.addr("order", 0) != stack.addr("order", 1)
    health = ok(await stack.http.get("/healthz"))
    assert health["services"]["order#0"] == health["services"]["order#1"] == "SERVING"
    variant = await variant_id(stack)
    before = [(await served(stack, i))[0] for i in (0, 1)]
    orders = [await guest_checkout(stack, variant) for _ in range(4)]
    assert len({o["name"] for o in orders}) == 4
    after = [(await served(stack, i))[0] for i in (0, 1)]
    share = [a - b for a, b in zip(after, before, strict=True)]
    # 4 checkouts = 16 order requests through the edge, spread round-robin.
    assert sum(share) >= 16 and min(share) >= 4, share


async def test_one_replica_stopped_checkouts_go_to_the_other(stack: Stack) -> None:
    variant = await variant_id(stack)
    await stack.stop_process("order#1")
    try:
        health = ok(await stack.http.get("/healthz"))
        assert health["status"] == "SERVING", health  # the service is up: one replica is
        assert health["services"]["order#1"] != "SERVING"
        before = (await served(stack, 0))[0]
        for _ in range(3):
            await guest_checkout(stack, variant)
        assert (await served(stack, 0))[0] - before >= 12
    finally:
        await stack.start_process("order#1")
    # Back: it gets its share again.
    before = (await served(stack, 1))[0]
    deadline = time.monotonic() + 30
    while (await served(stack, 1))[0] == before:
        assert time.monotonic() < deadline, "the restarted replica never got a request"
        await guest_checkout(stack, variant)


async def test_the_sweeper_runs_on_one_replica_at_a_time(stack: Stack) -> None:
    db = Database("order", stack.database_urls["order"])
    try:
        deadline = time.monotonic() + 20
        while True:
            async with db.session() as s:
                rows = (await s.execute(select(LEASES))).all()
            held = [(await served(stack, i))[1] for i in (0, 1)]
            if rows and sorted(held) == [0.0, 1.0]:
                break
            assert time.monotonic() < deadline, (rows, held)
            await asyncio.sleep(0.5)
        assert len(rows) == 1 and rows[0].name == "order.sweeper"
        holder = rows[0].holder
        assert holder.startswith(("order@", "order#1@")), holder
        # The holder keeps it (renewed every pass); the other replica never takes it.
        for _ in range(4):
            await asyncio.sleep(0.5)
            async with db.session() as s:
                assert (await s.execute(select(LEASES.c.holder))).scalar_one() == holder
            assert sorted([(await served(stack, i))[1] for i in (0, 1)]) == [0.0, 1.0]
        # The holder stops: it hands the lease over, and the other replica takes it.
        who = "order#1" if holder.startswith("order#1@") else "order"
        await stack.stop_process(who)
        try:
            other = 0 if who == "order#1" else 1
            deadline = time.monotonic() + 20
            while (await served(stack, other))[1] != 1.0:
                assert time.monotonic() < deadline, "the other replica never took the lease"
                await asyncio.sleep(0.25)
            async with db.session() as s:
                taken = (await s.execute(select(LEASES.c.holder))).scalar_one()
            assert taken != holder
        finally:
            await stack.start_process(who)
    finally:
        await db.dispose()
