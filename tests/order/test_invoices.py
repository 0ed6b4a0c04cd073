"""GST tax invoices and credit notes: issued with the confirmation / the refund,
numbered without gaps under concurrency, rendered as JSON and as a PDF that parses
back to the same totals; shipping and the COD fee as lines of their own with the GST
pricing put in them (the shared fake pricing taxes them as pricing does); the
seller's legal name and registered address from settings, and the fallbacks when
settings has none or is down; the PDF downloaded raw through the edge; ListInvoices
paged."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import secrets
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from pypdf import PdfReader

from cleanse.common.v1 import address_pb2, money_pb2
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.pricing.v1 import breakdown_pb2 as bd
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from edge.app import create_app
from edge.config import EdgeConfig
from mesh.errors import Unavailable
from services.order.domain import invoices as rules
from services.order.handlers import invoices
from services.order.invoice_pdf import render_pdf, rs
from tests.order import fakes
from tests.order.conftest import Checkout, OrderEnv, address
from tests.support.rpc import violations

NUMBER = re.compile(r"CLN/\d\d-\d\d/(\d{6})")
ADMIN = ("orders.read", "orders.write", "refunds.write")
K = pb.InvoiceLineKind


@pytest.fixture
def untaxed_fees(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake pricing as pricing priced before it taxed fees: no GST in shipping and
    the COD fee (nor in the bill's `tax`), the total unchanged. Orders placed then
    still get invoices that add up (README "Invoices")."""
    taxed = fakes.price_cart

    def price_cart(shop: fakes.Shop, cart: bd.Cart) -> bd.PriceBreakdown:
        out = taxed(shop, cart)
        for part in (out.shipping.tax, out.cod_fee_tax):
            for f in ("taxable_value", "cgst", "sgst", "igst", "total_tax"):
                getattr(out.tax, f).amount_minor -= getattr(part, f).amount_minor
        out.shipping.ClearField("tax")
        out.shipping.gst_rate_basis_points = 0
        out.ClearField("cod_fee_tax")
        out.cod_fee_gst_rate_basis_points = 0
        return out

    monkeypatch.setattr(fakes, "price_cart", price_cart)


def _sums_match_the_order(inv: pb.Invoice, order: pb.Order, *, fees_taxed: bool = True) -> None:
    """Total and GST to the paisa; the taxable value too when pricing taxed the fees
    (an untaxed fee is taxable value on the invoice, at 0%, but not in pricing's)."""
    assert inv.total.amount_minor == order.total.amount_minor
    assert sum(ln.total.amount_minor for ln in inv.lines) == order.total.amount_minor
    assert inv.taxable_value.amount_minor + inv.total_tax.amount_minor == inv.total.amount_minor
    for f in ("cgst", "sgst", "igst", "total_tax") + (("taxable_value",) if fees_taxed else ()):
        assert getattr(inv, f).amount_minor == getattr(order.tax, f).amount_minor, f
    for ln in inv.lines:
        tax = ln.cgst.amount_minor + ln.sgst.amount_minor + ln.igst.amount_minor
        assert ln.taxable_value.amount_minor + tax == ln.total.amount_minor, ln.description


async def _invoices(env: OrderEnv, order: pb.Order, md: tuple = ()) -> list[pb.Invoice]:
    req = o.ListInvoicesRequest(order=order.name, page_size=100)
    return list((await env.orders.ListInvoices(req, metadata=md or env.admin_md())).invoices)


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


