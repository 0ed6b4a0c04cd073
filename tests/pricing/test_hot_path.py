"""The per-request shortcuts of the price path answer exactly what the plain way does:
cart validation (messages built only for a bad cart), the CouponHold built in place
(servicer.hold_pb, with mesh.timestamps.set_ts), and the Checkout kept per settings answer
(Quoter._checkout)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanse.common.v1 import money_pb2
from cleanse.pricing.v1 import breakdown_pb2, coupon_hold_service_pb2
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from mesh.errors import InvalidArgument
from mesh.india import is_valid_pincode
from mesh.timestamps import ts
from services.pricing import convert
from services.pricing.config import Settings
from services.pricing.domain.engine import calculate
from services.pricing.handlers.common import cart_lines
from services.pricing.handlers.holds import HoldRecord, HoldView
from services.pricing.handlers.quote import Quoter
from services.pricing.servicer import HOLD_STATES, hold_pb
from tests.pricing.test_domain import scenarios

# --- cart validation ------------------------------------------------------------------


def _violations(cart: breakdown_pb2.Cart) -> list[tuple[str, str]] | tuple:
    try:
        return cart_lines(cart)
    except InvalidArgument as exc:
        return exc.violations


def _expected(cart: breakdown_pb2.Cart) -> list[tuple[str, str]] | tuple:
    """The rules of cart_lines, written out plainly, in the order they are checked."""
    v: list[tuple[str, str]] = []
    if len(cart.lines) > 100:
        v.append(("cart.lines", "at most 100 lines"))
    if len(cart.coupon_codes) > 10:
        v.append(("cart.coupon_codes", "at most 10"))
    v += [
        (f"cart.coupon_codes[{i}]", "at most 64 characters")
        for i, c in enumerate(cart.coupon_codes)
        if len(c) > 64
    ]
    pin = cart.delivery_pincode
    if pin and not is_valid_pincode(pin):
        v.append(("cart.delivery_pincode", "must be 6 digits, not starting with 0"))
    merged: dict[str, int] = {}
    for i, ln in enumerate(cart.lines):
        if not ln.variant_id or len(ln.variant_id) > 64:
            v.append((f"cart.lines[{i}].variant_id", "is required (at most 64 characters)"))
        if not 0 < ln.quantity <= 99:
            v.append((f"cart.lines[{i}].quantity", "must be between 1 and 99"))
        merged[ln.variant_id] = merged.get(ln.variant_id, 0) + ln.quantity
    if v:
        return v
    over = [vid for vid, q in merged.items() if q > 99]
    if over:
        return [("cart.lines", f"at most 99 of {over[0]}")]
    return tuple(sorted(merged.items()))


carts = st.builds(
    breakdown_pb2.Cart,
    lines=st.lists(
        st.builds(
            breakdown_pb2.CartLine,
            variant_id=st.sampled_from(["", "v1", "v2", "v" * 65]),
            quantity=st.integers(-1, 120),
        ),
        max_size=102,
    ),
    coupon_codes=st.lists(st.sampled_from(["A", "B" * 65]), max_size=11),
    delivery_pincode=st.sampled_from(["", "560001", "060001", "56000", "abcdef"]),
)


@settings(max_examples=300, deadline=None)
@given(carts)
def test_cart_lines_reports_every_violation_in_order(cart: breakdown_pb2.Cart) -> None:
    assert _violations(cart) == _expected(cart)


# --- CouponHold in place ----------------------------------------------------------------


def _reference(h: HoldRecord, b: breakdown_pb2.PriceBreakdown) -> bytes:
    """hold_pb as one constructor call (the plain way)."""
    return coupon_hold_service_pb2.CouponHold(
        name=h.name,
        request_id=h.request_id,
        customer=f"users/{h.customer_id}" if h.customer_id else "",
        state=HOLD_STATES[h.state],
        coupon_codes=list(h.codes),
        breakdown=b,
        expire_time=ts(h.expire_time),
        create_time=ts(h.create_time),
        update_time=ts(h.update_time),
    ).SerializeToString()


@settings(max_examples=100, deadline=None)
@given(
    scenarios(),
    st.sampled_from(["", "u1"]),
    st.sampled_from([[], ["AYUR200", "WELCOME10"]]),
    st.sampled_from(sorted(HOLD_STATES)),
)
def test_hold_pb_new_and_stored_equal_the_plain_message(x, customer, codes, state) -> None:
    b = calculate(x)
    plain = convert.breakdown(b)
    now = datetime(2026, 11, 25, 10, 30, 15, 123456, tzinfo=UTC)
    rec = HoldRecord(
        "h1", "req-1", "hash", customer, state, codes, ["c"] * len(codes),
        plain.SerializeToString(), now + timedelta(minutes=15), now, now,
    )  # fmt: skip
    message = coupon_hold_service_pb2.CouponHold()
    convert.fill_breakdown(message.breakdown, b)
    assert message.breakdown == plain
    new = HoldView(rec, message)
    assert new.breakdown == plain
    assert hold_pb(new).SerializeToString() == _reference(rec, plain)
    stored = HoldView(rec)
    assert stored.breakdown == plain
    assert hold_pb(stored).SerializeToString() == _reference(rec, plain)


def test_hold_pb_of_a_row_without_breakdown_bytes_has_an_empty_breakdown() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    rec = HoldRecord("h1", "r", "x", "", "HELD", [], [], b"", now, now, now)
    out = hold_pb(HoldView(rec))
    assert out.HasField("breakdown")
    assert out.SerializeToString() == _reference(rec, breakdown_pb2.PriceBreakdown())


# --- the Checkout per settings answer -------------------------------------------------------


def _config(**kw) -> settings_pb2.CheckoutConfig:
    rs = lambda p: money_pb2.Money(amount_minor=p, currency_code="INR")  # noqa: E731
    base = dict(
        registered_state_code="KA",
        prices_include_tax=True,
        flat_shipping_rate=rs(4900),
        free_shipping_threshold=rs(49900),
        payment_methods=[
            settings_pb2.PaymentMethodConfig(
                code="cod", display_name="COD", enabled=True, max_order_value=rs(9), fee=rs(39)
            )
        ],
    )
    return settings_pb2.CheckoutConfig(**{**base, **kw})


@pytest.fixture
def quoter() -> Quoter:
    return Quoter(None, None, Settings(seed_demo=False))  # type: ignore[arg-type]


def test_checkout_is_built_once_per_settings_answer_and_place(quoter: Quoter) -> None:
    config = _config()
    ka = quoter._checkout(config, "KA")
    assert quoter._checkout(config, "KA") is ka
    mh = quoter._checkout(config, "MH")
    assert (ka.inter_state, mh.inter_state) == (False, True)
    assert (mh.place_of_supply, mh.registered_state, mh.currency) == ("MH", "KA", "INR")
    assert (mh.shipping_fee, mh.free_shipping_threshold, mh.shipping_source) == (
        4900,
        49900,
        "flat_rate",
    )
    cod = mh.payment_methods["cod"]
    assert (cod.enabled, cod.max_order_value, cod.fee, cod.display_name) == (True, 9, 39, "COD")
    # A new answer from settings (the cache refetched it): built from it afresh.
    changed = _config(prices_include_tax=False, currency_code="USD")
    again = quoter._checkout(changed, "KA")
    assert again is not ka
    assert (again.prices_include_tax, again.currency) == (False, "USD")
    assert quoter._checkout(changed, "KA") is again
