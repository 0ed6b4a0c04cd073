"""GST tax invoices and credit notes.

A tax invoice is issued in the SAME transaction that confirms an order, and a
credit note in the one that marks a refund processed: its number comes from a
row-locked counter per series and financial year (`invoice_counters`), so numbers
are sequential with no gaps and no duplicates under concurrency (a rolled back
confirmation rolls its number back too). The issued invoice is stored as its
serialized proto and never changes.

Seller details come from the settings checkout config (legal name, GSTIN,
registered state, registered postal address, invoice prefix), read before the
transaction (cached; settings down: the last config read, policy
"settings.cached_checkout_config"; nothing cached either: prefix "INV", no name,
GSTIN or address, policy "settings.invoice_defaults"). The seller's name is the legal
name (the store name while settings has none); its address is the registered
address, or, while settings has none, what it does know: the registered state and
the country (`seller_address`).

Shipping and the COD fee are lines of their own (SAC 9968, domain/invoices.py) with
the taxable value and CGST/SGST or IGST pricing computed for them (the order's
stored PriceBreakdown: `shipping.tax`, `cod_fee_tax`), so the invoice's totals equal
the order's total and tax to the paisa. A credit note by amount spreads the amount
over the goods and the fee lines alike, each taxed at its own rate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from google.api import httpbody_pb2
from google.protobuf.json_format import MessageToDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.common.v1 import address_pb2
from cleanse.order.v1 import order_service_pb2 as order_pb2
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.pricing.v1 import breakdown_pb2
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from mesh.db import Database, Unit, new_id, utcnow
from mesh.errors import InvalidArgument, Unavailable
from mesh.gst import gst_line
from observability.metrics import DEGRADED_CALLS
from services.order import convert
from services.order import repository as repo
from services.order.domain import invoices as rules
from services.order.domain import refunds as refund_rules
from services.order.handlers.common import Clock, caller, customer_id, id_of, not_found
from services.order.invoice_pdf import render_pdf
from services.order.models import Invoice, Order, OrderItem, Refund
from services.order.peers import Peers


@dataclass(frozen=True)
class Seller:
    name: str  # the legal name printed on the invoice
    gstin: str
    state_code: str
    prefix: str
    address: address_pb2.PostalAddress | None = None


def seller_name(cfg: settings_pb2.CheckoutConfig) -> str:
    """The legal name settings gives for tax invoices; the store name without one."""
    return cfg.legal_name.strip() or cfg.store_name


def seller_address(cfg: settings_pb2.CheckoutConfig) -> address_pb2.PostalAddress:
    """The store's registered postal address from settings
    (`CheckoutConfig.registered_address`); while settings has none (not set yet, or
    a settings service from before it had one), what it does know: the registered
    state and the country."""
    given = cfg.registered_address
    if cfg.HasField("registered_address") and (given.line1 or given.city or given.pincode):
        out = address_pb2.PostalAddress()
        out.CopyFrom(given)
        out.state_code = out.state_code or cfg.registered_state_code
        out.country_code = out.country_code or "IN"
        return out
    return address_pb2.PostalAddress(
        state_code=cfg.registered_state_code,
        country_code="IN" if cfg.registered_state_code else "",
    )


@dataclass(frozen=True)
class Fee:
    """A fee line of an order: shipping or the COD fee, with pricing's GST."""

    kind: int  # pb.InvoiceLineKind
    description: str
    sac: str
    tax: rules.FeeTax


