"""A fake Razorpay on a loopback port (one per module) and adapters pointed at it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from services.order.payments.razorpay import RazorpayConfig, RazorpayGateway
from tests.support.fake_razorpay import FakeRazorpay

FAST_BACKOFF = 0.01


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeRazorpay]:
    with FakeRazorpay.running() as f:
        yield f


def config_for(fake: FakeRazorpay, **overrides: Any) -> RazorpayConfig:
    """The adapter's configuration read from the fake's environment, as a service would."""
    cfg = RazorpayConfig.from_env(fake.env())
    return dataclasses.replace(
        cfg, **{"timeout_seconds": 2.0, "backoff_seconds": FAST_BACKOFF, **overrides}
    )


@pytest.fixture
async def gateway(fake: FakeRazorpay) -> AsyncIterator[RazorpayGateway]:
    g = RazorpayGateway(config_for(fake))
    yield g
    await g.aclose()
