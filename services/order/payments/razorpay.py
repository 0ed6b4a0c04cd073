"""Razorpay, spoken over its REST API (https://razorpay.com/docs/api/) with mesh.http.

    POST /v1/orders                       create the order the checkout widget pays
    GET  /v1/orders/{id}
    GET  /v1/orders/{id}/payments         {entity: collection, count, items: [payment]}
    GET  /v1/payments/{id}
    POST /v1/payments/{id}/capture        {amount, currency}
    POST /v1/payments/{id}/refund         {amount, speed, notes, receipt}
                                          + header X-Refund-Idempotency: <key>
    GET  /v1/refunds/{id}

Every call authenticates with HTTP Basic (key id, key secret). Amounts are paise.

Retries: GETs, capture and refund are retried a bounded number of times with
exponential backoff and jitter on 5xx, 409 (Razorpay: "a request with this
idempotency key is still being processed"), 429, timeouts and connection errors.
A refund is safe to retry because it always carries the idempotency key; a capture
because a capture that already happened is recognised (the payment is fetched and
returned when it is captured for the same amount). Creating an order is never
retried: a timeout surfaces as GatewayUnavailable and the caller decides.

Signatures (Razorpay's documented scheme, hex HMAC-SHA256, constant-time compare):
    checkout:  HMAC(key secret,     "<razorpay_order_id>|<razorpay_payment_id>")
    webhook:   HMAC(webhook secret, <raw request body bytes>)
    header X-Razorpay-Signature; X-Razorpay-Event-Id is the event's dedupe key.

Configuration (read once at start-up by `RazorpayConfig.from_env`, all required):
    CLEANSE_RAZORPAY_BASE_URL        https://api.razorpay.com in production; a local
                                     fake's URL in tests and `make run`
    CLEANSE_RAZORPAY_KEY_ID          rzp_live_... / rzp_test_...
    CLEANSE_RAZORPAY_KEY_SECRET
    CLEANSE_RAZORPAY_WEBHOOK_SECRET  set in the Razorpay dashboard's webhook settings
    CLEANSE_RAZORPAY_TIMEOUT_SECONDS optional, default 10
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from mesh.http import HttpError, HttpResponse, HttpTimeout, JsonHttpClient
from services.order.payments.gateway import (
    GatewayAuthError,
    GatewayUnavailable,
    InvalidRequest,
    MalformedWebhook,
    OrderStatus,
    PaymentDeclined,
    PaymentError,
    PaymentStatus,
    ProviderOrder,
    ProviderPayment,
    ProviderRefund,
    RefundStatus,
    WebhookEvent,
)

BASE_URL_ENV = "CLEANSE_RAZORPAY_BASE_URL"
KEY_ID_ENV = "CLEANSE_RAZORPAY_KEY_ID"
KEY_SECRET_ENV = "CLEANSE_RAZORPAY_KEY_SECRET"
WEBHOOK_SECRET_ENV = "CLEANSE_RAZORPAY_WEBHOOK_SECRET"
TIMEOUT_ENV = "CLEANSE_RAZORPAY_TIMEOUT_SECONDS"

# Request / webhook headers, lower-case as they arrive in gRPC metadata.
REFUND_IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
SIGNATURE_HEADER = "x-razorpay-signature"
EVENT_ID_HEADER = "x-razorpay-event-id"

BAD_REQUEST_ERROR = "BAD_REQUEST_ERROR"
# Razorpay: at least 10 characters of letters, digits, "-" and "_".
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{10,}\Z")
_RETRYABLE_STATUS = frozenset({409, 429})
_USER_AGENT = "cleanse-mesh-razorpay/1"


class ConfigError(RuntimeError):
    """Razorpay is selected but its configuration is missing or invalid."""


@dataclass(frozen=True)
class RazorpayConfig:
    base_url: str
    key_id: str
    key_secret: str = ""
    webhook_secret: str = ""
    timeout_seconds: float = 10.0
    max_retries: int = 2  # extra attempts of a retryable call
    backoff_seconds: float = 0.2  # first retry's delay; doubles, with full jitter

    def __repr__(self) -> str:  # never print a secret
        return f"RazorpayConfig(base_url={self.base_url!r}, key_id={self.key_id!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RazorpayConfig:
        """Fail fast: every variable is required once Razorpay is the payment provider."""
        env = os.environ if env is None else env
        names = (BASE_URL_ENV, KEY_ID_ENV, KEY_SECRET_ENV, WEBHOOK_SECRET_ENV)
        missing = [n for n in names if not env.get(n, "").strip()]
        if missing:
            raise ConfigError("Razorpay is the payment provider but unset: " + ", ".join(missing))
        base = env[BASE_URL_ENV].strip().rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise ConfigError(f"{BASE_URL_ENV} must be an http(s) URL")
        try:
            timeout = float(env.get(TIMEOUT_ENV, cls.timeout_seconds))
        except ValueError:
            raise ConfigError(f"{TIMEOUT_ENV} must be a number of seconds") from None
        if timeout <= 0:
            raise ConfigError(f"{TIMEOUT_ENV} must be positive")
        return cls(
            base_url=base,
            key_id=env[KEY_ID_ENV].strip(),
            key_secret=env[KEY_SECRET_ENV].strip(),
            webhook_secret=env[WEBHOOK_SECRET_ENV].strip(),
            timeout_seconds=timeout,
        )


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def checkout_signature(key_secret: str, provider_order_id: str, payment_id: str) -> str:
    """What Razorpay's checkout hands the browser as `razorpay_signature`."""
    return hmac_hex(key_secret, f"{provider_order_id}|{payment_id}".encode())