async def test_cod_order_gets_a_tax_invoice_pdf_and_json(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=49900), env.shop.variant(price=19900)
    co = await env.start_checkout([(oil, 1), (soap, 2)])
    order = await env.place(co)
    [inv] = (
        await env.orders.ListInvoices(o.ListInvoicesRequest(order=order.name), metadata=co.md)
    ).invoices
    assert inv.kind == pb.INVOICE_KIND_TAX_INVOICE and NUMBER.fullmatch(inv.invoice_number)
    assert len(inv.invoice_number) <= 16
    assert inv.seller.gstin == "29ABCDE1234F1Z5" and inv.buyer.state_code == "KA"
    assert inv.total.amount_minor == order.total.amount_minor
    assert inv.cgst.amount_minor == order.tax.cgst.amount_minor and inv.igst.amount_minor == 0
    goods = [ln for ln in inv.lines if ln.kind == K.INVOICE_LINE_KIND_GOODS]
    assert {ln.hsn_code for ln in goods} == {"33049990"}
    # Shipping and the COD fee are lines of their own, with pricing's GST in them, and
    # the invoice adds up to the order's figures.
    fees = {ln.kind: ln for ln in inv.lines if ln.kind != K.INVOICE_LINE_KIND_GOODS}
    assert set(fees) == {K.INVOICE_LINE_KIND_SHIPPING, K.INVOICE_LINE_KIND_COD_FEE}
    assert fees[K.INVOICE_LINE_KIND_SHIPPING].total.amount_minor == order.shipping_fee.amount_minor
    assert fees[K.INVOICE_LINE_KIND_COD_FEE].total.amount_minor == order.cod_fee.amount_minor
    for ln in fees.values():
        assert ln.gst_rate_basis_points == 1800 and ln.hsn_code == rules.SHIPPING_SAC
        assert 0 < ln.taxable_value.amount_minor < ln.total.amount_minor
    _sums_match_the_order(inv, order)
    assert inv.amount_in_words.startswith("Rupees ") and inv.amount_in_words.endswith("Only")
    doc = await env.orders.RenderInvoice(
        o.RenderInvoiceRequest(name=inv.name, format="json"), metadata=co.md
    )
    assert json.loads(doc.data)["invoiceNumber"] == inv.invoice_number
    pdf = await env.orders.RenderInvoice(o.RenderInvoiceRequest(name=inv.name), metadata=co.md)
    assert pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "TAX INVOICE" in text and inv.invoice_number in text
    assert f"Total: Rs. {rs(inv.total)}" in text
    # Someone else's invoice: NOT_FOUND; an admin may read any.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.orders.RenderInvoice(
            o.RenderInvoiceRequest(name=inv.name), metadata=env.customer()
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await env.orders.ListInvoices(
        o.ListInvoicesRequest(order=order.name), metadata=env.admin_md()
    )
    assert [i.invoice_number for i in listed.invoices] == [inv.invoice_number]


async def test_invoice_numbers_have_no_gaps_under_concurrency(order_env: OrderEnv) -> None:
    env = order_env
    sessions = [await env.start_checkout([(env.shop.variant(), 1)]) for _ in range(12)]
    orders = await asyncio.gather(*(env.place(co) for co in sessions))
    numbers = []
    for co, order in zip(sessions, orders, strict=True):
        [inv] = (
            await env.orders.ListInvoices(o.ListInvoicesRequest(order=order.name), metadata=co.md)
        ).invoices
        numbers.append(int(NUMBER.fullmatch(inv.invoice_number).group(1)))  # type: ignore[union-attr]
    numbers.sort()
    assert numbers == list(range(numbers[0], numbers[0] + 12))


async def test_refund_gets_a_credit_note(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 2)])
    order = await env.place(co)
    md = env.admin_md(("orders.read", "orders.write", "refunds.write"))
    await env.admin.MarkCodPaid(adm.MarkCodPaidRequest(name=order.name), metadata=md)
    await env.admin.CreateRefund(
        adm.CreateRefundRequest(
            order=order.name,
            request_id="cn-" + order.name[-12:],
            amount=money_pb2.Money(amount_minor=12345, currency_code="INR"),
        ),
        metadata=md,
    )
    invoices = (
        await env.orders.ListInvoices(o.ListInvoicesRequest(order=order.name), metadata=co.md)
    ).invoices
    assert [i.kind for i in invoices] == [pb.INVOICE_KIND_TAX_INVOICE, pb.INVOICE_KIND_CREDIT_NOTE]
    note = invoices[1]
    assert (
        note.invoice_number.startswith("CN/")
        and note.original_invoice_number == invoices[0].invoice_number
    )
    assert note.total.amount_minor == 12345 == sum(ln.total.amount_minor for ln in note.lines)
    for ln in note.lines:
        if ln.gst_rate_basis_points:
            assert ln.taxable_value.amount_minor + ln.cgst.amount_minor + ln.sgst.amount_minor == (
                ln.total.amount_minor
            )


