"""Customer segments over real gRPC: seeded VIP / new-customer segments, rules over
order figures fed by order events (EventSink, deduplicated), tags, auth signup dates."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import func, select

from cleanse.common.v1 import events_pb2, money_pb2
from cleanse.order.v1 import events_pb2 as order_events_pb2
from cleanse.settings.v1 import resources_pb2 as res
from cleanse.settings.v1 import settings_admin_service_pb2 as adm
from cleanse.settings.v1 import settings_internal_service_pb2 as internal
from services.settings.models import PROCESSED_EVENTS
from tests.settings.conftest import SettingsHarness, unique
from tests.support.rpc import violations

Code = grpc.StatusCode


@pytest.fixture(scope="module")
def order_events(settings_svc: SettingsHarness) -> SettingsHarness:
    """The settings service consumes the order service's own event payloads."""
    return settings_svc


async def deliver(h: SettingsHarness, topic: str, event_id: str, **fields: object) -> bool:
    """Deliver an order event built from the order service's real payload message."""
    amount = money_pb2.Money(amount_minor=int(fields["amount_minor"]), currency_code="INR")
    common = {
        "order": str(fields["order"]),
        "customer": str(fields.get("user", "")),
        "state_code": str(fields.get("state", "")),
        "city": str(fields.get("city", "")),
    }
    if topic == "order.placed":
        payload = order_events_pb2.OrderPlacedEvent(total=amount, **common)
    else:
        payload = order_events_pb2.OrderRefundedEvent(amount=amount, **common)
    ev = events_pb2.Event(event_id=event_id, topic=topic, source="order")
    ev.payload.Pack(payload)
    return await h.wired.sink.handle(ev)


def user(h: SettingsHarness, signed_up_days_ago: int) -> str:
    name = f"users/{unique('u')}"
    h.auth.users[name] = datetime.now(UTC) - timedelta(days=signed_up_days_ago)
    return name


async def segments_of(h: SettingsHarness, name: str, only: list[str] | None = None) -> list[str]:
    resp = await h.internal.EvaluateCustomerSegments(
        internal.EvaluateCustomerSegmentsRequest(user=name, segments=only or [])
    )
    return list(resp.segments)


async def test_vip_and_new_customer_segments(order_events: SettingsHarness) -> None:
    h = order_events
    fresh, veteran = user(h, 3), user(h, 400)
    assert "customerSegments/new-customers" in await segments_of(h, fresh)
    assert "customerSegments/vip" not in await segments_of(h, veteran)
    # Rs 6,000 + Rs 4,000 placed -> Rs 10,000: VIP. The redelivered event counts once.
    o1 = secrets.token_hex(6)
    assert not await deliver(h, "order.placed", o1, user=veteran, order="o1", amount_minor=600000,
                             state="MH", city="Pune")  # fmt: skip
    assert await deliver(h, "order.placed", o1, user=veteran, order="o1", amount_minor=600000)
    await deliver(
        h, "order.placed", secrets.token_hex(6), user=veteran, order="o2", amount_minor=400000
    )
    assert await segments_of(h, veteran, ["customerSegments/vip"]) == ["customerSegments/vip"]
    assert "customerSegments/new-customers" not in await segments_of(h, veteran)
    # A Rs 500 refund takes them below the threshold again.
    await deliver(
        h, "order.refunded", secrets.token_hex(6), user=veteran, order="o2", amount_minor=50000
    )
    assert await segments_of(h, veteran, ["customerSegments/vip"]) == []
    prof = await h.admin.GetCustomerProfile(
        adm.GetCustomerProfileRequest(name="customerProfiles/" + veteran.removeprefix("users/")),
        metadata=h.md(),
    )
    assert (prof.total_spend.amount_minor, prof.order_count, prof.state_code, prof.city) == (
        950000,
        2,
        "MH",
        "Pune",
    )


