"""GST end to end: the rate pricing picks per line is the one the order and its tax
invoice carry. auth, catalog, inventory, pricing, settings and order run as real
processes behind the REST edge (tests/integration/stack.py), settings with its seeded
GST rules (class "apparel": 5% up to Rs 2,625 a piece incl. GST, 18% above), pricing
without its demo discounts and at settings' flat shipping rate (shipping and
engagement are health-only stand-ins), so every paisa below comes from this test's
own coupon. Runs on SQLite and on PostgreSQL.

Hand-checked figures, tax-inclusive, half up per line (mesh.gst), Bengaluru-registered
store delivering to 560001 (KA): CGST + SGST.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, require_postgres
from tests.integration.stack import Stack, edge_backends, start_stack

pytestmark = pytest.mark.integration

SERVICES = ["auth", "catalog", "inventory", "pricing", "settings", "order"]
OIL_SKU = "VAN-KUMK-12ML"  # demo kumkumadi tailam, Rs 799, HSN 3304 99 90: 18%
ADDRESS = {
    "recipientName": "Meera Iyer",
    "phone": "9876543210",
    "line1": "12, 4th Cross, Indiranagar",
    "city": "Bengaluru",
    "stateCode": "KA",
    "pincode": "560001",
    "countryCode": "IN",
}


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return dict(r.json())


def paise(m: dict[str, Any] | None) -> int:
    return int((m or {}).get("amountMinor", 0))


def inr(amount: int) -> dict[str, str]:
    return {"amountMinor": str(amount), "currencyCode": "INR"}


def figures(ln: dict[str, Any]) -> tuple[int, ...]:
    """An order item's or invoice line's (unit price, discount, GST rate, taxable value,
    CGST, SGST, IGST, total)."""
    return (
        paise(ln.get("unitPrice")),
        paise(ln.get("discount")),
        int(ln.get("gstRateBasisPoints", 0)),
        paise(ln.get("taxableValue")),
        paise(ln.get("cgst")),
        paise(ln.get("sgst")),
        paise(ln.get("igst")),
        paise(ln.get("total")),
    )


GOODS = "INVOICE_LINE_KIND_GOODS"


def tax_totals(t: dict[str, Any]) -> tuple[int, ...]:
    """(taxable value, CGST, SGST, IGST, total tax) of an order's tax or an invoice."""
    return tuple(paise(t.get(k)) for k in ("taxableValue", "cgst", "sgst", "igst", "totalTax"))