async def test_shipping_and_cod_fee_carry_the_gst_pricing_computed(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 1)])  # under Rs 999
    order = await env.place(co)
    assert (order.shipping_fee.amount_minor, order.cod_fee.amount_minor) == (4900, 2500)
    [inv] = await _invoices(env, order, co.md)
    by_kind = {ln.kind: ln for ln in inv.lines}
    ship, cod = by_kind[K.INVOICE_LINE_KIND_SHIPPING], by_kind[K.INVOICE_LINE_KIND_COD_FEE]
    # Rs 49 at 18% intra-state (the pricing README's worked example): 41.53 + 3.74 + 3.73.
    assert (ship.taxable_value.amount_minor, ship.cgst.amount_minor, ship.sgst.amount_minor) == (
        4153,
        374,
        373,
    )
    assert ship.igst.amount_minor == 0 and ship.gst_rate_basis_points == 1800
    assert ship.hsn_code == rules.SHIPPING_SAC and ship.quantity == 1
    assert ship.description == rules.SHIPPING_DESCRIPTION
    # Rs 25 COD fee: 21.19 + 1.91 + 1.90.
    assert (cod.taxable_value.amount_minor, cod.cgst.amount_minor, cod.sgst.amount_minor) == (
        2119,
        191,
        190,
    )
    assert cod.hsn_code == rules.COD_FEE_SAC and cod.gst_rate_basis_points == 1800
    assert order.tax.total_tax.amount_minor > sum(
        i.cgst.amount_minor + i.sgst.amount_minor for i in order.items
    )  # the order's tax includes the fees' GST ...
    _sums_match_the_order(inv, order)  # ... and so does the invoice, to the paisa
    text = _pdf_text(
        (await env.orders.RenderInvoice(o.RenderInvoiceRequest(name=inv.name), metadata=co.md)).data
    )
    assert rules.SHIPPING_DESCRIPTION in text and rules.COD_FEE_DESCRIPTION in text
    assert "HSN/SAC" in text and rules.SHIPPING_SAC in text
    assert f"Total: Rs. {rs(order.total)}" in text
    assert f"CGST: Rs. {rs(order.tax.cgst)}" in text


async def test_inter_state_fees_are_igst(order_env: OrderEnv) -> None:
    env = order_env
    md = env.customer()
    cart, token = await env.cart_with([(env.shop.variant(price=45000), 1)], md)
    session = await env.checkout.CreateCheckoutSession(
        co_pb2.CreateCheckoutSessionRequest(
            cart=cart,
            cart_token=token,
            delivery_address=address("400001", "MH"),
            payment_method="cod",
        ),
        metadata=md,
    )
    order = await env.place(Checkout(cart, token, md, session))
    assert order.inter_state and order.tax.igst.amount_minor > 0
    [inv] = await _invoices(env, order, md)
    assert inv.inter_state and inv.place_of_supply_state_code == "MH"
    for ln in inv.lines:
        assert ln.cgst.amount_minor == ln.sgst.amount_minor == 0
        assert ln.igst.amount_minor > 0, ln.description
    ship = next(ln for ln in inv.lines if ln.kind == K.INVOICE_LINE_KIND_SHIPPING)
    assert (ship.taxable_value.amount_minor, ship.igst.amount_minor) == (4153, 747)
    _sums_match_the_order(inv, order)


