"""A storefront and an admin console on catalog + inventory, through the REST edge.

Real processes on ephemeral ports (tests/integration/stack.py): auth, catalog (its
demo catalogue loaded on first start), inventory (its demo stock,
services/inventory/demo_stock.csv) and the edge, on SQLite and on PostgreSQL. The
edge's other backends (order, pricing, settings: not the subject here) are
health-only stand-ins so that /healthz can say SERVING. Settings that keep the run
short: catalog's stock cache off (CLEANSE_CATALOG_STOCK_CACHE_SECONDS=0: a stock
change shows on the next page view) and the circuit breaker's reset at 1 s.
"""

from __future__ import annotations

import asyncio
import csv
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mesh.supervisor import ROOT
from tests.conftest import BACKENDS
from tests.integration.stack import Stack, edge_backends, start_stack

pytestmark = pytest.mark.integration

# settings: the catalog checks a product's tax class with it on admin writes.
SERVICES = ["auth", "catalog", "inventory", "settings"]
DEMO_STOCK = ROOT / "services" / "inventory" / "demo_stock.csv"
IN_STOCK = "STOCK_STATUS_IN_STOCK"
LOW_STOCK = "STOCK_STATUS_LOW_STOCK"
OUT_OF_STOCK = "STOCK_STATUS_OUT_OF_STOCK"
BACKORDER = "STOCK_STATUS_BACKORDER"
UNKNOWN = "STOCK_STATUS_UNSPECIFIED"
# A few units left is "low" whatever the reorder points (inventory's default threshold
# is 5); far above every reorder point is plainly "in stock".
LOW_MAX = 5

# Demo products whose variants between them show every stock status.
PAGES = {
    "kumkumadi-tailam": {"VAN-KUMK-12ML": IN_STOCK},
    "goat-milk-saffron-soap": {"KAY-GMSS-1": LOW_STOCK},
    "saffron-lip-balm": {"KAY-SLBM-10G": OUT_OF_STOCK},
    "neem-turmeric-soap": {"NEE-NTSP-1": BACKORDER},
}


# --- the demo stock, read independently of the inventory service ------------------------


@dataclass(frozen=True)
class DemoStock:
    units: int
    reorder_total: int
    backorder_room: int


def demo_stock() -> dict[str, DemoStock]:
    out: dict[str, DemoStock] = {}
    with DEMO_STOCK.open(newline="") as f:
        for row in csv.DictReader(f):
            warehouses = [k for k in row if k not in ("sku", "reorder_point", "backorder_limit")]
            out[row["sku"]] = DemoStock(
                units=sum(int(row[w] or 0) for w in warehouses),
                reorder_total=int(row["reorder_point"] or 0) * len(warehouses),
                backorder_room=int(row["backorder_limit"] or 0) * len(warehouses),
            )
    return out


def expected_status(s: DemoStock) -> str | None:
    """The status the demo stock plainly implies; None when it depends on thresholds."""
    if s.units == 0:
        return BACKORDER if s.backorder_room > 0 else OUT_OF_STOCK
    if s.units <= LOW_MAX:
        return LOW_STOCK
    if s.units > max(s.reorder_total, LOW_MAX):
        return IN_STOCK
    return None


# --- helpers -----------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def status_of(variant: dict[str, Any]) -> str:
    return variant.get("stock", {}).get("status", UNKNOWN)


def by_sku(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["sku"]: v for v in page["variants"]}


async def eventually(
    probe: Callable[[], Awaitable[bool]], within: float = 20.0, what: str = "condition"
) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not await probe():
        if loop.time() > end:
            raise AssertionError(f"{what}: not reached within {within:.0f}s")
        await asyncio.sleep(0.2)


@dataclass
class Session:
    stack: Stack
    admin_token: str
    admin_name: str

    @property
    def http(self) -> httpx.AsyncClient:
        return self.stack.http

    async def page(self, slug: str) -> httpx.Response:
        return await self.http.get(f"/v1/products/{slug}")

    async def customer_token(self) -> str:
        r = await self.http.post(
            "/v1/auth:register",
            json={
                "email": f"shopper-{secrets.token_hex(4)}@example.in",
                "password": "tulsi-and-neem-42",
                "fullName": "Meera Iyer",
            },
        )
        assert r.status_code == 200, r.text
        return str(r.json()["tokens"]["accessToken"])


