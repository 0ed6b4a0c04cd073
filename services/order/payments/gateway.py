"""The payment gateway interface the order service codes against.

Amounts are integer minor units (paise for INR), never floats. Provider ids are
opaque strings (`order_...`, `pay_...`, `rfnd_...` for Razorpay).

Errors: every gateway call raises a `PaymentError` subclass, never an httpx or JSON
exception. `error.retryable` tells the caller whether the same call may be tried
again later (the gateway already retried idempotent calls a bounded number of times
before raising):

    GatewayUnavailable   5xx, timeouts, connection failures   retryable
    PaymentDeclined      the provider refused the operation    not retryable
                         (BAD_REQUEST_ERROR on a payment/refund: over-refund,
                         capture of a failed payment, amount mismatch, ...)
    InvalidRequest       4xx for a malformed request or unknown id
    GatewayAuthError     401: wrong key id / secret (a configuration error)
    MalformedWebhook     parse_webhook() got a body that is no provider event
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class OrderStatus(StrEnum):
    CREATED = "created"
    ATTEMPTED = "attempted"
    PAID = "paid"


class PaymentStatus(StrEnum):
    CREATED = "created"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    FAILED = "failed"


class RefundStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProviderOrder:
    """A provider-side order (Razorpay `order_...`) the customer pays against."""

    id: str
    amount_minor: int
    currency: str
    receipt: str
    status: OrderStatus
    amount_paid_minor: int = 0
    amount_due_minor: int = 0
    attempts: int = 0
    notes: Mapping[str, str] = field(default_factory=dict)
    created_at: int = 0  # unix seconds


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    id: str
    order_id: str  # the provider order id ("" when the payment has none)
    amount_minor: int
    currency: str
    status: PaymentStatus
    method: str = ""  # upi, card, netbanking, wallet, ...
    captured: bool = False
    amount_refunded_minor: int = 0
    error_code: str = ""  # set when status is FAILED
    error_description: str = ""
    created_at: int = 0

    @property
    def refundable_minor(self) -> int:
        """What the provider will still refund (captured minus already refunded)."""
        return self.amount_minor - self.amount_refunded_minor if self.captured else 0


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    id: str
    payment_id: str
    amount_minor: int
    currency: str
    status: RefundStatus
    receipt: str = ""
    notes: Mapping[str, str] = field(default_factory=dict)
    speed_requested: str = ""
    speed_processed: str = ""
    created_at: int = 0


class WebhookEventType(StrEnum):
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_CAPTURED = "payment.captured"
    PAYMENT_FAILED = "payment.failed"
    ORDER_PAID = "order.paid"
    REFUND_CREATED = "refund.created"
    REFUND_PROCESSED = "refund.processed"
    REFUND_FAILED = "refund.failed"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One verified provider webhook delivery.

    `event_id` is the provider's delivery-independent event id (Razorpay sends it in
    the `X-Razorpay-Event-Id` header, the same id on every retry of one event):
    consumers deduplicate on it. `event_type` is the raw string (`payment.captured`);
    `known_type` is the enum or None for an event type this code does not handle.
    """

    event_id: str
    event_type: str
    created_at: int = 0
    account_id: str = ""
    payment: ProviderPayment | None = None
    refund: ProviderRefund | None = None
    order: ProviderOrder | None = None

    @property
    def known_type(self) -> WebhookEventType | None:
        try:
            return WebhookEventType(self.event_type)
        except ValueError:
            return None

    @property
    def provider_order_id(self) -> str:
        if self.order is not None:
            return self.order.id
        return self.payment.order_id if self.payment is not None else ""

    @property
    def payment_id(self) -> str:
        if self.payment is not None:
            return self.payment.id
        return self.refund.payment_id if self.refund is not None else ""

    @property
    def refund_id(self) -> str:
        return self.refund.id if self.refund is not None else ""


# --------------------------------------------------------------------------- errors


class PaymentError(Exception):
    """Base of every gateway error. `code` is the provider's error code, if any."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        http_status: int | None = None,
        field: str = "",
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # e.g. "BAD_REQUEST_ERROR"
        self.http_status = http_status
        self.field = field  # the provider's error.field, when it names one
        self.reason = reason  # the provider's error.reason, when given


class GatewayUnavailable(PaymentError):
    """5xx, timeout or connection failure: try again later."""

    retryable = True


class PaymentDeclined(PaymentError):
    """The provider refused a payment operation (BAD_REQUEST_ERROR on payments/refunds)."""


class InvalidRequest(PaymentError):
    """The request was malformed or named something the provider does not know."""


class GatewayAuthError(PaymentError):
    """The provider rejected our credentials (401): a configuration error."""


class MalformedWebhook(PaymentError):
    """A (verified) webhook body is not the JSON event shape the provider documents."""


# ------------------------------------------------------------------------ interface


@runtime_checkable
class PaymentGateway(Protocol):
    """What the order service needs from a payment provider."""

    @property
    def key_id(self) -> str:
        """The public key id the storefront's checkout widget is opened with."""
        ...

    async def create_order(
        self, amount_minor: int, currency: str, receipt: str, notes: Mapping[str, str]
    ) -> ProviderOrder: ...

    async def fetch_order(self, provider_order_id: str) -> ProviderOrder: ...

    async def fetch_payment(self, payment_id: str) -> ProviderPayment: ...

    async def fetch_order_payments(self, provider_order_id: str) -> list[ProviderPayment]:
        """Every payment attempt made against a provider order (Razorpay
        `GET /v1/orders/{id}/payments`), oldest first: how a paid order whose confirm
        and webhook never arrived is settled."""
        ...

    async def capture(self, payment_id: str, amount_minor: int, currency: str) -> ProviderPayment:
        """Capture an authorized payment. Capturing an already captured payment of the
        same amount returns it (safe to retry)."""
        ...

    async def refund(
        self,
        payment_id: str,
        amount_minor: int,
        idempotency_key: str,
        notes: Mapping[str, str],
        *,
        receipt: str = "",
        speed: str = "normal",
    ) -> ProviderRefund:
        """Refund part or all of a captured payment. The same idempotency key returns the
        same refund, so a retry never refunds twice."""
        ...

    async def fetch_refund(self, refund_id: str, payment_id: str = "") -> ProviderRefund: ...

    def verify_checkout_signature(
        self, provider_order_id: str, payment_id: str, signature: str
    ) -> bool:
        """The checkout handler's `razorpay_signature`: HMAC-SHA256(key secret,
        "<stored provider order id>|<payment id>") as hex, compared in constant time."""
        ...

    def verify_webhook(self, raw_body: bytes, signature: str) -> bool:
        """HMAC-SHA256(webhook secret, raw body bytes) as hex, constant-time compare.
        Verify the bytes exactly as received: never a re-serialized JSON."""
        ...

    def parse_webhook(self, raw_body: bytes, event_id: str = "") -> WebhookEvent:
        """Parse a VERIFIED webhook body. `event_id` is the `X-Razorpay-Event-Id`
        header; without it a digest of the raw body stands in as the dedupe key."""
        ...

    async def aclose(self) -> None: ...
