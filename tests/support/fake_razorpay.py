"""A local fake of Razorpay's REST API, served over real HTTP on a loopback port.

It speaks the protocol the adapter (services/order/payments/razorpay.py) speaks to
the real service: the same paths, JSON entity shapes and error bodies, HTTP Basic
auth with the key id and secret, the X-Refund-Idempotency header, and the real
signatures (checkout: HMAC-SHA256(key secret, "order_id|payment_id"); webhooks:
HMAC-SHA256(webhook secret, raw body), sent as X-Razorpay-Signature with an
X-Razorpay-Event-Id).

    with FakeRazorpay.running() as fake:              # binds port 0, own thread
        env = fake.env()                              # CLEANSE_RAZORPAY_* for a service
        order = ... create an order through the adapter ...
        payment_id, signature = fake.pay(order.id)    # the customer pays (authorized)
        body, sig, event_id = fake.webhook_body("payment.captured", payment_id=payment_id)

Test controls: `fail_next(n, status)` answers the next n API calls with a 5xx;
`stall_next(seconds, n)` delays them (timeouts); `settle_refund(id)` moves a pending
refund to processed/failed; `requests` records every API call.

`python -m tests.support.fake_razorpay` serves one in the foreground for `make run`
and prints the CLEANSE_RAZORPAY_* settings that point a service at it.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import secrets
import socket
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mesh import registry
from services.order.payments.razorpay import (
    BASE_URL_ENV,
    KEY_ID_ENV,
    KEY_SECRET_ENV,
    REFUND_IDEMPOTENCY_HEADER,
    WEBHOOK_SECRET_ENV,
    checkout_signature,
    hmac_hex,
)

_ALNUM = string.ascii_letters + string.digits
MIN_ORDER_AMOUNT = 100  # paise: Razorpay's minimum order amount
_MAX_RECEIPT = 40
_MAX_NOTES = 15


def new_id(prefix: str) -> str:
    """Razorpay-style ids: a prefix and 14 base62 characters (`pay_29QQoUBi66xm2f`)."""
    return prefix + "_" + "".join(secrets.choice(_ALNUM) for _ in range(14))


def error_body(
    description: str, *, code: str = "BAD_REQUEST_ERROR", field: str | None = None
) -> dict[str, Any]:
    err: dict[str, Any] = {
        "code": code,
        "description": description,
        "source": "business" if code == "BAD_REQUEST_ERROR" else "NA",
        "step": "payment_initiation" if code == "BAD_REQUEST_ERROR" else "NA",
        "reason": "input_validation_failed" if code == "BAD_REQUEST_ERROR" else "NA",
        "metadata": {},
    }
    if field:
        err["field"] = field
    return {"error": err}


class _ApiError(Exception):
    def __init__(self, status: int, description: str, *, field: str | None = None) -> None:
        super().__init__(description)
        code = "SERVER_ERROR" if status >= 500 else "BAD_REQUEST_ERROR"
        self.response = JSONResponse(error_body(description, code=code, field=field), status)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Injected:
    fail: list[int] = field(default_factory=list)  # statuses for the next calls
    stall: list[float] = field(default_factory=list)  # delays for the next calls


class FakeRazorpay:
    """State and HTTP app of the fake; `running()` serves it on an ephemeral port."""

    def __init__(
        self,
        *,
        key_id: str | None = None,
        key_secret: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self.key_id = key_id or "rzp_test_" + "".join(secrets.choice(_ALNUM) for _ in range(14))
        self.key_secret = key_secret or secrets.token_urlsafe(18)
        self.webhook_secret = webhook_secret or secrets.token_urlsafe(18)
        self.account_id = new_id("acc")
        self.base_url = ""
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, tuple[str, str]] = {}  # key -> (fingerprint, refund)
        self.requests: list[RecordedRequest] = []
        self._injected = _Injected()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/orders", self._create_order, methods=["POST"]),
                Route("/v1/orders/{id}", self._get_order, methods=["GET"]),
                Route("/v1/orders/{id}/payments", self._get_order_payments, methods=["GET"]),
                Route("/v1/payments/{id}", self._get_payment, methods=["GET"]),
                Route("/v1/payments/{id}/capture", self._capture, methods=["POST"]),
                Route("/v1/payments/{id}/refund", self._refund, methods=["POST"]),
                Route("/v1/payments/{id}/refunds/{rid}", self._get_payment_refund),
                Route("/v1/refunds/{id}", self._get_refund, methods=["GET"]),
            ]
        )

    # --- serving ----------------------------------------------------------------------

    @classmethod
    @contextmanager
    def running(cls, **kw: Any) -> Iterator[FakeRazorpay]:
        """Serve a new fake on 127.0.0.1:<ephemeral> in a thread of its own."""
        fake = cls(**kw)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((registry.DEFAULT_HOST, 0))
        host, port = sock.getsockname()[:2]
        fake.base_url = f"http://{host}:{port}"
        server = uvicorn.Server(
            uvicorn.Config(
                fake.app,
                log_level="warning",
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=1,
            )
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-razorpay", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake Razorpay did not start")
            time.sleep(0.005)
        try:
            yield fake
        finally:
            server.should_exit = True
            thread.join(5)
            sock.close()

    def env(self) -> dict[str, str]:
        """The CLEANSE_RAZORPAY_* settings that point the adapter at this fake."""
        return {
            BASE_URL_ENV: self.base_url,
            KEY_ID_ENV: self.key_id,
            KEY_SECRET_ENV: self.key_secret,
            WEBHOOK_SECRET_ENV: self.webhook_secret,
        }

    # --- test controls ----------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next `count` API calls with `status` (a Razorpay error body)."""
        with self._lock:
            self._injected.fail.extend([status] * count)

    def stall_next(self, seconds: float, count: int = 1) -> None:
        """Delay the next `count` API calls by `seconds` before handling them."""
        with self._lock:
            self._injected.stall.extend([seconds] * count)

    def calls(self, method: str, path_suffix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def pay(
        self, order_id: str, method: str = "upi", *, fail: bool = False, capture: bool = False
    ) -> tuple[str, str]:
        """The customer pays a Razorpay order in the checkout widget.

        Returns (payment id, checkout signature) as the widget's handler receives
        them; a failed payment has no signature (""). `capture=True` models an
        account with automatic capture.
        """
        with self._lock:
            order = self.orders[order_id]
            now = int(time.time())
            pid = new_id("pay")
            payment: dict[str, Any] = {
                "id": pid,
                "entity": "payment",
                "amount": order["amount"],
                "currency": order["currency"],
                "status": "failed" if fail else "authorized",
                "order_id": order_id,
                "invoice_id": None,
                "international": False,
                "method": method,
                "amount_refunded": 0,
                "refund_status": None,
                "captured": False,
                "description": None,
                "card_id": None,
                "bank": None,
                "wallet": None,
                "vpa": "success@razorpay" if method == "upi" else None,
                "email": "customer@example.com",
                "contact": "+919900000000",
                "notes": [],
                "fee": None,
                "tax": None,
                "error_code": "BAD_REQUEST_ERROR" if fail else None,
                "error_description": "Payment failed due to incorrect UPI PIN" if fail else None,
                "error_source": "customer" if fail else None,
                "error_step": "payment_authorization" if fail else None,
                "error_reason": "payment_failed" if fail else None,
                "acquirer_data": {},
                "created_at": now,
            }
            self.payments[pid] = payment
            order["attempts"] += 1
            if order["status"] == "created":
                order["status"] = "attempted"
            if capture and not fail:
                self._do_capture(payment)
        if fail:
            return pid, ""
        return pid, checkout_signature(self.key_secret, order_id, pid)

    def settle_refund(self, refund_id: str, *, fail: bool = False) -> dict[str, Any]:
        """A pending refund completes (processed) or fails (its amount is refundable again)."""
        with self._lock:
            refund = self.refunds[refund_id]
            if refund["status"] != "pending":
                return dict(refund)
            if fail:
                refund["status"] = "failed"
                payment = self.payments[refund["payment_id"]]
                payment["amount_refunded"] -= refund["amount"]
                _refund_state(payment)
            else:
                refund["status"] = "processed"
                refund["speed_processed"] = "normal"
            return dict(refund)

    def webhook_body(
        self,
        event: str,
        *,
        payment_id: str = "",
        refund_id: str = "",
        order_id: str = "",
        event_id: str = "",
        secret: str | None = None,
    ) -> tuple[bytes, str, str]:
        """A signed webhook delivery: (raw body, X-Razorpay-Signature, X-Razorpay-Event-Id).

        Entities are the fake's current state. `payment.*` events carry the payment,
        `order.paid` the payment and the order, `refund.*` the refund and its payment.
        """
        with self._lock:
            payload: dict[str, Any] = {}
            refund = self.refunds[refund_id] if refund_id else None
            if refund is not None:
                payload["refund"] = {"entity": dict(refund)}
                payment_id = payment_id or refund["payment_id"]
            payment = self.payments[payment_id] if payment_id else None
            if payment is not None:
                payload["payment"] = {"entity": dict(payment)}
                order_id = order_id or (payment["order_id"] or "")
            if event.startswith("order.") and order_id:
                payload["order"] = {"entity": dict(self.orders[order_id])}
            body = {
                "entity": "event",
                "account_id": self.account_id,
                "event": event,
                "contains": list(payload),
                "payload": payload,
                "created_at": int(time.time()),
            }
        raw = json.dumps(body, separators=(",", ":")).encode()
        signature = hmac_hex(self.webhook_secret if secret is None else secret, raw)
        return raw, signature, event_id or new_id("evt")

    async def deliver_webhook(
        self, client: httpx.AsyncClient, url: str, event: str, **entities: str
    ) -> tuple[httpx.Response, str]:
        """POST a signed event to `url` (e.g. the edge's webhook route) as Razorpay does.
        `entities`: payment_id / refund_id / order_id / event_id. Returns (response, event id)."""
        raw, signature, event_id = self.webhook_body(event, **entities)
        resp = await client.post(
            url, content=raw, headers=self.webhook_headers(signature, event_id)
        )
        return resp, event_id

    @staticmethod
    def webhook_headers(signature: str, event_id: str) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "x-razorpay-signature": signature,
            "x-razorpay-event-id": event_id,
        }

    # --- HTTP handlers ----------------------------------------------------------------

    async def _enter(self, request: Request) -> tuple[bytes, Response | None]:
        """Record, authenticate and apply injected faults; a Response ends the call."""
        body = await request.body()
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    request.method, request.url.path, dict(request.headers.items()), body
                )
            )
            stall = self._injected.stall.pop(0) if self._injected.stall else 0.0
            fail = self._injected.fail.pop(0) if self._injected.fail else 0
        if stall:
            await asyncio.sleep(stall)
        if fail:
            return body, JSONResponse(
                error_body("The server encountered an error.", code="SERVER_ERROR"), fail
            )
        if not self._authorized(request.headers.get("authorization", "")):
            return body, JSONResponse(error_body("Authentication failed"), 401)
        return body, None

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.key_id.encode()) and hmac.compare_digest(
            password.encode(), self.key_secret.encode()
        )

    async def _handle(self, request: Request, fn: Any) -> Response:
        body, early = await self._enter(request)
        if early is not None:
            return early
        try:
            data: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            return JSONResponse(error_body("The request body is not valid JSON"), 400)
        if not isinstance(data, dict):
            return JSONResponse(error_body("The request body must be an object"), 400)
        try:
            with self._lock:
                return JSONResponse(fn(request, data))
        except _ApiError as exc:
            return exc.response

    async def _create_order(self, request: Request) -> Response:
        return await self._handle(request, self._do_create_order)

    async def _get_order(self, request: Request) -> Response:
        return await self._handle(request, lambda r, _: dict(self._find(self.orders, r)))

    async def _get_order_payments(self, request: Request) -> Response:
        def get(r: Request, _: Any) -> dict[str, Any]:
            order = self._find(self.orders, r)
            items = [dict(p) for p in self.payments.values() if p["order_id"] == order["id"]]
            items.sort(key=lambda p: (p["created_at"], p["id"]))
            return {"entity": "collection", "count": len(items), "items": items}

        return await self._handle(request, get)

    async def _get_payment(self, request: Request) -> Response:
        return await self._handle(request, lambda r, _: dict(self._find(self.payments, r)))

    async def _get_refund(self, request: Request) -> Response:
        return await self._handle(request, lambda r, _: dict(self._find(self.refunds, r)))

    async def _get_payment_refund(self, request: Request) -> Response:
        def get(r: Request, _: Any) -> dict[str, Any]:
            refund = self.refunds.get(r.path_params["rid"])
            if refund is None or refund["payment_id"] != r.path_params["id"]:
                raise _ApiError(400, "The id provided does not exist", field="id")
            return dict(refund)

        return await self._handle(request, get)

    async def _capture(self, request: Request) -> Response:
        return await self._handle(request, self._do_capture_request)

    async def _refund(self, request: Request) -> Response:
        return await self._handle(request, self._do_refund)

    # --- behaviour (called with the lock held) ----------------------------------------

    @staticmethod
    def _find(table: dict[str, dict[str, Any]], request: Request) -> dict[str, Any]:
        found = table.get(request.path_params["id"])
        if found is None:
            raise _ApiError(400, "The id provided does not exist", field="id")
        return found

    def _do_create_order(self, _: Request, data: dict[str, Any]) -> dict[str, Any]:
        amount = data.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise _ApiError(400, "The amount must be an integer.", field="amount")
        if amount < MIN_ORDER_AMOUNT:
            raise _ApiError(400, "Order amount less than minimum amount allowed", field="amount")
        currency = data.get("currency", "INR")
        if currency != "INR":
            raise _ApiError(400, "Currency is not supported", field="currency")
        receipt = data.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > _MAX_RECEIPT):
            raise _ApiError(
                400, "The receipt may not be greater than 40 characters.", field="receipt"
            )
        notes = data.get("notes") or {}
        if not isinstance(notes, dict) or len(notes) > _MAX_NOTES:
            raise _ApiError(
                400, "Number of fields in notes should be less than or equal to 15", field="notes"
            )
        oid = new_id("order")
        order = {
            "id": oid,
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes or [],
            "created_at": int(time.time()),
        }
        self.orders[oid] = order
        return dict(order)

    def _do_capture_request(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        payment = self._find(self.payments, request)
        amount = data.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise _ApiError(400, "The amount field is required.", field="amount")
        if payment["status"] == "captured" or payment["captured"]:
            raise _ApiError(400, "This payment has already been captured")
        if payment["status"] != "authorized":
            raise _ApiError(
                400, "Only payments which have been authorized and not yet captured can be captured"
            )
        if amount != payment["amount"]:
            raise _ApiError(
                400, "Capture amount must be equal to the amount authorized", field="amount"
            )
        if data.get("currency", payment["currency"]) != payment["currency"]:
            raise _ApiError(400, "Currency should be same as payment currency", field="currency")
        self._do_capture(payment)
        return dict(payment)

    def _do_capture(self, payment: dict[str, Any]) -> None:
        payment["status"] = "captured"
        payment["captured"] = True
        payment["fee"] = payment["amount"] * 2 // 100
        payment["tax"] = payment["fee"] * 18 // 118
        order = self.orders.get(payment["order_id"] or "")
        if order is not None:
            order["amount_paid"] += payment["amount"]
            order["amount_due"] = max(0, order["amount"] - order["amount_paid"])
            if order["amount_due"] == 0:
                order["status"] = "paid"

    def _do_refund(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        key = request.headers.get(REFUND_IDEMPOTENCY_HEADER.lower(), "")
        pid = request.path_params["id"]
        fingerprint = json.dumps([pid, data], sort_keys=True)
        if key:
            if len(key) < 10 or any(c not in _ALNUM + "-_" for c in key):
                raise _ApiError(400, "The idempotency key is invalid", field="idempotency_key")
            seen = self._idempotency.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise _ApiError(
                        400,
                        "Different request with the same idempotency key has already "
                        "been processed.",
                    )
                return dict(self.refunds[seen[1]])
        payment = self._find(self.payments, request)
        if not payment["captured"]:
            raise _ApiError(400, "The payment has not been captured")
        left = payment["amount"] - payment["amount_refunded"]
        amount = data.get("amount", left)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _ApiError(400, "The amount must be a positive integer.", field="amount")
        if amount > left:
            raise _ApiError(
                400,
                "The refund amount provided is greater than amount captured",
                field="amount",
            )
        speed = data.get("speed", "normal")
        if speed not in ("normal", "optimum"):
            raise _ApiError(400, "The selected speed is invalid.", field="speed")
        rid = new_id("rfnd")
        refund = {
            "id": rid,
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": pid,
            "notes": data.get("notes") or [],
            "receipt": data.get("receipt"),
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "batch_id": None,
            "status": "pending",
            "speed_processed": None,
            "speed_requested": speed,
        }
        self.refunds[rid] = refund
        payment["amount_refunded"] += amount
        _refund_state(payment)
        if key:
            self._idempotency[key] = (fingerprint, rid)
        return dict(refund)


def _refund_state(payment: dict[str, Any]) -> None:
    refunded = payment["amount_refunded"]
    if refunded <= 0:
        payment["refund_status"] = None
        payment["status"] = "captured"
    elif refunded < payment["amount"]:
        payment["refund_status"] = "partial"
        payment["status"] = "captured"
    else:
        payment["refund_status"] = "full"
        payment["status"] = "refunded"


def main() -> None:
    """Serve a fake for local runs; print the settings that point a service at it."""
    with FakeRazorpay.running() as fake:
        for k, v in fake.env().items():
            print(f"export {k}={v}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