async def test_custom_segment_rules_tags_and_crud(order_events: SettingsHarness) -> None:
    h = order_events
    md = h.md()
    sid = unique("south-")
    seg = await h.admin.CreateCustomerSegment(
        adm.CreateCustomerSegmentRequest(
            customer_segment_id=sid,
            customer_segment=res.CustomerSegment(
                display_name="Loyal south",
                rules=res.SegmentRules(
                    min_order_count=1, state_codes=["KA", "TN"], any_tags=["ayurveda-fan"]
                ),
            ),
        ),
        metadata=md,
    )
    name = seg.name
    u = user(h, 100)
    uid = u.removeprefix("users/")
    await deliver(h, "order.placed", secrets.token_hex(6), user=u, order="o", amount_minor=49900,
                  state="KA", city="Bengaluru")  # fmt: skip
    assert await segments_of(h, u, [name]) == []  # no tag yet
    tagged = await h.admin.SetCustomerTags(
        adm.SetCustomerTagsRequest(name=f"customerProfiles/{uid}", tags=["Ayurveda-Fan"]),
        metadata=md,
    )
    assert list(tagged.tags) == ["ayurveda-fan"]
    assert await segments_of(h, u, [name, "customerSegments/nope"]) == [name]
    # Narrow the rules: Tamil Nadu only -> no longer a member.
    await h.admin.UpdateCustomerSegment(
        adm.UpdateCustomerSegmentRequest(
            customer_segment=res.CustomerSegment(
                name=name, rules=res.SegmentRules(state_codes=["TN"])
            ),
            update_mask={"paths": ["rules"]},
        ),
        metadata=md,
    )
    assert await segments_of(h, u, [name]) == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await h.admin.CreateCustomerSegment(
            adm.CreateCustomerSegmentRequest(
                customer_segment_id="Bad Id",
                customer_segment=res.CustomerSegment(
                    rules=res.SegmentRules(
                        min_total_spend=money_pb2.Money(amount_minor=-1), state_codes=["XX"]
                    )
                ),
            ),
            metadata=md,
        )
    assert set(violations(err.value)) == {
        "customer_segment_id",
        "customer_segment.display_name",
        "customer_segment.rules.min_total_spend",
        "customer_segment.rules.state_codes[0]",
    }
    with pytest.raises(grpc.aio.AioRpcError) as err:  # tags for an unknown user
        await h.admin.SetCustomerTags(
            adm.SetCustomerTagsRequest(name="customerProfiles/ghost", tags=["x"]), metadata=md
        )
    assert err.value.code() == Code.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await h.admin.ListCustomerSegments(
            adm.ListCustomerSegmentsRequest(), metadata=h.md(perms=("settings.read",))
        )
    assert err.value.code() == Code.PERMISSION_DENIED
    await h.admin.DeleteCustomerSegment(adm.DeleteCustomerSegmentRequest(name=name), metadata=md)
    listed = await h.admin.ListCustomerSegments(
        adm.ListCustomerSegmentsRequest(page_size=200), metadata=md
    )
    assert name not in {s.name for s in listed.customer_segments}
    assert {"customerSegments/vip", "customerSegments/new-customers"} <= {
        s.name for s in listed.customer_segments
    }


async def test_unknown_user_is_in_no_signup_segment(order_events: SettingsHarness) -> None:
    h = order_events
    calls = h.auth.calls
    assert await segments_of(h, "users/nobody", ["customerSegments/new-customers"]) == []
    assert h.auth.calls == calls + 1
    # Segments without signup rules never ask auth.
    await segments_of(h, "users/nobody", ["customerSegments/vip"])
    assert h.auth.calls == calls + 1


async def test_a_guests_order_is_answered_without_a_transaction_and_counts_for_nobody(
    order_events: SettingsHarness,
) -> None:
    h = order_events
    event_id = secrets.token_hex(6)
    assert not await deliver(h, "order.placed", event_id, order="o9", amount_minor=9900)
    # Nothing to do, so nothing remembered: a redelivery is answered the same way.
    assert not await deliver(h, "order.placed", event_id, order="o9", amount_minor=9900)
    async with h.wired.db.session() as s:
        seen = await s.scalar(select(func.count()).where(PROCESSED_EVENTS.c.event_id == event_id))
    assert seen == 0
    # A customer's order is recorded once, and its redelivery is the duplicate.
    u, other = user(h, 5), secrets.token_hex(6)
    assert not await deliver(h, "order.placed", other, user=u, order="o10", amount_minor=9900)
    assert await deliver(h, "order.placed", other, user=u, order="o10", amount_minor=9900)
