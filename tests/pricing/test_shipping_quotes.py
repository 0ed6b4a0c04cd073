"""Pricing's shipping charge from the shipping service (issues 4 and 6).

CalculatePrice over real gRPC against the pricing server, which calls a fake
ShippingInternalService (its own real gRPC server) through mesh.client: the quote
is used when shipping answers, the flat rate when it is stopped, and a PIN code
shipping cannot deliver to is FAILED_PRECONDITION for the caller.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from cleanse.pricing.v1 import breakdown_pb2 as bpb
from cleanse.pricing.v1 import coupon_hold_service_pb2 as hpb
from cleanse.pricing.v1 import pricing_admin_service_pb2 as apb
from cleanse.pricing.v1 import pricing_service_pb2 as ppb
from cleanse.pricing.v1 import resources_pb2 as rpb
from cleanse.shipping.v1 import resources_pb2 as srpb
from cleanse.shipping.v1 import shipping_internal_service_pb2 as spb
from cleanse.shipping.v1 import shipping_internal_service_pb2_grpc as sgrpc
from mesh import client
from mesh.db import Database
from mesh.errors import Unavailable
from services.pricing.app import build
from services.pricing.config import Settings
from services.pricing.shipping import (
    DEFAULT_UNIT_WEIGHT_GRAMS,
    Quote,
    QuoteRequest,
    ShippingQuotes,
)
from tests.pricing.conftest import Pricing
from tests.pricing.fakes import rs
from tests.support.rpc import reason

PIN = "560001"  # KA in the fake settings
UNSERVICEABLE = "400001"


@dataclass
class FakeShipping(sgrpc.ShippingInternalServiceServicer):
    """QuoteShipping with a STANDARD and an EXPRESS option; records what it was asked."""

    rate: int = 6000
    base_rate: int = 6000
    free: bool = False
    cod_available: bool = True
    cod_fee: int = 2500
    unserviceable: set[str] = field(default_factory=lambda: {UNSERVICEABLE})
    requests: list[spb.QuoteShippingRequest] = field(default_factory=list)

    async def QuoteShipping(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        if request.pincode in self.unserviceable:
            return spb.QuoteShippingResponse(pincode=request.pincode, serviceable=False)
        cod = request.payment_method == "cod"
        return spb.QuoteShippingResponse(
            pincode=request.pincode,
            state_code="KA",
            zone="zones/south",
            serviceable=True,
            weight_grams=request.weight_grams,
            options=[
                # Cheapest first, as shipping sorts them: pricing must still pick STANDARD.
                spb.ShippingQuoteOption(
                    kind=srpb.METHOD_KIND_EXPRESS,
                    method="methods/express",
                    rate=rs(100),
                    base_rate=rs(100),
                    cod_available=False,
                    available=not cod,
                    unavailable_reason="COD_NOT_AVAILABLE" if cod else "",
                ),
                spb.ShippingQuoteOption(
                    kind=srpb.METHOD_KIND_STANDARD,
                    method="methods/standard",
                    rate=rs(self.rate),
                    base_rate=rs(self.base_rate),
                    free=self.free,
                    cod_available=self.cod_available,
                    cod_fee=rs(self.cod_fee if self.cod_available else 0),
                    available=self.cod_available or not cod,
                    unavailable_reason="" if self.cod_available or not cod else "COD_NOT_AVAILABLE",
                ),
            ],
        )


@dataclass
class Shipping:
    fake: FakeShipping
    server: grpc.aio.Server

    async def stop(self) -> None:
        await self.server.stop(0)


@pytest.fixture
async def shipping(pricing: Pricing) -> AsyncIterator[Shipping]:
    """A fake shipping service, and the pricing server quoting through it (no cache)."""
    fake = FakeShipping()
    server = grpc.aio.server()
    sgrpc.add_ShippingInternalServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_SHIPPING_ADDR", f"127.0.0.1:{port}")
    quoter = pricing.wired.quoter
    saved = quoter.shipping
    quoter.shipping = ShippingQuotes(pricing.wired.peers.shipping_quote)
    client.reset_breakers()
    try:
        yield Shipping(fake, server)
    finally:
        quoter.shipping = saved
        await server.stop(0)
        mp.undo()
        client.reset_breakers()


def cart(lines: list[tuple[str, int]], **kw: Any) -> bpb.Cart:
    kw.setdefault("delivery_pincode", PIN)
    return bpb.Cart(lines=[bpb.CartLine(variant_id=v, quantity=q) for v, q in lines], **kw)


async def price(p: Pricing, c: bpb.Cart) -> bpb.PriceBreakdown:
    return await p.public.CalculatePrice(ppb.CalculatePriceRequest(cart=c))


async def flat_coupon(p: Pricing, paise: int) -> str:
    code = "S" + secrets.token_hex(4).upper()
    await p.admin.CreateCoupon(
        apb.CreateCouponRequest(
            coupon=rpb.Coupon(code=code, active=True, kind=rpb.DISCOUNT_KIND_FLAT, amount=rs(paise))
        ),
        metadata=p.md(),
    )
    return code


async def test_quote_from_shipping_is_the_charge(pricing: Pricing, shipping: Shipping) -> None:
    p = pricing
    heavy = p.variant(30000, weight_grams=700)
    unweighed = p.variant(10000)  # weight 0 in the catalog: the default per unit
    code = await flat_coupon(p, 10000)
    b = await price(p, cart([(heavy, 2), (unweighed, 1)], coupon_codes=[code]))

    # What shipping was asked: the parcel from catalog weights, the order value after
    # discounts (Rs 700 - Rs 100), the PIN.
    req = shipping.fake.requests[-1]
    assert req.pincode == PIN
    assert req.weight_grams == 2 * 700 + DEFAULT_UNIT_WEIGHT_GRAMS == 1900
    assert sorted((ln.variant_id, ln.quantity, ln.unit_weight_grams) for ln in req.lines) == sorted(
        [(heavy, 2, 700), (unweighed, 1, DEFAULT_UNIT_WEIGHT_GRAMS)]
    )
    assert req.order_value.amount_minor == 60000
    assert req.order_value.currency_code == "INR"

    # The STANDARD option's rate, not the cheaper EXPRESS one nor the flat Rs 49. The
    # order value is past settings' Rs 499 threshold, but on a quote from shipping the
    # threshold is shipping's: pricing does not waive the fee a second time.
    assert b.shipping.source == "methods/standard"
    assert b.shipping.fee.amount_minor == 6000 and not b.shipping.free
    assert b.total.amount_minor == 60000 + 6000
    assert not [pr for pr in b.progress if pr.kind == bpb.PROGRESS_KIND_FREE_SHIPPING]


async def test_free_when_shipping_waives_it(pricing: Pricing, shipping: Shipping) -> None:
    p = pricing
    shipping.fake.rate, shipping.fake.base_rate, shipping.fake.free = 0, 6000, True
    cheap = p.variant(20000, weight_grams=300)  # below settings' threshold: shipping decides
    b = await price(p, cart([(cheap, 1)]))
    assert b.shipping.fee.amount_minor == 0
    assert b.shipping.base_fee.amount_minor == 6000
    assert b.shipping.free and b.shipping.free_reason == "threshold"
    assert b.total.amount_minor == 20000


async def test_cod_fee_from_shipping_else_settings(pricing: Pricing, shipping: Shipping) -> None:
    p = pricing
    v = p.variant(20000, weight_grams=300)
    b = await price(p, cart([(v, 1)], payment_method="cod"))
    assert shipping.fake.requests[-1].payment_method == "cod"
    assert b.payment_method_available
    assert b.cod_fee.amount_minor == 2500  # shipping's, not settings' Rs 39
    assert b.total.amount_minor == 20000 + 6000 + 2500

    shipping.fake.cod_fee = 0  # shipping quotes no fee: settings' applies
    b = await price(p, cart([(v, 1)], payment_method="cod"))
    assert b.cod_fee.amount_minor == 3900

    shipping.fake.cod_available = False  # the STANDARD method cannot collect here
    b = await price(p, cart([(v, 1)], payment_method="cod"))
    assert not b.payment_method_available
    assert b.cod_fee.amount_minor == 0
    assert any("not available for this PIN code" in m for m in b.messages)


async def test_unserviceable_pincode_is_an_error(pricing: Pricing, shipping: Shipping) -> None:
    p = pricing
    v = p.variant(20000, weight_grams=300)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await price(p, cart([(v, 1)], delivery_pincode=UNSERVICEABLE))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "PINCODE_NOT_SERVICEABLE"
    assert shipping.fake.requests[-1].pincode == UNSERVICEABLE

    # Checkout too: no coupon hold for a cart that cannot be delivered.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await p.holds.HoldCoupons(
            hpb.HoldCouponsRequest(
                request_id="chk_" + secrets.token_hex(4),
                cart=cart([(v, 1)], delivery_pincode=UNSERVICEABLE),
            )
        )
    assert reason(err.value) == "PINCODE_NOT_SERVICEABLE"


async def test_flat_rate_when_shipping_is_down(pricing: Pricing, shipping: Shipping) -> None:
    p = pricing
    v = p.variant(20000, weight_grams=300)
    b = await price(p, cart([(v, 1)]))
    assert b.shipping.source == "methods/standard"

    await shipping.stop()
    asked = len(shipping.fake.requests)
    for _ in range(3):  # connection refused, then the open circuit: both degrade
        b = await price(p, cart([(v, 1)], payment_method="cod"))
        assert b.shipping.source == "flat_rate"
        assert b.shipping.fee.amount_minor == 4900  # settings' flat rate
        assert b.cod_fee.amount_minor == 3900  # settings' COD fee
    assert len(shipping.fake.requests) == asked
    # ... with settings' threshold, applied by pricing on the flat rate.
    big = p.variant(60000, weight_grams=300)
    b = await price(p, cart([(big, 1)]))
    assert b.shipping.source == "flat_rate"
    assert b.shipping.free and b.shipping.free_reason == "threshold"
    assert b.shipping.base_fee.amount_minor == 4900


async def test_no_pincode_prices_the_flat_rate_without_asking(
    pricing: Pricing, shipping: Shipping
) -> None:
    p = pricing
    v = p.variant(20000, weight_grams=300)
    b = await price(p, cart([(v, 1)], delivery_pincode=""))
    assert b.shipping.source == "flat_rate" and b.shipping.fee.amount_minor == 4900
    assert shipping.fake.requests == []


def test_wiring_uses_shipping_unless_turned_off(tmp_path) -> None:
    db = Database("pricing", f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert build(db, Settings(seed_demo=False)).quoter.shipping.enabled
    off = Settings.from_env({"CLEANSE_PRICING_SHIPPING_QUOTES": "0"})
    assert not off.shipping_quotes
    assert not build(db, off).quoter.shipping.enabled


async def test_quotes_are_cached_briefly_but_never_the_fallback() -> None:
    asked: list[QuoteRequest] = []
    down = False

    async def remote(req: QuoteRequest) -> Quote:
        asked.append(req)
        if down:
            raise Unavailable("shipping is down")
        return Quote(6000, "methods/standard", base_fee=6000)

    quotes = ShippingQuotes(remote, cache_seconds=60)
    req = QuoteRequest(PIN, 60000, 1900)
    assert (await quotes.quote(req, 4900)).fee == 6000
    assert (await quotes.quote(req, 4900)).fee == 6000
    assert len(asked) == 1  # the second from the cache
    await quotes.quote(req, 4900, fresh=True)  # HoldCoupons: asks again
    assert len(asked) == 2
    down = True
    other = QuoteRequest(PIN, 70000, 1900)
    assert (await quotes.quote(other, 4900)).source == "flat_rate"
    down = False
    assert (await quotes.quote(other, 4900)).source == "methods/standard"  # not cached
    assert len(asked) == 4
