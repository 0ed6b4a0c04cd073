"""Analytics over real gRPC: batch and property caps, rate limits with RetryInfo, the
funnel by day over known events, and top products."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cleanse.settings.v1 import analytics_service_pb2 as pb
from cleanse.settings.v1 import analytics_service_pb2_grpc as pb_grpc
from mesh import client
from tests.settings.conftest import SettingsHarness, unique
from tests.support.rpc import reason, retry_delay, violations

Code = grpc.StatusCode
T = pb.AnalyticsEventType


def ip() -> tuple[tuple[str, str], ...]:
    """A client address of our own, forwarded the way the edge forwards it."""
    return (("x-forwarded-for", f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.7"),)


def edge() -> pb_grpc.AnalyticsServiceStub:
    return client.stub("settings", pb_grpc.AnalyticsServiceStub)


def ev(kind: int, session: str, when: datetime | None = None, **props: str) -> pb.AnalyticsEvent:
    e = pb.AnalyticsEvent(
        type=kind, anonymous_id="anon-" + session, session_id=session, properties=props
    )  # type: ignore[arg-type]
    if when is not None:
        t = timestamp_pb2.Timestamp()
        t.FromDatetime(when)
        e.client_time.CopyFrom(t)
    return e


def day(d: datetime) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


async def test_size_caps_reject_the_whole_batch(settings_svc: SettingsHarness) -> None:
    s = unique("s")
    too_many = [ev(T.ANALYTICS_EVENT_TYPE_PAGE_VIEW, s)] * 51
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await edge().IngestEvents(pb.IngestEventsRequest(events=too_many), metadata=ip())
    assert err.value.code() == Code.INVALID_ARGUMENT and "events" in violations(err.value)
    bad = [
        ev(T.ANALYTICS_EVENT_TYPE_PAGE_VIEW, s, **{f"k{i}": "v" for i in range(21)}),
        ev(T.ANALYTICS_EVENT_TYPE_SEARCH, s, query="x" * 257),
        ev(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s),  # no product_id
        pb.AnalyticsEvent(type=T.ANALYTICS_EVENT_TYPE_PAGE_VIEW, session_id=s),  # no anonymous id
        pb.AnalyticsEvent(anonymous_id="a", session_id=s),  # no type
    ]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await edge().IngestEvents(pb.IngestEventsRequest(events=bad), metadata=ip())
    assert set(violations(err.value)) == {
        "events[0].properties",
        "events[1].properties[query]",
        "events[2].properties[product_id]",
        "events[3].anonymous_id",
        "events[4].type",
    }
    # A customer's events need no anonymous id: the user comes from the token.
    ok = await settings_svc.analytics.IngestEvents(
        pb.IngestEventsRequest(
            events=[pb.AnalyticsEvent(type=T.ANALYTICS_EVENT_TYPE_PAGE_VIEW, session_id=s)]
        ),
        metadata=settings_svc.md(role="customer", perms=(), sub="users/c1"),
    )
    assert ok.accepted == 1


async def test_rate_limit_per_ip_and_anonymous_id(settings_svc: SettingsHarness) -> None:
    md = ip()
    batch = [ev(T.ANALYTICS_EVENT_TYPE_PAGE_VIEW, unique("s")) for _ in range(40)]
    for _ in range(3):  # 120 events: the IP's whole burst
        assert (
            await edge().IngestEvents(pb.IngestEventsRequest(events=batch), metadata=md)
        ).accepted == 40
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await edge().IngestEvents(pb.IngestEventsRequest(events=batch[:5]), metadata=md)
    assert err.value.code() == Code.RESOURCE_EXHAUSTED and reason(err.value) == "RATE_LIMITED"
    delay = retry_delay(err.value)
    assert delay is not None and 0 < delay <= 5.1
    # Another IP is fine, but one anonymous id is capped wherever it comes from.
    anon = unique("a")
    same = [
        pb.AnalyticsEvent(type=T.ANALYTICS_EVENT_TYPE_PAGE_VIEW, anonymous_id=anon, session_id="x")
    ] * 30
    for _ in range(2):
        await edge().IngestEvents(pb.IngestEventsRequest(events=same), metadata=ip())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await edge().IngestEvents(pb.IngestEventsRequest(events=same[:2]), metadata=ip())
    assert err.value.code() == Code.RESOURCE_EXHAUSTED and retry_delay(err.value)


async def funnel(h: SettingsHarness, d: datetime) -> tuple[int, ...]:
    rep = await h.analytics.GetFunnelReport(
        pb.GetFunnelReportRequest(start_date=day(d), end_date=day(d)), metadata=h.md()
    )
    f = rep.days[0]
    return (
        f.product_view_sessions,
        f.add_to_cart_sessions,
        f.checkout_sessions,
        f.purchase_sessions,
    )


async def test_funnel_by_day_and_top_products(settings_svc: SettingsHarness) -> None:
    h = settings_svc
    now = datetime.now(UTC)
    earlier = now - timedelta(hours=23, minutes=59)
    p1, p2 = unique("prod-"), unique("prod-")
    s1, s2, s3, s4, s5 = (unique("s") for _ in range(5))
    before_now, before_earlier = await funnel(h, now), await funnel(h, earlier)
    events = [
        ev(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s1, now, product_id=p1),
        ev(T.ANALYTICS_EVENT_TYPE_ADD_TO_CART, s1, now, product_id=p1),
        ev(T.ANALYTICS_EVENT_TYPE_CHECKOUT_STEP, s1, now, step="address"),
        ev(T.ANALYTICS_EVENT_TYPE_CHECKOUT_STEP, s1, now, step="payment"),
        ev(T.ANALYTICS_EVENT_TYPE_PURCHASE, s1, now, order_id="o1", product_ids=f"{p1},{p2}"),
        ev(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s2, now, product_id=p1),
        ev(T.ANALYTICS_EVENT_TYPE_ADD_TO_CART, s2, now, product_id=p2),
        ev(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s3, now, product_id=p2),
        ev(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s4, now, product_id=p1),
        ev(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s4, now, product_id=p1),  # same session twice
        ev(T.ANALYTICS_EVENT_TYPE_SEARCH, s4, now, query="kumkumadi"),
        ev(T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s5, earlier, product_id=p2),
        ev(
            T.ANALYTICS_EVENT_TYPE_PRODUCT_VIEW, s5, now - timedelta(days=3), product_id=p2
        ),  # skewed
    ]
    resp = await edge().IngestEvents(pb.IngestEventsRequest(events=events), metadata=ip())
    assert resp.accepted == len(events)
    got_now = tuple(a - b for a, b in zip(await funnel(h, now), before_now, strict=True))
    got_earlier = tuple(
        a - b for a, b in zip(await funnel(h, earlier), before_earlier, strict=True)
    )
    if now.date() == earlier.date():  # only just past midnight UTC: one day holds both
        assert got_now == (5, 2, 1, 1)
    else:
        assert got_now == (5, 2, 1, 1)  # s1..s4 + s5's skewed view (stored at server time)
        assert got_earlier == (1, 0, 0, 0)
    top = await h.analytics.GetTopProductsReport(
        pb.GetTopProductsReportRequest(
            start_date=day(earlier), end_date=day(now), rank_by=pb.PRODUCT_RANKING_VIEWS, limit=100
        ),
        metadata=h.md(),
    )
    stats = {p.product_id: (p.views, p.adds_to_cart, p.purchases) for p in top.products}
    assert stats[p1] == (4, 1, 1) and stats[p2] == (3, 1, 1)
    ranked = [p.product_id for p in top.products if p.product_id in (p1, p2)]
    assert ranked == [p1, p2]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await h.analytics.GetFunnelReport(
            pb.GetFunnelReportRequest(
                start_date=day(now), end_date=day(earlier - timedelta(days=1))
            ),
            metadata=h.md(),
        )
    assert "end_date" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await h.analytics.GetFunnelReport(
            pb.GetFunnelReportRequest(start_date=day(now), end_date=day(now)),
            metadata=h.md(perms=("settings.read",)),
        )
    assert err.value.code() == Code.PERMISSION_DENIED
