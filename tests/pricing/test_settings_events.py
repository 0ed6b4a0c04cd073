"""settings.changed reaches pricing through the outbox's EventSink: cached settings go
at once instead of after the cache's TTL, and a redelivered event does nothing."""

from __future__ import annotations

import secrets

from google.protobuf import any_pb2

from cleanse.common.v1 import events_pb2, events_pb2_grpc
from cleanse.settings.v1 import events_pb2 as settings_events_pb2
from mesh import client
from tests.pricing.conftest import Pricing
from tests.pricing.test_service import cart, price


def settings_changed() -> events_pb2.Event:
    payload = any_pb2.Any()
    payload.Pack(settings_events_pb2.SettingsChangedEvent(resources=["storeSettings"]))
    return events_pb2.Event(
        event_id=secrets.token_hex(16),
        topic="settings.changed",
        payload=payload,
        source="settings",
    )


async def test_settings_change_drops_cached_settings_at_once(pricing: Pricing) -> None:
    p = pricing
    cache = p.wired.peers.settings_cache
    config = p.peers.settings.config
    saved_ttl, saved_rate = cache.ttl, config.flat_shipping_rate.amount_minor
    cache.ttl = 3600.0  # as in production: long enough that only the event can refresh
    cache.clear()
    try:
        v = p.variant(19900)
        before = await price(p, cart([(v, 1)], delivery_pincode="560001"))
        assert before.shipping.fee.amount_minor == saved_rate
        config.flat_shipping_rate.amount_minor = saved_rate + 5000  # settings changed
        cached = await price(p, cart([(v, 1)], delivery_pincode="560001"))
        assert cached.shipping.fee.amount_minor == saved_rate  # still the cached copy

        sink = client.stub("pricing", events_pb2_grpc.EventSinkServiceStub)
        event = settings_changed()
        first = await sink.Deliver(events_pb2.DeliverRequest(event=event))
        assert not first.duplicate
        after = await price(p, cart([(v, 1)], delivery_pincode="560001"))
        assert after.shipping.fee.amount_minor == saved_rate + 5000

        again = await sink.Deliver(events_pb2.DeliverRequest(event=event))
        assert again.duplicate
    finally:
        cache.ttl = saved_ttl
        config.flat_shipping_rate.amount_minor = saved_rate
        cache.clear()
