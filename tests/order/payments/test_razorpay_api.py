"""The Razorpay adapter against the fake Razorpay over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import pytest

from services.order.payments.gateway import (
    GatewayAuthError,
    GatewayUnavailable,
    InvalidRequest,
    OrderStatus,
    PaymentDeclined,
    PaymentGateway,
    PaymentStatus,
    RefundStatus,
)
from services.order.payments.razorpay import (
    ConfigError,
    RazorpayConfig,
    RazorpayGateway,
)
from tests.order.payments.conftest import config_for
from tests.support.fake_razorpay import FakeRazorpay

AMOUNT = 49_900  # ₹499.00 in paise


async def _captured(gateway: RazorpayGateway, fake: FakeRazorpay, amount: int = AMOUNT) -> str:
    order = await gateway.create_order(amount, "INR", f"rcpt-{uuid.uuid4().hex[:8]}", {})
    payment_id, _ = fake.pay(order.id)
    await gateway.capture(payment_id, amount, "INR")
    return payment_id


def _key() -> str:
    return "refund-" + uuid.uuid4().hex


def test_the_adapter_is_a_payment_gateway(gateway: RazorpayGateway) -> None:
    assert isinstance(gateway, PaymentGateway)


async def test_create_order_speaks_razorpay(gateway: RazorpayGateway, fake: FakeRazorpay) -> None:
    order = await gateway.create_order(AMOUNT, "INR", "CLN-2024-0001", {"cart": "carts/c1"})
    assert order.id.startswith("order_") and order.status == OrderStatus.CREATED
    assert (order.amount_minor, order.amount_due_minor, order.currency) == (AMOUNT, AMOUNT, "INR")
    assert (order.receipt, dict(order.notes)) == ("CLN-2024-0001", {"cart": "carts/c1"})

    sent = fake.calls("POST", "/v1/orders")[-1]
    assert json.loads(sent.body) == {
        "amount": AMOUNT,  # an integer count of paise, never a float of rupees
        "currency": "INR",
        "receipt": "CLN-2024-0001",
        "notes": {"cart": "carts/c1"},
    }
    scheme, _, creds = sent.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(creds).decode() == f"{fake.key_id}:{fake.key_secret}"


async def test_razorpay_validation_error_is_invalid_request(gateway: RazorpayGateway) -> None:
    with pytest.raises(InvalidRequest) as err:
        await gateway.create_order(50, "INR", "too-small", {})  # under Razorpay's minimum
    assert err.value.code == "BAD_REQUEST_ERROR" and err.value.field == "amount"
    assert not err.value.retryable


async def test_pay_fetch_and_capture(gateway: RazorpayGateway, fake: FakeRazorpay) -> None:
    order = await gateway.create_order(AMOUNT, "INR", "r-capture", {})
    payment_id, _ = fake.pay(order.id, method="card")
    payment = await gateway.fetch_payment(payment_id)
    assert payment.id.startswith("pay_") and payment.order_id == order.id
    assert (payment.status, payment.captured, payment.method) == (
        PaymentStatus.AUTHORIZED,
        False,
        "card",
    )
    assert (await gateway.fetch_order(order.id)).status == OrderStatus.ATTEMPTED

    captured = await gateway.capture(payment_id, AMOUNT, "INR")
    assert captured.status == PaymentStatus.CAPTURED and captured.captured
    assert captured.refundable_minor == AMOUNT
    paid = await gateway.fetch_order(order.id)
    assert (paid.status, paid.amount_paid_minor, paid.amount_due_minor) == (
        OrderStatus.PAID,
        AMOUNT,
        0,
    )


async def test_capture_again_returns_the_captured_payment(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    payment_id = await _captured(gateway, fake)
    again = await gateway.capture(payment_id, AMOUNT, "INR")  # Razorpay: "already captured"
    assert again.status == PaymentStatus.CAPTURED
    with pytest.raises(PaymentDeclined):
        await gateway.capture(payment_id, AMOUNT - 1, "INR")


async def test_a_failed_payment_cannot_be_captured(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    order = await gateway.create_order(AMOUNT, "INR", "r-failed", {})
    payment_id, signature = fake.pay(order.id, fail=True)
    assert signature == ""  # the widget hands over no signature for a failed payment
    payment = await gateway.fetch_payment(payment_id)
    assert payment.status == PaymentStatus.FAILED and payment.error_code == "BAD_REQUEST_ERROR"
    with pytest.raises(PaymentDeclined) as err:
        await gateway.capture(payment_id, AMOUNT, "INR")
    assert not err.value.retryable


async def test_unknown_ids_are_invalid_requests(gateway: RazorpayGateway) -> None:
    with pytest.raises(InvalidRequest):
        await gateway.fetch_payment("pay_doesnotexist00")
    with pytest.raises(InvalidRequest):  # not "declined": nothing was refused
        await gateway.refund("pay_doesnotexist00", 100, _key(), {})
    with pytest.raises(InvalidRequest):  # an id never rewrites the path
        await gateway.fetch_payment("../orders")


async def test_refund_is_idempotent_on_its_key(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    payment_id = await _captured(gateway, fake)
    key = _key()
    first = await gateway.refund(payment_id, 10_000, key, {"reason": "damaged"}, receipt="CN-1")
    second = await gateway.refund(payment_id, 10_000, key, {"reason": "damaged"}, receipt="CN-1")
    assert first.id == second.id and first.id.startswith("rfnd_")
    assert (first.amount_minor, first.status, first.payment_id) == (
        10_000,
        RefundStatus.PENDING,
        payment_id,
    )
    assert [r for r in fake.refunds.values() if r["payment_id"] == payment_id] == [
        fake.refunds[first.id]
    ]
    payment = await gateway.fetch_payment(payment_id)
    assert payment.amount_refunded_minor == 10_000
    sent = fake.calls("POST", f"/v1/payments/{payment_id}/refund")
    assert {r.headers["x-refund-idempotency"] for r in sent} == {key}
    assert json.loads(sent[0].body) == {
        "amount": 10_000,
        "speed": "normal",
        "notes": {"reason": "damaged"},
        "receipt": "CN-1",
    }


async def test_same_key_with_a_different_body_is_refused(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    payment_id = await _captured(gateway, fake)
    key = _key()
    await gateway.refund(payment_id, 1_000, key, {})
    with pytest.raises(PaymentDeclined) as err:
        await gateway.refund(payment_id, 2_000, key, {})
    assert "idempotency key" in err.value.message


async def test_refunds_never_exceed_the_captured_amount(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    payment_id = await _captured(gateway, fake)
    await gateway.refund(payment_id, 30_000, _key(), {})
    with pytest.raises(PaymentDeclined) as err:
        await gateway.refund(payment_id, AMOUNT - 30_000 + 1, _key(), {})
    assert err.value.code == "BAD_REQUEST_ERROR" and not err.value.retryable
    last = await gateway.refund(payment_id, AMOUNT - 30_000, _key(), {})
    payment = await gateway.fetch_payment(payment_id)
    assert payment.status == PaymentStatus.REFUNDED and payment.refundable_minor == 0
    assert last.amount_minor == AMOUNT - 30_000


async def test_an_uncaptured_payment_cannot_be_refunded(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    order = await gateway.create_order(AMOUNT, "INR", "r-uncaptured", {})
    payment_id, _ = fake.pay(order.id)
    with pytest.raises(PaymentDeclined):
        await gateway.refund(payment_id, 100, _key(), {})


async def test_fetch_refund_follows_its_status(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    payment_id = await _captured(gateway, fake)
    refund = await gateway.refund(payment_id, 5_000, _key(), {})
    fake.settle_refund(refund.id)
    fetched = await gateway.fetch_refund(refund.id)
    assert (fetched.status, fetched.speed_processed) == (RefundStatus.PROCESSED, "normal")
    assert (await gateway.fetch_refund(refund.id, payment_id)).id == refund.id


async def test_a_failed_refund_makes_its_amount_refundable_again(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    payment_id = await _captured(gateway, fake)
    refund = await gateway.refund(payment_id, AMOUNT, _key(), {})
    fake.settle_refund(refund.id, fail=True)
    assert (await gateway.fetch_refund(refund.id)).status == RefundStatus.FAILED
    assert (await gateway.fetch_payment(payment_id)).refundable_minor == AMOUNT


@pytest.mark.parametrize("key", ["short", "has spaces in it", "ünïcode-key-123"])
async def test_a_bad_idempotency_key_never_leaves_the_process(
    gateway: RazorpayGateway, fake: FakeRazorpay, key: str
) -> None:
    before = len(fake.requests)
    with pytest.raises(InvalidRequest):
        await gateway.refund("pay_any", 100, key, {})
    assert len(fake.requests) == before


# --- failures: auth, 5xx, timeouts --------------------------------------------------------


async def test_wrong_credentials_are_an_auth_error_not_retried(fake: FakeRazorpay) -> None:
    bad = RazorpayGateway(config_for(fake, key_secret="not-the-secret"))
    before = len(fake.requests)
    try:
        with pytest.raises(GatewayAuthError) as err:
            await bad.fetch_payment("pay_any")
    finally:
        await bad.aclose()
    assert err.value.http_status == 401 and not err.value.retryable
    assert len(fake.requests) == before + 1


async def test_5xx_is_retried_for_idempotent_calls(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    payment_id = await _captured(gateway, fake)
    fake.fail_next(2, status=502)
    before = len(fake.requests)
    payment = await gateway.fetch_payment(payment_id)
    assert payment.id == payment_id
    assert len(fake.requests) == before + 3


async def test_persistent_5xx_is_a_retryable_gateway_unavailable(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    fake.fail_next(3, status=500)
    before = len(fake.requests)
    with pytest.raises(GatewayUnavailable) as err:
        await gateway.fetch_payment("pay_any")
    assert err.value.retryable and err.value.http_status == 500
    assert len(fake.requests) == before + 3  # bounded: 1 + max_retries


async def test_create_order_is_never_retried(gateway: RazorpayGateway, fake: FakeRazorpay) -> None:
    fake.fail_next(1, status=503)
    before = len(fake.requests)
    with pytest.raises(GatewayUnavailable):
        await gateway.create_order(AMOUNT, "INR", "r-5xx", {})
    assert len(fake.requests) == before + 1


async def test_a_timeout_is_retryable_and_bounded(fake: FakeRazorpay) -> None:
    impatient = RazorpayGateway(config_for(fake, timeout_seconds=0.1, max_retries=1))
    fake.stall_next(0.5, count=2)
    started = time.monotonic()
    try:
        with pytest.raises(GatewayUnavailable) as err:
            await impatient.fetch_payment("pay_any")
    finally:
        await impatient.aclose()
    assert err.value.retryable and "timed out" in err.value.message
    assert time.monotonic() - started < 0.45  # two 0.1 s attempts, not two 0.5 s stalls


async def test_a_refund_retried_after_a_timeout_refunds_once(fake: FakeRazorpay) -> None:
    """The first attempt reaches Razorpay but its answer is lost; the retry carries the
    same idempotency key, so however the two race there is exactly one refund."""
    setup = RazorpayGateway(config_for(fake))
    impatient = RazorpayGateway(config_for(fake, timeout_seconds=0.15))
    try:
        payment_id = await _captured(setup, fake)
        fake.stall_next(0.3)
        refund = await impatient.refund(payment_id, 7_000, _key(), {})
        await asyncio.sleep(0.35)  # let the stalled first attempt finish on the server
        refunds = [r for r in fake.refunds.values() if r["payment_id"] == payment_id]
        assert [r["id"] for r in refunds] == [refund.id]
        assert (await setup.fetch_payment(payment_id)).amount_refunded_minor == 7_000
    finally:
        await setup.aclose()
        await impatient.aclose()


async def test_unreachable_razorpay_is_gateway_unavailable(fake: FakeRazorpay) -> None:
    with FakeRazorpay.running() as gone:
        url = gone.base_url  # a loopback address nobody listens on once it stops
    g = RazorpayGateway(config_for(fake, base_url=url, max_retries=0))
    try:
        with pytest.raises(GatewayUnavailable):
            await g.fetch_payment("pay_any")
    finally:
        await g.aclose()


# --- configuration ------------------------------------------------------------------------


def test_configuration_fails_fast_naming_what_is_missing(fake: FakeRazorpay) -> None:
    env = fake.env()
    del env["CLEANSE_RAZORPAY_WEBHOOK_SECRET"]
    env["CLEANSE_RAZORPAY_KEY_SECRET"] = "  "
    with pytest.raises(ConfigError) as err:
        RazorpayConfig.from_env(env)
    assert "CLEANSE_RAZORPAY_KEY_SECRET" in str(err.value)
    assert "CLEANSE_RAZORPAY_WEBHOOK_SECRET" in str(err.value)
    with pytest.raises(ConfigError):
        RazorpayConfig.from_env({**fake.env(), "CLEANSE_RAZORPAY_BASE_URL": "api.razorpay.com"})


def test_configuration_never_prints_a_secret(fake: FakeRazorpay) -> None:
    cfg = RazorpayConfig.from_env(fake.env())
    assert fake.key_secret not in repr(cfg) and fake.webhook_secret not in repr(cfg)
