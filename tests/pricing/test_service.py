"""The pricing service over real gRPC (sqlite and postgres), with fake peers."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import grpc
import pytest

from cleanse.pricing.v1 import breakdown_pb2 as bpb
from cleanse.pricing.v1 import coupon_hold_service_pb2 as hpb
from cleanse.pricing.v1 import pricing_admin_service_pb2 as apb
from cleanse.pricing.v1 import pricing_service_pb2 as ppb
from cleanse.pricing.v1 import resources_pb2 as rpb
from mesh import client
from services.pricing import repository as repo
from tests.pricing.conftest import Pricing
from tests.pricing.fakes import rs
from tests.support.rpc import reason, violations


def code() -> str:
    return "T" + secrets.token_hex(4).upper()


def cart(lines: list[tuple[str, int]], codes: tuple[str, ...] = (), **kw: Any) -> bpb.Cart:
    return bpb.Cart(
        lines=[bpb.CartLine(variant_id=v, quantity=q) for v, q in lines],
        coupon_codes=list(codes),
        **kw,
    )


async def coupon(p: Pricing, **kw: Any) -> rpb.Coupon:
    kw.setdefault("code", code())
    kw.setdefault("active", True)
    kw.setdefault("kind", rpb.DISCOUNT_KIND_FLAT)
    if kw["kind"] == rpb.DISCOUNT_KIND_FLAT:
        kw.setdefault("amount", rs(10000))
    return await p.admin.CreateCoupon(
        apb.CreateCouponRequest(coupon=rpb.Coupon(**kw)), metadata=p.md()
    )


async def price(p: Pricing, c: bpb.Cart, md: Any = None) -> bpb.PriceBreakdown:
    return await p.public.CalculatePrice(ppb.CalculatePriceRequest(cart=c), metadata=md)


TAX_FIELDS = ("taxable_value", "cgst", "sgst", "igst", "total_tax")


def check_sums(b: bpb.PriceBreakdown) -> None:
    lines = sum(ln.total.amount_minor for ln in b.lines)
    assert b.total.amount_minor == lines + b.shipping.fee.amount_minor + b.cod_fee.amount_minor
    for ln in b.lines:
        assert ln.net.amount_minor == ln.gross.amount_minor - ln.discount_total.amount_minor >= 0
        t = ln.tax
        assert t.taxable_value.amount_minor + t.total_tax.amount_minor == ln.net.amount_minor
    # Fees are tax-inclusive; the bill's tax = lines' + shipping's + the COD fee's.
    for fee, t in ((b.shipping.fee, b.shipping.tax), (b.cod_fee, b.cod_fee_tax)):
        assert t.taxable_value.amount_minor + t.total_tax.amount_minor == fee.amount_minor
    parts = [ln.tax for ln in b.lines] + [b.shipping.tax, b.cod_fee_tax]
    for f in TAX_FIELDS:
        assert getattr(b.tax, f).amount_minor == sum(getattr(t, f).amount_minor for t in parts)


async def test_realistic_cart_inter_state_igst_and_cod(pricing: Pricing) -> None:
    p = pricing
    oil = p.variant(79900, 89500)  # Rs 799, 18%
    comb = p.variant(24900, 29900, tax_class="gst_12")  # Rs 249, 12%
    c = await coupon(p, amount=rs(10000), min_cart_value=rs(100000))
    b = await price(
        p,
        cart(
            [(oil, 1), (comb, 2), (oil, 1)],
            (c.code.lower(),),
            delivery_pincode="400001",
            payment_method="cod",
        ),
    )
    assert [ln.variant_id for ln in b.lines] == sorted([oil, comb])
    assert b.subtotal.amount_minor == 2 * 79900 + 2 * 24900 == 209600
    assert b.inter_state and b.place_of_supply_state_code == "MH"
    assert b.coupons[0].applied and b.coupons[0].savings.amount_minor == 10000
    # Rs 100 spread by net: 7624.04 and 2375.95; the odd paisa to the larger remainder.
    shares = {ln.variant_id: ln.discount_total.amount_minor for ln in b.lines}
    assert shares == {oil: 7624, comb: 2376}
    oil_line = next(ln for ln in b.lines if ln.variant_id == oil)
    # 152176 incl. 18%: taxable 128962.71 -> 128963, IGST 23213 (hand-checked).
    assert oil_line.tax.taxable_value.amount_minor == 128963
    assert oil_line.tax.igst.amount_minor == 23213 and oil_line.tax.cgst.amount_minor == 0
    assert b.shipping.free and b.shipping.free_reason == "threshold"
    assert b.cod_fee.amount_minor == 3900 and b.payment_method_available
    # COD fee at the cart's highest rate, 18% (not the comb's 12%), inter-state:
    # 3900 / 1.18 = 3305.08 -> taxable 3305, IGST 595.
    assert b.cod_fee_gst_rate_basis_points == 1800
    assert (b.cod_fee_tax.taxable_value.amount_minor, b.cod_fee_tax.igst.amount_minor) == (
        3305,
        595,
    )
    assert b.cod_fee_tax.cgst.amount_minor == 0 == b.shipping.tax.total_tax.amount_minor
    assert b.total.amount_minor == 209600 - 10000 + 3900
    check_sums(b)


async def test_intra_state_splits_cgst_sgst_and_shipping_charged(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(19900)
    b = await price(p, cart([(v, 1)], delivery_pincode="560001"))
    ln = b.lines[0]
    # 19900 incl. 18%: taxable 16864.41 -> 16864; tax 3036 = CGST 1518 + SGST 1518.
    assert (ln.tax.taxable_value.amount_minor, ln.tax.cgst.amount_minor) == (16864, 1518)
    assert ln.tax.sgst.amount_minor == 1518 and not b.inter_state
    assert b.shipping.fee.amount_minor == 4900
    # Shipping at 18%: 4900 / 1.18 = 4152.54 -> 4153; 747 = CGST 374 + SGST 373.
    st = b.shipping.tax
    assert b.shipping.gst_rate_basis_points == 1800
    assert (st.taxable_value.amount_minor, st.cgst.amount_minor, st.sgst.amount_minor) == (
        4153,
        374,
        373,
    )
    assert (b.tax.cgst.amount_minor, b.tax.sgst.amount_minor) == (1518 + 374, 1518 + 373)
    assert b.total.amount_minor == 19900 + 4900
    check_sums(b)
    progress = {pr.kind: pr for pr in b.progress}
    assert progress[bpb.PROGRESS_KIND_FREE_SHIPPING].remaining.amount_minor == 30000


async def test_coupon_validation_errors(pricing: Pricing) -> None:
    p = pricing
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await coupon(p, code="BAD CODE!", kind=rpb.DISCOUNT_KIND_PERCENTAGE)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    v = violations(e.value)
    assert "coupon.code" in v and "coupon.percent_basis_points" in v
    c = await coupon(p)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await coupon(p, code=c.code.lower())
    assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await coupon(p, eligibility=rpb.Eligibility(variant_ids=["var_nope"]))
    assert "coupon.eligibility.variant_ids[0]" in violations(e.value)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.admin.CreateFreeGiftRule(
            apb.CreateFreeGiftRuleRequest(
                free_gift_rule=rpb.FreeGiftRule(
                    title="x", min_subtotal=rs(100), gift_variant_id="var_missing"
                )
            ),
            metadata=p.md(),
        )
    assert "free_gift_rule.gift_variant_id" in violations(e.value)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.admin.CreateCoupon(
            apb.CreateCouponRequest(coupon=rpb.Coupon(code=code())),
            metadata=p.md(perms=("pricing.read",)),
        )
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.admin.ListCoupons(apb.ListCouponsRequest(), metadata=p.md(perms=()))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_admin_update_and_list(pricing: Pricing) -> None:
    p = pricing
    c = await coupon(p, description="before")
    c.description = "after"
    c.code = c.code + "X"
    from google.protobuf import field_mask_pb2

    updated = await p.admin.UpdateCoupon(
        apb.UpdateCouponRequest(
            coupon=c, update_mask=field_mask_pb2.FieldMask(paths=["description"])
        ),
        metadata=p.md(),
    )
    assert updated.description == "after" and updated.code != c.code
    assert updated.created_by == "adminUsers/a1"
    listed = await p.admin.ListCoupons(
        apb.ListCouponsRequest(code_prefix=updated.code.lower()), metadata=p.md()
    )
    assert [x.name for x in listed.coupons] == [updated.name]


async def test_stacking_group_exclusive_and_cap(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(100000)
    a = await coupon(p, amount=rs(10000), priority=5)
    b = await coupon(p, amount=rs(20000), priority=1)  # same group "default": loses
    ship = await coupon(p, kind=rpb.DISCOUNT_KIND_FREE_SHIPPING, combination_group="ship")
    res = await price(p, cart([(v, 1)], (b.code, a.code, ship.code)))
    by = {c.code: c for c in res.coupons}
    assert by[a.code].applied and not by[b.code].applied
    assert by[b.code].rejection == bpb.COUPON_REJECTION_NOT_COMBINABLE
    assert by[ship.code].rejection == bpb.COUPON_REJECTION_NO_SAVINGS  # over the threshold
    # Order of codes does not matter.
    again = await price(p, cart([(v, 1)], (ship.code, a.code, b.code)))
    assert again == res
    ex = await coupon(p, amount=rs(5000), exclusive=True, priority=9, combination_group="x")
    res = await price(p, cart([(v, 1)], (a.code, ex.code)))
    by = {c.code: c for c in res.coupons}
    assert by[ex.code].applied and not by[a.code].applied
    # Stacking cap 50%: a 90% coupon alone is trimmed to half the subtotal.
    big = await coupon(p, kind=rpb.DISCOUNT_KIND_PERCENTAGE, percent_basis_points=9000)
    res = await price(p, cart([(v, 1)], (big.code,)))
    assert res.discount_total.amount_minor == 50000 and res.discounts[0].capped


async def test_first_order_coupon_guest_vs_customer(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(150000)
    w = await coupon(
        p,
        kind=rpb.DISCOUNT_KIND_PERCENTAGE,
        percent_basis_points=1000,
        max_discount=rs(20000),
        first_order_only=True,
        per_customer_limit=1,
    )
    guest = await price(p, cart([(v, 1)], (w.code,)))
    assert guest.coupons[0].rejection == bpb.COUPON_REJECTION_LOGIN_REQUIRED
    user = secrets.token_hex(6)
    mine = await price(p, cart([(v, 1)], (w.code,)), md=p.customer_md(user))
    assert mine.coupons[0].applied and mine.coupons[0].savings.amount_minor == 15000
    # A customer cannot claim to be someone else; the order service can.
    other = await p.public.CalculatePrice(
        ppb.CalculatePriceRequest(cart=cart([(v, 1)], (w.code,)), customer="users/x"),
    )
    assert other.coupons[0].rejection == bpb.COUPON_REJECTION_LOGIN_REQUIRED
    hold = await p.holds.HoldCoupons(
        hpb.HoldCouponsRequest(
            request_id=secrets.token_hex(8),
            cart=cart([(v, 1)], (w.code,)),
            customer=f"users/{user}",
        )
    )
    await p.holds.CommitCouponHold(hpb.CommitCouponHoldRequest(name=hold.name))
    again = await price(p, cart([(v, 1)], (w.code,)), md=p.customer_md(user))
    assert again.coupons[0].rejection == bpb.COUPON_REJECTION_CUSTOMER_LIMIT


async def test_segment_coupon_uses_settings(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(50000)
    c = await coupon(p, customer_segments=["customerSegments/vip"])
    p.peers.settings.segments["users/vip1"] = ["customerSegments/vip"]
    yes = await price(p, cart([(v, 1)], (c.code,)), md=p.customer_md("vip1"))
    no = await price(p, cart([(v, 1)], (c.code,)), md=p.customer_md("plain1"))
    assert yes.coupons[0].applied
    assert no.coupons[0].rejection == bpb.COUPON_REJECTION_SEGMENT


async def test_hold_commit_release_idempotency(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(60000)
    c = await coupon(p, usage_limit=5)
    rid = secrets.token_hex(8)
    req = hpb.HoldCouponsRequest(request_id=rid, cart=cart([(v, 1)], (c.code,)))
    first = await p.holds.HoldCoupons(req)
    assert first.state == hpb.HOLD_STATE_HELD and list(first.coupon_codes) == [c.code]
    assert first.breakdown.total.amount_minor == 60000 - 10000
    same = await p.holds.HoldCoupons(req)
    assert same.name == first.name
    req2 = hpb.HoldCouponsRequest(request_id=rid, cart=cart([(v, 2)], (c.code,)))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.holds.HoldCoupons(req2)
    assert reason(e.value) == "IDEMPOTENCY_MISMATCH"
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert got.times_held == 1
    done = await p.holds.CommitCouponHold(hpb.CommitCouponHoldRequest(name=first.name))
    assert done.state == hpb.HOLD_STATE_COMMITTED
    await p.holds.CommitCouponHold(hpb.CommitCouponHoldRequest(name=first.name))  # harmless
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.holds.ReleaseCouponHold(hpb.ReleaseCouponHoldRequest(name=first.name))
    assert reason(e.value) == "HOLD_COMMITTED"
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert (got.times_used, got.times_held) == (1, 0)
    other = await p.holds.HoldCoupons(
        hpb.HoldCouponsRequest(request_id=secrets.token_hex(8), cart=cart([(v, 1)], (c.code,)))
    )
    released = await p.holds.ReleaseCouponHold(hpb.ReleaseCouponHoldRequest(name=other.name))
    assert released.state == hpb.HOLD_STATE_RELEASED
    await p.holds.ReleaseCouponHold(hpb.ReleaseCouponHoldRequest(name=other.name))  # harmless
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.holds.CommitCouponHold(hpb.CommitCouponHoldRequest(name=other.name))
    assert reason(e.value) == "HOLD_NOT_HELD"
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert (got.times_used, got.times_held) == (1, 0)


async def test_expired_holds_are_swept(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(60000)
    c = await coupon(p, usage_limit=1)
    h = await p.holds.HoldCoupons(
        hpb.HoldCouponsRequest(
            request_id=secrets.token_hex(8), cart=cart([(v, 1)], (c.code,)), ttl_seconds=1
        )
    )
    await asyncio.sleep(1.1)
    assert await p.wired.holds.sweep_once() >= 1
    got = await p.holds.GetCouponHold(hpb.GetCouponHoldRequest(name=h.name))
    assert got.state == hpb.HOLD_STATE_EXPIRED
    again = await price(p, cart([(v, 1)], (c.code,)))
    assert again.coupons[0].applied  # the use came back


async def test_twenty_concurrent_holds_on_a_single_use_coupon(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(80000)
    c = await coupon(p, usage_limit=1)

    async def attempt(i: int) -> str:
        try:
            await p.holds.HoldCoupons(
                hpb.HoldCouponsRequest(
                    request_id=f"race-{c.code}-{i}",
                    cart=cart([(v, 1)], (c.code,)),
                    customer=f"users/racer{i}",
                )
            )
            return "held"
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc
            return reason(exc)

    outcomes = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert outcomes.count("held") == 1
    assert set(outcomes) == {"held", "COUPON_EXHAUSTED"}
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert got.times_held == 1


async def test_per_customer_limit_is_race_safe(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(80000)
    c = await coupon(p, per_customer_limit=1)
    user = secrets.token_hex(5)

    async def attempt(i: int) -> bool:
        try:
            await p.holds.HoldCoupons(
                hpb.HoldCouponsRequest(
                    request_id=f"pc-{c.code}-{i}",
                    cart=cart([(v, 1)], (c.code,)),
                    customer=f"users/{user}",
                )
            )
            return True
        except grpc.aio.AioRpcError as exc:
            assert reason(exc) == "COUPON_CUSTOMER_LIMIT"
            return False

    assert sum(await asyncio.gather(*(attempt(i) for i in range(8)))) == 1


async def test_catalog_down_fails_fast_and_holds_nothing(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(80000)
    c = await coupon(p, usage_limit=3)
    p.invalidate()
    p.peers.catalog.down = True
    try:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await price(p, cart([(v, 1)], (c.code,)))
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        assert reason(e.value) == "DEPENDENCY_UNAVAILABLE"
        assert "catalog" in (e.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await p.holds.HoldCoupons(
                hpb.HoldCouponsRequest(request_id=secrets.token_hex(8), cart=cart([(v, 1)]))
            )
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        p.peers.catalog.down = False
        client.reset_breakers()
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert got.times_held == 0


async def test_settings_down_is_unavailable(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(80000)
    p.invalidate()
    p.peers.settings.down = True
    try:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await price(p, cart([(v, 1)]))
        assert reason(e.value) == "DEPENDENCY_UNAVAILABLE"
    finally:
        p.peers.settings.down = False
        client.reset_breakers()


async def test_unknown_variant_is_invalid(pricing: Pricing) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await price(pricing, cart([("var_nothing", 1)]))
    assert "cart.lines[0].variant_id" in violations(e.value)


async def test_bxgy_gift_and_suggestions(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(54900)
    gift = p.variant(24900, tax_class="gst_12")
    p.peers.inventory.stock[gift] = 3
    bx = await coupon(
        p,
        kind=rpb.DISCOUNT_KIND_BUY_X_GET_Y,
        buy_x_get_y=rpb.BuyXGetY(buy_quantity=2, get_quantity=1),
        eligibility=rpb.Eligibility(variant_ids=[v]),
        listed=True,
        combination_group="bx",
    )
    rule = await p.admin.CreateFreeGiftRule(
        apb.CreateFreeGiftRuleRequest(
            free_gift_rule=rpb.FreeGiftRule(
                title="Comb", min_subtotal=rs(150000), gift_variant_id=gift, active=True
            )
        ),
        metadata=p.md(),
    )
    try:
        b = await price(p, cart([(v, 3)], (bx.code,)))
        assert b.coupons[0].savings.amount_minor == 54900
        gifts = [ln for ln in b.lines if ln.free_gift]
        assert [(g.variant_id, g.total.amount_minor) for g in gifts] == [(gift, 0)]
        s = await p.public.SuggestCoupons(ppb.SuggestCouponsRequest(cart=cart([(v, 3)])))
        assert s.best_code
        best = next(x for x in s.suggestions if x.code == s.best_code)
        assert best.applicable and all(
            best.savings.amount_minor >= x.savings.amount_minor for x in s.suggestions
        )
        p.peers.inventory.stock[gift] = 0
        p.invalidate()
        b = await price(p, cart([(v, 3)]))
        assert not [ln for ln in b.lines if ln.free_gift]
        assert any("out of stock" in m for m in b.messages)
    finally:
        await p.admin.DeleteFreeGiftRule(
            apb.DeleteFreeGiftRuleRequest(name=rule.name), metadata=p.md()
        )


async def test_first_order_across_different_coupons_is_race_safe(
    pricing: Pricing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first-order coupons raced for one new customer: one checkout gets one of
    them, the other is refused (a per-customer lock on PostgreSQL; SQLite serializes
    writers). Ten new customers race at once, each with both coupons; the check is
    slowed down so that, without the lock, both holds of a customer would be inside
    their transactions together and each miss the other's uncommitted hold."""
    p = pricing
    check = repo.open_or_committed_first_order

    async def slow_check(*args: Any) -> bool:
        await asyncio.sleep(0.05)
        return await check(*args)

    monkeypatch.setattr(repo, "open_or_committed_first_order", slow_check)
    v = p.variant(80000)
    first = [
        await coupon(p, first_order_only=True, per_customer_limit=1, combination_group=g)
        for g in ("fo-a", "fo-b")
    ]
    users = [secrets.token_hex(5) for _ in range(10)]

    async def attempt(user: str, c: rpb.Coupon) -> tuple[str, str]:
        try:
            await p.holds.HoldCoupons(
                hpb.HoldCouponsRequest(
                    request_id=f"fo-{user}-{c.code}",
                    cart=cart([(v, 1)], (c.code,)),
                    customer=f"users/{user}",
                )
            )
            return user, "held"
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc
            return user, reason(exc)

    outcomes = await asyncio.gather(*(attempt(u, c) for u in users for c in first))
    for user in users:
        mine = [o for u, o in outcomes if u == user]
        assert sorted(mine) == ["COUPON_NOT_APPLICABLE", "held"], (user, mine)
    got = [
        await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md()) for c in first
    ]
    assert sum(c.times_held for c in got) == len(
        users
    )  # the refused checkouts gave their uses back


