"""An invoice proto rendered as a one-page A4 PDF (fpdf2, core fonts: "Rs." not the
rupee sign, which the core fonts lack).

The seller block prints the registered address as far as the invoice has it (the
state only, while settings has no address); shipping and the COD fee
are table rows like the goods, with their SAC code in the HSN/SAC column."""

from __future__ import annotations

from fpdf import FPDF

from cleanse.common.v1 import address_pb2, money_pb2
from cleanse.order.v1 import resources_pb2 as pb
from mesh.india import STATE_CODES, normalize_state_code

TITLES = {
    pb.INVOICE_KIND_TAX_INVOICE: "TAX INVOICE",
    pb.INVOICE_KIND_CREDIT_NOTE: "CREDIT NOTE",
    pb.INVOICE_KIND_SUPPLEMENTARY_INVOICE: "SUPPLEMENTARY INVOICE",
}


def rs(m: money_pb2.Money) -> str:
    minor = m.amount_minor
    sign = "-" if minor < 0 else ""
    rupees, paise = divmod(abs(minor), 100)
    return f"{sign}{rupees:,}.{paise:02d}"


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def state_name(code: str) -> str:
    """ "Karnataka (KA)"; an unknown code as given."""
    known = normalize_state_code(code) if code else None
    return f"{STATE_CODES[known]} ({known})" if known in STATE_CODES else code


def address_text(a: address_pb2.PostalAddress) -> str:
    """One line: street, landmark, city, state, PIN (the parts that are set)."""
    parts = [a.line1, a.line2, a.landmark, a.city]
    place = " ".join(x for x in (state_name(a.state_code), a.pincode) if x)
    parts.append(place)
    if a.country_code and a.country_code != "IN":
        parts.append(a.country_code)
    elif a.state_code or a.pincode:
        parts.append("India")
    return ", ".join(p for p in parts if p)


def render_pdf(inv: pb.Invoice) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    title = TITLES.get(inv.kind, "TAX INVOICE")
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("Helvetica", "", 9)
    s, b = inv.seller, inv.buyer
    seller_at = address_text(s.address) or state_name(s.state_code)
    head = [
        f"Seller: {s.name}   GSTIN: {s.gstin or '-'}   State: {state_name(s.state_code)}",
        f"Registered address: {seller_at or '-'}",
        f"Invoice no: {inv.invoice_number}   Date: {inv.issue_time.ToDatetime():%d-%m-%Y}"
        f"   Order: {inv.order_number}",
        f"Buyer: {b.name}   {b.email}",
        f"Address: {address_text(b.address)}",
        f"Place of supply: {state_name(inv.place_of_supply_state_code)}   "
        f"Reverse charge: {'Yes' if inv.reverse_charge else 'No'}",
    ]
    if inv.original_invoice_number:
        head.append(f"Against invoice: {inv.original_invoice_number}")
    for line in head:  # wrapped: an address may be longer than the page is wide
        pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    cols = (("Item", 58), ("HSN/SAC", 18), ("Qty", 10), ("Taxable", 22), ("Rate", 12),
            ("CGST", 18), ("SGST", 18), ("IGST", 18), ("Total", 22))  # fmt: skip
    pdf.set_font("Helvetica", "B", 8)
    for name, w in cols:
        pdf.cell(w, 6, name, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for ln in inv.lines:
        row = (
            ln.description[:40],
            ln.hsn_code,
            str(ln.quantity),
            rs(ln.taxable_value),
            f"{ln.gst_rate_basis_points / 100:g}%",
            rs(ln.cgst),
            rs(ln.sgst),
            rs(ln.igst),
            rs(ln.total),
        )
        for (_, w), text in zip(cols, row, strict=True):
            pdf.cell(w, 6, _latin(text), border=1)
        pdf.ln()
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 9)
    for label, m in (
        ("Taxable value", inv.taxable_value),
        ("CGST", inv.cgst),
        ("SGST/UTGST", inv.sgst),
        ("IGST", inv.igst),
        ("Total", inv.total),
    ):
        pdf.cell(0, 5, f"{label}: Rs. {rs(m)}", new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin(inv.amount_in_words))
    return bytes(pdf.output())
