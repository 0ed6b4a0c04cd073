"""The seed's three workflows end to end through the REST edge, every service its own process.

auth, catalog, inventory, pricing, settings, order, shipping, engagement and the edge
run as real processes on ephemeral loopback ports (tests/integration/stack.py), with
the local SMTP sink (services/engagement/smtp_sink.py, <data dir>/mail/*.eml) as a
process of its own. Razorpay and the shipping aggregator are the local fakes
(tests/support/fake_razorpay.py, fake_carrier.py), served from this test process on
ephemeral ports; the services are pointed at them through their configuration.

Everything a storefront or an admin console does goes through the edge (HTTP/JSON);
only the mail files and the fakes' own helpers (the customer paying, a carrier
signing its webhook) are used directly. Every wait is a poll with a deadline.

1. checkout: register, cart, checkout session, COD order (idempotent on request id),
   the confirmation email at the SMTP sink; checkout with a saved address (another
   customer's: 404, a guest's: 400);
2. Razorpay: order, payment at the fake, tampered signature refused, confirm,
   signed webhooks accepted and deduplicated, a forged one refused;
3. fulfilment: shipment with an AWB from the fake carrier, signed carrier webhooks to
   DELIVERED, the order DELIVERED and the email sent; a forged webhook changes nothing;
4. return: requested, approved (reverse pickup at shipping), inspected, refunded
   (COD: store credit), the refund email; a Razorpay order refunded at the fake
   (idempotent, never past what was paid), settled by the refund.processed webhook;
5. notifications down: engagement stopped while an order is placed; the email arrives
   once it is back, exactly once;
6. 50 shoppers race for the last unit: one order, 49 clear OUT_OF_STOCK errors.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import BACKENDS, require_postgres
from tests.integration.stack import Stack, edge_backends, start_stack
from tests.support.fake_carrier import FakeCarrier
from tests.support.fake_razorpay import FakeRazorpay

pytestmark = pytest.mark.integration

SERVICES = [
    "auth",
    "catalog",
    "inventory",
    "pricing",
    "settings",
    "order",
    "shipping",
    "engagement",
]
CARRIER = "shipfast"  # the aggregator carrier shipping seeds (services/shipping/seed.py)
MAIN_SKU, SECOND_SKU = "VAN-KUMK-12ML", "VAN-KUMK-30ML"  # kumkumadi-tailam, plenty in stock
RACE_SKU = "VAN-NALP-100ML"  # nalpamaradi-tailam: only the race touches it
SHOPPERS = 50
ADDRESS = {
    "recipientName": "Meera Iyer",
    "phone": "9876543210",
    "line1": "12, 4th Cross, Indiranagar",
    "city": "Bengaluru",
    "stateCode": "KA",
    "pincode": "560001",
    "countryCode": "IN",
}
CONFIRMED = "ORDER_STATUS_CONFIRMED"
PENDING_PAYMENT = "ORDER_STATUS_PENDING_PAYMENT"
DELIVERED = "ORDER_STATUS_DELIVERED"

T = TypeVar("T")


# --- waiting -----------------------------------------------------------------------------


async def eventually(
    probe: Callable[[], Awaitable[T | None]], within: float = 30.0, what: str = "condition"
) -> T:
    """Poll `probe` until it returns something truthy; fail after `within` seconds."""
    end = time.monotonic() + within
    while True:
        got = await probe()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not reached within {within:.0f}s")
        await asyncio.sleep(0.25)


def reason(r: httpx.Response) -> str:
    """The google.rpc.ErrorInfo reason of an edge error response ("" when none)."""
    try:
        details = r.json().get("details") or []
    except ValueError:
        return ""
    for d in details:
        if str(d.get("@type", "")).endswith("google.rpc.ErrorInfo"):
            return str(d.get("reason", ""))
    return ""


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    return dict(r.json())


# --- the world -----------------------------------------------------------------------------


@dataclass
class Shopper:
    email: str
    headers: dict[str, str] = field(default_factory=dict)  # bearer token, or none (guest)
    cart: str = "carts/mine"
    cart_token: str = ""

    @property
    def guest(self) -> bool:
        return not self.headers


@dataclass
class World:
    stack: Stack
    rzp: FakeRazorpay
    carrier: FakeCarrier
    admin: dict[str, str]
    variants: dict[str, str]  # sku -> variant id

    @property
    def http(self) -> httpx.AsyncClient:
        return self.stack.http

    @property
    def backend(self) -> str:
        return self.stack.backend

    # --- customers -------------------------------------------------------------------

    async def register(self) -> Shopper:
        email = f"meera-{secrets.token_hex(5)}@example.in"
        body = ok(
            await self.http.post(
                "/v1/auth:register",
                json={"email": email, "password": "tulsi-and-neem-42", "fullName": "Meera Iyer"},
            )
        )
        return Shopper(email, {"Authorization": f"Bearer {body['tokens']['accessToken']}"})

    async def guest(self) -> Shopper:
        cart = ok(await self.http.post("/v1/carts", json={}))
        assert cart["cartToken"], cart
        return Shopper(
            f"guest-{secrets.token_hex(5)}@example.in",
            cart=cart["name"],
            cart_token=cart["cartToken"],
        )

    async def add(self, who: Shopper, sku: str, quantity: int = 1) -> dict[str, Any]:
        body: dict[str, Any] = {"variantId": self.variants[sku], "quantity": quantity}
        if who.cart_token:
            body["cartToken"] = who.cart_token
        return ok(await self.http.post(f"/v1/{who.cart}:addLine", json=body, headers=who.headers))

    async def open_checkout(self, who: Shopper, method: str = "cod") -> httpx.Response:
        body: dict[str, Any] = {
            "cart": who.cart,
            "deliveryAddress": ADDRESS,
            "paymentMethod": method,
            "shippingOption": "standard",
        }
        if who.guest:
            body |= {"cartToken": who.cart_token, "email": who.email, "phone": "9876543210"}
        return await self.http.post("/v1/checkoutSessions", json=body, headers=who.headers)

    async def place(self, who: Shopper, session: str, request_id: str) -> httpx.Response:
        body: dict[str, Any] = {"requestId": request_id}
        if who.cart_token:
            body["cartToken"] = who.cart_token
        return await self.http.post(f"/v1/{session}:placeOrder", json=body, headers=who.headers)

    async def buy(self, who: Shopper, lines: dict[str, int], method: str = "cod") -> dict[str, Any]:
        """Cart -> checkout session -> placed order (the Order JSON)."""
        for sku, qty in lines.items():
            await self.add(who, sku, qty)
        session = ok(await self.open_checkout(who, method))
        return ok(await self.place(who, session["name"], f"req-{secrets.token_hex(8)}"))

    async def my_order(self, who: Shopper, name: str) -> dict[str, Any]:
        return ok(await self.http.get(f"/v1/{name}", headers=who.headers))

    # --- admin -----------------------------------------------------------------------

    async def admin_order(self, name: str) -> dict[str, Any]:
        return ok(await self.http.get(f"/v1/admin/{name}", headers=self.admin))

    async def shipments(self, order: str, direction: str = "") -> list[dict[str, Any]]:
        params = {"order": order}
        if direction:
            params["direction"] = direction
        body = ok(await self.http.get("/v1/admin/shipments", params=params, headers=self.admin))
        return list(body.get("shipments", []))

    async def shipment_with_awb(self, order: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            return next((s for s in await self.shipments(order) if s.get("awb")), None)

        return await eventually(probe, 45, f"a shipment with an AWB for {order}")

    async def carrier_webhook(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(
            f"/v1/webhooks/carriers/{CARRIER}",
            content=body,
            headers={"content-type": "application/json", **headers},
        )

    async def deliver(self, who: Shopper, order: dict[str, Any]) -> dict[str, Any]:
        """Shipment with AWB -> the carrier's signed updates -> the order DELIVERED."""
        shipment = await self.shipment_with_awb(order["name"])
        for status in ("PICKED UP", "IN TRANSIT", "OUT FOR DELIVERY", "DELIVERED"):
            body, headers = self.carrier.webhook(shipment["awb"], status)
            r = await self.carrier_webhook(body, headers)
            assert r.status_code == 200, (status, r.status_code, r.text)

        async def delivered() -> dict[str, Any] | None:
            o = await self.my_order(who, order["name"])
            return o if o["status"] == DELIVERED else None

        return await eventually(delivered, 30, f"{order['orderNumber']} DELIVERED")

    # --- mail ------------------------------------------------------------------------

    def mails(self, order_number: str, subject_part: str = "") -> list[EmailMessage]:
        """Messages the SMTP sink stored whose subject names `order_number`."""
        folder: Path = self.stack.mail_dir
        found: list[EmailMessage] = []
        if not folder.is_dir():
            return found
        for path in sorted(folder.glob("*.eml")):
            msg = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(msg, EmailMessage)
            subject = str(msg["Subject"] or "")
            if order_number in subject and subject_part.lower() in subject.lower():
                found.append(msg)
        return found

    async def mail(
        self, order_number: str, subject_part: str, within: float = 30.0
    ) -> EmailMessage:
        async def probe() -> EmailMessage | None:
            got = self.mails(order_number, subject_part)
            return got[0] if got else None

        return await eventually(
            probe, within, f"an email '{subject_part}' for {order_number} at the SMTP sink"
        )


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