async def test_rule_references_are_checked_with_the_catalog(pricing: Pricing) -> None:
    """Product, category, collection and brand ids (and their exclusions) must name
    something in the catalog: unknown ones are field violations, nothing is stored;
    a catalog that does not answer is UNAVAILABLE."""
    p = pricing
    p.variant(50000, category_ids=["cat_known"], collection_ids=["col_known"], brand_id="brd_k")
    bad = rpb.Eligibility(
        product_ids=["prd_nope"],
        category_ids=["cat_known", "cat_nope"],
        exclude_collection_ids=["col_nope"],
        brand_ids=["brd_nope"],
        exclude_product_ids=["prd_nope"],
    )
    c = code()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await coupon(p, code=c, eligibility=bad)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(e.value)) == {
        "coupon.eligibility.product_ids[0]",
        "coupon.eligibility.exclude_product_ids[0]",
        "coupon.eligibility.category_ids[1]",
        "coupon.eligibility.exclude_collection_ids[0]",
        "coupon.eligibility.brand_ids[0]",
    }
    listed = await p.admin.ListCoupons(apb.ListCouponsRequest(code_prefix=c), metadata=p.md())
    assert not listed.coupons
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.admin.CreateAutomaticDiscount(
            apb.CreateAutomaticDiscountRequest(
                automatic_discount=rpb.AutomaticDiscount(
                    title="x",
                    kind=rpb.DISCOUNT_KIND_PERCENTAGE,
                    percent_basis_points=500,
                    eligibility=rpb.Eligibility(exclude_category_ids=["cat_gone"]),
                )
            ),
            metadata=p.md(),
        )
    assert set(violations(e.value)) == {"automatic_discount.eligibility.exclude_category_ids[0]"}
    good = rpb.Eligibility(
        category_ids=["cat_known"], collection_ids=["col_known"], brand_ids=["brd_k"]
    )
    made = await coupon(p, code=c, eligibility=good)
    asked = p.peers.catalog.reference_checks[-1]
    assert list(asked.category_ids) == ["cat_known"] and list(asked.brand_ids) == ["brd_k"]
    # An update naming an unknown id is refused and changes nothing.
    from google.protobuf import field_mask_pb2

    made.eligibility.CopyFrom(rpb.Eligibility(category_ids=["cat_nope"]))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.admin.UpdateCoupon(
            apb.UpdateCouponRequest(
                coupon=made, update_mask=field_mask_pb2.FieldMask(paths=["eligibility"])
            ),
            metadata=p.md(),
        )
    assert set(violations(e.value)) == {"coupon.eligibility.category_ids[0]"}
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=made.name), metadata=p.md())
    assert list(got.eligibility.category_ids) == ["cat_known"]
    p.peers.catalog.down = True
    try:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await coupon(p, eligibility=good)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        assert reason(e.value) == "DEPENDENCY_UNAVAILABLE"
    finally:
        p.peers.catalog.down = False
        client.reset_breakers()


