"""The price of a cart: pure, deterministic, every paisa explained.

Order of work (README "How a price is computed"):

1. Lines: merged by variant, sorted by variant id; gross = unit price x quantity.
2. Coupons: each code checked (domain.coupons.check), then stacked (choose).
3. Automatic discounts (priority, then id), the best tier, then the chosen coupons
   (priority, then code); each on what earlier ones left of its eligible lines,
   spread over them by net (largest remainder), never below zero, and all of them
   together capped at `stacking_cap_bp` of the subtotal.
4. Free gifts (sellable, in stock) at zero price.
5. GST per line on its net, at the rate of the slab its net per piece falls in
   (discounts can move a line into a lower slab; with tax-exclusive prices the net
   is compared with the threshold without GST); shipping (threshold,
   free-shipping rules); payment fee;
   the GST inside shipping and the fee (at the highest rate of the taxed lines).
   The free-shipping threshold is applied by exactly one side: pricing (settings'
   threshold) on the flat rate, the shipping service (its method's threshold) on a
   quote from it (`Checkout.shipping_owns_threshold`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from services.pricing.domain import coupons as coupon_rules
from services.pricing.domain.model import (
    COD,
    Checkout,
    Coupon,
    Eligibility,
    Kind,
    Offer,
    PricingInput,
    Source,
    Tier,
)
from services.pricing.domain.money import percent_of, percent_text, rupees
from services.pricing.domain.offers import Slot, offer_shares
from services.pricing.domain.result import (
    Breakdown,
    CouponOutcome,
    Discount,
    Line,
    Progress,
    ProgressKind,
    Rejection,
    Shipping,
    Tax,
)
from services.pricing.domain.tax import fee_rate_bp, fee_tax, line_tax


@dataclass
class _Run:
    inp: PricingInput
    slots: list[Slot]
    subtotal: int
    budget: int
    applied: list[Discount] = field(default_factory=list)
    meta: dict[str, Discount] = field(default_factory=dict)
    free_shipping_rule: str = ""
    messages: list[str] = field(default_factory=list)
    best_tier: Tier | None = None  # the tier reached (_tier), for _progress too

    _eligible: dict[int, list[Slot]] = field(default_factory=dict)

    def eligible(self, eligibility: Eligibility) -> list[Slot]:
        """The slots a rule applies to (computed once per rule and calculation)."""
        key = id(eligibility)
        hit = self._eligible.get(key)
        if hit is None:
            hit = self._eligible[key] = [s for s in self.slots if eligibility.matches(s.variant)]
        return hit

    def apply(self, d: Discount, offer: Offer, slots: list[Slot]) -> int:
        """Take `offer` off `slots`; record the discount; the amount taken."""
        shares, capped = offer_shares(offer, slots, self.budget)
        total = sum(shares)
        if total <= 0:
            return 0
        for s, share in zip(slots, shares, strict=True):
            if share:
                s.net -= share
                s.shares.append(Discount(d.source, d.rule, d.title, share, d.code))
        self.budget -= total
        done = Discount(d.source, d.rule, d.title, total, d.code, capped)
        self.applied.append(done)
        self.meta[d.rule] = done
        return total


def _units(slots: list[Slot]) -> int:
    return sum(s.quantity for s in slots)


def _best_tier(inp: PricingInput, subtotal: int) -> Tier | None:
    reached = [
        t
        for t in inp.rules.tiers
        if t.active and t.window.open_at(inp.now) and subtotal >= t.min_subtotal
    ]
    return max(reached, key=lambda t: (t.min_subtotal, t.percent_bp, t.id), default=None)


def _automatic(run: _Run, any_coupon: bool) -> None:
    inp = run.inp
    autos = [a for a in inp.rules.automatic if a.active and a.window.open_at(inp.now)]
    for a in sorted(autos, key=lambda a: (-a.priority, a.id)):
        if (not a.combines_with_coupons and any_coupon) or run.subtotal < a.min_cart_value:
            continue
        slots = run.eligible(a.eligibility)
        units = _units(slots)
        if units == 0 or units < a.min_quantity:
            continue
        if a.offer.kind == Kind.FREE_SHIPPING:
            run.free_shipping_rule = run.free_shipping_rule or a.rule
            continue
        if a.offer.kind == Kind.BUY_X_GET_Y and units < a.offer.buy_quantity + a.offer.get_quantity:
            continue
        run.apply(Discount(Source.AUTOMATIC, a.rule, a.title, 0), a.offer, slots)


def _tier(run: _Run) -> None:
    tier = run.best_tier = _best_tier(run.inp, run.subtotal)
    if tier is None:
        return
    offer = Offer(Kind.PERCENTAGE, percent_bp=tier.percent_bp, max_discount=tier.max_discount)
    run.apply(Discount(Source.TIER, tier.rule, tier.title, 0), offer, run.slots)


def _coupon_outcomes(run: _Run) -> tuple[list[Coupon], dict[str, CouponOutcome]]:
    inp = run.inp
    outcomes: dict[str, CouponOutcome] = {}
    valid: list[Coupon] = []
    for code in coupon_rules.normalize_codes(inp.coupon_codes):
        c = inp.rules.coupons.get(code)
        eligible = run.eligible(c.eligibility) if c is not None else []
        verdict = coupon_rules.check(c, code, inp, run.subtotal, eligible)
        if verdict.ok and c is not None:
            valid.append(c)
        else:
            rule = c.rule if c is not None else ""
            outcomes[code] = CouponOutcome(code, False, rule, verdict.rejection, verdict.message)
    chosen, left_out = coupon_rules.choose(valid)
    for c in valid:
        if c.code in left_out:
            outcomes[c.code] = CouponOutcome(
                c.code, False, c.rule, Rejection.NOT_COMBINABLE, left_out[c.code]
            )
    return chosen, outcomes


def _apply_coupons(
    run: _Run, chosen: list[Coupon], outcomes: dict[str, CouponOutcome]
) -> list[Coupon]:
    """Line discounts of the chosen coupons; free-shipping ones are settled later."""
    shipping: list[Coupon] = []
    for c in coupon_rules.stacking_order(chosen):
        if c.offer.kind == Kind.FREE_SHIPPING:
            shipping.append(c)
            continue
        title = c.description or c.code
        taken = run.apply(
            Discount(Source.COUPON, c.rule, title, 0, code=c.code),
            c.offer,
            run.eligible(c.eligibility),
        )
        if taken:
            capped = run.meta[c.rule].capped
            note = " (limited by the maximum combined discount)" if capped else ""
            outcomes[c.code] = CouponOutcome(
                c.code,
                True,
                c.rule,
                Rejection.NONE,
                f"{c.code}: Rs {rupees(taken)} off{note}",
                taken,
            )
        else:
            why = "the combined discount limit is reached" if run.budget <= 0 else "nothing left"
            outcomes[c.code] = CouponOutcome(
                c.code, False, c.rule, Rejection.NO_SAVINGS, f"{c.code} saves nothing: {why}"
            )
    return shipping


def _gifts(run: _Run) -> list[Line]:
    inp = run.inp
    out: list[Line] = []
    used: dict[str, int] = {}
    rules = [
        g
        for g in inp.rules.gifts
        if g.active and g.window.open_at(inp.now) and run.subtotal >= g.min_subtotal
    ]
    for g in sorted(rules, key=lambda g: (-g.priority, g.id)):
        v = inp.variants.get(g.variant_id)
        qty = max(g.quantity, 1)
        if v is None or not v.sellable:
            run.messages.append(f"{g.title}: the gift is not available right now")
            continue
        if inp.gift_stock.get(v.variant_id, 0) - used.get(v.variant_id, 0) < qty:
            run.messages.append(f"{g.title}: the gift is out of stock")
            continue
        used[v.variant_id] = used.get(v.variant_id, 0) + qty
        out.append(
            Line(
                variant_id=v.variant_id,
                quantity=qty,
                unit_price=0,
                unit_mrp=v.mrp,
                gross=0,
                discounts=(),
                net=0,
                gst_rate_bp=0,
                tax_rule="",
                tax=Tax(),
                total=0,
                product_id=v.product_id,
                sku=v.sku,
                title=v.title,
                hsn_code=v.hsn_code,
                gift_rule=g.rule,
                product_title=v.product_title,
                variant_title=v.variant_title,
            )
        )
    return out


def _priced_line(run: _Run, s: Slot) -> Line:
    inp = run.inp
    rate = inp.tax_rates.get(s.variant.variant_id)
    inclusive = inp.checkout.prices_include_tax
    # The slab follows the value per piece after every discount on the line (its own
    # and its share of cart-level ones): GST is on the transaction value (CGST Act
    # s. 15(3)(a): discounts recorded on the invoice reduce it). A pack variant is
    # several pieces; with tax-exclusive prices the net is that value itself
    # (TaxRate.for_line).
    pieces = s.quantity * max(s.variant.pieces_per_unit, 1)
    rate_bp = rate.for_line(s.net, pieces, inclusive=inclusive) if rate else 0
    tax = line_tax(s.net, rate_bp, inter_state=inp.checkout.inter_state, inclusive=inclusive)
    discounts = tuple(s.shares)
    v = s.variant
    return Line(
        variant_id=v.variant_id,
        quantity=s.quantity,
        unit_price=v.price,
        unit_mrp=v.mrp,
        gross=s.gross,
        discounts=discounts,
        net=s.net,
        gst_rate_bp=rate_bp,
        tax_rule=rate.rule if rate else "",
        tax=tax,
        total=s.net if inclusive else s.net + tax.total,
        product_id=v.product_id,
        sku=v.sku,
        title=v.title,
        hsn_code=v.hsn_code,
        product_title=v.product_title,
        variant_title=v.variant_title,
    )


def _shipping(
    run: _Run,
    co: Checkout,
    merchandise: int,
    coupons: list[Coupon],
    outcomes: dict[str, CouponOutcome],
) -> Shipping:
    base = co.shipping_fee
    reason = ""
    if co.shipping_free:  # the shipping service's own threshold waived it
        base = max(co.shipping_base_fee, base)
        reason = "threshold"
    elif base == 0:
        reason = "no_charge"
    elif (
        not co.shipping_owns_threshold
        and co.free_shipping_threshold
        and merchandise >= co.free_shipping_threshold
    ):
        reason = "threshold"
    elif run.free_shipping_rule:
        reason = run.free_shipping_rule
    for c in coupons:
        if reason:
            outcomes[c.code] = CouponOutcome(
                c.code, False, c.rule, Rejection.NO_SAVINGS, f"{c.code}: shipping is already free"
            )
        else:
            reason = c.rule
            outcomes[c.code] = CouponOutcome(
                c.code, True, c.rule, Rejection.NONE, f"{c.code}: free shipping", base
            )
    return Shipping(0 if reason else base, base, co.shipping_source, reason)


def _payment(run: _Run, co: Checkout, order_value: int) -> tuple[int, bool]:
    code = run.inp.payment_method
    if not code:
        return 0, True
    pm = co.payment_methods.get(code)
    name = (pm.display_name if pm else "") or code
    if pm is None or not pm.enabled:
        run.messages.append(f"{name} is not available")
        return 0, False
    if pm.min_order_value and order_value < pm.min_order_value:
        run.messages.append(f"{name} needs an order of at least Rs {rupees(pm.min_order_value)}")
        return 0, False
    if pm.max_order_value and order_value > pm.max_order_value:
        run.messages.append(f"{name} is available up to Rs {rupees(pm.max_order_value)}")
        return 0, False
    if code == COD:
        if co.cod_available is False:  # the shipping service cannot collect at this PIN
            run.messages.append(f"{name} is not available for this PIN code")
            return 0, False
        if co.cod_fee is not None:
            return co.cod_fee, True
    return pm.fee, True


def _progress(run: _Run, co: Checkout, merchandise: int, shipping: Shipping) -> list[Progress]:
    inp, out = run.inp, []
    best = run.best_tier
    for t in sorted(inp.rules.tiers, key=lambda t: (t.min_subtotal, t.id)):
        if not (t.active and t.window.open_at(inp.now)) or t.min_subtotal <= run.subtotal:
            continue
        if best is not None and t.percent_bp <= best.percent_bp:
            continue
        left = t.min_subtotal - run.subtotal
        text = f"Add Rs {rupees(left)} more to get {percent_text(t.percent_bp)} off"
        out.append(
            Progress(ProgressKind.TIER, t.rule, t.title, t.min_subtotal, left, text, t.percent_bp)
        )
    for g in sorted(inp.rules.gifts, key=lambda g: (g.min_subtotal, g.id)):
        if not (g.active and g.window.open_at(inp.now)) or g.min_subtotal <= run.subtotal:
            continue
        left = g.min_subtotal - run.subtotal
        text = f"Add Rs {rupees(left)} more to get a free gift: {g.title}"
        out.append(Progress(ProgressKind.FREE_GIFT, g.rule, g.title, g.min_subtotal, left, text))
    threshold = co.free_shipping_threshold
    if not shipping.free and threshold and merchandise < threshold:
        left = threshold - merchandise
        text = f"Add Rs {rupees(left)} more for free shipping"
        out.append(Progress(ProgressKind.FREE_SHIPPING, "", "Free shipping", threshold, left, text))
    return out


@dataclass
class Merchandise:
    """A cart priced up to its merchandise: lines discounted and taxed, coupons chosen.

    None of it depends on the shipping charge or the payment fee, so a shipping
    quote (which needs `total`, the merchandise after discounts) can be asked for in
    between and the rest settled by `finish` without pricing the lines twice.
    """

    run: _Run
    subtotal: int
    lines: list[Line]
    outcomes: dict[str, CouponOutcome]
    shipping_coupons: list[Coupon]
    total: int  # the lines' totals: the order value after discounts


def merchandise(inp: PricingInput) -> Merchandise:
    """Steps 1-3 and the lines' GST of `calculate` (everything before shipping)."""
    merged: dict[str, int] = {}
    for vid, qty in inp.lines:
        merged[vid] = merged.get(vid, 0) + qty
    slots = []
    for vid in sorted(merged):
        v = inp.variants[vid]
        gross = v.price * merged[vid]
        slots.append(Slot(v, merged[vid], gross, gross))
    subtotal = sum(s.gross for s in slots)
    cap = min(max(inp.rules.stacking_cap_bp, 0), 10_000)
    run = _Run(inp, slots, subtotal, percent_of(subtotal, cap))
    chosen, outcomes = _coupon_outcomes(run)
    _automatic(run, any_coupon=bool(chosen))
    _tier(run)
    shipping_coupons = _apply_coupons(run, chosen, outcomes)
    lines = [_priced_line(run, s) for s in run.slots]
    total = sum(ln.total for ln in lines)
    return Merchandise(run, subtotal, lines, outcomes, shipping_coupons, total)


