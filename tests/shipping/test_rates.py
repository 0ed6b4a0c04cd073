"""Quotes and PIN checks against the demo data (figures hand-checked against seed.py:
South standard 0.5/1/2 kg = Rs 49/69/99 + Rs 20 per started 500 g above, free from
Rs 499, COD fee Rs 49; South express Rs 99/129/179 + Rs 40 per 500 g, no COD)."""

from __future__ import annotations

import grpc
import pytest

from cleanse.common.v1 import money_pb2
from cleanse.shipping.v1 import resources_pb2 as pb
from cleanse.shipping.v1 import shipping_admin_service_pb2 as admin_pb2
from cleanse.shipping.v1 import shipping_internal_service_pb2 as ipb
from cleanse.shipping.v1 import shipping_service_pb2 as spb
from tests.support.rpc import reason, violations

STD, EXP = pb.METHOD_KIND_STANDARD, pb.METHOD_KIND_EXPRESS


def req(pincode: str, grams: int, value: int, payment: str = "prepaid") -> ipb.QuoteShippingRequest:
    return ipb.QuoteShippingRequest(
        pincode=pincode,
        weight_grams=grams,
        payment_method=payment,
        order_value=money_pb2.Money(amount_minor=value, currency_code="INR"),
    )


def by_kind(resp: ipb.QuoteShippingResponse) -> dict[int, ipb.ShippingQuoteOption]:
    return {o.kind: o for o in resp.options}


async def test_slab_rates_and_estimates(shipping) -> None:
    r = await shipping.internal.QuoteShipping(req("560001", 1200, 30000))
    assert (r.state_code, r.zone, r.serviceable) == ("KA", "zones/south", True)
    o = by_kind(r)
    assert o[STD].rate.amount_minor == 9900 and not o[STD].free  # 1.2 kg -> 2 kg slab
    assert o[EXP].rate.amount_minor == 17900
    # The PIN row says 2 days: a method never promises less than its own estimate.
    assert (o[STD].estimated_days, o[EXP].estimated_days) == (3, 2)
    assert [x.kind for x in r.options] == [STD, EXP]  # cheapest first


async def test_weight_above_last_slab_and_lines(shipping) -> None:
    # 3.1 kg = 2 kg slab + 3 started 500 g steps.
    o = by_kind(await shipping.internal.QuoteShipping(req("560001", 3100, 30000)))
    assert o[STD].rate.amount_minor == 9900 + 3 * 2000
    assert o[EXP].rate.amount_minor == 17900 + 3 * 4000
    # Weight from the lines: 3 x 150 g = 450 g -> the 500 g slab.
    lines = ipb.QuoteShippingRequest(
        pincode="400001",
        lines=[ipb.QuoteLine(variant_id="v", quantity=3, unit_weight_grams=150)],
        order_value=money_pb2.Money(amount_minor=10000, currency_code="INR"),
    )
    r = await shipping.internal.QuoteShipping(lines)
    assert r.weight_grams == 450 and r.zone == "zones/west"
    assert by_kind(r)[STD].rate.amount_minor == 4900


async def test_free_shipping_threshold(shipping) -> None:
    below = by_kind(await shipping.internal.QuoteShipping(req("560001", 800, 49899)))
    at = by_kind(await shipping.internal.QuoteShipping(req("560001", 800, 49900)))
    assert (below[STD].rate.amount_minor, below[STD].free) == (6900, False)
    assert (at[STD].rate.amount_minor, at[STD].free, at[STD].base_rate.amount_minor) == (
        0,
        True,
        6900,
    )
    assert (at[EXP].rate.amount_minor, at[EXP].free) == (12900, False)  # express: no threshold