async def test_stacking_cap_is_admin_editable(pricing: Pricing) -> None:
    """The cap lives in pricing's database (the environment's value until an admin sets
    it); a write clears the rules cache, so the next price honours it at once."""
    from google.protobuf import field_mask_pb2

    from mesh.cached import TtlCache

    p = pricing
    v = p.variant(100000)
    big = await coupon(p, kind=rpb.DISCOUNT_KIND_PERCENTAGE, percent_basis_points=9000)
    got = await p.admin.GetPricingSettings(apb.GetPricingSettingsRequest(), metadata=p.md())
    assert got.name == "pricingSettings" and got.stacking_cap_basis_points == 5000

    def update(bp: int) -> Any:
        return p.admin.UpdatePricingSettings(
            apb.UpdatePricingSettingsRequest(
                pricing_settings=rpb.PricingSettings(stacking_cap_basis_points=bp),
                update_mask=field_mask_pb2.FieldMask(paths=["stacking_cap_basis_points"]),
            ),
            metadata=p.md(),
        )

    for bad in (-1, 10_001):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await update(bad)
        assert "pricing_settings.stacking_cap_basis_points" in violations(e.value)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.admin.UpdatePricingSettings(
            apb.UpdatePricingSettingsRequest(
                pricing_settings=rpb.PricingSettings(stacking_cap_basis_points=100)
            ),
            metadata=p.md(perms=("pricing.read",)),
        )
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.admin.GetPricingSettings(apb.GetPricingSettingsRequest(), metadata=p.md(perms=()))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as e:  # output-only fields are not writable
        await p.admin.UpdatePricingSettings(
            apb.UpdatePricingSettingsRequest(
                pricing_settings=rpb.PricingSettings(updated_by="x"),
                update_mask=field_mask_pb2.FieldMask(paths=["updated_by"]),
            ),
            metadata=p.md(),
        )
    assert "update_mask" in violations(e.value)
    # A long-lived rules cache, as in production: only the write's invalidation helps.
    saved = p.wired.quoter.rules_cache
    p.wired.quoter.rules_cache = TtlCache(60, max_entries=4096)
    try:
        before = await price(p, cart([(v, 1)], (big.code,)))
        assert before.discount_total.amount_minor == 50000 and before.discounts[0].capped
        done = await update(2000)
        assert done.stacking_cap_basis_points == 2000 and done.updated_by == "adminUsers/a1"
        assert done.HasField("update_time")
        after = await price(p, cart([(v, 1)], (big.code,)))
        assert after.discount_total.amount_minor == 20000 and after.discounts[0].capped
        got = await p.admin.GetPricingSettings(apb.GetPricingSettingsRequest(), metadata=p.md())
        assert got.stacking_cap_basis_points == 2000
        await update(0)  # no discounts at all
        none = await price(p, cart([(v, 1)], (big.code,)))
        assert none.discount_total.amount_minor == 0
        assert none.coupons[0].rejection == bpb.COUPON_REJECTION_NO_SAVINGS
    finally:
        await update(5000)
        p.wired.quoter.rules_cache = saved
    again = await price(p, cart([(v, 1)], (big.code,)))
    assert again.discount_total.amount_minor == 50000


