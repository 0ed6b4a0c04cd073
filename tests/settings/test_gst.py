"""mesh.gst: tax-inclusive prices to taxable value and GST, split by place of supply.

Every figure is worked by hand in the comment beside it.
"""

from __future__ import annotations

import pytest

from mesh.gst import (
    gst_line,
    gst_split,
    round_half_up_div,
    split_tax,
    tax_from_inclusive,
    tax_on_taxable,
)


def test_mrp_499_at_18_percent_intra_and_inter_state() -> None:
    # 49900 / 1.18 = 42288.135... -> 42288; tax 49900 - 42288 = 7612 = 2 x 3806.
    assert tax_from_inclusive(49900, 1800) == (42288, 7612)
    line = gst_line(49900, 1800, "KA", "KA")
    assert (line.taxable, line.cgst, line.sgst, line.igst) == (42288, 3806, 3806, 0)
    assert line.gross == 49900 and line.tax == 7612 and not line.utgst
    inter = gst_line(49900, 1800, "KA", "MH")
    assert (inter.taxable, inter.cgst, inter.sgst, inter.igst) == (42288, 0, 0, 7612)
    # The brief's pure function, on the taxable value: 42288 x 0.18 = 7611.84 -> 7612.
    assert gst_split(42288, 1800, "KA", "KA") == (3806, 3806, 0)
    assert gst_split(42288, 1800, "KA", "TN") == (0, 0, 7612)


@pytest.mark.parametrize(
    ("inclusive", "rate", "taxable", "tax"),
    [
        (10000, 500, 9524, 476),  # agarbatti Rs 100 @5%: 9523.81 -> 9524
        (29900, 1200, 26696, 3204),  # ayurvedic Rs 299 @12%: 26696.43 -> 26696
        (34900, 500, 33238, 1662),  # hair oil Rs 349 @5%: 33238.10 -> 33238
        (100, 1800, 85, 15),  # Rs 1 @18%: 84.75 -> 85 (half-up)
        (24900, 0, 24900, 0),  # exempt
    ],
)
def test_tax_from_inclusive_cases(inclusive: int, rate: int, taxable: int, tax: int) -> None:
    assert tax_from_inclusive(inclusive, rate) == (taxable, tax)


def test_odd_paisa_goes_to_cgst_and_halves_add_up() -> None:
    # Rs 1 @18%: tax 15 paise -> CGST 8 + SGST 7.
    assert split_tax(15, "KA", "KA") == (8, 7, 0)
    for tax in range(0, 200):
        c, s, i = split_tax(tax, "MH", "MH")
        assert c + s == tax and i == 0 and 0 <= c - s <= 1


def test_half_up_rounding() -> None:
    assert tax_on_taxable(25, 1800) == 5  # 4.5 paise -> 5
    assert tax_on_taxable(24, 1800) == 4  # 4.32 -> 4
    assert round_half_up_div(5, 2) == 3 and round_half_up_div(-5, 2) == -3
    assert round_half_up_div(7, 3) == 2


def test_legacy_state_codes_and_union_territories() -> None:
    # Telangana written "TG" (its 2024 code) and "TS" (ISO 3166-2:IN) is one state.
    assert gst_split(10000, 1800, "TS", "TG") == (900, 900, 0)
    ch = gst_line(11800, 1800, "CH", "CH")  # Chandigarh: CGST + UTGST
    assert (ch.taxable, ch.cgst, ch.sgst, ch.utgst) == (10000, 900, 900, True)
    with pytest.raises(ValueError):
        gst_split(100, 1800, "KA", "XX")
    with pytest.raises(ValueError):
        tax_from_inclusive(100, 20000)


def test_exclusive_amounts() -> None:
    line = gst_line(42288, 1800, "KA", "GJ", inclusive=False)
    assert (line.taxable, line.igst, line.gross) == (42288, 7612, 49900)
