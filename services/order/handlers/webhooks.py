"""Razorpay webhooks: verified over the raw body, deduplicated on the event id, and
applied through the same code as ConfirmPayment (so the storefront's confirm and
the webhook may arrive in either order, or both, with the same result)."""

from __future__ import annotations

import logging

from sqlalchemy.dialects import postgresql, sqlite

from mesh.db import Database, utcnow
from mesh.errors import InvalidArgument, NotFound, ServiceError, Unauthenticated, Unavailable
from observability.metrics import counter
from services.order import repository as repo
from services.order.domain.states import Status
from services.order.handlers.checkout import CheckoutHandlers
from services.order.handlers.common import Clock
from services.order.handlers.refunds import RefundHandlers
from services.order.models import Order, PaymentWebhookEvent
from services.order.payments.gateway import (
    PaymentError,
    PaymentStatus,
    WebhookEvent,
    WebhookEventType,
)

log = logging.getLogger("cleanse.order.webhooks")
REFUND_EVENTS = (
    WebhookEventType.REFUND_CREATED,
    WebhookEventType.REFUND_PROCESSED,
    WebhookEventType.REFUND_FAILED,
)
WEBHOOKS = counter("payment_webhooks_total", "Razorpay webhooks by outcome.", ["outcome"])
PAID_EVENTS = (
    WebhookEventType.PAYMENT_AUTHORIZED,
    WebhookEventType.PAYMENT_CAPTURED,
    WebhookEventType.ORDER_PAID,
)


class WebhookHandlers:
    def __init__(
        self,
        db: Database,
        checkout: CheckoutHandlers,
        refunds: RefundHandlers,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.checkout = checkout
        self.refunds = refunds
        self.clock = clock

    async def receive(self, raw: bytes, signature: str, event_id: str) -> str:
        """Handle one delivery; returns the outcome (applied, ignored, late, duplicate).

        A failure to apply raises (the provider redelivers later); the event id is
        recorded only once the event was applied."""
        gateway = self.checkout.gateway
        if gateway is None:
            raise Unavailable(
                "online payments are not configured", metadata={"dependency": "razorpay"}
            )
        if not signature or not gateway.verify_webhook(raw, signature):
            WEBHOOKS.labels("bad_signature").inc()
            raise Unauthenticated("webhook signature invalid", reason="WEBHOOK_SIGNATURE_INVALID")
        try:
            event = gateway.parse_webhook(raw, event_id)
        except PaymentError:
            raise InvalidArgument(
                {"body": "is not a Razorpay event"}, reason="WEBHOOK_MALFORMED"
            ) from None
        async with self.db.session() as s:
            if await s.get(PaymentWebhookEvent, event.event_id) is not None:
                WEBHOOKS.labels("duplicate").inc()
                return "duplicate"
        outcome = await self._apply(event)
        ins = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        async with self.db.transaction() as s:
            await s.execute(
                ins(PaymentWebhookEvent)
                .values(
                    event_id=event.event_id[:80],
                    event_type=event.event_type[:40],
                    provider_order_id=event.provider_order_id[:64],
                    outcome=outcome,
                    received_at=self.clock(),
                )
                .on_conflict_do_nothing(index_elements=["event_id"])
            )
        WEBHOOKS.labels(outcome).inc()
        return outcome

    async def _apply(self, event: WebhookEvent) -> str:
        kind = event.known_type
        if kind in REFUND_EVENTS and event.refund is not None:
            try:
                await self.refunds.on_provider_refund(event.refund)
            except NotFound:
                return "ignored"  # a refund made outside this service
            return "applied"
        if kind not in (*PAID_EVENTS, WebhookEventType.PAYMENT_FAILED):
            return "ignored"
        provider_order_id = event.provider_order_id
        if not provider_order_id:
            return "ignored"
        async with self.db.session() as s:
            payment = await repo.payment_by_provider_order(s, provider_order_id)
            order = await s.get(Order, payment.order_id) if payment is not None else None
        if order is None or event.payment is None:
            log.warning("webhook for an unknown order", extra={"provider_order": provider_order_id})
            return "ignored"
        if payment is not None and payment.kind == "BALANCE":
            # The balance of an admin edit (the order itself was paid before).
            if kind is not WebhookEventType.PAYMENT_FAILED:
                await self.checkout.settle_balance(payment.id, event.payment)
            return "applied"
        if kind is WebhookEventType.PAYMENT_FAILED:
            p = event.payment
            await self.checkout.record_payment_failure(
                order.id, p.id, p.error_code, p.error_description
            )
            return "applied"
        if order.paid:
            return "applied"  # ConfirmPayment (or an earlier event) got there first
        if order.status != Status.PENDING_PAYMENT.value:
            # Paid after the order was given up (payment window over, cancelled): the
            # money is owed back. The refunds module pays it; recorded here.
            log.error(
                "payment captured for an order no longer awaiting it",
                extra={"order": order.id, "status": order.status, "payment": event.payment.id},
            )
            await self.checkout.record_late_payment(
                order.id,
                event.payment.id,
                captured=event.payment.status == PaymentStatus.CAPTURED or event.payment.captured,
            )
            return "late"
        try:
            await self.checkout.settle_payment(order, provider_order_id, event.payment)
        except ServiceError as exc:
            if exc.reason == "PAYMENT_NOT_CAPTURED":
                return "applied"  # the failed attempt is recorded
            raise
        return "applied"
