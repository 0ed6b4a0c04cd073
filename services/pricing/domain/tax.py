"""GST of one priced line, with the shared arithmetic of mesh.gst.

mesh.gst (owned with settings) rounds per line, to the paisa, half up: taxable =
amount x 10000 / (10000 + rate) for tax-inclusive amounts, the tax is the rest;
an intra-state tax splits into CGST + SGST with the odd paisa on CGST. The split is
decided once per cart (`inter_state`) rather than per line; a property test checks
this equals mesh.gst.gst_line line for line.
"""

from __future__ import annotations

from mesh.gst import tax_from_inclusive, tax_on_taxable
from services.pricing.domain.result import Tax


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