@pytest.fixture(scope="module", params=BACKENDS)
async def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Session]:
    data_dir: Path = tmp_path_factory.mktemp(f"storefront-{request.param}")
    stand_ins = [n for n in edge_backends() if n not in SERVICES]
    extra = {"CLEANSE_CATALOG_STOCK_CACHE_SECONDS": "0", "CLEANSE_BREAKER_RESET_SECONDS": "1"}
    async with start_stack(
        request.param, data_dir, SERVICES, stand_ins=stand_ins, extra_env=extra
    ) as stack:
        email, password = stack.admin_credentials()
        r = await stack.http.post(
            "/v1/admin/auth:login", json={"email": email, "password": password}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        yield Session(stack, body["tokens"]["accessToken"], body["adminUser"]["name"])


# --- storefront reads ---------------------------------------------------------------------


async def test_product_page_has_prices_media_ingredients_and_inventorys_stock(
    shop: Session,
) -> None:
    stock = demo_stock()
    seen: set[str] = set()
    for slug, chosen in PAGES.items():
        r = await shop.page(slug)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["slug"] == slug and page["stockUnknown"] is False
        assert page["media"] and all(m["url"].startswith("https://") for m in page["media"])
        assert all(m["altText"] for m in page["media"])
        assert page["ingredients"] and all(i["displayName"] for i in page["ingredients"])
        assert "cost" not in r.text.lower()  # cost price is for admins only
        variants = by_sku(page)
        for sku, want in chosen.items():
            assert expected_status(stock[sku]) == want, f"demo_stock.csv changed for {sku}"
        for sku, v in variants.items():
            price, mrp = v["price"], v["mrp"]
            # Money: integer paise as a JSON string (int64), never a float.
            assert price["currencyCode"] == mrp["currencyCode"] == "INR"
            assert price["amountMinor"].isdigit() and mrp["amountMinor"].isdigit()
            assert 0 < int(price["amountMinor"]) <= int(mrp["amountMinor"])
            want = expected_status(stock[sku])
            if want is not None:
                assert status_of(v) == want, (slug, sku, v)
                seen.add(want)
            if status_of(v) == LOW_STOCK:
                units = stock[sku].units
                assert int(v["stock"]["available"]) == units
                assert v["stock"]["label"] == f"Only {units} left"
        assert page["minPrice"]["amountMinor"] == str(
            min(int(v["price"]["amountMinor"]) for v in variants.values())
        )
    assert seen == {IN_STOCK, LOW_STOCK, OUT_OF_STOCK, BACKORDER}
    # The catalogue's own demo figures (services/catalog/demo/catalog.yaml).
    kumk = by_sku((await shop.page("kumkumadi-tailam")).json())["VAN-KUMK-12ML"]
    assert kumk["price"]["amountMinor"] == "79900" and kumk["mrp"]["amountMinor"] == "89500"
    assert (await shop.page("no-such-product")).status_code == 404


async def test_search_tolerates_typos_counts_facets_and_suggests(shop: Session) -> None:
    async def search(**params: Any) -> dict[str, Any]:
        r = await shop.http.get("/v1/search/products", params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())

    found = await search(query="ashwganda")
    slugs = [h["slug"] for h in found["results"]]
    assert slugs[0] == "ashwagandha-capsules"
    assert found["totalSize"] == len(slugs)
    assert "ashwganda" in found["results"][0]["correctedTerms"]

    oil = await search(query="kumkumadi tailum")
    assert oil["results"] and oil["results"][0]["slug"] == "kumkumadi-tailam"

    # Each brand facet value counts the matching products of that brand.
    brands = next(f for f in found["facets"] if f["name"] == "brand")["values"]
    assert brands
    for b in brands:
        assert b["count"] == sum(h["brandName"] == b["label"] for h in found["results"]), b
    # ... and filtering by it returns exactly that many.
    top = max(brands, key=lambda b: b["count"])
    narrowed = await search(query="ashwganda", brandSlugs=top["value"])
    assert narrowed["totalSize"] == top["count"]
    assert {h["brandName"] for h in narrowed["results"]} == {top["label"]}

    # Three typos: nothing matches, but the shopper is told what was meant.
    none = await search(query="ashwgnda")
    assert none["totalSize"] == 0 and not none["results"]
    assert none["didYouMean"] == "ashwagandha"
    again = await search(query=none["didYouMean"])
    assert "ashwagandha-capsules" in [h["slug"] for h in again["results"]]


# --- admin console ------------------------------------------------------------------------


async def test_admin_creates_a_product_unseen_until_activated_then_stocks_it(
    shop: Session,
) -> None:
    admin = bearer(shop.admin_token)
    tag = secrets.token_hex(3)
    slug = f"brahmi-hair-tonic-{tag}"
    sku = f"TST-BRHT-{tag.upper()}"
    r = await shop.http.post(
        "/v1/admin/products",
        json={
            "slug": slug,
            "title": "Brahmi Hair Tonic",
            "descriptionHtml": "<p>Brahmi and bhringraj for the scalp.</p>",
            "hsnCode": "33059090",
            "taxClass": "standard",
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    product = r.json()
    name = product["name"]
    assert product["status"] == "PRODUCT_STATUS_DRAFT"
    assert product["createdBy"] == shop.admin_name

    r = await shop.http.post(
        f"/v1/admin/{name}/variants",
        json={
            "sku": sku,
            "optionValues": {"size": "100 ml"},
            "mrp": {"amountMinor": "45000", "currencyCode": "INR"},
            "price": {"amountMinor": "39900", "currencyCode": "INR"},
            "costPrice": {"amountMinor": "12000", "currencyCode": "INR"},
            "weightGrams": 140,
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    variant_id = r.json()["variantId"]

    # A draft is invisible to the storefront and to search.
    assert (await shop.page(slug)).status_code == 404

    async def searchable() -> bool:
        r = await shop.http.get("/v1/search/products", params={"query": "brahmi hair tonic"})
        assert r.status_code == 200, r.text
        return slug in [h["slug"] for h in r.json()["results"]]

    assert not await searchable()

    # A customer's token on an admin route: authenticated, not allowed.
    customer = bearer(await shop.customer_token())
    r = await shop.http.patch(
        f"/v1/admin/{name}", json={"status": "PRODUCT_STATUS_ACTIVE"}, headers=customer
    )
    assert r.status_code == 403, r.text
    assert (await shop.http.get("/v1/admin/products", headers=customer)).status_code == 403
    assert (await shop.http.get("/v1/admin/products")).status_code == 401

    r = await shop.http.patch(
        f"/v1/admin/{name}",
        params={"updateMask": "status"},
        json={"status": "PRODUCT_STATUS_ACTIVE"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    got = (await shop.http.get(f"/v1/admin/{name}", headers=admin)).json()
    assert got["status"] == "PRODUCT_STATUS_ACTIVE"
    assert got["createdBy"] == got["updatedBy"] == shop.admin_name
    assert got["variants"][0]["costPrice"]["amountMinor"] == "12000"  # admins see it

    r = await shop.page(slug)
    assert r.status_code == 200, r.text
    v = by_sku(r.json())[sku]
    assert v["price"]["amountMinor"] == "39900" and "cost" not in r.text.lower()
    assert status_of(v) == OUT_OF_STOCK  # no stock anywhere yet
    await eventually(searchable, within=10, what="the activated product in search")

    # Stock through inventory's admin routes; the product page follows.
    async def set_stock(on_hand: int) -> None:
        r = await shop.http.post(
            f"/v1/admin/warehouses/blr-1/stockLevels/{variant_id}:set",
            json={"onHand": str(on_hand), "note": "opening stock"},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert r.json()["available"] == str(on_hand)

    await set_stock(40)
    v = by_sku((await shop.page(slug)).json())[sku]
    assert status_of(v) == IN_STOCK
    await set_stock(2)
    v = by_sku((await shop.page(slug)).json())[sku]
    assert status_of(v) == LOW_STOCK and v["stock"]["label"] == "Only 2 left"
    # Inventory's writes are admin-only too.
    r = await shop.http.post(
        f"/v1/admin/warehouses/blr-1/stockLevels/{variant_id}:set",
        json={"onHand": "1000"},
        headers=customer,
    )
    assert r.status_code == 403


# --- degradation with a really stopped process ---------------------------------------------


async def test_inventory_down_page_still_answers_with_stock_unknown_then_recovers(
    shop: Session,
) -> None:
    r = await shop.http.get("/healthz")
    assert r.status_code == 200, r.text
    health = r.json()
    assert health["status"] == "SERVING"
    assert set(health["services"]) == set(edge_backends())
    assert set(health["services"].values()) == {"SERVING"}

    slug = "neem-turmeric-soap"
    before = {sku: status_of(v) for sku, v in by_sku((await shop.page(slug)).json()).items()}
    assert UNKNOWN not in before.values()

    await shop.stack.stop_process("inventory")
    try:
        r = await shop.page(slug)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["stockUnknown"] is True
        for v in page["variants"]:
            assert status_of(v) == UNKNOWN, v
            assert int(v["price"]["amountMinor"]) > 0  # the rest of the page is intact
        # Search does not need inventory.
        found = await shop.http.get("/v1/search/products", params={"query": "neem soap"})
        assert found.status_code == 200 and found.json()["totalSize"] > 0

        r = await shop.http.get("/healthz")
        assert r.status_code == 503, r.text
        health = r.json()
        assert health["status"] == "NOT_SERVING"
        assert health["services"]["inventory"] != "SERVING"
        assert {n for n, s in health["services"].items() if s != "SERVING"} == {"inventory"}
    finally:
        await shop.stack.start_process("inventory")

    async def statuses_back() -> bool:
        r = await shop.page(slug)
        if r.status_code != 200 or r.json()["stockUnknown"]:
            return False
        return {sku: status_of(v) for sku, v in by_sku(r.json()).items()} == before

    await eventually(statuses_back, what="stock statuses after inventory restarted")

    async def healthy() -> bool:
        return (await shop.http.get("/healthz")).status_code == 200

    await eventually(healthy, what="/healthz SERVING after inventory restarted")
