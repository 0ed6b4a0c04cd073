"""GST of one priced line, with the shared arithmetic of mesh.gst.

mesh.gst (owned with settings) rounds per line, to the paisa, half up: taxable =
amount x 10000 / (10000 + rate) for tax-inclusive amounts, the tax is the rest;
an intra-state tax splits into CGST + SGST with the odd paisa on CGST. The split is
decided once per cart (`inter_state`) rather than per line; a property test checks
this equals mesh.gst.gst_line line for line.

Shipping and the COD fee (README "GST on shipping and the COD fee"): a charge
billed by the seller with the goods is part of a composite supply (CGST Act 2017
s. 2(30)), taxed as its principal supply (s. 8(a)); for a cart of mixed rates we
take the highest rate among its taxed lines (our chosen policy, after s. 8(b)).
Fees are always tax-inclusive amounts: the GST is carved out of them, half-up per
charge, with the same place-of-supply split as the lines.
"""

from __future__ import annotations

from collections.abc import Iterable

from mesh.gst import tax_from_inclusive, tax_on_taxable
from services.pricing.domain.result import Line, Tax


def line_tax(amount: int, rate_bp: int, *, inter_state: bool, inclusive: bool) -> Tax:
    """GST of a line's net amount (paise) at `rate_bp` basis points."""
    if amount <= 0:
        return Tax()
    if inclusive:
        taxable, tax = tax_from_inclusive(amount, rate_bp)
    else:
        taxable, tax = amount, tax_on_taxable(amount, rate_bp)
    if inter_state:
        return Tax(taxable_value=taxable, igst=tax)
    sgst = tax // 2  # mesh.gst.split_tax: the odd paisa goes to CGST
    return Tax(taxable_value=taxable, cgst=tax - sgst, sgst=sgst)


def fee_rate_bp(lines: Iterable[Line]) -> int:
    """The GST rate of the cart's fees: the highest rate among the priced (non-gift)
    lines that carry a positive net; if every line is free, among all priced lines;
    0 for an empty cart or one of exempt goods only."""
    priced = [ln for ln in lines if not ln.free_gift]
    taxed = [ln.gst_rate_bp for ln in priced if ln.net > 0]
    return max(taxed or [ln.gst_rate_bp for ln in priced] or [0])


def fee_tax(amount: int, rate_bp: int, *, inter_state: bool) -> Tax:
    """GST inside a tax-inclusive fee (shipping, COD) of `amount` paise."""
    return line_tax(amount, rate_bp, inter_state=inter_state, inclusive=True)