async def test_credit_notes_spread_over_the_taxed_fees(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 2)])
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    await env.admin.MarkCodPaid(adm.MarkCodPaidRequest(name=order.name), metadata=md)
    part = 20000
    await env.admin.CreateRefund(
        adm.CreateRefundRequest(
            order=order.name, request_id=secrets.token_hex(8), amount=fakes.inr(part)
        ),
        metadata=md,
    )
    # Then everything that is left: the notes together credit the whole invoice.
    await env.admin.CreateRefund(
        adm.CreateRefundRequest(order=order.name, request_id=secrets.token_hex(8)), metadata=md
    )
    inv, first, rest = await _invoices(env, order, co.md)
    assert [first.kind, rest.kind] == [pb.INVOICE_KIND_CREDIT_NOTE] * 2
    assert first.total.amount_minor == part
    assert rest.total.amount_minor == order.total.amount_minor - part
    for note in (first, rest):
        assert {ln.kind for ln in note.lines} == {
            K.INVOICE_LINE_KIND_GOODS,
            K.INVOICE_LINE_KIND_SHIPPING,
            K.INVOICE_LINE_KIND_COD_FEE,
        }
        for ln in note.lines:  # every share taxed at its own line's rate, adding up
            assert ln.gst_rate_basis_points == 1800
            tax = ln.cgst.amount_minor + ln.sgst.amount_minor
            assert ln.taxable_value.amount_minor + tax == ln.total.amount_minor
            assert tax > 0
        assert sum(ln.total.amount_minor for ln in note.lines) == note.total.amount_minor
    for kind in (K.INVOICE_LINE_KIND_SHIPPING, K.INVOICE_LINE_KIND_COD_FEE):
        credited = sum(
            ln.total.amount_minor for n in (first, rest) for ln in n.lines if ln.kind == kind
        )
        billed = sum(ln.total.amount_minor for ln in inv.lines if ln.kind == kind)
        # Each note is spread on its own: together they credit the fee within a paisa.
        assert abs(credited - billed) <= 1
    # Tax credited stays within a paisa per line of the tax invoiced.
    for f in ("taxable_value", "cgst", "sgst"):
        credited = getattr(first, f).amount_minor + getattr(rest, f).amount_minor
        assert abs(credited - getattr(inv, f).amount_minor) <= len(inv.lines), f


async def test_fees_priced_untaxed_give_untaxed_fee_lines(
    order_env: OrderEnv, untaxed_fees: None
) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 1)])
    order = await env.place(co)
    [inv] = await _invoices(env, order, co.md)
    fees = [ln for ln in inv.lines if ln.kind != K.INVOICE_LINE_KIND_GOODS]
    assert {ln.kind for ln in fees} == {K.INVOICE_LINE_KIND_SHIPPING, K.INVOICE_LINE_KIND_COD_FEE}
    for ln in fees:  # what that order's tax counted: untaxed, at 0%
        assert ln.gst_rate_basis_points == 0
        assert ln.taxable_value.amount_minor == ln.total.amount_minor
    _sums_match_the_order(inv, order, fees_taxed=False)


def _flat(text: str) -> str:
    """PDF text with its line wrapping undone."""
    return " ".join(text.split())


REGISTERED_AT = (
    "Registered address: No. 42, 2nd Floor, 100 Feet Road, HAL 2nd Stage, Indiranagar, "
    "Bengaluru, Karnataka (KA) 560038, India"
)


async def test_seller_legal_name_and_registered_address_are_on_the_invoice(
    order_env: OrderEnv,
) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 1)])
    order = await env.place(co)
    [inv] = await _invoices(env, order, co.md)
    assert inv.seller.name == fakes.LEGAL_NAME and inv.seller.state_code == "KA"
    assert inv.seller.address == fakes.REGISTERED_ADDRESS
    doc = await env.orders.RenderInvoice(
        o.RenderInvoiceRequest(name=inv.name, format="json"), metadata=co.md
    )
    seller = json.loads(doc.data)["seller"]
    assert seller["name"] == "Cleanse Ayurveda Private Limited"
    assert seller["address"] == {
        "line1": "No. 42, 2nd Floor, 100 Feet Road",
        "line2": "HAL 2nd Stage, Indiranagar",
        "city": "Bengaluru",
        "stateCode": "KA",
        "pincode": "560038",
        "countryCode": "IN",
    }
    text = _flat(
        _pdf_text(
            (
                await env.orders.RenderInvoice(
                    o.RenderInvoiceRequest(name=inv.name), metadata=co.md
                )
            ).data
        )
    )
    assert "Seller: Cleanse Ayurveda Private Limited" in text
    assert REGISTERED_AT in text
    assert "Place of supply: Karnataka (KA)" in text