def _same_hex(expected: str, given: str) -> bool:
    if not given or not given.isascii():
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class RazorpayGateway:
    """`PaymentGateway` over Razorpay's REST API. One instance (one connection pool)
    per process; `aclose()` at shutdown."""

    def __init__(
        self,
        config: RazorpayConfig,
        *,
        http: JsonHttpClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._client = http or JsonHttpClient(
            config.base_url,
            timeout=config.timeout_seconds,
            headers={"user-agent": _USER_AGENT, "accept": "application/json"},
            basic_auth=(config.key_id, config.key_secret),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RazorpayGateway:
        return cls(RazorpayConfig.from_env(env))

    @property
    def key_id(self) -> str:
        return self.config.key_id

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- API calls ------------------------------------------------------------------

    async def create_order(
        self, amount_minor: int, currency: str, receipt: str, notes: Mapping[str, str]
    ) -> ProviderOrder:
        body = {"amount": amount_minor, "currency": currency, "receipt": receipt}
        if notes:
            body["notes"] = dict(notes)
        data = await self._call("POST", "/v1/orders", json_body=body, retry=False)
        return parse_order(data)

    async def fetch_order(self, provider_order_id: str) -> ProviderOrder:
        return parse_order(await self._call("GET", f"/v1/orders/{_id(provider_order_id)}"))

    async def fetch_order_payments(self, provider_order_id: str) -> list[ProviderPayment]:
        data = await self._call("GET", f"/v1/orders/{_id(provider_order_id)}/payments")
        items = data.get("items")
        if not isinstance(items, list):
            raise GatewayUnavailable("Razorpay answered the order's payments with no items")
        payments = [parse_payment(i) for i in items if isinstance(i, dict)]
        return sorted(payments, key=lambda p: (p.created_at, p.id))

    async def fetch_payment(self, payment_id: str) -> ProviderPayment:
        return parse_payment(await self._call("GET", f"/v1/payments/{_id(payment_id)}"))

    async def capture(self, payment_id: str, amount_minor: int, currency: str) -> ProviderPayment:
        path = f"/v1/payments/{_id(payment_id)}/capture"
        try:
            data = await self._call(
                "POST", path, json_body={"amount": amount_minor, "currency": currency}
            )
        except PaymentDeclined:
            # "This payment has already been captured": a retry of a capture that went
            # through, or a second caller. Same amount -> the same outcome.
            payment = await self.fetch_payment(payment_id)
            if payment.captured and payment.amount_minor == amount_minor:
                return payment
            raise
        return parse_payment(data)

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
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise InvalidRequest(
                "idempotency key: at least 10 letters, digits, '-' or '_'",
                field="idempotency_key",
            )
        if amount_minor <= 0:
            raise InvalidRequest("refund amount must be positive", field="amount")
        body: dict[str, Any] = {"amount": amount_minor, "speed": speed}
        if notes:
            body["notes"] = dict(notes)
        if receipt:
            body["receipt"] = receipt
        data = await self._call(
            "POST",
            f"/v1/payments/{_id(payment_id)}/refund",
            json_body=body,
            headers={REFUND_IDEMPOTENCY_HEADER: idempotency_key},
        )
        return parse_refund(data)

    async def fetch_refund(self, refund_id: str, payment_id: str = "") -> ProviderRefund:
        if payment_id:
            path = f"/v1/payments/{_id(payment_id)}/refunds/{_id(refund_id)}"
        else:
            path = f"/v1/refunds/{_id(refund_id)}"
        return parse_refund(await self._call("GET", path))

    # --- signatures and webhooks ----------------------------------------------------

    def verify_checkout_signature(
        self, provider_order_id: str, payment_id: str, signature: str
    ) -> bool:
        if not (self.config.key_secret and provider_order_id and payment_id):
            return False
        expected = checkout_signature(self.config.key_secret, provider_order_id, payment_id)
        return _same_hex(expected, signature)

    def verify_webhook(self, raw_body: bytes, signature: str) -> bool:
        if not self.config.webhook_secret:
            return False
        return _same_hex(hmac_hex(self.config.webhook_secret, raw_body), signature)

    def parse_webhook(self, raw_body: bytes, event_id: str = "") -> WebhookEvent:
        return parse_webhook(raw_body, event_id)

    # --- transport ------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        attempts = 1 + (self.config.max_retries if retry else 0)
        error: PaymentError = GatewayUnavailable("Razorpay was not called")
        for attempt in range(attempts):
            if attempt:
                cap = self.config.backoff_seconds * (2 ** (attempt - 1))
                await self._sleep(random.uniform(cap / 2, cap))
            try:
                resp = await self._client.request(
                    method, path, json_body=json_body, headers=headers
                )
            except HttpTimeout:
                error = GatewayUnavailable(f"Razorpay timed out on {method} {_template(path)}")
                continue
            except HttpError as exc:
                error = GatewayUnavailable(
                    f"Razorpay unreachable on {method} {_template(path)}: {exc.kind}"
                )
                continue
            if resp.status_code < 400:
                try:
                    data = resp.json()
                except ValueError:
                    error = GatewayUnavailable(f"Razorpay answered {method} with no JSON")
                    continue
                if not isinstance(data, dict):
                    error = GatewayUnavailable(f"Razorpay answered {method} with no object")
                    continue
                return data
            error = _error_from(resp, path)
            if not error.retryable:
                raise error
        raise error


def _id(value: str) -> str:
    """An id as one path segment: never lets a caller's value change the path."""
    if not value:
        raise InvalidRequest("an id is required", field="id")
    return quote(value, safe="")


def _template(path: str) -> str:
    """A path with its ids hidden, for messages and logs."""
    return re.sub(r"/(order|pay|rfnd)_[^/]+", r"/{\1}", path)


def _error_from(resp: HttpResponse, path: str) -> PaymentError:
    status = resp.status_code
    try:
        err = resp.json().get("error") or {}
    except (ValueError, AttributeError):
        err = {}
    if not isinstance(err, dict):
        err = {}
    code = str(err.get("code") or "")
    description = str(err.get("description") or resp.reason_phrase or "error")
    kw: dict[str, Any] = {
        "code": code,
        "http_status": status,
        "field": str(err.get("field") or ""),
        "reason": str(err.get("reason") or ""),
    }
    if status >= 500 or status in _RETRYABLE_STATUS:
        return GatewayUnavailable(f"Razorpay {status}: {description}", **kw)
    if status == 401:
        return GatewayAuthError(f"Razorpay rejected the API key: {description}", **kw)
    not_found = status == 404 or "does not exist" in description
    money_moves = path.endswith(("/capture", "/refund"))
    if code == BAD_REQUEST_ERROR and money_moves and not not_found:
        return PaymentDeclined(description, **kw)
    return InvalidRequest(description, **kw)


# --- Razorpay JSON -> value types -----------------------------------------------------

E = TypeVar("E")


def _enum(cls: Callable[[str], E], value: Any, what: str) -> E:
    try:
        return cls(str(value))
    except ValueError:
        raise GatewayUnavailable(f"Razorpay sent an unknown {what} status {value!r}") from None


def _notes(value: Any) -> dict[str, str]:
    # Razorpay writes empty notes as [] rather than {}.
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _str(value: Any) -> str:
    return str(value) if value is not None else ""


def parse_order(d: Mapping[str, Any]) -> ProviderOrder:
    return ProviderOrder(
        id=_str(d.get("id")),
        amount_minor=_int(d.get("amount")),
        currency=_str(d.get("currency")),
        receipt=_str(d.get("receipt")),
        status=_enum(OrderStatus, d.get("status"), "order"),
        amount_paid_minor=_int(d.get("amount_paid")),
        amount_due_minor=_int(d.get("amount_due")),
        attempts=_int(d.get("attempts")),
        notes=_notes(d.get("notes")),
        created_at=_int(d.get("created_at")),
    )


def parse_payment(d: Mapping[str, Any]) -> ProviderPayment:
    return ProviderPayment(
        id=_str(d.get("id")),
        order_id=_str(d.get("order_id")),
        amount_minor=_int(d.get("amount")),
        currency=_str(d.get("currency")),
        status=_enum(PaymentStatus, d.get("status"), "payment"),
        method=_str(d.get("method")),
        captured=bool(d.get("captured")),
        amount_refunded_minor=_int(d.get("amount_refunded")),
        error_code=_str(d.get("error_code")),
        error_description=_str(d.get("error_description")),
        created_at=_int(d.get("created_at")),
    )


def parse_refund(d: Mapping[str, Any]) -> ProviderRefund:
    return ProviderRefund(
        id=_str(d.get("id")),
        payment_id=_str(d.get("payment_id")),
        amount_minor=_int(d.get("amount")),
        currency=_str(d.get("currency")),
        status=_enum(RefundStatus, d.get("status"), "refund"),
        receipt=_str(d.get("receipt")),
        notes=_notes(d.get("notes")),
        speed_requested=_str(d.get("speed_requested")),
        speed_processed=_str(d.get("speed_processed")),
        created_at=_int(d.get("created_at")),
    )


def parse_webhook(raw_body: bytes, event_id: str = "") -> WebhookEvent:
    """A Razorpay webhook event:

        {"entity": "event", "account_id": "acc_...", "event": "payment.captured",
         "contains": ["payment"], "payload": {"payment": {"entity": {...}}},
         "created_at": 1700000000}

    Parse only a body whose signature verified. Without the X-Razorpay-Event-Id
    header, the SHA-256 of the raw body stands in as the dedupe key.
    """
    try:
        d = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedWebhook("webhook body is not JSON") from None
    if not isinstance(d, dict) or d.get("entity") != "event" or not d.get("event"):
        raise MalformedWebhook("webhook body is not a Razorpay event")
    payload = d.get("payload") if isinstance(d.get("payload"), dict) else {}

    def entity(name: str) -> Mapping[str, Any] | None:
        wrapper = payload.get(name)
        inner = wrapper.get("entity") if isinstance(wrapper, dict) else None
        return inner if isinstance(inner, dict) else None

    try:
        p, r, o = entity("payment"), entity("refund"), entity("order")
        return WebhookEvent(
            event_id=event_id or "sha256:" + hashlib.sha256(raw_body).hexdigest(),
            event_type=str(d["event"]),
            created_at=_int(d.get("created_at")),
            account_id=_str(d.get("account_id")),
            payment=parse_payment(p) if p is not None else None,
            refund=parse_refund(r) if r is not None else None,
            order=parse_order(o) if o is not None else None,
        )
    except (GatewayUnavailable, ValueError, TypeError) as exc:
        raise MalformedWebhook(f"webhook entity not understood: {exc}") from None
