"""Checkout and webhook signatures: Razorpay's HMAC-SHA256 schemes, over raw bytes."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from services.order.payments.gateway import (
    MalformedWebhook,
    PaymentStatus,
    RefundStatus,
    WebhookEventType,
)
from services.order.payments.razorpay import RazorpayGateway
from tests.order.payments.conftest import config_for
from tests.support.fake_razorpay import FakeRazorpay

AMOUNT = 129_900


async def _paid(gateway: RazorpayGateway, fake: FakeRazorpay) -> tuple[str, str, str]:
    order = await gateway.create_order(AMOUNT, "INR", "r-sig", {})
    payment_id, signature = fake.pay(order.id)
    return order.id, payment_id, signature


# --- checkout -----------------------------------------------------------------------------


async def test_checkout_signature_verifies(gateway: RazorpayGateway, fake: FakeRazorpay) -> None:
    order_id, payment_id, signature = await _paid(gateway, fake)
    # Razorpay's documented scheme, computed independently of the adapter.
    expected = hmac.new(
        fake.key_secret.encode(), f"{order_id}|{payment_id}".encode(), hashlib.sha256
    ).hexdigest()
    assert signature == expected
    assert gateway.verify_checkout_signature(order_id, payment_id, signature)


async def test_checkout_signature_rejects_tampering(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    order_id, payment_id, signature = await _paid(gateway, fake)
    other_order, other_payment, _ = await _paid(gateway, fake)
    # Another payment id (e.g. a cheaper payment's) against this order's signature.
    assert not gateway.verify_checkout_signature(order_id, other_payment, signature)
    # The signature checks the STORED order id, not one the client sends.
    assert not gateway.verify_checkout_signature(other_order, payment_id, signature)
    assert not gateway.verify_checkout_signature(order_id, payment_id, signature.upper())
    assert not gateway.verify_checkout_signature(
        order_id, payment_id, signature[:-1] + ("1" if signature.endswith("0") else "0")
    )
    assert not gateway.verify_checkout_signature(order_id, payment_id, "")
    assert not gateway.verify_checkout_signature(order_id, payment_id, "é" * 64)
    assert not gateway.verify_checkout_signature("", payment_id, signature)


async def test_checkout_signature_made_with_another_secret_fails(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    order_id, payment_id, _ = await _paid(gateway, fake)
    forged = hmac.new(b"wrong-secret", f"{order_id}|{payment_id}".encode(), hashlib.sha256)
    assert not gateway.verify_checkout_signature(order_id, payment_id, forged.hexdigest())
    other = RazorpayGateway(config_for(fake, key_secret="a-different-key-secret"))
    try:
        _, good = fake.pay((await gateway.create_order(AMOUNT, "INR", "r2", {})).id)
        assert not other.verify_checkout_signature(order_id, payment_id, good)
    finally:
        await other.aclose()


# --- webhooks -----------------------------------------------------------------------------


async def test_webhook_verifies_over_the_raw_body_only(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    _, payment_id, _ = await _paid(gateway, fake)
    await gateway.capture(payment_id, AMOUNT, "INR")
    raw, signature, _ = fake.webhook_body("payment.captured", payment_id=payment_id)
    assert gateway.verify_webhook(raw, signature)

    # The same JSON, re-serialised: equal as data, different bytes. Must FAIL, which
    # proves verification runs over the bytes received, never a parsed-and-dumped body.
    same_data = json.loads(raw)
    for reserialised in (
        json.dumps(same_data).encode(),  # ", " and ": " separators
        json.dumps(same_data, indent=2).encode(),
        json.dumps(same_data, separators=(",", ":"), sort_keys=True).encode(),
        raw + b"\n",
    ):
        assert json.loads(reserialised) == same_data
        assert reserialised != raw
        assert not gateway.verify_webhook(reserialised, signature)

    tampered = raw.replace(str(AMOUNT).encode(), b"100", 1)
    assert tampered != raw and not gateway.verify_webhook(tampered, signature)


async def test_webhook_signed_with_another_secret_fails(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    _, payment_id, _ = await _paid(gateway, fake)
    raw, forged, _ = fake.webhook_body(
        "payment.captured", payment_id=payment_id, secret="not-the-webhook-secret"
    )
    assert not gateway.verify_webhook(raw, forged)
    # The key secret is not the webhook secret either.
    assert not gateway.verify_webhook(
        raw, hmac.new(fake.key_secret.encode(), raw, hashlib.sha256).hexdigest()
    )
    assert not gateway.verify_webhook(raw, "")


async def test_parse_payment_captured(gateway: RazorpayGateway, fake: FakeRazorpay) -> None:
    order_id, payment_id, _ = await _paid(gateway, fake)
    await gateway.capture(payment_id, AMOUNT, "INR")
    raw, _, event_id = fake.webhook_body("payment.captured", payment_id=payment_id)
    event = gateway.parse_webhook(raw, event_id)
    assert event.event_id == event_id and event.event_id.startswith("evt_")
    assert event.known_type == WebhookEventType.PAYMENT_CAPTURED
    assert (event.payment_id, event.provider_order_id) == (payment_id, order_id)
    assert event.payment is not None
    assert (event.payment.amount_minor, event.payment.status) == (AMOUNT, PaymentStatus.CAPTURED)
    assert event.account_id == fake.account_id


async def test_parse_payment_failed_and_order_paid(
    gateway: RazorpayGateway, fake: FakeRazorpay
) -> None:
    order = await gateway.create_order(AMOUNT, "INR", "r-ev", {})
    failed_id, _ = fake.pay(order.id, fail=True)
    raw, _, eid = fake.webhook_body("payment.failed", payment_id=failed_id)
    failed = gateway.parse_webhook(raw, eid)
    assert failed.known_type == WebhookEventType.PAYMENT_FAILED
    assert failed.payment is not None and failed.payment.status == PaymentStatus.FAILED
    assert failed.payment.error_description

    paid_id, _ = fake.pay(order.id, capture=True)
    raw, _, eid = fake.webhook_body("order.paid", payment_id=paid_id)
    paid = gateway.parse_webhook(raw, eid)
    assert paid.known_type == WebhookEventType.ORDER_PAID
    assert paid.order is not None and paid.order.id == order.id
    assert (paid.payment_id, paid.order.amount_paid_minor) == (paid_id, AMOUNT)


async def test_parse_refund_events(gateway: RazorpayGateway, fake: FakeRazorpay) -> None:
    _, payment_id, _ = await _paid(gateway, fake)
    await gateway.capture(payment_id, AMOUNT, "INR")
    refund = await gateway.refund(payment_id, 1_000, "refund-key-0001-" + payment_id, {})
    fake.settle_refund(refund.id)
    raw, signature, eid = fake.webhook_body("refund.processed", refund_id=refund.id)
    assert gateway.verify_webhook(raw, signature)
    event = gateway.parse_webhook(raw, eid)
    assert event.known_type == WebhookEventType.REFUND_PROCESSED
    assert (event.refund_id, event.payment_id) == (refund.id, payment_id)
    assert event.refund is not None and event.refund.status == RefundStatus.PROCESSED
    assert event.refund.amount_minor == 1_000


def test_without_an_event_id_the_body_digest_is_the_dedupe_key(
    gateway: RazorpayGateway,
) -> None:
    raw = b'{"entity":"event","event":"payment.dispute.created","payload":{},"created_at":1}'
    a, b = gateway.parse_webhook(raw), gateway.parse_webhook(raw)
    assert a.event_id == b.event_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert a.known_type is None and a.event_type == "payment.dispute.created"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"entity":"payment"}',
        b'{"entity":"event","event":"payment.captured","payload":{"payment":'
        b'{"entity":{"id":"pay_x","status":"teleported"}}}}',
        b"\xff\xfe",
    ],
)
def test_a_malformed_event_is_refused(gateway: RazorpayGateway, raw: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        gateway.parse_webhook(raw, "evt_1")
