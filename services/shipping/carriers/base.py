"""What the shipping service needs from a carrier, whoever it is.

An adapter books a parcel (-> AWB, optional label URL), cancels it, tracks it and
reads its webhooks. Signature checks are the same for every carrier (hex
HMAC-SHA256 of the raw body with the carrier's webhook secret, compared in constant
time) and live here; payload formats are the adapter's.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mesh.errors import FailedPrecondition

SIGNATURE_HEADER = "x-carrier-signature"
EVENT_ID_HEADER = "x-carrier-event-id"


@dataclass(frozen=True)
class Party:
    name: str
    phone: str
    line1: str
    line2: str
    city: str
    state_code: str
    pincode: str
    email: str = ""


@dataclass(frozen=True)
class ParcelItem:
    sku: str
    title: str
    quantity: int


@dataclass(frozen=True)
class Parcel:
    """One shipment as a carrier sees it."""

    reference: str  # our shipment id
    order_number: str
    pickup: Party
    deliver_to: Party
    items: tuple[ParcelItem, ...]
    weight_grams: int
    cod_amount_minor: int
    is_return: bool = False


@dataclass(frozen=True)
class Booking:
    awb: str
    carrier_shipment_id: str = ""
    label_url: str = ""
    courier_name: str = ""


@dataclass(frozen=True)
class TrackingUpdate:
    """One status update from the carrier, in our status names."""

    awb: str
    status: str  # a ShipmentStatus name without the prefix, e.g. "IN_TRANSIT"
    event_id: str = ""
    location: str = ""
    note: str = ""
    time: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


class CarrierError(Exception):
    """The carrier refused or failed a call (retryable when `transient`)."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class CarrierAdapter(Protocol):
    kind: str  # "MANUAL" | "AGGREGATOR"

    @property
    def books_automatically(self) -> bool: ...

    # False while the adapter lacks its configuration (an aggregator with no base
    # URL): the booker leaves its shipments alone instead of failing them in a loop.
    @property
    def ready(self) -> bool: ...

    async def book(self, parcel: Parcel) -> Booking: ...

    async def cancel(self, awb: str) -> None: ...

    async def track(self, awb: str) -> list[TrackingUpdate]: ...

    def parse_webhook(self, raw_body: bytes, event_id: str) -> TrackingUpdate: ...

    async def aclose(self) -> None: ...


def sign(secret: str, raw_body: bytes) -> str:
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, raw_body: bytes, signature: str) -> bool:
    """Constant-time check; no secret means nothing is accepted."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(secret, raw_body).encode(), signature.strip().lower().encode())


class ManualCarrier:
    """A courier booked outside the system: admins enter AWBs and statuses."""

    kind = "MANUAL"

    @property
    def books_automatically(self) -> bool:
        return False

    @property
    def ready(self) -> bool:
        return True

    async def book(self, parcel: Parcel) -> Booking:
        raise FailedPrecondition(
            "the manual carrier cannot book: enter the AWB (AssignAwb)", reason="AWB_REQUIRED"
        )

    async def cancel(self, awb: str) -> None:
        return None

    async def track(self, awb: str) -> list[TrackingUpdate]:
        return []

    def parse_webhook(self, raw_body: bytes, event_id: str) -> TrackingUpdate:
        raise FailedPrecondition("the manual carrier sends no webhooks", reason="NO_WEBHOOKS")

    async def aclose(self) -> None:
        return None
