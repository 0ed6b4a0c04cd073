"""Price-slab GST rates follow the value per piece after discounts (apparel: 5% up to
Rs 2,625 a piece incl. GST, i.e. Rs 2,500 without; 18% above), in the pure engine and
through the service, with one settings round trip per request at most.

Figures are hand-checked: tax-inclusive, taxable = net x 10000 / (10000 + rate), half
up, per line (mesh.gst).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from cleanse.pricing.v1 import breakdown_pb2 as bpb
from cleanse.pricing.v1 import pricing_admin_service_pb2 as apb
from cleanse.pricing.v1 import pricing_service_pb2 as ppb
from cleanse.pricing.v1 import resources_pb2 as rpb
from services.pricing import convert
from services.pricing.config import Settings
from services.pricing.domain.engine import calculate
from services.pricing.domain.model import (
    AutomaticDiscount,
    Checkout,
    Coupon,
    Eligibility,
    Kind,
    Offer,
    PricingInput,
    Rules,
    TaxRate,
    Variant,
)
from services.pricing.peers import Peers
from tests.pricing.conftest import Pricing
from tests.pricing.test_service import code

NOW = datetime(2026, 1, 10, tzinfo=UTC)
KA = Checkout("KA", "KA", shipping_fee=4900, free_shipping_threshold=49900)
# As settings seeds class "apparel" from 22 Sep 2025.
APPAREL = TaxRate(1800, "taxRates/apparel", ((262500, 500), (0, 1800)))
SOAP = TaxRate(1800, "taxRates/soap", ((0, 1800),))


def priced(lines, variants, rates, rules=Rules(), codes=(), checkout=KA):
    return calculate(
        PricingInput(
            lines=tuple(lines),
            variants=variants,
            tax_rates=rates,
            checkout=checkout,
            now=NOW,
            rules=rules or Rules(),
            coupon_codes=tuple(codes),
        )
    )


def test_slab_choice_is_exact_per_piece() -> None:
    assert APPAREL.for_line(262500, 1) == 500 and APPAREL.for_line(262501, 1) == 1800
    # Two pieces for Rs 5,250.01 are Rs 2,625.005 each: over the bound, no rounding.
    assert APPAREL.for_line(525000, 2) == 500 and APPAREL.for_line(525001, 2) == 1800
    assert APPAREL.for_line(0, 1) == 500  # a free line takes the first slab
    assert TaxRate(1200).for_line(999999, 3) == 1200  # no slabs: the rate as given


def test_a_line_discount_moves_a_kurta_into_the_5_percent_slab() -> None:
    kurta = {"k": Variant("k", 299900, 349900)}  # Rs 2,999 a piece, incl. GST
    full = priced([("k", 1)], kurta, {"k": APPAREL})
    ln = full.lines[0]
    # Rs 2,999 > Rs 2,625: 18%. 299900 / 1.18 = 254152.54 -> 254153, tax 45747.
    assert (ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.total) == (1800, 254153, 45747)

    sale = Rules(
        automatic=(
            AutomaticDiscount(
                "a1",
                "Festive 15% off apparel",
                Offer(Kind.PERCENTAGE, percent_bp=1500),
                eligibility=Eligibility(variant_ids=frozenset({"k"})),
            ),
        )
    )
    ln = priced([("k", 1)], kurta, {"k": APPAREL}, sale).lines[0]
    # 15% of 299900 = 44985: the piece sells for 254915 (Rs 2,549.15 <= Rs 2,625): 5%.
    # 254915 / 1.05 = 242776.19 -> 242776, tax 12139 = CGST 6070 + SGST 6069.
    assert ln.net == 254915 and ln.gst_rate_bp == 500
    assert (ln.tax.taxable_value, ln.tax.cgst, ln.tax.sgst) == (242776, 6070, 6069)
    assert ln.tax_rule == "taxRates/apparel"


def test_bound_is_inclusive_over_several_pieces() -> None:
    v = {"k": Variant("k", 275000)}  # Rs 2,750 a piece

    def with_flat(paise: int):
        c = Coupon("c1", "FLAT", Offer(Kind.FLAT, amount=paise))
        return priced([("k", 2)], v, {"k": APPAREL}, Rules(coupons={"FLAT": c}), ["FLAT"])

    ln = with_flat(25000).lines[0]
    # Rs 250 off two pieces: 525000, Rs 2,625.00 each: 5%; taxable 500000, tax 25000.
    assert (ln.net, ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.total) == (
        525000,
        500,
        500000,
        25000,
    )
    ln = with_flat(24999).lines[0]
    # A paisa less off: Rs 2,625.005 a piece: 18%. 525001 / 1.18 = 444916.10 -> 444916.
    assert (ln.net, ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.total) == (
        525001,
        1800,
        444916,
        80085,
    )


def test_a_cart_level_coupon_counts_through_its_allocated_share() -> None:
    v = {"kurta": Variant("kurta", 270000), "soap": Variant("soap", 30000)}
    rates = {"kurta": APPAREL, "soap": SOAP}
    b = priced([("kurta", 1), ("soap", 1)], v, rates)
    k = next(ln for ln in b.lines if ln.variant_id == "kurta")
    # No discount: Rs 2,700 > Rs 2,625, 18%: 270000 / 1.18 = 228813.56 -> 228814.
    assert (k.gst_rate_bp, k.tax.taxable_value, k.tax.total) == (1800, 228814, 41186)

    c = Coupon("c1", "SAVE300", Offer(Kind.FLAT, amount=30000))
    b = priced([("kurta", 1), ("soap", 1)], v, rates, Rules(coupons={"SAVE300": c}), ["SAVE300"])
    lines = {ln.variant_id: ln for ln in b.lines}
    # Rs 300 off the cart, split by net 270000 : 30000 = 27000 + 3000 (exact).
    k, s = lines["kurta"], lines["soap"]
    assert (k.net, s.net) == (243000, 27000)
    # The kurta now sells for Rs 2,430: 5%. 243000 / 1.05 = 231428.57 -> 231429.
    assert (k.gst_rate_bp, k.tax.taxable_value, k.tax.total) == (500, 231429, 11571)
    # The soap stays 18%: 27000 / 1.18 = 22881.36 -> 22881, tax 4119.
    assert (s.gst_rate_bp, s.tax.taxable_value, s.tax.total) == (1800, 22881, 4119)
    assert b.tax.total == 11571 + 4119  # shipping is free above Rs 499


def _cart(lines, codes=()) -> bpb.Cart:
    return bpb.Cart(
        lines=[bpb.CartLine(variant_id=v, quantity=q) for v, q in lines], coupon_codes=codes
    )


async def test_service_prices_the_slab_after_the_coupon_in_one_settings_call(
    pricing: Pricing,
) -> None:
    p = pricing
    kurta = p.variant(299900, 349900, tax_class="apparel", hsn_code="62114990")
    dupatta = p.variant(149900, tax_class="apparel", hsn_code="62114990")
    oil = p.variant(79900)
    c = await p.admin.CreateCoupon(
        percent_coupon(code(), percent_bp=1500, variant_ids=[kurta]), metadata=p.md()
    )
    asked = len(p.peers.settings.tax_queries)

    full = await p.public.CalculatePrice(
        ppb.CalculatePriceRequest(cart=_cart([(kurta, 1), (dupatta, 2), (oil, 1)]))
    )
    # One ResolveTaxRates call for the request: one query per (HSN code, tax class),
    # however many lines and prices share it.
    calls = p.peers.settings.tax_queries[asked:]
    assert len(calls) == 1 and len(calls[0].queries) == 2
    rates = {ln.variant_id: ln.gst_rate_basis_points for ln in full.lines}
    assert rates == {kurta: 1800, dupatta: 500, oil: 1800}

    sale = await p.public.CalculatePrice(
        ppb.CalculatePriceRequest(cart=_cart([(kurta, 1), (dupatta, 2), (oil, 1)], (c.code,)))
    )
    ln = next(ln for ln in sale.lines if ln.variant_id == kurta)
    # 15% off the kurta only: 254915 a piece, 5%: taxable 242776, tax 12139.
    assert ln.net.amount_minor == 254915 and ln.gst_rate_basis_points == 500
    assert (ln.tax.taxable_value.amount_minor, ln.tax.total_tax.amount_minor) == (242776, 12139)


def percent_coupon(c: str, *, percent_bp: int, variant_ids: list[str]) -> apb.CreateCouponRequest:
    return apb.CreateCouponRequest(
        coupon=rpb.Coupon(
            code=c,
            active=True,
            kind=rpb.DISCOUNT_KIND_PERCENTAGE,
            percent_basis_points=percent_bp,
            eligibility=rpb.Eligibility(variant_ids=variant_ids),
        )
    )


async def test_rules_are_cached_per_key_not_per_price(pricing: Pricing) -> None:
    p = pricing
    peers = Peers(Settings(settings_cache_seconds=60, dependency_timeout_seconds=1.0))
    snaps = [
        p.peers.catalog.variants[p.variant(price, tax_class="apparel", hsn_code="61091000")]
        for price in (99900, 299900, 450000)
    ]
    vs = [convert.variant(s) for s in snaps]
    asked = len(p.peers.settings.tax_queries)
    first = await peers.tax_rates(vs[:2])
    assert len(p.peers.settings.tax_queries) == asked + 1
    later = await peers.tax_rates(vs)  # a new price, same key: no new call
    assert len(p.peers.settings.tax_queries) == asked + 1
    assert first[vs[0].variant_id].slabs == ((262500, 500), (0, 1800))
    assert {later[v.variant_id].for_line(v.price, 1) for v in vs} == {500, 1800}


async def test_an_answer_without_slabs_holds_for_its_price_only(pricing: Pricing) -> None:
    p = pricing
    p.peers.settings.without_slabs = True
    try:
        peers = Peers(Settings(settings_cache_seconds=60, dependency_timeout_seconds=1.0))
        cheap, dear = (
            convert.variant(p.peers.catalog.variants[p.variant(price, tax_class="apparel")])
            for price in (99900, 299900)
        )
        got = await peers.tax_rates([cheap, dear])
        # Each price asked separately; the rate is settings' answer at that price.
        assert got[cheap.variant_id].for_line(1, 1) == 500
        assert got[dear.variant_id].for_line(1, 1) == 1800
        assert got[dear.variant_id].slabs == ()
    finally:
        p.peers.settings.without_slabs = False


def test_fee_rate_follows_the_discounted_slab() -> None:
    """Shipping and COD take the highest rate of the taxed lines, so the discounted
    slab: a kurta sold for Rs 449 after Rs 2,550 off is 5%, and so is its shipping."""
    v = {"k": Variant("k", 299900)}
    c = Coupon("c1", "BIG", Offer(Kind.FLAT, amount=255000))
    b = priced([("k", 1)], v, {"k": APPAREL}, Rules(coupons={"BIG": c}), ["BIG"])
    ln = b.lines[0]
    # 44900 / 1.05 = 42761.90 -> 42762, tax 2138.
    assert (ln.net, ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.total) == (44900, 500, 42762, 2138)
    # Rs 449 < Rs 499: Rs 49 shipping, at 5%: 4900 / 1.05 = 4666.67 -> 4667, tax 233.
    assert b.shipping.fee == 4900 and b.shipping.gst_rate_bp == 500
    assert (b.shipping.tax.taxable_value, b.shipping.tax.total) == (4667, 233)


# --- tax-exclusive prices (StoreSettings.prices_include_tax = false) ----------------------

EXCLUSIVE = replace(KA, prices_include_tax=False)


def test_exclusive_prices_compare_the_transaction_value_with_the_threshold() -> None:
    """The bound Rs 2,625 is Rs 2,500 + 5%. A tax-exclusive price is the transaction
    value itself, so Rs 2,500.00 a piece is 5% and Rs 2,500.01 is 18%; the net is not
    compared with Rs 2,625 (that would tax Rs 2,500.01 to Rs 2,625 at 5%)."""
    assert APPAREL.for_line(250000, 1, inclusive=False) == 500
    assert APPAREL.for_line(250001, 1, inclusive=False) == 1800
    assert APPAREL.for_line(262500, 1, inclusive=False) == 1800  # 5% inclusive
    # Two pieces for Rs 5,000.01 are Rs 2,500.005 each: over, no rounding.
    assert APPAREL.for_line(500000, 2, inclusive=False) == 500
    assert APPAREL.for_line(500001, 2, inclusive=False) == 1800
    # The pre-GST 2.0 bound Rs 1,050 = Rs 1,000 + 5%, then 12%.
    old = TaxRate(1200, "taxRates/apparel-2017", ((105000, 500), (0, 1200)))
    assert old.for_line(100000, 1, inclusive=False) == 500
    assert old.for_line(100001, 1, inclusive=False) == 1200
    assert TaxRate(1200).for_line(999999, 3, inclusive=False) == 1200  # no slabs


def test_an_exclusive_price_between_the_threshold_and_the_bound_is_18_percent() -> None:
    kurta = {"k": Variant("k", 260000)}  # Rs 2,600 a piece before GST
    ln = priced([("k", 1)], kurta, {"k": APPAREL}, checkout=EXCLUSIVE).lines[0]
    # Rs 2,600 > Rs 2,500: 18% on top. 260000 x 18% = 46800 = CGST 23400 + SGST 23400.
    assert (ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.cgst, ln.tax.sgst) == (
        1800,
        260000,
        23400,
        23400,
    )
    assert ln.total == 306800

    ln = priced([("k", 1)], {"k": Variant("k", 250000)}, {"k": APPAREL}, checkout=EXCLUSIVE)
    ln = ln.lines[0]
    # Rs 2,500 exactly: 5%, 12500 = 6250 + 6250; the customer pays Rs 2,625, the bound.
    assert (ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.total, ln.total) == (
        500,
        250000,
        12500,
        262500,
    )


def test_an_exclusive_discount_must_bring_the_value_itself_under_the_threshold() -> None:
    kurta = {"k": Variant("k", 299900)}  # Rs 2,999 a piece before GST

    def off(percent_bp: int):
        sale = Rules(
            automatic=(
                AutomaticDiscount(
                    "a1",
                    "Festive sale",
                    Offer(Kind.PERCENTAGE, percent_bp=percent_bp),
                    eligibility=Eligibility(variant_ids=frozenset({"k"})),
                ),
            )
        )
        return priced([("k", 1)], kurta, {"k": APPAREL}, sale, checkout=EXCLUSIVE).lines[0]

    ln = off(1500)
    # 15% of 299900 = 44985: Rs 2,549.15 before GST > Rs 2,500: 18% (tax-inclusive,
    # the same sale made it 5%: test_a_line_discount_moves_a_kurta_into_the_5_percent_slab).
    # 254915 x 18% = 45884.70 -> 45885 = CGST 22943 + SGST 22942.
    assert (ln.net, ln.gst_rate_bp, ln.tax.cgst, ln.tax.sgst) == (254915, 1800, 22943, 22942)
    assert ln.total == 254915 + 45885
    ln = off(1700)
    # 17% of 299900 = 50983: Rs 2,489.17 <= Rs 2,500: 5%.
    # 248917 x 5% = 12445.85 -> 12446 = CGST 6223 + SGST 6223.
    assert (ln.net, ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.cgst, ln.tax.sgst) == (
        248917,
        500,
        248917,
        6223,
        6223,
    )
    assert ln.total == 261363


async def test_service_compares_exclusive_prices_with_the_threshold(pricing: Pricing) -> None:
    """prices_include_tax from settings' checkout config reaches the slab choice."""
    p = pricing
    config = p.peers.settings.config
    kurta = p.variant(260000, tax_class="apparel", hsn_code="62114990")
    shawl = p.variant(250000, tax_class="apparel", hsn_code="62114990")
    config.prices_include_tax = False
    p.invalidate()
    try:
        b = await p.public.CalculatePrice(
            ppb.CalculatePriceRequest(cart=_cart([(kurta, 1), (shawl, 2)]))
        )
    finally:
        config.prices_include_tax = True
        p.invalidate()
    assert not b.prices_include_tax
    lines = {ln.variant_id: ln for ln in b.lines}
    k, s = lines[kurta], lines[shawl]
    # Rs 2,600 before GST: 18%, 46800 on top.
    assert (k.gst_rate_basis_points, k.tax.total_tax.amount_minor) == (1800, 46800)
    assert k.total.amount_minor == 306800
    # Rs 2,500 a piece: 5%, 2 x 12500 on top.
    assert (s.gst_rate_basis_points, s.tax.total_tax.amount_minor) == (500, 25000)
    assert s.total.amount_minor == 525000