async def test_settings_down_invoices_from_the_cached_config(order_env: OrderEnv) -> None:
    """Settings down: the last checkout config read (stale) still names the seller and
    its address (policy "settings.cached_checkout_config")."""
    env = order_env
    cache = env.wired.peers.config_cache
    co = await env.start_checkout([(env.shop.variant(price=30000), 1)])  # config cached
    for entry in cache._entries.values():  # it goes stale
        entry.expires_at = 0
    await env.peers["settings"].stop()
    try:
        order = await env.place(co)
    finally:
        await env.restart("settings")
    [inv] = await _invoices(env, order, co.md)
    assert inv.seller.name == fakes.LEGAL_NAME and inv.seller.gstin
    assert inv.seller.address == fakes.REGISTERED_ADDRESS
    assert NUMBER.fullmatch(inv.invoice_number)


class _Peers:
    def __init__(self, cfg: settings_pb2.CheckoutConfig | None) -> None:
        self.cfg = cfg

    async def checkout_config(self) -> settings_pb2.CheckoutConfig:
        if self.cfg is None:
            raise Unavailable("settings is unavailable", metadata={"dependency": "settings"})
        return self.cfg


async def test_seller_falls_back_to_what_settings_knows() -> None:
    async def seller(cfg: settings_pb2.CheckoutConfig | None) -> invoices.Seller:
        return await invoices.InvoiceHandlers(None, _Peers(cfg)).seller()  # type: ignore[arg-type]

    full = settings_pb2.CheckoutConfig(
        registered_state_code="KA",
        gstin="29ABCDE1234F1Z5",
        store_name=fakes.STORE_NAME,
        legal_name=fakes.LEGAL_NAME,
        registered_address=fakes.REGISTERED_ADDRESS,
        invoice_prefix="cln",
    )
    got = await seller(full)
    assert (got.name, got.gstin, got.state_code, got.prefix) == (
        fakes.LEGAL_NAME,
        "29ABCDE1234F1Z5",
        "KA",
        "CLN",
    )
    assert got.address == fakes.REGISTERED_ADDRESS
    # A settings service without a legal name or an address (not set yet, or older):
    # the store name, and the registered state and country.
    older = settings_pb2.CheckoutConfig(
        registered_state_code="KA", store_name=fakes.STORE_NAME, invoice_prefix="CLN"
    )
    got = await seller(older)
    assert got.name == fakes.STORE_NAME
    assert got.address == address_pb2.PostalAddress(state_code="KA", country_code="IN")
    assert "Registered address: Karnataka (KA), India" in _pdf_text(
        render_pdf(pb.Invoice(seller=pb.InvoiceParty(name=got.name, address=got.address)))
    )
    # An address without its country is in India.
    bare = settings_pb2.CheckoutConfig()
    bare.CopyFrom(full)
    bare.registered_address.ClearField("country_code")
    assert (await seller(bare)).address == fakes.REGISTERED_ADDRESS
    # Settings down with nothing cached: the documented defaults.
    got = await seller(None)
    assert got == invoices.Seller("", "", "", "INV") and got.address is None


# --- the PDF through the edge ---------------------------------------------------------


@pytest.fixture
async def edge_http(order_env: OrderEnv) -> AsyncIterator[httpx.AsyncClient]:
    """The REST edge in-process, routing cleanse.order.v1 to the test's order server."""
    app = create_app(
        jwks_source=order_env.keys.source,
        backends={"cleanse.order.v1": str(order_env.wired.app.address)},
        config=EdgeConfig(timeout_seconds=10.0),
        interceptors=(),
        packages_prefix="cleanse.order.",
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge.test") as c:
        yield c
    await app.aclose()


def _bearer(md: tuple) -> dict[str, str]:
    return dict(md)


async def test_invoice_pdf_downloads_raw_through_the_edge(
    order_env: OrderEnv, edge_http: httpx.AsyncClient
) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 1)])
    order = await env.place(co)
    [inv] = await _invoices(env, order, co.md)
    url = f"/v1/{inv.name}:pdf"
    r = await edge_http.get(url, headers=_bearer(co.md))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    text = _pdf_text(r.content)  # the bytes themselves parse as a PDF
    assert "TAX INVOICE" in text and inv.invoice_number in text
    assert f"Total: Rs. {rs(inv.total)}" in text
    # The same access as reading the invoice: another customer is NOT_FOUND (404),
    # no token 401, an admin may download any.
    other = await edge_http.get(url, headers=_bearer(env.customer()))
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/json"
    assert (await edge_http.get(url)).status_code == 401
    admin = await edge_http.get(url, headers=_bearer(env.admin_md()))
    assert admin.status_code == 200 and admin.content.startswith(b"%PDF")
    missing = f"/v1/{order.name}/invoices/{'0' * 32}:pdf"
    assert (await edge_http.get(missing, headers=_bearer(co.md))).status_code == 404
    # The JSON rendering stays for old clients: base64 inside JSON.
    old = await edge_http.get(f"/v1/{inv.name}:render", headers=_bearer(co.md))
    assert old.status_code == 200 and old.headers["content-type"] == "application/json"
    assert base64.b64decode(old.json()["data"]).startswith(b"%PDF")


