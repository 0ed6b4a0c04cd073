"""The pure price engine: hand-checked figures and hypothesis properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from services.pricing.domain.engine import calculate
from services.pricing.domain.model import (
    AutomaticDiscount,
    Checkout,
    Coupon,
    Customer,
    Eligibility,
    GiftRule,
    Kind,
    Offer,
    PaymentMethod,
    PricingInput,
    Rules,
    TaxRate,
    Tier,
    Variant,
)
from services.pricing.domain.money import allocate, div_half_up, percent_of
from services.pricing.domain.result import Rejection, Tax

NOW = datetime(2026, 11, 25, tzinfo=UTC)
KA = Checkout("KA", "KA", shipping_fee=4900, free_shipping_threshold=49900)


def inp(lines, variants, **kw) -> PricingInput:
    rates = {v: TaxRate(1800) for v in variants}
    return PricingInput(
        lines=tuple(lines),
        variants=variants,
        tax_rates=rates,
        checkout=kw.pop("checkout", KA),
        now=NOW,
        **kw,
    )


def test_money_rounding_and_allocation() -> None:
    assert div_half_up(5, 2) == 3 and div_half_up(-5, 2) == -3 and div_half_up(4, 3) == 1
    assert percent_of(99900, 1000) == 9990 and percent_of(999, 1000) == 100
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(0, [0, 0]) == [0, 0]


def test_hand_checked_tier_coupon_and_gst() -> None:
    """Kumkumadi 799 + 2 x Nalpamaradi 549 = Rs 1,897: tier 5% (Rs 94.85), then AYUR200."""
    v = {"a": Variant("a", 79900, 89500), "b": Variant("b", 54900, 59500)}
    rules = Rules(
        coupons={
            "AYUR200": Coupon(
                "c1", "AYUR200", Offer(Kind.FLAT, amount=20000), min_cart_value=149900
            )
        },
        tiers=(Tier("t1", "5%", 99900, 500), Tier("t2", "10%", 199900, 1000)),
    )
    b = calculate(inp([("a", 1), ("b", 2)], v, rules=rules, coupon_codes=("AYUR200",)))
    a_line, b_line = b.lines
    # Tier: 3995 + 5490 = 9485. Coupon 20000 over nets 75905 / 104310: 8423.4 / 11576.6.
    assert [d.amount for d in a_line.discounts] == [3995, 8424]
    assert [d.amount for d in b_line.discounts] == [5490, 11576]
    # 67481 incl. 18% GST: taxable 57187.29 -> 57187, tax 10294 = 5147 + 5147.
    assert (a_line.tax.taxable_value, a_line.tax.cgst, a_line.tax.sgst) == (57187, 5147, 5147)
    assert b.total == 189700 - 9485 - 20000  # shipping free over Rs 499
    assert b.progress[0].remaining == 199900 - 189700


def test_bxgy_makes_the_cheapest_unit_free() -> None:
    v = {"a": Variant("a", 30000), "b": Variant("b", 20000)}
    c = Coupon("x", "B2G1", Offer(Kind.BUY_X_GET_Y, buy_quantity=2, get_quantity=1))
    b = calculate(
        inp([("a", 2), ("b", 1)], v, rules=Rules(coupons={"B2G1": c}), coupon_codes=("b2g1",))
    )
    assert b.coupons[0].savings == 20000
    assert [ln.net for ln in b.lines] == [60000, 0]


def test_guest_and_customer_limits() -> None:
    v = {"a": Variant("a", 100000)}
    c = Coupon(
        "w",
        "WELCOME10",
        Offer(Kind.PERCENTAGE, percent_bp=1000, max_discount=20000),
        first_order_only=True,
    )
    rules = Rules(coupons={"WELCOME10": c})
    guest = calculate(inp([("a", 1)], v, rules=rules, coupon_codes=("WELCOME10",)))
    assert guest.coupons[0].rejection == Rejection.LOGIN_REQUIRED
    new = calculate(
        inp([("a", 1)], v, rules=rules, coupon_codes=("WELCOME10",), customer=Customer("u1"))
    )
    assert new.coupons[0].savings == 10000
    old = Customer("u2", orders_placed=1)
    again = calculate(inp([("a", 1)], v, rules=rules, coupon_codes=("WELCOME10",), customer=old))
    assert again.coupons[0].rejection == Rejection.FIRST_ORDER_ONLY


def test_gst_on_shipping_hand_checked_intra_state() -> None:
    """Rs 199 at 18% in KA, shipping Rs 49 charged (below the Rs 499 threshold).

    Shipping is taxed at the cart's 18%: 4900 x 10000 / 11800 = 4152.54 -> taxable
    4153; GST 747 = CGST 374 + SGST 373 (mesh.gst: the odd paisa on CGST)."""
    v = {"a": Variant("a", 19900)}
    b = calculate(inp([("a", 1)], v))
    assert b.shipping.fee == 4900 and b.shipping.gst_rate_bp == 1800
    assert b.shipping.tax == Tax(taxable_value=4153, cgst=374, sgst=373)
    line = b.lines[0].tax  # 19900: taxable 16864.41 -> 16864, 3036 = 1518 + 1518
    assert line == Tax(taxable_value=16864, cgst=1518, sgst=1518)
    assert b.tax == Tax(taxable_value=16864 + 4153, cgst=1518 + 374, sgst=1518 + 373)
    assert b.total == 19900 + 4900  # fees are tax-inclusive: the total does not change


def test_gst_on_shipping_and_cod_mixed_rates_inter_state() -> None:
    """A 5% + 12% cart to MH pays COD: both fees at the highest rate, 12%, as IGST.

    Shipping 4900 / 1.12 = 4375.00 exactly, IGST 525; COD 3900 / 1.12 = 3482.14 ->
    3482, IGST 418. Intra-state the 525 would split CGST 263 + SGST 262."""
    v = {"food": Variant("food", 10000), "comb": Variant("comb", 15000)}
    rates = {"food": TaxRate(500), "comb": TaxRate(1200)}
    cod = PaymentMethod("cod", fee=3900)
    mh = Checkout("KA", "MH", shipping_fee=4900, payment_methods={"cod": cod})
    x = replace(
        inp([("food", 1), ("comb", 1)], v, checkout=mh, payment_method="cod"), tax_rates=rates
    )
    b = calculate(x)
    assert b.shipping.tax == Tax(taxable_value=4375, igst=525) and b.shipping.gst_rate_bp == 1200
    assert b.payment_fee == 3900 and b.payment_fee_gst_rate_bp == 1200
    assert b.payment_fee_tax == Tax(taxable_value=3482, igst=418)
    assert b.tax.igst == sum(ln.tax.igst for ln in b.lines) + 525 + 418
    ka = calculate(replace(x, checkout=replace(mh, place_of_supply="KA")))
    assert ka.shipping.tax == Tax(taxable_value=4375, cgst=263, sgst=262)
    assert ka.payment_fee_tax == Tax(taxable_value=3482, cgst=209, sgst=209)
    # A fully discounted 12% line bears no tax: the fees follow the 5% line.
    free_comb = Coupon(
        "fc",
        "FREECOMB",
        Offer(Kind.PERCENTAGE, percent_bp=10_000),
        eligibility=Eligibility(variant_ids=frozenset({"comb"})),
    )
    rules = Rules(coupons={"FREECOMB": free_comb}, stacking_cap_bp=10_000)
    c = calculate(replace(x, rules=rules, coupon_codes=("FREECOMB",)))
    assert [ln.net for ln in c.lines] == [0, 10000] and c.shipping.gst_rate_bp == 500
    # 4900 / 1.05 = 4666.67 -> 4667, IGST 233.
    assert c.shipping.tax == Tax(taxable_value=4667, igst=233)
    # Free shipping carries no tax.
    assert calculate(replace(x, checkout=replace(mh, shipping_fee=0))).shipping.tax == Tax()


# --- properties ----------------------------------------------------------------------

variant_ids = st.sampled_from([f"v{i}" for i in range(6)])
prices = st.integers(min_value=1, max_value=500_000)
offers = st.one_of(
    st.builds(
        Offer,
        st.just(Kind.PERCENTAGE),
        percent_bp=st.integers(1, 10_000),
        max_discount=st.integers(0, 50_000),
    ),
    st.builds(Offer, st.just(Kind.FLAT), amount=st.integers(1, 300_000)),
    st.builds(
        Offer,
        st.just(Kind.BUY_X_GET_Y),
        buy_quantity=st.integers(1, 3),
        get_quantity=st.integers(1, 2),
        get_discount_bp=st.integers(0, 10_000),
    ),
    st.builds(Offer, st.just(Kind.FREE_SHIPPING)),
)


@st.composite
def scenarios(draw) -> PricingInput:
    ids = draw(st.lists(variant_ids, min_size=1, max_size=6, unique=True))
    variants = {
        i: Variant(i, draw(prices), category_ids=frozenset({draw(st.sampled_from(["c1", "c2"]))}))
        for i in ids
    }
    lines = [(i, draw(st.integers(1, 5))) for i in ids]
    coupons = {}
    for n in range(draw(st.integers(0, 4))):
        code = f"C{n}"
        coupons[code] = Coupon(
            f"id{n}",
            code,
            draw(offers),
            min_cart_value=draw(st.integers(0, 200_000)),
            exclusive=draw(st.booleans()),
            group=draw(st.sampled_from(["default", "g1", "g2"])),
            priority=draw(st.integers(0, 3)),
            eligibility=draw(
                st.sampled_from([Eligibility(), Eligibility(category_ids=frozenset({"c1"}))])
            ),
        )
    autos = tuple(
        AutomaticDiscount(f"a{n}", f"auto {n}", draw(offers), priority=draw(st.integers(0, 3)))
        for n in range(draw(st.integers(0, 3)))
    )
    tiers = (Tier("t1", "5%", 99900, 500), Tier("t2", "10%", 199900, 1000))
    gifts = (GiftRule("g1", "gift", 150000, "v0"),)
    state = draw(st.sampled_from(["KA", "MH"]))
    cod = PaymentMethod("cod", fee=draw(st.sampled_from([0, 1, 3900, 4999])))
    checkout = replace(
        KA,
        place_of_supply=state,
        prices_include_tax=draw(st.booleans()),
        shipping_fee=draw(st.sampled_from([0, 1, 4900, 9999])),
        payment_methods={"cod": cod},
    )
    x = inp(
        lines,
        variants,
        checkout=checkout,
        rules=Rules(coupons, autos, tiers, gifts, stacking_cap_bp=draw(st.integers(0, 10_000))),
        coupon_codes=tuple(draw(st.permutations([*coupons, "NOPE"]))),
        customer=Customer("u1"),
        gift_stock={"v0": draw(st.integers(0, 2))},
        payment_method=draw(st.sampled_from(["", "cod"])),
    )
    rates = {i: TaxRate(draw(st.sampled_from([0, 500, 1200, 1800, 2800]))) for i in ids}
    return replace(x, tax_rates=rates)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_totals_add_up_and_nothing_is_negative(x: PricingInput) -> None:
    b = calculate(x)
    for ln in b.lines:
        assert 0 <= ln.net == ln.gross - ln.discount_total
        assert ln.tax.taxable_value + ln.tax.total == (ln.net if b.prices_include_tax else ln.total)
        assert min(ln.tax.cgst, ln.tax.sgst, ln.tax.igst) >= 0
        assert (ln.tax.igst == 0) or (ln.tax.cgst == ln.tax.sgst == 0)
    assert b.total == sum(ln.total for ln in b.lines) + b.shipping.fee + b.payment_fee >= 0
    # Fees are tax-inclusive; their GST is at the highest rate of the taxed lines.
    for fee, t in ((b.shipping.fee, b.shipping.tax), (b.payment_fee, b.payment_fee_tax)):
        assert t.taxable_value + t.total == fee
        assert min(t.taxable_value, t.cgst, t.sgst, t.igst) >= 0
        assert (t.igst == 0) or (t.cgst == t.sgst == 0)
        assert 0 <= t.cgst - t.sgst <= 1
    taxed = [ln.gst_rate_bp for ln in b.lines if ln.net > 0 and not ln.free_gift]
    if taxed:
        assert b.shipping.gst_rate_bp == b.payment_fee_gst_rate_bp == max(taxed)
    # The bill's tax is exactly the lines' + shipping's + the fee's, field by field.
    parts = [ln.tax for ln in b.lines] + [b.shipping.tax, b.payment_fee_tax]
    assert b.tax == Tax(*(sum(getattr(t, f) for t in parts) for f in Tax.__dataclass_fields__))
    assert b.tax.total == sum(t.total for t in parts)
    assert b.discount_total == sum(ln.discount_total for ln in b.lines)
    cap = percent_of(b.subtotal, x.rules.stacking_cap_bp)
    assert b.discount_total <= cap
    for d in b.discounts:  # the per-line shares add up to each discount exactly
        assert d.amount == sum(s.amount for ln in b.lines for s in ln.discounts if s.rule == d.rule)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.randoms())
def test_code_order_and_line_order_do_not_matter_and_it_is_idempotent(x: PricingInput, rnd) -> None:
    b = calculate(x)
    codes, lines = list(x.coupon_codes), list(x.lines)
    rnd.shuffle(codes)
    rnd.shuffle(lines)
    shuffled = replace(x, coupon_codes=tuple(c.lower() for c in codes), lines=tuple(lines))
    assert calculate(shuffled) == b
    assert calculate(x) == b


@settings(max_examples=500, deadline=None)
@given(
    st.integers(0, 10_000_000),
    st.sampled_from([0, 500, 1200, 1800, 2800]),
    st.sampled_from(["KA", "MH", "DL"]),
    st.booleans(),
)
def test_line_tax_matches_mesh_gst(amount: int, rate: int, place: str, inclusive: bool) -> None:
    from mesh.gst import gst_line
    from services.pricing.domain.tax import line_tax

    g = gst_line(amount, rate, "KA", place, inclusive=inclusive)
    t = line_tax(amount, rate, inter_state=place != "KA", inclusive=inclusive)
    assert (t.taxable_value, t.cgst, t.sgst, t.igst) == (g.taxable, g.cgst, g.sgst, g.igst)