def order_fees(order: Order) -> list[Fee]:
    """The order's shipping and COD fee (non-zero ones) with the GST pricing put in
    them, read from the PriceBreakdown stored on the order."""
    bd = breakdown_pb2.PriceBreakdown()
    if order.breakdown:
        bd.ParseFromString(order.breakdown)
    registered = bd.registered_state_code
    pos = bd.place_of_supply_state_code or order.place_of_supply
    out = []
    for kind, description, sac, amount, tax, rate in (
        (
            pb.INVOICE_LINE_KIND_SHIPPING,
            rules.SHIPPING_DESCRIPTION,
            rules.SHIPPING_SAC,
            order.shipping_minor,
            bd.shipping.tax,
            bd.shipping.gst_rate_basis_points,
        ),
        (
            pb.INVOICE_LINE_KIND_COD_FEE,
            rules.COD_FEE_DESCRIPTION,
            rules.COD_FEE_SAC,
            order.cod_fee_minor,
            bd.cod_fee_tax,
            bd.cod_fee_gst_rate_basis_points,
        ),
    ):
        if not amount:
            continue
        split = (tax.cgst.amount_minor, tax.sgst.amount_minor, tax.igst.amount_minor)
        ft = rules.fee_tax(
            amount,
            taxable=tax.taxable_value.amount_minor,
            tax=tax.total_tax.amount_minor or sum(split),
            cgst=split[0],
            sgst=split[1],
            igst=split[2],
            rate_bp=rate,
            registered_state=registered,
            place_of_supply=pos,
        )
        out.append(Fee(kind, description, sac, ft))
    return out