@pytest.fixture(scope="module", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    if request.param == "postgres":
        await require_postgres()
    data_dir = tmp_path_factory.mktemp(f"workflows-{request.param}")
    stand_ins = [n for n in edge_backends() if n not in SERVICES]
    with FakeRazorpay.running() as rzp, FakeCarrier.running() as carrier:
        extra = {
            **rzp.env(),
            **carrier.env(),
            "CLEANSE_CATALOG_STOCK_CACHE_SECONDS": "0",
            "CLEANSE_BREAKER_RESET_SECONDS": "1",
            "CLEANSE_ENGAGEMENT_RETRY_BASE_SECONDS": "0.5",
            "CLEANSE_ENGAGEMENT_DISPATCH_POLL_SECONDS": "0.25",
        }
        async with start_stack(
            request.param,
            data_dir,
            SERVICES,
            stand_ins=stand_ins,
            infra=["smtp"],
            extra_env=extra,
        ) as stack:
            email, password = stack.admin_credentials()
            body = ok(
                await stack.http.post(
                    "/v1/admin/auth:login", json={"email": email, "password": password}
                )
            )
            admin = {"Authorization": f"Bearer {body['tokens']['accessToken']}"}
            variants: dict[str, str] = {}
            for slug in ("kumkumadi-tailam", "nalpamaradi-tailam"):
                page = ok(await stack.http.get(f"/v1/products/{slug}"))
                variants |= {v["sku"]: v["id"] for v in page["variants"]}
            yield World(stack, rzp, carrier, admin, variants)


# --- 1. checkout -------------------------------------------------------------------------


async def test_customer_checkout_cod_is_idempotent_and_the_confirmation_is_mailed(
    world: World,
) -> None:
    who = await world.register()
    await world.add(who, MAIN_SKU, 2)
    cart = await world.add(who, SECOND_SKU, 1)
    assert cart["itemCount"] == 3 and len(cart["lines"]) == 2, cart
    assert int(cart["price"]["total"]["amountMinor"]) > 0, cart  # priced by pricing

    session = ok(await world.open_checkout(who, "cod"))
    assert session["reservation"], session  # stock held for the session
    assert "cod" in session["availablePaymentMethods"], session
    request_id = f"req-{secrets.token_hex(8)}"
    order = ok(await world.place(who, session["name"], request_id))
    assert order["status"] == CONFIRMED, order
    assert order["paymentProvider"] == "PAYMENT_PROVIDER_COD"
    assert order["orderNumber"] and order["email"] == who.email
    assert order["total"]["amountMinor"] == session["quote"]["total"]["amountMinor"]
    bought = {i["sku"]: i["quantity"] for i in order["items"] if not i.get("freeGift")}
    assert bought == {MAIN_SKU: 2, SECOND_SKU: 1}, order["items"]  # (+ any free gift)

    # Same request id: the same order, not a second one.
    again = ok(await world.place(who, session["name"], request_id))
    assert again["name"] == order["name"] and again["orderNumber"] == order["orderNumber"]
    mine = ok(await world.http.get("/v1/orders", headers=who.headers))
    assert [o["name"] for o in mine["orders"]] == [order["name"]]
    assert (await world.my_order(who, order["name"]))["status"] == CONFIRMED

    msg = await world.mail(order["orderNumber"], "is confirmed")
    assert who.email in str(msg["To"])
    assert order["orderNumber"] in body_text(msg)


async def test_customer_checks_out_with_a_saved_address(world: World) -> None:
    """The delivery address named from the customer's address book (order reads it from
    auth's internal GetUserAddress); another customer's name is 404, a guest's 400."""
    who = await world.register()
    saved = dict(ADDRESS, recipientName="Meera at work", line2="2nd floor", landmark="Metro")
    saved |= {"line1": "80 Feet Road, Koramangala", "pincode": "560034"}
    address = ok(
        await world.http.post(
            "/v1/me/addresses",
            json={"label": "Office", "postalAddress": saved},
            headers=who.headers,
        )
    )
    await world.add(who, MAIN_SKU, 1)
    body = {"cart": who.cart, "savedAddress": address["name"], "paymentMethod": "cod"}
    session = ok(await world.http.post("/v1/checkoutSessions", json=body, headers=who.headers))
    assert session["deliveryAddress"]["line1"] == saved["line1"], session
    order = ok(await world.place(who, session["name"], f"req-{secrets.token_hex(8)}"))
    assert order["status"] == CONFIRMED, order
    delivered_to = order["deliveryAddress"]
    assert {k: delivered_to[k] for k in saved if k != "phone"} == {
        k: v for k, v in saved.items() if k != "phone"
    }, delivered_to
    assert delivered_to["phone"].endswith(saved["phone"])  # normalized to +91...

    stranger = await world.register()
    await world.add(stranger, MAIN_SKU, 1)
    theirs = dict(body, cart=stranger.cart)
    r = await world.http.post("/v1/checkoutSessions", json=theirs, headers=stranger.headers)
    assert r.status_code == 404, r.text
    guest = await world.guest()
    await world.add(guest, MAIN_SKU, 1)
    as_guest = dict(body, cart=guest.cart, cartToken=guest.cart_token, email=guest.email)
    r = await world.http.post("/v1/checkoutSessions", json=as_guest | {"phone": "9876543210"})
    assert r.status_code == 400, r.text
    bad = next(d for d in r.json()["details"] if d["@type"].endswith("BadRequest"))
    assert {v["field"] for v in bad["fieldViolations"]} == {"saved_address"}, r.text
    # The auth RPC order uses is internal: the edge publishes no route to it.
    spec = ok(await world.http.get("/openapi.json"))
    ops = {op.get("operationId", "") for path in spec["paths"].values() for op in path.values()}
    assert not any("GetUserAddress" in op for op in ops), sorted(ops)
    assert any("CreateCheckoutSession" in op for op in ops)


# --- 2. Razorpay ---------------------------------------------------------------------------


async def test_razorpay_payment_confirmed_tamper_refused_webhooks_deduplicated(
    world: World,
) -> None:
    who = await world.register()
    order = await world.buy(who, {MAIN_SKU: 1}, method="razorpay_upi")
    assert order["status"] == PENDING_PAYMENT, order
    payment = order["payment"]
    assert payment["providerOrderId"] in world.rzp.orders, payment
    assert payment["keyId"] == world.rzp.key_id
    assert world.rzp.orders[payment["providerOrderId"]]["amount"] == int(
        order["total"]["amountMinor"]
    )
    payment_id, signature = world.rzp.pay(payment["providerOrderId"])
    confirm = f"/v1/{order['name']}:confirmPayment"
    body = {"providerOrderId": payment["providerOrderId"], "providerPaymentId": payment_id}

    # A tampered signature: refused, nothing changes.
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    r = await world.http.post(confirm, json=body | {"signature": forged}, headers=who.headers)
    assert r.status_code in (400, 401), r.text
    assert reason(r) == "PAYMENT_SIGNATURE_INVALID", r.text
    still = await world.my_order(who, order["name"])
    assert still["status"] == PENDING_PAYMENT and not still.get("paid"), still
    assert world.rzp.payments[payment_id]["status"] == "authorized"

    paid = ok(
        await world.http.post(confirm, json=body | {"signature": signature}, headers=who.headers)
    )
    assert paid["status"] == CONFIRMED and paid["paid"] is True, paid
    assert paid["payment"]["state"] == "PAYMENT_STATE_CAPTURED", paid["payment"]
    assert world.rzp.payments[payment_id]["status"] == "captured"

    # Razorpay's webhook for the same payment: accepted, and a redelivery of the same
    # event id is acknowledged and ignored.
    raw, sig, event_id = world.rzp.webhook_body("payment.captured", payment_id=payment_id)
    for _ in range(2):
        r = await world.http.post(
            "/v1/webhooks/razorpay", content=raw, headers=world.rzp.webhook_headers(sig, event_id)
        )
        assert r.status_code == 200, r.text
    # A webhook signed with another secret: refused.
    raw2, bad_sig, ev2 = world.rzp.webhook_body(
        "payment.captured", payment_id=payment_id, secret="not-the-webhook-secret"
    )
    r = await world.http.post(
        "/v1/webhooks/razorpay", content=raw2, headers=world.rzp.webhook_headers(bad_sig, ev2)
    )
    assert r.status_code == 401, r.text
    assert reason(r) == "WEBHOOK_SIGNATURE_INVALID", r.text

    final = await world.my_order(who, order["name"])
    assert final["status"] == CONFIRMED, final
    confirmations = [h for h in final["statusHistory"] if h.get("toStatus") == CONFIRMED]
    assert len(confirmations) == 1, final["statusHistory"]
    await world.mail(order["orderNumber"], "is confirmed")
    assert len(world.mails(order["orderNumber"], "is confirmed")) == 1

    # Webhook first: the customer's confirm arrives after Razorpay's webhook.
    order2 = await world.buy(who, {MAIN_SKU: 1}, method="razorpay_card")
    pid2, sig2 = world.rzp.pay(order2["payment"]["providerOrderId"], method="card")
    r, _ = await world.rzp.deliver_webhook(
        world.http, "/v1/webhooks/razorpay", "payment.authorized", payment_id=pid2
    )
    assert r.status_code == 200, r.text

    async def confirmed() -> dict[str, Any] | None:
        o = await world.my_order(who, order2["name"])
        return o if o["status"] == CONFIRMED else None

    await eventually(confirmed, 20, "the webhook confirms the order")
    late = ok(
        await world.http.post(
            f"/v1/{order2['name']}:confirmPayment",
            json={
                "providerOrderId": order2["payment"]["providerOrderId"],
                "providerPaymentId": pid2,
                "signature": sig2,
            },
            headers=who.headers,
        )
    )
    assert late["status"] == CONFIRMED and late["paid"] is True, late
    assert len(world.rzp.calls("POST", f"/payments/{pid2}/capture")) == 1


# --- 3. fulfilment -------------------------------------------------------------------------


async def test_shipment_from_order_placed_carrier_webhooks_deliver_it(world: World) -> None:
    who = await world.register()
    order = await world.buy(who, {MAIN_SKU: 1})
    assert order["status"] == CONFIRMED, order

    shipment = await world.shipment_with_awb(order["name"])
    assert shipment["carrier"].endswith(CARRIER), shipment
    assert shipment["awb"] in world.carrier.awbs.values(), shipment
    assert shipment["orderNumber"] == order["orderNumber"]
    assert shipment["direction"] == "SHIPMENT_DIRECTION_FORWARD", shipment
    before = shipment["status"]

    # Forged: signed with another secret -> refused, nothing changes.
    body, headers = world.carrier.webhook(shipment["awb"], "DELIVERED", secret="f0rged")
    r = await world.carrier_webhook(body, headers)
    assert r.status_code == 401, r.text
    assert reason(r) == "WEBHOOK_SIGNATURE_INVALID", r.text
    # ... and an unsigned one.
    body, headers = world.carrier.webhook(shipment["awb"], "DELIVERED")
    r = await world.carrier_webhook(body, {k: v for k, v in headers.items() if "ignature" not in k})
    assert r.status_code in (400, 401), r.text
    [same] = await world.shipments(order["name"])
    assert same["status"] == before, same
    assert (await world.my_order(who, order["name"]))["status"] == CONFIRMED

    delivered = await world.deliver(who, order)
    history = [h["toStatus"] for h in delivered["statusHistory"]]
    assert history[-1] == DELIVERED and "ORDER_STATUS_SHIPPED" in history, history
    [done] = await world.shipments(order["name"])
    assert done["status"] == "SHIPMENT_STATUS_DELIVERED", done
    admin_view = await world.admin_order(order["name"])
    assert admin_view["paid"] is True, admin_view  # COD: paid on delivery

    await world.mail(order["orderNumber"], "has shipped")
    await world.mail(order["orderNumber"], "was delivered")


# --- 4. return and refund ------------------------------------------------------------------


async def test_return_pickup_inspection_refund_and_refund_email(world: World) -> None:
    who = await world.register()
    order = await world.buy(who, {MAIN_SKU: 1, SECOND_SKU: 1})
    await world.deliver(who, order)
    returned_variant = world.variants[SECOND_SKU]

    r = await world.http.post(
        f"/v1/{order['name']}/returns",
        json={
            "requestId": f"ret-{secrets.token_hex(6)}",
            "lines": [{"variantId": returned_variant, "quantity": 1, "reason": "Too strong"}],
        },
        headers=who.headers,
    )
    ret = ok(r)
    assert ret["state"] == "RETURN_STATE_REQUESTED", ret
    assert (await world.my_order(who, order["name"]))["status"] == "ORDER_STATUS_RETURN_REQUESTED"

    approved = ok(
        await world.http.post(f"/v1/admin/{ret['name']}:approve", json={}, headers=world.admin)
    )
    assert approved["state"] == "RETURN_STATE_APPROVED", approved
    assert approved["pickup"] and approved["pickup"] != "manual", approved
    pickups = await world.shipments(order["name"], "SHIPMENT_DIRECTION_RETURN")
    assert [p["name"] for p in pickups] == [approved["pickup"]], pickups

    inspected = ok(
        await world.http.post(
            f"/v1/admin/{ret['name']}:inspect",
            json={
                "inspections": [{"variantId": returned_variant, "passed": True, "note": "sealed"}]
            },
            headers=world.admin,
        )
    )
    assert inspected["state"] == "RETURN_STATE_COMPLETED", inspected
    assert inspected["refund"], inspected

    refunds = ok(await world.http.get(f"/v1/admin/{order['name']}/refunds", headers=world.admin))[
        "refunds"
    ]
    [refund] = refunds
    assert refund["state"] == "REFUND_STATE_PROCESSED", refund
    assert refund["method"] in ("REFUND_METHOD_STORE_CREDIT", "REFUND_METHOD_BANK_TRANSFER")
    line = next(i for i in order["items"] if i["variantId"] == returned_variant)
    assert refund["amount"]["amountMinor"] == line["total"]["amountMinor"], (refund, line)
    final = await world.my_order(who, order["name"])
    assert final["status"] in ("ORDER_STATUS_PARTIALLY_REFUNDED", "ORDER_STATUS_REFUNDED"), final

    msg = await world.mail(order["orderNumber"], "refund")
    assert who.email in str(msg["To"])


async def test_razorpay_order_refunded_at_the_fake_webhook_settles_it_and_mails(
    world: World,
) -> None:
    who = await world.register()
    order = await world.buy(who, {MAIN_SKU: 1}, method="razorpay_upi")
    pid, sig = world.rzp.pay(order["payment"]["providerOrderId"])
    ok(
        await world.http.post(
            f"/v1/{order['name']}:confirmPayment",
            json={
                "providerOrderId": order["payment"]["providerOrderId"],
                "providerPaymentId": pid,
                "signature": sig,
            },
            headers=who.headers,
        )
    )
    total = int(order["total"]["amountMinor"])
    part = total // 2
    request = {
        "requestId": f"rf-{secrets.token_hex(6)}",
        "amount": {"amountMinor": str(part), "currencyCode": "INR"},
        "reason": "damaged in transit",
        "method": "REFUND_METHOD_ORIGINAL_PAYMENT",
    }
    refunds_url = f"/v1/admin/{order['name']}/refunds"
    refund = ok(await world.http.post(refunds_url, json=request, headers=world.admin))
    assert refund["providerRefundId"] in world.rzp.refunds, refund
    assert refund["state"] == "REFUND_STATE_PENDING", refund
    # Idempotent: the same request id is the same refund, sent to Razorpay once.
    again = ok(await world.http.post(refunds_url, json=request, headers=world.admin))
    assert again["name"] == refund["name"]
    sent = world.rzp.calls("POST", f"/payments/{pid}/refund")
    assert len(sent) == 1 and sent[0].headers.get("x-refund-idempotency"), sent
    # More than what is left: refused, nothing sent.
    too_much = request | {
        "requestId": f"rf-{secrets.token_hex(6)}",
        "amount": {"amountMinor": str(total - part + 1), "currencyCode": "INR"},
    }
    r = await world.http.post(refunds_url, json=too_much, headers=world.admin)
    assert r.status_code == 400 and reason(r) == "REFUND_EXCEEDS_PAID", r.text
    assert len(world.rzp.calls("POST", f"/payments/{pid}/refund")) == 1

    # Razorpay processes it and says so by webhook.
    world.rzp.settle_refund(refund["providerRefundId"])
    r, _ = await world.rzp.deliver_webhook(
        world.http,
        "/v1/webhooks/razorpay",
        "refund.processed",
        refund_id=refund["providerRefundId"],
    )
    assert r.status_code == 200, r.text

    async def processed() -> dict[str, Any] | None:
        rows = ok(await world.http.get(refunds_url, headers=world.admin))["refunds"]
        row = next(x for x in rows if x["name"] == refund["name"])
        return row if row["state"] == "REFUND_STATE_PROCESSED" else None

    await eventually(processed, 20, "the refund PROCESSED after the webhook")
    msg = await world.mail(order["orderNumber"], "refund")
    assert who.email in str(msg["To"])


# --- 5. notifications down -----------------------------------------------------------------


async def test_confirmation_email_sent_once_after_engagement_restarts(world: World) -> None:
    who = await world.register()
    await world.add(who, MAIN_SKU, 1)
    session = ok(await world.open_checkout(who))
    await world.stack.stop_process("engagement")
    try:
        order = ok(await world.place(who, session["name"], f"req-{secrets.token_hex(8)}"))
        assert order["status"] == CONFIRMED, order
        await asyncio.sleep(1.0)  # the relay tries (and fails) while engagement is down
        assert world.mails(order["orderNumber"], "is confirmed") == []
    finally:
        await world.stack.start_process("engagement")
    await world.mail(order["orderNumber"], "is confirmed", within=60)
    await asyncio.sleep(3.0)  # any duplicate would arrive in this window
    assert len(world.mails(order["orderNumber"], "is confirmed")) == 1


# --- 6. the last unit ----------------------------------------------------------------------


async def test_fifty_shoppers_race_for_the_last_unit(world: World) -> None:
    variant = world.variants[RACE_SKU]
    # Filling the carts is not the race: a few at a time. (50 at once can take more
    # PostgreSQL connections than the server allows: every service's pool may open
    # 30 (mesh/db.py) against max_connections=100.)
    gate = asyncio.Semaphore(8)

    async def shopper() -> Shopper:
        async with gate:
            s = await world.guest()
            await world.add(s, RACE_SKU, 1)
            return s

    shoppers = await asyncio.gather(*(shopper() for _ in range(SHOPPERS)))

    levels = ok(
        await world.http.get(
            "/v1/admin/stockLevels", params={"variantId": variant}, headers=world.admin
        )
    )["stockLevels"]
    assert levels, f"no stock levels for {RACE_SKU}"
    for i, level in enumerate(levels):
        ok(
            await world.http.post(
                f"/v1/admin/{level['name']}:set",
                json={
                    "onHand": 1 if i == 0 else 0,
                    "safetyStock": 0,
                    "backorderAllowed": False,
                    "backorderLimit": 0,
                    "note": "the last unit",
                },
                headers=world.admin,
            )
        )

    async def attempt(w: World, s: Shopper) -> tuple[str, httpx.Response]:
        """Checkout (reserves the stock) then place: either step may find none left."""
        r = await w.open_checkout(s)
        if r.status_code != 200:
            return "session", r
        return "place", await w.place(s, r.json()["name"], f"race-{secrets.token_hex(6)}")

    # One burst through a client of its own: no connection limit, a generous timeout.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=SHOPPERS)
    async with httpx.AsyncClient(base_url=world.stack.edge_url, timeout=90, limits=limits) as c:
        racing = replace(world, stack=replace(world.stack, http=c))
        results = await asyncio.gather(*(attempt(racing, s) for s in shoppers))

    won = [r for step, r in results if r.status_code == 200]
    lost = [(step, r) for step, r in results if r.status_code != 200]
    assert len(won) == 1, [(step, r.text[:200]) for step, r in results if r.status_code == 200]
    assert won[0].json()["status"] == CONFIRMED, won[0].text
    unclear = [(s, r.status_code, r.text[:300]) for s, r in lost if reason(r) != "OUT_OF_STOCK"]
    assert not unclear, unclear
    assert all(r.status_code in (400, 409) for _, r in lost), {r.status_code for _, r in lost}

    after = ok(
        await world.http.get(
            "/v1/admin/stockLevels", params={"variantId": variant}, headers=world.admin
        )
    )["stockLevels"]
    assert sum(int(lv.get("available", 0)) for lv in after) == 0, after
    assert sum(int(lv.get("onHand", 0)) for lv in after) <= 1, after
