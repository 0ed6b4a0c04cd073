"""Plain domain rules of the order service: no server, no database."""

from __future__ import annotations

import pytest

from mesh.errors import FailedPrecondition, InvalidArgument
from mesh.india import PostalAddress
from services.order.domain import cart, checkout, numbers, states
from services.order.domain.states import Status as S


def test_state_machine_allows_only_listed_transitions() -> None:
    assert states.can_transition(S.CONFIRMED, S.PACKED)
    assert states.can_transition(S.SHIPPED, S.DELIVERED)
    for current in (S.CANCELLED, S.REFUNDED, S.PAYMENT_FAILED):
        assert not states.TRANSITIONS[current]  # terminal
    with pytest.raises(FailedPrecondition) as err:
        states.check_transition(S.DELIVERED, S.PACKED)
    assert err.value.reason == "ILLEGAL_TRANSITION"
    assert err.value.metadata == {"from": "DELIVERED", "to": "PACKED"}
    assert set(states.TRANSITIONS) == set(S)


def test_cancel_outcomes() -> None:
    assert states.cancel_outcome(S.PENDING_PAYMENT, paid=False) == states.CancelOutcome(
        S.CANCELLED, release_holds=True, refund_owed=False
    )
    assert states.cancel_outcome(S.CONFIRMED, paid=False).target is S.CANCELLED
    assert states.cancel_outcome(S.PACKED, paid=True).target is S.REFUND_PENDING
    for late in (S.SHIPPED, S.DELIVERED, S.CANCELLED):
        with pytest.raises(FailedPrecondition):
            states.cancel_outcome(late, paid=False)
    assert states.cod_paid_on(S.DELIVERED, "COD") and not states.cod_paid_on(S.SHIPPED, "COD")
    assert not states.cod_paid_on(S.DELIVERED, "RAZORPAY")


def test_cart_limits_and_merge() -> None:
    lines = cart.add({}, "v1", 3)
    assert cart.add(lines, "v1", 7) == {"v1": 10}
    with pytest.raises(InvalidArgument):
        cart.add(lines, "v1", 8)
    with pytest.raises(InvalidArgument):
        cart.add({f"v{i}": 1 for i in range(cart.MAX_LINES)}, "new", 1)
    assert cart.set_quantity({"v1": 2}, "v1", 0) == {}
    merged, notes = cart.merge({"a": 6, "b": 1}, {"a": 6, "c": 2})
    assert merged == {"a": 10, "b": 1, "c": 2} and notes == ["a capped at 10"]
    token = cart.new_cart_token()
    assert len(token) >= 43 and cart.token_hash(token) != token
    assert cart.token_hash(token) == cart.token_hash(token)


def test_order_numbers() -> None:
    assert numbers.format_order_number(2026, 123) == "CL-2026-000123"
    assert numbers.format_order_number(2026, 1234567) == "CL-2026-1234567"
    assert numbers.looks_like_order_number("CL-2026-000123")
    with pytest.raises(ValueError):
        numbers.format_order_number(2026, 0)


def test_address_and_contact_checks() -> None:
    good = PostalAddress("Asha", "98765 43210", "12 MG Road", "", "", "Bengaluru", "ka", "560001")
    norm = checkout.check_address(good)
    assert norm.state_code == "KA" and norm.phone == "+919876543210"
    bad = PostalAddress("", "123", "", "", "", "", "XX", "012345")
    with pytest.raises(InvalidArgument) as err:
        checkout.check_address(bad)
    fields = {f for f, _ in err.value.violations}
    assert {
        "delivery_address.recipient_name",
        "delivery_address.phone",
        "delivery_address.state_code",
        "delivery_address.pincode",
    } <= fields
    with pytest.raises(InvalidArgument):
        checkout.check_contact("", "", guest=True)
    assert checkout.check_contact("A@X.IN", "", guest=False) == ("a@x.in", "")


