"""An HTTP adapter in the shape of a typical Indian shipping aggregator (Shiprocket-like).

The protocol (tests/support/fake_carrier.py serves the same one):

- POST /v1/external/auth/login {email, password} -> {token}; the token goes in
  `Authorization: Bearer` and is fetched again once on a 401;
- POST /v1/external/orders/create/adhoc (forward) or /v1/external/orders/create/return
  {order_id, pickup/billing fields, order_items, payment_method, weight (kg)}
  -> {order_id, shipment_id, status};
- POST /v1/external/courier/assign/awb {shipment_id, is_return}
  -> {awb_assign_status: 1, response: {data: {awb_code, courier_name}}};
- POST /v1/external/courier/generate/label {shipment_id: [id]} -> {label_created, label_url};
- POST /v1/external/orders/cancel/shipment/awbs {awbs: [awb]};
- GET /v1/external/courier/track/awb/{awb}
  -> {tracking_data: {shipment_track_activities: [{date, activity, location, sr-status-label}]}};
- webhooks: JSON {awb, current_status, current_timestamp, location, event_id?}, signed
  with X-Carrier-Signature = hex HMAC-SHA256(webhook secret, raw body) and carrying
  X-Carrier-Event-Id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mesh.http import HttpError, JsonHttpClient
from services.shipping.carriers.base import Booking, CarrierError, Parcel, TrackingUpdate
from services.shipping.config import AggregatorConfig

# The aggregator's status labels -> our ShipmentStatus names.
STATUS_MAP = {
    "PICKED UP": "PICKED_UP",
    "PICKUP COMPLETE": "PICKED_UP",
    "SHIPPED": "IN_TRANSIT",
    "IN TRANSIT": "IN_TRANSIT",
    "REACHED AT DESTINATION HUB": "IN_TRANSIT",
    "OUT FOR DELIVERY": "OUT_FOR_DELIVERY",
    "DELIVERED": "DELIVERED",
    "UNDELIVERED": "FAILED_DELIVERY",
    "DELIVERY FAILED": "FAILED_DELIVERY",
    "RTO INITIATED": "RTO",
    "RTO IN TRANSIT": "RTO",
    "RTO DELIVERED": "RTO_DELIVERED",
    "CANCELED": "CANCELLED",
    "CANCELLED": "CANCELLED",
    "LOST": "LOST",
}
TIMEOUT_SECONDS = 10.0  # each read of an answer, and a wait for a pooled connection
CONNECT_TIMEOUT_SECONDS = 3.0


def map_status(label: str) -> str:
    status = STATUS_MAP.get(label.strip().upper())
    if status is None:
        raise CarrierError(f"unknown carrier status {label!r}", transient=False)
    return status


class AggregatorCarrier:
    kind = "AGGREGATOR"

    def __init__(self, config: AggregatorConfig, *, client: JsonHttpClient | None = None):
        self.config = config
        self._client = client or JsonHttpClient(
            config.base_url, timeout=TIMEOUT_SECONDS, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
        self._token = ""

    @property
    def books_automatically(self) -> bool:
        return True

    @property
    def ready(self) -> bool:
        return self.config.configured

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _login(self) -> str:
        resp = await self._client.request(
            "POST",
            "/v1/external/auth/login",
            json_body={"email": self.config.email, "password": self.config.password},
        )
        if resp.status_code != 200:
            raise CarrierError(f"login failed: HTTP {resp.status_code}", transient=False)
        self._token = str(resp.json()["token"])
        return self._token

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        if not self.config.configured:
            raise CarrierError("the aggregator is not configured", transient=False)
        for attempt in (1, 2):
            token = self._token or await self._login()
            try:
                resp = await self._client.request(
                    method, path, json_body=body, headers={"Authorization": f"Bearer {token}"}
                )
            except HttpError as exc:
                raise CarrierError(f"{method} {path}: {exc.kind}") from None
            if resp.status_code == 401 and attempt == 1:
                self._token = ""
                continue
            if resp.status_code >= 500 or resp.status_code == 429:
                raise CarrierError(f"{method} {path}: HTTP {resp.status_code}")
            if resp.status_code >= 400:
                raise CarrierError(
                    f"{method} {path}: HTTP {resp.status_code} {resp.text[:200]}", transient=False
                )
            return resp.json()
        raise CarrierError(f"{method} {path}: unauthorized", transient=False)

    async def book(self, parcel: Parcel) -> Booking:
        to, frm = parcel.deliver_to, parcel.pickup
        cod = parcel.cod_amount_minor > 0
        order = {
            "order_id": parcel.reference,
            "channel_order_id": parcel.order_number,
            "order_date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            "pickup_location": frm.name,
            "pickup_pincode": frm.pincode,
            "billing_customer_name": to.name,
            "billing_address": to.line1,
            "billing_address_2": to.line2,
            "billing_city": to.city,
            "billing_pincode": to.pincode,
            "billing_state": to.state_code,
            "billing_country": "India",
            "billing_email": to.email,
            "billing_phone": to.phone,
            "shipping_is_billing": True,
            "order_items": [
                {"name": i.title, "sku": i.sku, "units": i.quantity} for i in parcel.items
            ],
            "payment_method": "COD" if cod else "Prepaid",
            "sub_total": parcel.cod_amount_minor / 100 if cod else 0,
            "weight": max(parcel.weight_grams, 1) / 1000,
            "length": 20,
            "breadth": 15,
            "height": 10,
        }
        path = (
            "/v1/external/orders/create/return"
            if parcel.is_return
            else ("/v1/external/orders/create/adhoc")
        )
        created = await self._call("POST", path, order)
        shipment_id = str(created["shipment_id"])
        assigned = await self._call(
            "POST",
            "/v1/external/courier/assign/awb",
            {"shipment_id": shipment_id, "is_return": int(parcel.is_return)},
        )
        data = (assigned.get("response") or {}).get("data") or {}
        awb = str(data.get("awb_code") or "")
        if assigned.get("awb_assign_status") != 1 or not awb:
            raise CarrierError("the aggregator assigned no AWB")
        label = await self._call(
            "POST", "/v1/external/courier/generate/label", {"shipment_id": [shipment_id]}
        )
        return Booking(
            awb=awb,
            carrier_shipment_id=shipment_id,
            label_url=str(label.get("label_url") or ""),
            courier_name=str(data.get("courier_name") or ""),
        )

    async def cancel(self, awb: str) -> None:
        await self._call("POST", "/v1/external/orders/cancel/shipment/awbs", {"awbs": [awb]})

    async def track(self, awb: str) -> list[TrackingUpdate]:
        body = await self._call("GET", f"/v1/external/courier/track/awb/{awb}")
        acts = (body.get("tracking_data") or {}).get("shipment_track_activities") or []
        return [
            TrackingUpdate(
                awb=awb,
                status=map_status(a["sr-status-label"]),
                location=str(a.get("location") or ""),
                note=str(a.get("activity") or ""),
            )
            for a in acts
        ]

    def parse_webhook(self, raw_body: bytes, event_id: str) -> TrackingUpdate:
        try:
            body = json.loads(raw_body)
            awb = str(body["awb"])
            label = str(body["current_status"])
        except (ValueError, KeyError, TypeError):
            raise CarrierError("malformed webhook body", transient=False) from None
        when = None
        raw_time = body.get("current_timestamp")
        if isinstance(raw_time, str):
            try:
                when = datetime.fromisoformat(raw_time)
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
            except ValueError:
                when = None
        return TrackingUpdate(
            awb=awb,
            status=map_status(label),
            event_id=event_id or str(body.get("event_id") or ""),
            location=str(body.get("location") or ""),
            note=label,
            time=when,
        )