@dataclass
class Shop:
    stack: Stack
    admin: dict[str, str]

    @property
    def http(self) -> httpx.AsyncClient:
        return self.stack.http

    async def customer(self) -> dict[str, str]:
        body = ok(
            await self.http.post(
                "/v1/auth:register",
                json={
                    "email": f"asha-{secrets.token_hex(5)}@example.in",
                    "password": "tulsi-and-neem-42",
                    "fullName": "Asha Rao",
                },
            )
        )
        return {"Authorization": f"Bearer {body['tokens']['accessToken']}"}

    async def apparel(self, price: int, mrp: int, pieces: int = 1) -> tuple[str, str]:
        """An active apparel product with one variant in stock: (variant id, SKU)."""
        tag = secrets.token_hex(3)
        sku = f"TST-KURTA-{tag.upper()}"
        product = ok(
            await self.http.post(
                "/v1/admin/products",
                json={
                    "slug": f"chanderi-kurta-{tag}",
                    "title": "Chanderi Cotton Kurta",
                    "descriptionHtml": "<p>Hand-block printed.</p>",
                    "hsnCode": "62114290",
                    "taxClass": "apparel",
                    "variants": [
                        {
                            "sku": sku,
                            "optionValues": {"size": "M"},
                            "mrp": inr(mrp),
                            "price": inr(price),
                            "piecesPerUnit": pieces,
                        }
                    ],
                },
                headers=self.admin,
            )
        )
        ok(
            await self.http.patch(
                f"/v1/admin/{product['name']}",
                params={"updateMask": "status"},
                json={"status": "PRODUCT_STATUS_ACTIVE"},
                headers=self.admin,
            )
        )
        vid = product["variants"][0]["variantId"]
        ok(
            await self.http.post(
                f"/v1/admin/warehouses/blr-1/stockLevels/{vid}:set",
                json={"onHand": "50", "note": "opening stock"},
                headers=self.admin,
            )
        )
        return vid, sku

    async def coupon(self, percent_bp: int, variant_id: str) -> str:
        code = f"KURTA{secrets.token_hex(3).upper()}"
        ok(
            await self.http.post(
                "/v1/admin/coupons",
                json={
                    "code": code,
                    "active": True,
                    "kind": "DISCOUNT_KIND_PERCENTAGE",
                    "percentBasisPoints": percent_bp,
                    "eligibility": {"variantIds": [variant_id]},
                },
                headers=self.admin,
            )
        )
        return code

    async def price(self, who: dict[str, str], lines: dict[str, int]) -> dict[str, Any]:
        cart = {"lines": [{"variantId": v, "quantity": q} for v, q in lines.items()]}
        return ok(await self.http.post("/v1/pricing:calculate", json={"cart": cart}, headers=who))

    async def buy(
        self, who: dict[str, str], lines: dict[str, int], codes: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Cart -> checkout session -> COD order (confirmed, so invoiced at once):
        (the order, its tax invoice)."""
        for vid, qty in lines.items():
            ok(
                await self.http.post(
                    "/v1/carts/mine:addLine", json={"variantId": vid, "quantity": qty}, headers=who
                )
            )
        session = ok(
            await self.http.post(
                "/v1/checkoutSessions",
                json={
                    "cart": "carts/mine",
                    "deliveryAddress": ADDRESS,
                    "paymentMethod": "cod",
                    "shippingOption": "standard",
                    "couponCodes": list(codes),
                },
                headers=who,
            )
        )
        order = ok(
            await self.http.post(
                f"/v1/{session['name']}:placeOrder",
                json={"requestId": f"req-{secrets.token_hex(8)}"},
                headers=who,
            )
        )
        assert order["status"] == "ORDER_STATUS_CONFIRMED", order
        listed = ok(await self.http.get(f"/v1/{order['name']}/invoices", headers=who))
        (invoice,) = [i for i in listed["invoices"] if i["kind"] == "INVOICE_KIND_TAX_INVOICE"]
        return order, invoice

    async def set_prices_include_tax(self, value: bool, probe: str) -> None:
        """The store's price mode (settings), then wait until pricing prices with it
        (a cart of the variant `probe`)."""
        ok(
            await self.http.patch(
                "/v1/admin/storeSettings",
                params={"updateMask": "pricesIncludeTax"},
                json={"pricesIncludeTax": value},
                headers=self.admin,
            )
        )
        who = await self.customer()
        deadline = time.monotonic() + 30
        while bool((await self.price(who, {probe: 1})).get("pricesIncludeTax")) != value:
            assert time.monotonic() < deadline, "pricing did not see the price mode change"
            await asyncio.sleep(0.25)

    async def variant_of(self, slug: str, sku: str) -> str:
        page = ok(await self.http.get(f"/v1/products/{slug}"))
        return next(v["id"] for v in page["variants"] if v["sku"] == sku)


@pytest.fixture(scope="module", params=BACKENDS)
async def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Shop]:
    if request.param == "postgres":
        await require_postgres()
    data_dir = tmp_path_factory.mktemp(f"gst-{request.param}")
    stand_ins = [n for n in edge_backends() if n not in SERVICES]
    extra = {
        "CLEANSE_PRICING_SEED_DEMO": "0",  # no demo tiers, gifts or automatic discounts
        "CLEANSE_PRICING_SHIPPING_QUOTES": "0",  # settings' flat rate (Rs 49, free >= Rs 499)
        "CLEANSE_PRICING_SETTINGS_CACHE_SECONDS": "1",  # the store's price mode changes below
    }
    async with start_stack(
        request.param, data_dir, SERVICES, stand_ins=stand_ins, extra_env=extra
    ) as stack:
        email, password = stack.admin_credentials()
        body = ok(
            await stack.http.post(
                "/v1/admin/auth:login", json={"email": email, "password": password}
            )
        )
        yield Shop(stack, {"Authorization": f"Bearer {body['tokens']['accessToken']}"})


async def test_a_discounted_kurta_is_ordered_and_invoiced_at_5_percent(shop: Shop) -> None:
    kurta, kurta_sku = await shop.apparel(price=299900, mrp=349900)  # Rs 2,999 incl. GST
    oil = await shop.variant_of("kumkumadi-tailam", OIL_SKU)
    code = await shop.coupon(1500, kurta)  # 15% off the kurta only
    who = await shop.customer()

    # Without the coupon the kurta is over the bound: Rs 2,999 > Rs 2,625, 18%.
    # 299900 / 1.18 = 254152.54 -> taxable 254153, GST 45747.
    (line,) = (await shop.price(who, {kurta: 1}))["lines"]
    assert line["gstRateBasisPoints"] == 1800
    assert (paise(line["tax"]["taxableValue"]), paise(line["tax"]["totalTax"])) == (254153, 45747)

    order, invoice = await shop.buy(who, {kurta: 1, oil: 1}, (code,))
    # (unit price, discount, GST rate, taxable value, CGST, SGST, IGST, line total)
    # Kurta: 15% of 299900 = 44985 off, Rs 2,549.15 <= Rs 2,625: 5%.
    #   254915 / 1.05 = 242776.19 -> 242776, GST 12139 = CGST 6070 + SGST 6069.
    # Oil: 18% whatever the coupon (it names the kurta only).
    #   79900 / 1.18 = 67711.86 -> 67712, GST 12188 = CGST 6094 + SGST 6094.
    expected = {
        kurta_sku: (299900, 44985, 500, 242776, 6070, 6069, 0, 254915),
        OIL_SKU: (79900, 0, 1800, 67712, 6094, 6094, 0, 79900),
    }
    assert {i["sku"]: figures(i) for i in order["items"]} == expected
    # Shipping free (Rs 3,348.15 of goods >= Rs 499); COD fee Rs 49 at the cart's highest
    # line rate, 18%: 4900 / 1.18 = 4152.54 -> 4153, GST 747 = CGST 374 + SGST 373.
    assert paise(order.get("shippingFee")) == 0 and paise(order.get("codFee")) == 4900
    assert paise(order["total"]) == 254915 + 79900 + 4900
    totals = (242776 + 67712 + 4153, 6070 + 6094 + 374, 6069 + 6094 + 373, 0, 25074)
    assert tax_totals(order["tax"]) == totals

    goods = {ln["sku"]: figures(ln) for ln in invoice["lines"] if ln["kind"] == GOODS}
    assert goods == expected
    (fee,) = [ln for ln in invoice["lines"] if ln["kind"] == "INVOICE_LINE_KIND_COD_FEE"]
    assert figures(fee) == (4900, 0, 1800, 4153, 374, 373, 0, 4900)
    assert not invoice.get("interState") and invoice["placeOfSupplyStateCode"] == "KA"
    assert tax_totals(invoice) == totals
    assert paise(invoice["total"]) == paise(order["total"])


async def test_a_pack_of_two_is_taxed_per_piece(shop: Shop) -> None:
    """The catalog's pieces_per_unit reaches pricing: a pack of two kurta sets at
    Rs 4,899 is Rs 2,449.50 a piece, 5% (as one piece it would be 18%)."""
    pack, _ = await shop.apparel(price=489900, mrp=549900, pieces=2)
    who = await shop.customer()
    order, invoice = await shop.buy(who, {pack: 1})
    # 489900 / 1.05 = 466571.43 -> 466571, GST 23329 = CGST 11665 + SGST 11664.
    expected = (489900, 0, 500, 466571, 11665, 11664, 0, 489900)
    assert [figures(i) for i in order["items"]] == [expected]
    assert [figures(ln) for ln in invoice["lines"] if ln["kind"] == GOODS] == [expected]
    # COD fee at 5%: 4900 / 1.05 = 4666.67 -> 4667, GST 233 = CGST 117 + SGST 116.
    totals = (466571 + 4667, 11665 + 117, 11664 + 116, 0, 23329 + 233)
    assert tax_totals(order["tax"]) == tax_totals(invoice) == totals


async def test_tax_exclusive_prices_compare_the_value_without_gst(shop: Shop) -> None:
    """With tax-exclusive prices (StoreSettings.prices_include_tax = false) the price is
    the transaction value: a kurta at Rs 2,800 + GST with 10% off sells for Rs 2,520,
    over the law's Rs 2,500, so 18%, though Rs 2,520 is under the seeded Rs 2,625
    bound (Rs 2,500 + 5%) that tax-inclusive prices are compared with."""
    kurta, _ = await shop.apparel(price=280000, mrp=320000)
    at_threshold, _ = await shop.apparel(price=250000, mrp=300000)
    code = await shop.coupon(1000, kurta)
    await shop.set_prices_include_tax(False, kurta)
    try:
        who = await shop.customer()
        # Rs 2,500 + GST exactly: 5%, 12500 on top (the customer pays Rs 2,625).
        b = await shop.price(who, {at_threshold: 1})
        (line,) = b["lines"]
        assert not b.get("pricesIncludeTax")
        assert (line["gstRateBasisPoints"], paise(line["tax"]["totalTax"])) == (500, 12500)
        assert paise(line["total"]) == 262500

        order, invoice = await shop.buy(who, {kurta: 1}, (code,))
    finally:
        await shop.set_prices_include_tax(True, kurta)
    # 10% of 280000 = 28000 off: 252000 > 250000, 18% on top: 45360 = 22680 + 22680;
    # the line costs 252000 + 45360 = 297360.
    expected = (280000, 28000, 1800, 252000, 22680, 22680, 0, 297360)
    assert [figures(i) for i in order["items"]] == [expected]
    assert [figures(ln) for ln in invoice["lines"] if ln["kind"] == GOODS] == [expected]
    # The COD fee is tax-inclusive in either mode: Rs 49 at 18%, 4153 + 374 + 373.
    assert paise(order["total"]) == paise(invoice["total"]) == 297360 + 4900
    totals = (252000 + 4153, 22680 + 374, 22680 + 373, 0, 45360 + 747)
    assert tax_totals(order["tax"]) == tax_totals(invoice) == totals