# --- packs: the catalog's pieces_per_unit ------------------------------------------------


def test_a_pack_is_compared_per_piece() -> None:
    """A "Pack of 2" kurta sets at Rs 4,999 is Rs 2,499.50 a piece: 5%, not 18%."""
    pack = {"p": Variant("p", 499900, pieces_per_unit=2)}
    ln = priced([("p", 1)], pack, {"p": APPAREL}).lines[0]
    # 499900 / 1.05 = 476095.24 -> 476095, tax 23805 = CGST 11903 + SGST 11902.
    assert (ln.gst_rate_bp, ln.tax.taxable_value, ln.tax.cgst, ln.tax.sgst) == (
        500,
        476095,
        11903,
        11902,
    )
    # Counted as one piece it would be 18%: 499900 / 1.18 = 423644.07 -> 423644.
    one = priced([("p", 1)], {"p": Variant("p", 499900)}, {"p": APPAREL}).lines[0]
    assert (one.gst_rate_bp, one.tax.taxable_value) == (1800, 423644)
    # Three packs are six pieces: 1499700 <= 6 x 262500 = 1575000: 5%.
    assert priced([("p", 3)], pack, {"p": APPAREL}).lines[0].gst_rate_bp == 500
    # The bound stays exact per piece: Rs 5,250.00 a pack is 5%, Rs 5,250.01 is 18%.
    for price, rate in ((525000, 500), (525001, 1800)):
        v = {"p": Variant("p", price, pieces_per_unit=2)}
        assert priced([("p", 1)], v, {"p": APPAREL}).lines[0].gst_rate_bp == rate
    # Tax-exclusive: Rs 5,000.00 a pack is Rs 2,500 a piece (5%), a paisa more is 18%.
    for price, rate in ((500000, 500), (500001, 1800)):
        v = {"p": Variant("p", price, pieces_per_unit=2)}
        got = priced([("p", 1)], v, {"p": APPAREL}, checkout=EXCLUSIVE).lines[0]
        assert got.gst_rate_bp == rate


async def test_service_reads_pieces_per_unit_from_the_catalog(pricing: Pricing) -> None:
    p = pricing
    pack = p.variant(499900, tax_class="apparel", hsn_code="62114990", pieces_per_unit=2)
    older = p.variant(499900, tax_class="apparel", hsn_code="62114990")  # 0: one piece
    b = await p.public.CalculatePrice(
        ppb.CalculatePriceRequest(cart=_cart([(pack, 1), (older, 1)]))
    )
    lines = {ln.variant_id: ln for ln in b.lines}
    assert lines[pack].gst_rate_basis_points == 500
    assert lines[pack].tax.total_tax.amount_minor == 23805
    assert lines[older].gst_rate_basis_points == 1800
    assert lines[older].tax.total_tax.amount_minor == 499900 - 423644
