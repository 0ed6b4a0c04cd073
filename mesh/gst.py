"""GST arithmetic shared by pricing, order and settings: plain integers, no I/O.

Amounts are integer minor units (paise); rates are basis points (1800 = 18%).

Rounding: per line, to the paisa, HALF-UP (a half paisa rounds away from zero),
the way GST invoices round each line's tax.

- Tax-inclusive price (Indian retail MRP, the default): the taxable value is
  ``round_half_up(inclusive * 10000 / (10000 + rate))`` and the tax is the rest,
  ``inclusive - taxable``, so taxable + tax always equals the price paid.
- Tax-exclusive value: the tax is ``round_half_up(taxable * rate / 10000)``.
- Intra-state supply (supplier's state == place of supply): the tax splits into
  CGST + SGST (UTGST in a union territory without a legislature; it takes the SGST
  slot here). An odd paisa goes to CGST, so CGST + SGST == tax exactly. Inter-state
  supply: all of it is IGST.

    >>> tax_from_inclusive(49900, 1800)        # Rs 499.00 incl. 18%
    (42288, 7612)
    >>> gst_split(42288, 1800, "KA", "KA")     # (cgst, sgst, igst)
    (3806, 3806, 0)
    >>> gst_split(42288, 1800, "KA", "MH")
    (0, 0, 7612)
"""

from __future__ import annotations

from dataclasses import dataclass

from mesh.india import normalize_state_code

BASIS = 10_000  # basis points in 100%

# Union territories without a legislature: UTGST instead of SGST.
UTGST_TERRITORIES = frozenset({"AN", "CH", "DH", "LA", "LD"})


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to an integer, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def _check_rate(rate_bp: int) -> None:
    if not 0 <= rate_bp <= BASIS:
        raise ValueError(f"rate {rate_bp} bp is outside 0..10000")


def tax_from_inclusive(inclusive_minor: int, rate_bp: int) -> tuple[int, int]:
    """(taxable value, tax) of a tax-inclusive amount."""
    _check_rate(rate_bp)
    taxable = round_half_up_div(inclusive_minor * BASIS, BASIS + rate_bp)
    return taxable, inclusive_minor - taxable


def tax_on_taxable(taxable_minor: int, rate_bp: int) -> int:
    """The tax on a tax-exclusive (taxable) value."""
    _check_rate(rate_bp)
    return round_half_up_div(taxable_minor * rate_bp, BASIS)


def is_intra_state(supply_state: str, place_of_supply: str) -> bool:
    """True when both name the same state/UT (legacy codes accepted)."""
    a = normalize_state_code(supply_state)
    b = normalize_state_code(place_of_supply)
    if a is None or b is None:
        raise ValueError(f"unknown state code: {supply_state!r} or {place_of_supply!r}")
    return a == b


def split_tax(tax_minor: int, supply_state: str, place_of_supply: str) -> tuple[int, int, int]:
    """(cgst, sgst, igst) of an amount of tax; cgst + sgst + igst == tax_minor."""
    if not is_intra_state(supply_state, place_of_supply):
        return 0, 0, tax_minor
    sgst = tax_minor // 2 if tax_minor >= 0 else -((-tax_minor) // 2)
    return tax_minor - sgst, sgst, 0


def gst_split(
    taxable_minor: int, rate_bp: int, supply_state: str, place_of_supply: str
) -> tuple[int, int, int]:
    """(cgst, sgst, igst) on a taxable (tax-exclusive) value."""
    return split_tax(tax_on_taxable(taxable_minor, rate_bp), supply_state, place_of_supply)


@dataclass(frozen=True)
class GstLine:
    """One invoice line's GST, every figure in minor units."""

    gross: int  # what the customer pays for the line: taxable + tax
    taxable: int
    cgst: int
    sgst: int  # UTGST when the place of supply is a UT without a legislature
    igst: int
    rate_bp: int
    utgst: bool = False

    @property
    def tax(self) -> int:
        return self.cgst + self.sgst + self.igst


def gst_line(
    amount_minor: int,
    rate_bp: int,
    supply_state: str,
    place_of_supply: str,
    *,
    inclusive: bool = True,
) -> GstLine:
    """A line's taxable value and GST split; `amount_minor` includes GST unless
    `inclusive` is False (then it is the taxable value)."""
    if inclusive:
        taxable, tax = tax_from_inclusive(amount_minor, rate_bp)
    else:
        taxable, tax = amount_minor, tax_on_taxable(amount_minor, rate_bp)
    cgst, sgst, igst = split_tax(tax, supply_state, place_of_supply)
    pos = normalize_state_code(place_of_supply)
    return GstLine(
        gross=taxable + tax,
        taxable=taxable,
        cgst=cgst,
        sgst=sgst,
        igst=igst,
        rate_bp=rate_bp,
        utgst=igst == 0 and pos in UTGST_TERRITORIES,
    )
