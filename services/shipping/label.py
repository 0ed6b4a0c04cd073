"""Shipping labels as real PDFs (fpdf2): AWB as text and a Code 39 barcode, addresses,
order number, COD amount, items."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fpdf import FPDF


@dataclass(frozen=True)
class LabelData:
    awb: str
    carrier: str
    order_number: str
    ship_to: Mapping[str, str]
    ship_from: Mapping[str, str]
    items: Sequence[tuple[str, int]]  # (title or sku, quantity)
    weight_grams: int
    cod_amount_minor: int
    is_return: bool = False


def _latin(text: str) -> str:
    # The core fonts are Latin-1: anything else (Devanagari names...) is replaced.
    return text.encode("latin-1", "replace").decode("latin-1")


def _address_lines(a: Mapping[str, str]) -> list[str]:
    lines = [a.get("recipient_name", ""), a.get("line1", ""), a.get("line2", "")]
    lines.append(a.get("landmark", ""))
    lines.append(f"{a.get('city', '')}, {a.get('state_code', '')} {a.get('pincode', '')}")
    if a.get("phone"):
        lines.append(f"Phone: {a['phone']}")
    return [ln for ln in lines if ln.strip(" ,")]


def render_label(d: LabelData) -> bytes:
    """A 4x6 inch label (the size thermal printers take)."""
    pdf = FPDF(unit="mm", format=(101.6, 152.4))
    pdf.set_auto_page_break(False)
    pdf.set_margins(5, 5, 5)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    kind = "RETURN PICKUP" if d.is_return else ("COD" if d.cod_amount_minor else "PREPAID")
    pdf.cell(0, 6, _latin(f"{d.carrier}  |  {kind}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 7, _latin(f"AWB: {d.awb}"), new_x="LMARGIN", new_y="NEXT")
    if _code39_ok(d.awb):
        pdf.code39(f"*{d.awb.upper()}*", x=5, y=pdf.get_y() + 1, w=0.8, h=14)
    pdf.set_y(pdf.get_y() + 17)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 5, "SHIP TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for ln in _address_lines(d.ship_to):
        pdf.cell(0, 5, _latin(ln), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 5, "FROM", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for ln in _address_lines(d.ship_from):
        pdf.cell(0, 4.5, _latin(ln), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin(f"Order: {d.order_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Weight: {d.weight_grams} g", new_x="LMARGIN", new_y="NEXT")
    if d.cod_amount_minor:
        rupees = f"{d.cod_amount_minor // 100}.{d.cod_amount_minor % 100:02d}"
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, f"COLLECT CASH: Rs. {rupees}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
    for title, qty in list(d.items)[:8]:
        pdf.cell(0, 4.5, _latin(f"{qty} x {title}"[:60]), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _code39_ok(awb: str) -> bool:
    allowed = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%")
    return 0 < len(awb) <= 20 and set(awb.upper()) <= allowed