async def test_cod_availability_and_fee(shipping) -> None:
    r = await shipping.internal.QuoteShipping(req("560001", 400, 30000, "cod"))
    o = by_kind(r)
    assert (o[STD].cod_available, o[STD].cod_fee.amount_minor, o[STD].available) == (
        True,
        4900,
        True,
    )
    assert (o[EXP].available, o[EXP].unavailable_reason) == (False, "COD_NOT_AVAILABLE")
    assert r.options[0].kind == STD  # available options first
    # Port Blair: the PIN row says prepaid only, and slow.
    pb_ = by_kind(await shipping.internal.QuoteShipping(req("744101", 400, 30000, "cod")))
    assert not pb_[STD].cod_available and not pb_[STD].available
    assert pb_[STD].estimated_days == 10
    # Above the COD limit (Rs 25,000) no method collects cash.
    big = by_kind(await shipping.internal.QuoteShipping(req("400001", 400, 2600000, "cod")))
    assert not big[STD].cod_available


async def test_unserviceable_fake_and_malformed_pins(shipping) -> None:
    leh = await shipping.internal.QuoteShipping(req("194101", 400, 1000))
    assert (leh.serviceable, len(leh.options), leh.state_code) == (False, 0, "LA")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await shipping.internal.QuoteShipping(req("123457", 400, 1000))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and reason(e.value) == "PINCODE_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await shipping.internal.QuoteShipping(req("056001", 400, 1000))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "pincode" in violations(e.value)


async def test_public_check_pincode(shipping) -> None:
    r = await shipping.public.CheckPincode(spb.CheckPincodeRequest(pincode="560001"))
    assert (r.serviceable, r.cod_available, r.state_code, r.estimated_days) == (True, True, "KA", 2)
    assert r.city == "Bengaluru Urban"
    leh = await shipping.public.CheckPincode(spb.CheckPincodeRequest(pincode="194101"))
    assert not leh.serviceable and not leh.options
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await shipping.public.CheckPincode(spb.CheckPincodeRequest(pincode="999999"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_quote_is_internal_only(shipping) -> None:
    from cleanse.shipping.v1 import shipping_internal_service_pb2_grpc as g

    direct = g.ShippingInternalServiceStub(shipping.channel)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await direct.QuoteShipping(req("560001", 400, 1000), metadata=shipping.md())
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_range_zone_beats_state_zone(shipping) -> None:
    md = shipping.md()
    await shipping.admin.CreateShippingZone(
        admin_pb2.CreateShippingZoneRequest(
            zone_id="cbe-city",
            zone=pb.ShippingZone(
                display_name="Coimbatore city",
                active=True,
                pincode_ranges=[pb.PincodeRange(start="641001", end="641010")],
            ),
        ),
        metadata=md,
    )
    await shipping.admin.CreateShippingMethod(
        admin_pb2.CreateShippingMethodRequest(
            method_id="cbe-standard",
            method=pb.ShippingMethod(
                zone="zones/cbe-city",
                kind=STD,
                display_name="Same-city",
                slabs=[pb.WeightSlab(max_weight_grams=1000, rate_minor=2500)],
                extra_per_500g_minor=500,
                estimated_days=1,
                carrier="carriers/manual",
                active=True,
                cod_available=True,
            ),
        ),
        metadata=md,
    )
    inside = await shipping.internal.QuoteShipping(req("641002", 1600, 1000))
    assert inside.zone == "zones/cbe-city"
    assert [(o.rate.amount_minor, o.estimated_days) for o in inside.options] == [
        (2500 + 2 * 500, 1)
    ]
    outside = await shipping.internal.QuoteShipping(req("641018", 400, 1000))
    assert outside.zone == "zones/south"
    # Permissions: read-only admins cannot write.
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await shipping.admin.DeleteShippingMethod(
            admin_pb2.DeleteShippingMethodRequest(name="methods/cbe-standard"),
            metadata=shipping.md(("shipping.read",)),
        )
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Bad slabs are field violations.
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await shipping.admin.UpdateShippingMethod(
            admin_pb2.UpdateShippingMethodRequest(
                method=pb.ShippingMethod(
                    name="methods/cbe-standard",
                    slabs=[
                        pb.WeightSlab(max_weight_grams=1000, rate_minor=1),
                        pb.WeightSlab(max_weight_grams=500, rate_minor=2),
                    ],
                ),
                update_mask={"paths": ["slabs"]},
            ),
            metadata=md,
        )
    assert "method.slabs[1].max_weight_grams" in violations(e.value)