async def test_retried_hold_replays_even_when_pricing_would_now_refuse(pricing: Pricing) -> None:
    """A retry of a hold answers with the first hold: also once its single-use coupon
    is taken (by that very hold) and while the catalog is down."""
    p = pricing
    v = p.variant(60000)
    c = await coupon(p, usage_limit=1)
    req = hpb.HoldCouponsRequest(
        request_id=secrets.token_hex(8), cart=cart([(v, 1)], (c.code,)), customer="users/rp1"
    )
    first = await p.holds.HoldCoupons(req)
    assert list(first.coupon_codes) == [c.code]
    again = await p.holds.HoldCoupons(req)  # the coupon is used up now: still a replay
    assert again == first
    p.invalidate()
    p.peers.catalog.down = True
    try:
        assert await p.holds.HoldCoupons(req) == first
        other = hpb.HoldCouponsRequest(request_id=req.request_id, cart=cart([(v, 2)], (c.code,)))
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await p.holds.HoldCoupons(other)
        assert reason(e.value) == "IDEMPOTENCY_MISMATCH"
    finally:
        p.peers.catalog.down = False
        client.reset_breakers()
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert got.times_held == 1


async def test_holds_without_coupons_are_idempotent_and_commit(pricing: Pricing) -> None:
    """Every checkout holds, codes or not: concurrent duplicates of a hold without
    coupons make one hold; it commits (again harmlessly), and reads back the same."""
    p = pricing
    v = p.variant(45000)
    req = hpb.HoldCouponsRequest(
        request_id=secrets.token_hex(8), cart=cart([(v, 2)]), customer="users/nc1"
    )
    holds = await asyncio.gather(*(p.holds.HoldCoupons(req) for _ in range(10)))
    assert len({h.name for h in holds}) == 1
    first = holds[0]
    assert first.state == hpb.HOLD_STATE_HELD and not first.coupon_codes
    assert first.customer == "users/nc1"
    assert first.breakdown.total.amount_minor > 0
    got = await p.holds.GetCouponHold(hpb.GetCouponHoldRequest(name=first.name))
    assert got == first
    done = await p.holds.CommitCouponHold(hpb.CommitCouponHoldRequest(name=first.name))
    assert done.state == hpb.HOLD_STATE_COMMITTED
    assert done.breakdown == first.breakdown and done.expire_time == first.expire_time
    assert done == await p.holds.CommitCouponHold(hpb.CommitCouponHoldRequest(name=first.name))
    assert done == await p.holds.GetCouponHold(hpb.GetCouponHoldRequest(name=first.name))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await p.holds.ReleaseCouponHold(hpb.ReleaseCouponHoldRequest(name=first.name))
    assert reason(e.value) == "HOLD_COMMITTED"


async def test_lines_name_the_product_and_variant_as_the_catalog_does(pricing: Pricing) -> None:
    """What the order service snapshots as sold from the hold's breakdown (no catalog
    read of its own): the catalog's product and variant titles, beside `title`."""
    p = pricing
    v = p.variant(39900, title="Kumkumadi Tailam", variant_title="12 ml")
    b = await price(p, cart([(v, 1)]))
    hold = await p.holds.HoldCoupons(
        hpb.HoldCouponsRequest(request_id=secrets.token_hex(8), cart=cart([(v, 1)]))
    )
    for ln in (b.lines[0], hold.breakdown.lines[0]):
        assert (ln.product_title, ln.variant_title) == ("Kumkumadi Tailam", "12 ml")
        assert ln.title == "Kumkumadi Tailam - 12 ml"
        assert (ln.product_id, ln.sku, ln.hsn_code) == (f"prd_{v}", v.upper(), "3304")