def test_saved_address_names() -> None:
    assert checkout.saved_address_ref("addresses/a1") == ("", "a1")
    assert checkout.saved_address_ref("users/u1/addresses/a1") == ("u1", "a1")
    for bad in (
        "",
        "a1",
        "addresses/",
        "addresses/a/b",
        "users/u1",
        "users//addresses/a1",
        "users/u1/addresses/",
        "carts/a1",
        "users/u1/addresses/a/b",
    ):
        assert checkout.saved_address_ref(bad) is None, bad


def test_payment_method_limits() -> None:
    cod = checkout.MethodConfig("cod", True, 0, 500000, 2500)
    upi = checkout.MethodConfig("razorpay_upi", True)
    off = checkout.MethodConfig("razorpay_card", False)
    assert checkout.allowed_methods([cod, upi, off], 100000) == ["cod", "razorpay_upi"]
    assert checkout.allowed_methods([cod, upi, off], 600000) == ["razorpay_upi"]
    assert checkout.provider_for("cod") == "COD"
    assert checkout.provider_for("razorpay_upi") == "RAZORPAY"
    assert checkout.provider_for("cheque") == ""


def test_item_snapshot_splits_gst_when_pricing_gave_only_the_total() -> None:
    line = checkout.PricedLineFacts(
        variant_id="v",
        product_id="p",
        sku="S",
        title="Oil",
        quantity=1,
        unit_mrp=59900,
        unit_price=49900,
        discount=0,
        taxable=42288,
        tax=7612,
        total=49900,
        hsn_code="3304",
        rate_bp=1800,
    )
    snap = checkout.snapshot_item(
        line, checkout.Catalogued("p", "Kumkumadi Oil", "30 ml"), "KA", "KA"
    )
    assert (snap.cgst, snap.sgst, snap.igst) == (3806, 3806, 0)
    assert snap.product_name == "Kumkumadi Oil" and snap.variant_title == "30 ml"
    inter = checkout.snapshot_item(line, None, "KA", "MH")
    assert (inter.cgst, inter.sgst, inter.igst) == (0, 0, 7612) and inter.product_name == "Oil"


def test_invoice_rules() -> None:
    from datetime import UTC, datetime

    from services.order.domain import invoices as inv

    assert inv.financial_year(datetime(2027, 3, 31, tzinfo=UTC)) == "2026-27"
    assert inv.financial_year(datetime(2027, 4, 1, tzinfo=UTC)) == "2027-28"
    assert inv.invoice_number("CLN", "2026-27", 42) == "CLN/26-27/000042"
    assert inv.clean_prefix("cl-n!xyz") == "CLNX" and inv.clean_prefix("") == "INV"
    assert inv.amount_in_words(123456789) == (
        "Rupees Twelve Lakh Thirty Four Thousand Five Hundred Sixty Seven and Eighty Nine "
        "Paise Only"
    )
    assert inv.amount_in_words(25_00_00_000_00) == "Rupees Twenty Five Crore Only"
    assert inv.spread(100, [1, 1, 1]) == [34, 33, 33] and sum(inv.spread(7, [3, 5])) == 7


def test_refund_lines_take_a_variants_order_lines_together() -> None:
    """A paid line and a free gift of the same variant: a refund line's share is of
    what was paid for all the variant's units; the refund's amount is the sum of its
    lines' shares, and those shares are what its credit note credits."""
    from services.order.domain import refunds

    sold = [
        refunds.SoldLine("oil", 2, 100000),
        refunds.SoldLine("oil", 1, 0),  # the gift
        refunds.SoldLine("soap", 3, 10000),
    ]
    assert refunds.line_amounts([("oil", 1), ("soap", 2)], sold) == [33333, 6667]
    assert refunds.lines_amount({"soap": 2, "oil": 1}, sold, []) == 33333 + 6667
    assert refunds.line_amounts([("gone", 1)], sold) == [None]
