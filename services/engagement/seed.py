"""The templates a fresh store starts with (version 1, author "system").

Seeding creates the seeded templates whose id does not exist yet: an admin's edits
survive a restart. A deleted seeded template comes back at the next start; to stop
one, deactivate it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mesh.db import Database, utcnow
from services.engagement import catalogue as c
from services.engagement.models import Template, TemplateVersion

log = logging.getLogger("cleanse.engagement.seed")


@dataclass(frozen=True)
class Seed:
    id: str
    event_type: str
    channel: str
    subject: str
    text_body: str
    html_body: str = ""
    provider_template_id: str = ""


_FOOT_TEXT = "\n\n{{ store_name }}\n{{ storefront_url }}"
_FOOT_HTML = (
    '<p style="color:#777">{{ store_name }} · '
    '<a href="{{ storefront_url }}">{{ storefront_url }}</a></p>'
)


def _html(body: str) -> str:
    return f'<html><body style="font-family:sans-serif">{body}{_FOOT_HTML}</body></html>'


SEEDS: tuple[Seed, ...] = (
    Seed(
        "order-placed-email",
        c.ORDER_PLACED,
        c.EMAIL,
        "Your order {{ order_number }} is confirmed",
        "Hi {{ customer_name or 'there' }},\n\nThank you for your order {{ order_number }} "
        "({{ item_count }} item{{ 's' if item_count != 1 }}, {{ total_paise|rupees }}).\n"
        "We'll tell you when it ships: {{ order_url }}" + _FOOT_TEXT,
        _html(
            "<h2>Thank you{% if customer_name %}, {{ customer_name }}{% endif %}!</h2>"
            "<p>Your order <b>{{ order_number }}</b> is confirmed: {{ item_count }} "
            "item{{ 's' if item_count != 1 }}, {{ total_paise|rupees }}.</p>"
            '<p><a href="{{ order_url }}">View your order</a></p>'
        ),
    ),
    Seed(
        "order-placed-sms",
        c.ORDER_PLACED,
        c.SMS,
        "",
        "{{ store_name }}: order {{ order_number }} confirmed, {{ total_paise|rupees }}. "
        "Track: {{ order_url }}",
        provider_template_id="order_confirmed",
    ),
    Seed(
        "payment-failed-email",
        c.PAYMENT_FAILED,
        c.EMAIL,
        "Payment for order {{ order_number }} did not go through",
        "Hi {{ customer_name or 'there' }},\n\nThe payment for order {{ order_number }} "
        "({{ total_paise|rupees }}) failed{% if reason %}: {{ reason }}{% endif %}.\n"
        "You can try again here: {{ retry_url }}" + _FOOT_TEXT,
        _html(
            "<p>The payment for order <b>{{ order_number }}</b> ({{ total_paise|rupees }}) "
            "failed{% if reason %}: {{ reason }}{% endif %}.</p>"
            '<p><a href="{{ retry_url }}">Try again</a></p>'
        ),
    ),
    Seed(
        "shipped-email",
        c.SHIPPED,
        c.EMAIL,
        "Your order {{ order_number }} has shipped",
        "Hi {{ customer_name or 'there' }},\n\nOrder {{ order_number }} is on its way with "
        "{{ carrier }} (AWB {{ awb }}).\nTrack it: {{ tracking_url }}" + _FOOT_TEXT,
        _html(
            "<p>Order <b>{{ order_number }}</b> is on its way with {{ carrier }} "
            "(AWB {{ awb }}).</p>"
            '<p><a href="{{ tracking_url }}">Track your shipment</a></p>'
        ),
    ),
    Seed(
        "shipped-sms",
        c.SHIPPED,
        c.SMS,
        "",
        "{{ store_name }}: order {{ order_number }} shipped via {{ carrier }}, AWB {{ awb }}. "
        "Track: {{ tracking_url }}",
        provider_template_id="order_shipped",
    ),
    Seed(
        "out-for-delivery-email",
        c.OUT_FOR_DELIVERY,
        c.EMAIL,
        "Order {{ order_number }} is out for delivery",
        "Hi {{ customer_name or 'there' }},\n\nOrder {{ order_number }} is out for delivery "
        "today.\nTrack it: {{ tracking_url }}" + _FOOT_TEXT,
        _html(
            "<p>Order <b>{{ order_number }}</b> is out for delivery today.</p>"
            '<p><a href="{{ tracking_url }}">Track your shipment</a></p>'
        ),
    ),
    Seed(
        "out-for-delivery-sms",
        c.OUT_FOR_DELIVERY,
        c.SMS,
        "",
        "{{ store_name }}: order {{ order_number }} is out for delivery today.",
        provider_template_id="out_for_delivery",
    ),
    Seed(
        "delivered-email",
        c.DELIVERED,
        c.EMAIL,
        "Order {{ order_number }} was delivered",
        "Hi {{ customer_name or 'there' }},\n\nOrder {{ order_number }} was delivered. "
        "We hope you love it!\n{{ order_url }}" + _FOOT_TEXT,
        _html(
            "<p>Order <b>{{ order_number }}</b> was delivered. We hope you love it!</p>"
            '<p><a href="{{ order_url }}">Your order</a></p>'
        ),
    ),
    Seed(
        "delivery-failed-email",
        c.DELIVERY_FAILED,
        c.EMAIL,
        "We could not deliver order {{ order_number }}",
        "Hi {{ customer_name or 'there' }},\n\n{{ carrier }} could not deliver order "
        "{{ order_number }}{% if reason %} ({{ reason }}){% endif %}. They will try again.\n"
        "Track it: {{ tracking_url }}" + _FOOT_TEXT,
        _html(
            "<p>{{ carrier }} could not deliver order <b>{{ order_number }}</b>"
            "{% if reason %} ({{ reason }}){% endif %}. They will try again.</p>"
            '<p><a href="{{ tracking_url }}">Track your shipment</a></p>'
        ),
    ),
    Seed(
        "refund-processed-email",
        c.REFUND_PROCESSED,
        c.EMAIL,
        "Your refund of {{ refund_paise|rupees }} for order {{ order_number }} is processed",
        "Hi {{ customer_name or 'there' }},\n\nWe have refunded {{ refund_paise|rupees }} for "
        "order {{ order_number }}{% if refund_reference %} (reference {{ refund_reference }})"
        "{% endif %}. It reaches your account in 5-7 working days." + _FOOT_TEXT,
        _html(
            "<p>We have refunded <b>{{ refund_paise|rupees }}</b> for order "
            "<b>{{ order_number }}</b>{% if refund_reference %} (reference "
            "{{ refund_reference }}){% endif %}.</p>"
            "<p>It reaches your account in 5-7 working days.</p>"
        ),
    ),
    Seed(
        "return-status-email",
        c.RETURN_STATUS,
        c.EMAIL,
        "Your return for order {{ order_number }}: {{ return_status }}",
        "Hi {{ customer_name or 'there' }},\n\nYour return {{ return_reference }} for order "
        "{{ order_number }} is now {{ return_status }}.\n{{ order_url }}" + _FOOT_TEXT,
        _html(
            "<p>Your return {{ return_reference }} for order <b>{{ order_number }}</b> is now "
            "<b>{{ return_status }}</b>.</p>"
        ),
    ),
    Seed(
        "otp-sms",
        c.OTP,
        c.SMS,
        "",
        "{{ code }} is your {{ store_name }} login code. It expires in {{ minutes }} minutes. "
        "Do not share it with anyone.",
        provider_template_id="login_otp",
    ),
    Seed(
        "low-stock-email",
        c.LOW_STOCK,
        c.EMAIL,
        "Low stock: {{ variant_id }} in {{ warehouse }} ({{ available }} left)",
        "Available stock of {{ variant_id }} in {{ warehouse }} fell to {{ available }} "
        "(on hand {{ on_hand }}, reorder point {{ reorder_point }}).\nPlease reorder.",
        _html(
            "<p>Available stock of <b>{{ variant_id }}</b> in {{ warehouse }} fell to "
            "<b>{{ available }}</b> (on hand {{ on_hand }}, reorder point "
            "{{ reorder_point }}).</p><p>Please reorder.</p>"
        ),
    ),
    Seed(
        "cart-abandoned-email",
        c.CART_ABANDONED,
        c.EMAIL,
        "You left something in your cart",
        "Hi {{ customer_name or 'there' }},\n\nYour cart still holds {{ item_count }} "
        "item{{ 's' if item_count != 1 }} ({{ subtotal_paise|rupees }}).\n"
        "Pick up where you left off: {{ cart_url }}" + _FOOT_TEXT,
        _html(
            "<p>Your cart still holds {{ item_count }} item{{ 's' if item_count != 1 }} "
            "({{ subtotal_paise|rupees }}).</p>"
            '<p><a href="{{ cart_url }}">Back to your cart</a></p>'
        ),
    ),
    Seed(
        "cart-abandoned-sms",
        c.CART_ABANDONED,
        c.SMS,
        "",
        "{{ store_name }}: your cart is waiting ({{ item_count }} items). {{ cart_url }}",
        provider_template_id="cart_reminder",
    ),
)


async def seed_templates(db: Database) -> int:
    """Create the seeded templates that are missing; returns how many were created.

    Replicas starting together on an empty database both find the templates
    missing; the one that commits second hits the unique keys, rolls back, and
    looks again (finding them all: it creates none)."""
    for _ in range(2):
        try:
            return await _seed_missing(db)
        except IntegrityError:  # another replica seeded at the same moment
            log.info("templates seeded by another replica meanwhile; looking again")
    return await _seed_missing(db)


async def _seed_missing(db: Database) -> int:
    async with db.transaction() as s:
        existing = set((await s.scalars(select(Template.id))).all())
        now = utcnow()
        created = 0
        for sd in SEEDS:
            if sd.id in existing:
                continue
            et = c.EVENT_TYPES[sd.event_type]
            clash = await s.scalar(
                select(Template.id).where(
                    Template.event_type == sd.event_type, Template.channel == sd.channel
                )
            )
            if clash:
                continue
            s.add(
                Template(
                    id=sd.id,
                    event_type=sd.event_type,
                    channel=sd.channel,
                    category=et.category,
                    display_name=f"{et.display_name} ({sd.channel.lower()})",
                    active=True,
                    version=1,
                    create_time=now,
                    update_time=now,
                )
            )
            await s.flush()
            s.add(
                TemplateVersion(
                    template_id=sd.id,
                    version=1,
                    subject=sd.subject,
                    text_body=sd.text_body,
                    html_body=sd.html_body,
                    provider_template_id=sd.provider_template_id,
                    author="system",
                    create_time=now,
                )
            )
            created += 1
    return created
