"""mesh.timestamps.ts: the same Timestamp as protobuf's own FromDatetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanse.pricing.v1 import coupon_hold_service_pb2
from mesh.timestamps import set_ts, ts


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2030, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 5, 1, 12, 0, 0),  # naive: local time, as astimezone takes it
    ],
)
def test_ts_is_from_datetime(value: datetime) -> None:
    expected = timestamp_pb2.Timestamp()
    expected.FromDatetime(value.astimezone(UTC))
    assert ts(value) == expected


def test_none_is_none() -> None:
    assert ts(None) is None


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
def test_set_ts_writes_what_ts_builds(value: datetime) -> None:
    for v in (value.replace(tzinfo=UTC), value.replace(tzinfo=timezone(timedelta(hours=5.5)))):
        out = coupon_hold_service_pb2.CouponHold()
        set_ts(out.expire_time, v)
        assert out.expire_time == ts(v)
        assert out.HasField("expire_time")
    out = coupon_hold_service_pb2.CouponHold()
    set_ts(out.expire_time, None)
    assert not out.HasField("expire_time")
