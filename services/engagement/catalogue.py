"""The notification event types engagement knows, their category and sample data.

Sample data is what an admin's preview renders with when it gives none, and it
documents the variables each template can use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TRANSACTIONAL = "TRANSACTIONAL"
MARKETING = "MARKETING"
EMAIL = "EMAIL"
SMS = "SMS"
CHANNELS = (EMAIL, SMS)

ORDER_PLACED = "order.placed"
PAYMENT_FAILED = "order.payment_failed"
REFUND_PROCESSED = "order.refunded"
RETURN_STATUS = "order.return_status_changed"
SHIPPED = "shipment.shipped"
OUT_FOR_DELIVERY = "shipment.out_for_delivery"
DELIVERED = "shipment.delivered"
DELIVERY_FAILED = "shipment.delivery_failed"
OTP = "auth.otp"
LOW_STOCK = "inventory.low_stock"
CART_ABANDONED = "cart.abandoned"

_STORE = {"store_name": "Cleanse Ayurveda", "storefront_url": "https://shop.cleanse.example"}
_ORDER = {
    **_STORE,
    "customer_name": "Asha",
    "order_number": "CLN-2024-000123",
    "order_url": "https://shop.cleanse.example/orders/CLN-2024-000123",
    "total_paise": 129900,
    "item_count": 2,
    "payment_method": "razorpay",
}


@dataclass(frozen=True)
class EventType:
    key: str
    category: str
    display_name: str
    sample: dict[str, Any] = field(default_factory=dict)


EVENT_TYPES: dict[str, EventType] = {
    e.key: e
    for e in (
        EventType(ORDER_PLACED, TRANSACTIONAL, "Order confirmation", dict(_ORDER)),
        EventType(
            PAYMENT_FAILED,
            TRANSACTIONAL,
            "Payment failed",
            {**_ORDER, "reason": "The bank declined the payment", "retry_url": _ORDER["order_url"]},
        ),
        EventType(
            REFUND_PROCESSED,
            TRANSACTIONAL,
            "Refund processed",
            {**_ORDER, "refund_paise": 49900, "refund_reference": "rfnd_29QQoUBi66xm2f"},
        ),
        EventType(
            RETURN_STATUS,
            TRANSACTIONAL,
            "Return status changed",
            {**_ORDER, "return_status": "approved", "return_reference": "RET-000045"},
        ),
        EventType(
            SHIPPED,
            TRANSACTIONAL,
            "Order shipped",
            {
                **_ORDER,
                "carrier": "Delhivery",
                "awb": "1234567890123",
                "tracking_url": "https://track.example.in/1234567890123",
                "estimated_days": 3,
            },
        ),
        EventType(
            OUT_FOR_DELIVERY,
            TRANSACTIONAL,
            "Out for delivery",
            {
                **_ORDER,
                "carrier": "Delhivery",
                "awb": "1234567890123",
                "tracking_url": "https://track.example.in/1234567890123",
            },
        ),
        EventType(
            DELIVERED,
            TRANSACTIONAL,
            "Delivered",
            {**_ORDER, "carrier": "Delhivery", "awb": "1234567890123"},
        ),
        EventType(
            DELIVERY_FAILED,
            TRANSACTIONAL,
            "Delivery attempt failed",
            {
                **_ORDER,
                "carrier": "Delhivery",
                "awb": "1234567890123",
                "tracking_url": "https://track.example.in/1234567890123",
                "reason": "Customer not available",
            },
        ),
        EventType(OTP, TRANSACTIONAL, "Login code", {**_STORE, "code": "482913", "minutes": 5}),
        EventType(
            LOW_STOCK,
            TRANSACTIONAL,
            "Low stock (admins)",
            {
                **_STORE,
                "variant_id": "var_kumkumadi_30ml",
                "warehouse": "warehouses/blr-1",
                "available": 3,
                "on_hand": 5,
                "reorder_point": 10,
            },
        ),
        EventType(
            CART_ABANDONED,
            MARKETING,
            "Abandoned cart reminder",
            {
                **_STORE,
                "customer_name": "Asha",
                "cart_url": "https://shop.cleanse.example/cart",
                "item_count": 3,
                "subtotal_paise": 189700,
                "reminder_number": 1,
            },
        ),
    )
}


def category_of(event_type: str) -> str:
    e = EVENT_TYPES.get(event_type)
    return e.category if e else TRANSACTIONAL
