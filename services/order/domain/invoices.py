"""GST invoice rules: financial years, numbers, amounts in words, the GST of the
shipping and COD fee lines, and how a refund amount is spread over the invoice lines
for its credit note. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mesh.gst import split_tax

MAX_NUMBER_LENGTH = 16  # GST rule 46: at most 16 characters
CREDIT_NOTE_PREFIX = "CN"
# Supplementary invoices (an admin edit raised an invoiced order's total).
SUPPLEMENTARY_PREFIX = "SI"

# SAC codes of the service lines. Pricing's breakdown carries no code for its fees, so
# the invoice chooses: a D2C parcel goes by courier (the shipping service's carriers
# and aggregators), and the courier collects the cash on delivery, so both are
# "postal and courier services", heading 9968 (996812: courier services). 9965
# (goods transport, a GTA's consignment note) does not describe a parcel. The fees
# are still taxed at the goods' rate, as pricing taxes them (a composite supply;
# services/pricing/README.md): the SAC names the line, not its rate.
SHIPPING_SAC = "9968"
COD_FEE_SAC = "9968"
SHIPPING_DESCRIPTION = "Shipping charges"
COD_FEE_DESCRIPTION = "Cash on delivery fee"


def financial_year(at: datetime) -> str:
    """Indian financial year (April-March) of a time: "2026-27"."""
    start = at.year if at.month >= 4 else at.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def series_key(prefix: str, fy: str) -> str:
    return f"{prefix}:{fy}"


def invoice_number(prefix: str, fy: str, value: int) -> str:
    """ "CLN/26-27/000001": prefix, short financial year, a gap-free counter."""
    short = f"{fy[2:4]}-{fy[5:7]}"
    number = f"{prefix}/{short}/{value:06d}"
    if len(number) > MAX_NUMBER_LENGTH or value <= 0:
        raise ValueError(f"invoice number {number!r} is not valid")
    return number


def clean_prefix(prefix: str) -> str:
    """At most 4 capital letters/digits (so numbers fit 16 characters); else "INV"."""
    p = "".join(c for c in prefix.upper() if c.isalnum())[:4]
    return p or "INV"


_ONES = (
    "", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen",
    "Eighteen", "Nineteen",
)  # fmt: skip
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    return (_TENS[n // 10] + " " + _ONES[n % 10]).strip()


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append(f"{_ONES[hundreds]} Hundred")
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def number_in_words(n: int) -> str:
    """Indian numbering: crore, lakh, thousand."""
    if n == 0:
        return "Zero"
    parts = []
    crore, n = divmod(n, 10_000_000)
    lakh, n = divmod(n, 100_000)
    thousand, n = divmod(n, 1000)
    if crore:
        parts.append(f"{number_in_words(crore)} Crore")
    if lakh:
        parts.append(f"{_below_hundred(lakh)} Lakh")
    if thousand:
        parts.append(f"{_below_hundred(thousand)} Thousand")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def amount_in_words(minor: int) -> str:
    """ "Rupees One Thousand Two Hundred Thirty Four and Fifty Paise Only"."""
    rupees, paise = divmod(abs(minor), 100)
    text = f"Rupees {number_in_words(rupees)}"
    if paise:
        text += f" and {number_in_words(paise)} Paise"
    return text + " Only"


def spread(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` split in proportion to `weights` (largest remainders get the odd
    paise), summing exactly to `amount`."""
    total = sum(weights)
    if total <= 0:
        return [0 for _ in weights]
    shares = [amount * w // total for w in weights]
    rest = amount - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: -(amount * weights[i] % total))
    for i in order[:rest]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class FeeTax:
    """A tax-inclusive fee (shipping, COD) split into its taxable value and GST."""

    amount: int
    taxable: int
    rate_bp: int
    cgst: int
    sgst: int
    igst: int


def fee_tax(
    amount: int,
    *,
    taxable: int,
    tax: int,
    cgst: int,
    sgst: int,
    igst: int,
    rate_bp: int,
    registered_state: str,
    place_of_supply: str,
) -> FeeTax:
    """The GST inside a fee exactly as pricing computed it (its `shipping.tax` or
    `cod_fee_tax`), so the invoice's totals equal the order's to the paisa.

    A breakdown whose fee carries no GST (taxable + tax != amount: priced before
    pricing taxed fees, or a free fee) makes an untaxed line: the whole amount is the
    taxable value at 0%, which is also what the order's tax totals counted. When
    pricing gave the tax without its split, it is split here (CGST + SGST or IGST)."""
    if amount == 0 or taxable + tax != amount:
        return FeeTax(amount, amount, 0, 0, 0, 0)
    if cgst + sgst + igst != tax:
        if registered_state and place_of_supply:
            cgst, sgst, igst = split_tax(tax, registered_state, place_of_supply)
        else:  # no states to decide by: keep the total right
            cgst, sgst, igst = 0, 0, tax
    return FeeTax(amount, taxable, rate_bp, cgst, sgst, igst)