class InvoiceHandlers:
    def __init__(self, db: Database, peers: Peers, clock: Clock = utcnow) -> None:
        self.db = db
        self.peers = peers
        self.clock = clock

    async def seller(self) -> Seller:
        try:
            cfg = await self.peers.checkout_config()
        except Unavailable:
            DEGRADED_CALLS.labels("settings.invoice_defaults").inc()
            return Seller("", "", "", "INV")
        return Seller(
            seller_name(cfg),
            cfg.gstin,
            cfg.registered_state_code,
            rules.clean_prefix(cfg.invoice_prefix),
            seller_address(cfg),
        )

    # --- issuing (inside the caller's transaction) -------------------------------------

    async def _number(self, s: Unit, prefix: str, now: datetime) -> tuple[str, str]:
        fy = rules.financial_year(now)
        value = await repo.next_invoice_value(self.db, s, rules.series_key(prefix, fy))
        return rules.invoice_number(prefix, fy, value), fy

    def _header(
        self, order: Order, seller: Seller, kind: int, number: str, fy: str, now: datetime
    ) -> pb.Invoice:
        a = order.address
        return pb.Invoice(
            kind=kind,
            invoice_number=number,
            financial_year=fy,
            issue_time=convert.ts(now),
            order_number=order.order_number,
            seller=pb.InvoiceParty(
                name=seller.name,
                gstin=seller.gstin,
                state_code=seller.state_code,
                address=seller.address,
            ),
            buyer=pb.InvoiceParty(
                name=a.get("recipient_name", ""),
                address=convert.address_out(a),
                state_code=a.get("state_code", ""),
                email=order.email,
            ),
            place_of_supply_state_code=order.place_of_supply or a.get("state_code", ""),
            inter_state=order.inter_state,
        )

    def _totals(self, inv: pb.Invoice, cur: str) -> None:
        taxable = sum(ln.taxable_value.amount_minor for ln in inv.lines)
        cgst = sum(ln.cgst.amount_minor for ln in inv.lines)
        sgst = sum(ln.sgst.amount_minor for ln in inv.lines)
        igst = sum(ln.igst.amount_minor for ln in inv.lines)
        total = sum(ln.total.amount_minor for ln in inv.lines)
        inv.taxable_value.CopyFrom(convert.money(taxable, cur))
        inv.cgst.CopyFrom(convert.money(cgst, cur))
        inv.sgst.CopyFrom(convert.money(sgst, cur))
        inv.igst.CopyFrom(convert.money(igst, cur))
        inv.total_tax.CopyFrom(convert.money(cgst + sgst + igst, cur))
        inv.total.CopyFrom(convert.money(total, cur))
        inv.amount_in_words = rules.amount_in_words(total)

    def _item_line(self, item: OrderItem, cur: str) -> pb.InvoiceLine:
        return pb.InvoiceLine(
            description=" ".join(x for x in (item.product_name, item.variant_title) if x),
            sku=item.sku,
            hsn_code=item.hsn_code,
            quantity=item.quantity,
            unit_price=convert.money(item.unit_price_minor, cur),
            discount=convert.money(item.discount_minor, cur),
            taxable_value=convert.money(item.taxable_minor, cur),
            gst_rate_basis_points=item.gst_rate_bp,
            cgst=convert.money(item.cgst_minor, cur),
            sgst=convert.money(item.sgst_minor, cur),
            igst=convert.money(item.igst_minor, cur),
            total=convert.money(item.total_minor, cur),
            kind=pb.INVOICE_LINE_KIND_GOODS,
        )

    def _fee_line(self, fee: Fee, t: rules.FeeTax, cur: str) -> pb.InvoiceLine:
        """A shipping or COD fee line: `t` is the fee's GST (or a share's)."""
        return pb.InvoiceLine(
            description=fee.description,
            hsn_code=fee.sac,
            quantity=1,
            unit_price=convert.money(t.amount, cur),
            taxable_value=convert.money(t.taxable, cur),
            gst_rate_basis_points=t.rate_bp,
            cgst=convert.money(t.cgst, cur),
            sgst=convert.money(t.sgst, cur),
            igst=convert.money(t.igst, cur),
            total=convert.money(t.amount, cur),
            kind=fee.kind,
        )

    async def issue_tax_invoice(
        self,
        s: AsyncSession,
        order: Order,
        seller: Seller,
        now: datetime,
        items: Sequence[OrderItem] | None = None,
    ) -> Invoice | None:
        """`items`: the order's items when the caller has them (by position)."""
        invoice, new = await self.tax_invoice(s, order, seller, now, items)
        if new:
            s.add(invoice)
        return invoice

    async def tax_invoice(
        self,
        s: Unit,
        order: Order,
        seller: Seller,
        now: datetime,
        items: Sequence[OrderItem] | None = None,
        *,
        none_yet: bool = False,
    ) -> tuple[Invoice, bool]:
        """(the order's tax invoice, whether it is new). A new one is numbered in the
        transaction `s` (the series' counter row stays locked until it commits) and
        not written: the caller writes it in that same transaction (`issue_tax_invoice`
        adds it; the confirmation writes it with its other rows in one statement). One
        issued already is returned as read (a transient object). `none_yet`: the
        caller read, in `s` under the order's row lock, that there is none (not read
        again)."""
        existing = None if none_yet else await repo.read_tax_invoice(self.db, s, order.id)
        if existing is not None:
            return existing, False
        number, fy = await self._number(s, seller.prefix, now)
        inv = self._header(order, seller, pb.INVOICE_KIND_TAX_INVOICE, number, fy, now)
        cur = order.currency
        if items is None:
            items = await repo.read_order_items(self.db, s, order.id)
        for item in items:
            inv.lines.append(self._item_line(item, cur))
        for fee in order_fees(order):
            inv.lines.append(self._fee_line(fee, fee.tax, cur))
        self._totals(inv, cur)
        return self._row(order, inv, "TAX_INVOICE", fy, now, None), True

    async def issue_credit_note(
        self, s: AsyncSession, order: Order, refund: Refund, seller: Seller, now: datetime
    ) -> Invoice | None:
        if await s.scalar(select(Invoice).where(Invoice.refund_id == refund.id)) is not None:
            return None
        return await self._adjustment(
            s,
            order,
            seller,
            now,
            "CREDIT_NOTE",
            refund.amount_minor,
            [(str(v), int(q)) for v, q in refund.lines],
            refund.id,
        )

    async def issue_edit_adjustment(
        self, s: AsyncSession, order: Order, seller: Seller, now: datetime, difference: int
    ) -> Invoice | None:
        """An admin edit changed an invoiced order's total by `difference`: a
        supplementary invoice for an increase, a credit note for a decrease, both
        spread over the edited order's lines like a credit note by amount. (A
        decrease that is refunded gets its credit note from the refund instead.)"""
        if difference == 0:
            return None
        kind = "SUPPLEMENTARY" if difference > 0 else "CREDIT_NOTE"
        return await self._adjustment(s, order, seller, now, kind, abs(difference), [], None)

    async def _adjustment(
        self,
        s: AsyncSession,
        order: Order,
        seller: Seller,
        now: datetime,
        kind: str,
        amount_minor: int,
        lines: list[tuple[str, int]],
        refund_id: str | None,
    ) -> Invoice | None:
        original = await s.scalar(
            select(Invoice).where(Invoice.order_id == order.id, Invoice.kind == "TAX_INVOICE")
        )
        if original is None:  # never invoiced (paid after the stock ran out): nothing to adjust
            return None
        if kind == "SUPPLEMENTARY":
            prefix, kind_pb = rules.SUPPLEMENTARY_PREFIX, pb.INVOICE_KIND_SUPPLEMENTARY_INVOICE
        else:
            prefix, kind_pb = rules.CREDIT_NOTE_PREFIX, pb.INVOICE_KIND_CREDIT_NOTE
        number, fy = await self._number(s, prefix, now)
        inv = self._header(order, seller, kind_pb, number, fy, now)
        inv.original_invoice_number = original.number
        if refund_id:
            inv.refund = f"orders/{order.id}/refunds/{refund_id}"
        cur = order.currency
        items = await repo.order_items(s, order.id)
        registered = seller.state_code or order.place_of_supply
        pos = order.place_of_supply or registered
        parts: list[tuple[OrderItem | Fee, int, int]] = []  # (item or fee, qty, amount)
        sold = [refund_rules.SoldLine(i.variant_id, i.quantity, i.total_minor) for i in items]
        shares = refund_rules.line_amounts(lines, sold)
        if lines and None not in shares:
            # Each line exactly what the refund priced it at (domain.refunds.line_amounts:
            # a variant's order lines taken together, as the refund takes them, e.g. a
            # paid line and a free gift of the same variant), never more than what is
            # left of the note's amount, in the refund's order: the note credits exactly
            # the amount (a refund paid back only in part names the units it reached,
            # the last of them possibly paid back in part: domain.refunds.lines_reached).
            # The variant's paid line names it (a gift line carries no GST rate).
            named: dict[str, OrderItem] = {}
            for i in items:
                if i.variant_id not in named or (named[i.variant_id].free_gift and not i.free_gift):
                    named[i.variant_id] = i
            rest = amount_minor
            for n, ((vid, qty), share) in enumerate(zip(lines, shares, strict=True)):
                credit = rest if n == len(lines) - 1 else min(share or 0, rest)
                rest -= credit
                if credit:
                    parts.append((named[vid], qty, credit))
        else:
            # By amount (or a refund by line whose variant the order no longer sells,
            # edited away since: no line to price it by): spread over the order's lines.
            fees = order_fees(order)
            weights = [i.total_minor for i in items] + [f.tax.amount for f in fees]
            shares = rules.spread(amount_minor, weights)
            for what, share in zip([*items, *fees], shares, strict=True):
                if share:
                    parts.append((what, what.quantity if isinstance(what, OrderItem) else 1, share))
        for item, qty, amount in parts:
            if isinstance(item, Fee):  # the fee's share, taxed at the fee's rate
                rate = item.tax.rate_bp
                g = gst_line(amount, rate, registered, pos) if registered and rate else None
                share = (
                    rules.FeeTax(amount, g.taxable, rate, g.cgst, g.sgst, g.igst)
                    if g
                    else rules.FeeTax(amount, amount, 0, 0, 0, 0)
                )
                inv.lines.append(self._fee_line(item, share, cur))
                continue
            g = gst_line(amount, item.gst_rate_bp, registered, pos) if registered else None
            inv.lines.append(
                pb.InvoiceLine(
                    description=" ".join(x for x in (item.product_name, item.variant_title) if x),
                    sku=item.sku,
                    hsn_code=item.hsn_code,
                    quantity=qty,
                    taxable_value=convert.money(g.taxable if g else amount, cur),
                    gst_rate_basis_points=item.gst_rate_bp,
                    cgst=convert.money(g.cgst if g else 0, cur),
                    sgst=convert.money(g.sgst if g else 0, cur),
                    igst=convert.money(g.igst if g else 0, cur),
                    total=convert.money(amount, cur),
                    kind=pb.INVOICE_LINE_KIND_GOODS,
                )
            )
        self._totals(inv, cur)
        return self._store(s, order, inv, kind, fy, now, refund_id)

    def _store(
        self,
        s: AsyncSession,
        order: Order,
        inv: pb.Invoice,
        kind: str,
        fy: str,
        now: datetime,
        refund_id: str | None,
    ) -> Invoice:
        row = self._row(order, inv, kind, fy, now, refund_id)
        s.add(row)
        return row

    @staticmethod
    def _row(
        order: Order, inv: pb.Invoice, kind: str, fy: str, now: datetime, refund_id: str | None
    ) -> Invoice:
        """The invoice's row (not added to a session), its document named by it."""
        row = repo.make(
            Invoice,
            id=new_id(),
            order_id=order.id,
            kind=kind,
            number=inv.invoice_number,
            financial_year=fy,
            refund_id=refund_id,
            issue_time=now,
            document=b"",
        )
        inv.name = f"orders/{order.id}/invoices/{row.id}"
        row.document = inv.SerializeToString()
        return row

    # --- reading -------------------------------------------------------------------------

    async def _order_for_caller(self, s: AsyncSession, order_id: str, name: str) -> Order:
        order = await s.get(Order, order_id)
        if order is None or (not caller().is_admin and order.customer_id != customer_id()):
            raise not_found(name)
        return order

    async def list(self, req: order_pb2.ListInvoicesRequest) -> order_pb2.ListInvoicesResponse:
        """A page of the order's invoices in issue order (page_size already read by the
        contract interceptor: default, clamped, never negative)."""
        oid = id_of(req.order, "orders", "order")
        after = repo.time_page_after(req.page_token, oid)
        async with self.db.session() as s:
            await self._order_for_caller(s, oid, req.order)
            rows = await repo.page_of_order(s, Invoice, "issue_time", oid, after, req.page_size + 1)
        return order_pb2.ListInvoicesResponse(
            invoices=[pb.Invoice.FromString(r.document) for r in rows[: req.page_size]],
            next_page_token=repo.time_page_token(rows, req.page_size, "issue_time", oid),
        )

    async def _invoice(self, name: str) -> Invoice:
        """The invoice row of "orders/{id}/invoices/{id}" the caller may read (another
        customer's: NOT_FOUND, as a missing one)."""
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "orders" or parts[2] != "invoices":
            raise InvalidArgument({"name": "must be orders/{order_id}/invoices/{invoice_id}"})
        async with self.db.session() as s:
            await self._order_for_caller(s, parts[1], name)
            row = await s.get(Invoice, parts[3])
        if row is None or row.order_id != parts[1]:
            raise not_found(name)
        return row

    async def pdf(self, name: str) -> httpbody_pb2.HttpBody:
        """The invoice's PDF as a google.api.HttpBody: the edge answers it raw."""
        row = await self._invoice(name)
        data = render_pdf(pb.Invoice.FromString(row.document))
        return httpbody_pb2.HttpBody(content_type="application/pdf", data=data)

    async def render(self, name: str, fmt: str) -> pb.InvoiceDocument:
        fmt = (fmt or "pdf").lower()
        if fmt not in ("pdf", "json"):
            raise InvalidArgument({"format": "must be pdf or json"})
        row = await self._invoice(name)
        inv = pb.Invoice.FromString(row.document)
        base = row.number.replace("/", "-")
        if fmt == "json":
            data = json.dumps(MessageToDict(inv), indent=2).encode()
            return pb.InvoiceDocument(
                file_name=f"{base}.json", content_type="application/json", data=data
            )
        return pb.InvoiceDocument(
            file_name=f"{base}.pdf", content_type="application/pdf", data=render_pdf(inv)
        )