def _same_lines(a: Checkout, b: Checkout) -> bool:
    """Whether lines priced under `a` are priced the same under `b` (only shipping and
    COD fields differ: shipping.apply)."""
    return (
        a.prices_include_tax == b.prices_include_tax
        and a.registered_state == b.registered_state
        and a.place_of_supply == b.place_of_supply
    )


def finish(m: Merchandise, checkout: Checkout | None = None) -> Breakdown:
    """The breakdown of `m`'s input with `checkout` (default: the input's own; it may
    differ from it only in its shipping and COD fields, as shipping.apply makes it).
    `m` is not changed: it can be finished again with another checkout."""
    first = m.run
    inp = first.inp
    co = inp.checkout if checkout is None else checkout
    if co is not inp.checkout and not _same_lines(co, inp.checkout):
        return calculate(replace(inp, checkout=co))
    # What is settled below only appends messages and coupon outcomes: to copies.
    run = _Run(
        inp,
        first.slots,
        first.subtotal,
        first.budget,
        first.applied,
        first.meta,
        first.free_shipping_rule,
        list(first.messages),
        first.best_tier,
        first._eligible,
    )
    outcomes = dict(m.outcomes)
    lines = list(m.lines)
    merchandise_total = m.total
    shipping = _shipping(run, co, merchandise_total, m.shipping_coupons, outcomes)
    fee, available = _payment(run, co, merchandise_total + shipping.fee)
    rate = fee_rate_bp(lines)
    inter_state = co.inter_state
    shipping = Shipping(
        shipping.fee,
        shipping.base_fee,
        shipping.source,
        shipping.free_reason,
        fee_tax(shipping.fee, rate, inter_state=inter_state),
        rate,
    )
    fee_gst = fee_tax(fee, rate, inter_state=inter_state)
    lines.extend(_gifts(run))
    tax = shipping.tax + fee_gst
    for ln in lines:
        tax = tax + ln.tax
    ordered = tuple(outcomes[c] for c in sorted(outcomes))
    slots = run.slots
    return Breakdown(
        lines=tuple(lines),
        discounts=tuple(run.applied),
        coupons=ordered,
        shipping=shipping,
        payment_fee=fee,
        subtotal=m.subtotal,
        mrp_total=sum(max(s.variant.mrp, s.variant.price) * s.quantity for s in slots),
        tax=tax,
        total=merchandise_total + shipping.fee + fee,
        registered_state=co.registered_state,
        place_of_supply=co.place_of_supply,
        inter_state=inter_state,
        prices_include_tax=co.prices_include_tax,
        progress=tuple(_progress(run, co, merchandise_total, shipping)),
        payment_method_available=available,
        messages=tuple(run.messages),
        currency=co.currency,
        applied_codes=tuple(o.code for o in ordered if o.applied),
        payment_fee_tax=fee_gst,
        payment_fee_gst_rate_bp=rate,
    )


def calculate(inp: PricingInput) -> Breakdown:
    """The breakdown of `inp`. Same input, same paise: no clock, no I/O, no randomness."""
    return finish(merchandise(inp))