async def test_get_invoice_pdf_over_grpc(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 1)])
    order = await env.place(co)
    [inv] = await _invoices(env, order, co.md)
    body = await env.orders.GetInvoicePdf(o.GetInvoicePdfRequest(name=inv.name), metadata=co.md)
    assert body.content_type == "application/pdf" and body.data.startswith(b"%PDF")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.orders.GetInvoicePdf(
            o.GetInvoicePdfRequest(name=inv.name), metadata=env.customer()
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.orders.GetInvoicePdf(o.GetInvoicePdfRequest(name="orders/x"), metadata=co.md)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# --- paging ---------------------------------------------------------------------------


async def test_list_invoices_pages(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(price=30000), 2)])
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    await env.admin.MarkCodPaid(adm.MarkCodPaidRequest(name=order.name), metadata=md)
    for amount in (1000, 2000, 3000, 4000):  # four credit notes
        await env.admin.CreateRefund(
            adm.CreateRefundRequest(
                order=order.name, request_id=secrets.token_hex(8), amount=fakes.inr(amount)
            ),
            metadata=md,
        )
    everything = await _invoices(env, order, co.md)
    assert [i.kind for i in everything] == [pb.INVOICE_KIND_TAX_INVOICE] + [
        pb.INVOICE_KIND_CREDIT_NOTE
    ] * 4
    seen: list[str] = []
    token, pages = "", 0
    while True:
        page = await env.orders.ListInvoices(
            o.ListInvoicesRequest(order=order.name, page_size=2, page_token=token), metadata=co.md
        )
        assert len(page.invoices) <= 2
        seen += [i.invoice_number for i in page.invoices]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3 and seen == [i.invoice_number for i in everything]
    # Default size (0) and a size over the maximum (clamped): everything in one page.
    for size in (0, 10_000):
        page = await env.orders.ListInvoices(
            o.ListInvoicesRequest(order=order.name, page_size=size), metadata=co.md
        )
        assert len(page.invoices) == 5 and page.next_page_token == ""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.orders.ListInvoices(
            o.ListInvoicesRequest(order=order.name, page_size=-1), metadata=co.md
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_size" in violations(err.value)
    first = await env.orders.ListInvoices(
        o.ListInvoicesRequest(order=order.name, page_size=1), metadata=co.md
    )
    # A token belongs to its order's list; garbage is not a token.
    other = await env.start_checkout([(env.shop.variant(price=30000), 1)])
    other_order = await env.place(other)
    for bad, who in ((first.next_page_token, other.md), ("not-a-token", co.md)):
        req = o.ListInvoicesRequest(
            order=other_order.name if who is other.md else order.name, page_token=bad
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.orders.ListInvoices(req, metadata=who)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "page_token" in violations(err.value)


def test_fee_tax_keeps_pricings_figures_and_falls_back_to_untaxed() -> None:
    # As pricing gave it (Rs 49 at 18%, intra-state).
    t = rules.fee_tax(
        4900, taxable=4153, tax=747, cgst=374, sgst=373, igst=0, rate_bp=1800,
        registered_state="KA", place_of_supply="KA",
    )  # fmt: skip
    assert (t.taxable, t.rate_bp, t.cgst, t.sgst, t.igst) == (4153, 1800, 374, 373, 0)
    # The tax without its split: split by the place of supply.
    t = rules.fee_tax(
        4900, taxable=4153, tax=747, cgst=0, sgst=0, igst=0, rate_bp=1800,
        registered_state="KA", place_of_supply="MH",
    )  # fmt: skip
    assert (t.cgst, t.sgst, t.igst) == (0, 0, 747)
    # No GST in the breakdown (priced before fees were taxed): untaxed, 0%.
    t = rules.fee_tax(
        2500, taxable=0, tax=0, cgst=0, sgst=0, igst=0, rate_bp=0,
        registered_state="KA", place_of_supply="KA",
    )  # fmt: skip
    assert (t.amount, t.taxable, t.rate_bp, t.cgst + t.sgst + t.igst) == (2500, 2500, 0, 0)


def test_pdf_titles_each_kind() -> None:
    for kind, title in (
        (pb.INVOICE_KIND_TAX_INVOICE, "TAX INVOICE"),
        (pb.INVOICE_KIND_CREDIT_NOTE, "CREDIT NOTE"),
        (pb.INVOICE_KIND_SUPPLEMENTARY_INVOICE, "SUPPLEMENTARY INVOICE"),
    ):
        inv = pb.Invoice(kind=kind, invoice_number="SI/26-27/000001")
        inv.seller.address.line1 = "Plot 7, Peenya Industrial Area"
        inv.seller.address.city = "Bengaluru"
        inv.seller.address.state_code = "KA"
        inv.seller.address.pincode = "560058"
        text = _pdf_text(render_pdf(inv))
        assert title in text.splitlines()[0]
        # A full registered address is printed as given.
        assert "Plot 7, Peenya Industrial Area, Bengaluru, Karnataka (KA) 560058" in text


async def test_credit_note_lines_are_the_refunds_lines_with_a_variant_on_two_lines(
    order_env: OrderEnv,
) -> None:
    """A free gift of the very variant bought puts that variant on two order lines (the
    paid one and the gift). A refund by line prices the variant's units over both
    (domain/refunds: what was paid for the variant's lines, per unit, half up); its
    credit note credits each line exactly what the refund priced it at."""
    env = order_env
    # The refund lists its lines by variant id: the oil first (the note's last line
    # would take whatever is left of the amount, and hide a wrong share).
    oil, soap = sorted(env.shop.variant() for _ in range(2))
    env.shop.variants[oil].price, env.shop.variants[soap].price = 50000, 20000
    env.shop.gifts[oil] = (oil, 1)  # buy oil, get one oil free
    co = await env.start_checkout([(oil, 2), (soap, 1)])
    order = await env.place(co)
    assert sorted((i.variant_id, i.quantity, i.free_gift) for i in order.items) == sorted(
        [(oil, 2, False), (oil, 1, True), (soap, 1, False)]
    )
    md = env.admin_md(ADMIN)
    await env.admin.MarkCodPaid(adm.MarkCodPaidRequest(name=order.name), metadata=md)
    refund = await env.admin.CreateRefund(
        adm.CreateRefundRequest(
            order=order.name,
            request_id=secrets.token_hex(8),
            lines=[
                pb.RefundLine(variant_id=oil, quantity=1),
                pb.RefundLine(variant_id=soap, quantity=1),
            ],
        ),
        metadata=md,
    )
    # The refund's lines: oil 1 of the 3 oils paid Rs 1,000 together; soap in full.
    per_line = {oil: 33333, soap: 20000}  # Rs 1,000 / 3, half up
    assert refund.state == pb.REFUND_STATE_PROCESSED
    assert refund.amount.amount_minor == sum(per_line.values())
    note = (await _invoices(env, order))[-1]
    assert note.kind == pb.INVOICE_KIND_CREDIT_NOTE and note.refund == refund.name
    by_sku = {ln.sku: ln for ln in note.lines}
    assert {v: by_sku[f"SKU-{v[-6:].upper()}"].total.amount_minor for v in per_line} == per_line
    assert [by_sku[f"SKU-{v[-6:].upper()}"].quantity for v in per_line] == [1, 1]
    assert note.total.amount_minor == refund.amount.amount_minor
    assert by_sku[f"SKU-{oil[-6:].upper()}"].gst_rate_basis_points == 1800  # the paid line's
    for ln in note.lines:
        tax = ln.cgst.amount_minor + ln.sgst.amount_minor + ln.igst.amount_minor
        assert ln.taxable_value.amount_minor + tax == ln.total.amount_minor
