"""GST tax invoices and credit notes: issued with the confirmation / the refund,
numbered without gaps under concurrency, rendered as JSON and as a PDF that parses
back to the same totals."""

from __future__ import annotations

import asyncio
import io
import json
import re

import grpc
import pytest
from pypdf import PdfReader

from cleanse.common.v1 import money_pb2
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from services.order.invoice_pdf import rs
from tests.order.conftest import OrderEnv

NUMBER = re.compile(r"CLN/\d\d-\d\d/(\d{6})")


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
    assert {ln.hsn_code for ln in inv.lines if ln.hsn_code} == {"33049990"}
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
