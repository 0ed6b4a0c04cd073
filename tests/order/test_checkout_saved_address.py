"""Checkout with a saved address: order reads the signed-in customer's address from auth
(AuthService.GetUserAddress, internal) and snapshots it into the session exactly as a
literal delivery_address. Real gRPC against the fake peers (tests/order/fakes.py)."""

from __future__ import annotations

import secrets

import grpc
import pytest
from sqlalchemy import func, select

from cleanse.common.v1 import address_pb2
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import resources_pb2 as pb
from services.order.models import CheckoutSession
from tests.order.conftest import Md, OrderEnv
from tests.support.rpc import error_info, reason, violations

StatusCode = grpc.StatusCode


def mumbai(**kw: str) -> address_pb2.PostalAddress:
    base = dict(
        recipient_name="  Kavya Menon ",
        phone="98200 12345",
        line1="Flat 7, Sea Breeze",
        line2="Carter Road",
        landmark="Opp. Otters Club",
        city="Mumbai",
        state_code="mh",
        pincode="400050",
    )
    base.update(kw)
    return address_pb2.PostalAddress(**base)


async def sessions_of(env: OrderEnv, uid: str) -> int:
    async with env.wired.db.session() as s:
        q = select(func.count()).select_from(CheckoutSession)
        return int(await s.scalar(q.where(CheckoutSession.customer_id == uid)) or 0)


async def open_session(
    env: OrderEnv, md: Md, cart: str, token: str, **fields
) -> pb.CheckoutSession:  # type: ignore[no-untyped-def]
    return await env.checkout.CreateCheckoutSession(
        co_pb2.CreateCheckoutSessionRequest(
            cart=cart, cart_token=token, payment_method="cod", **fields
        ),
        metadata=md,
    )


async def refused(env: OrderEnv, md: Md, cart: str, token: str, **fields) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await open_session(env, md, cart, token, **fields)
    return err.value


async def test_customer_checks_out_with_a_saved_address(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    uid = f"u{secrets.token_hex(5)}"
    md = env.customer(uid)
    saved = env.auth.save_address(uid, mumbai())
    cart, token = await env.cart_with([(oil, 1)], md)
    session = await open_session(env, md, cart, token, saved_address=saved)
    # Order asked auth for this customer's address, naming the customer it authenticated.
    assert env.auth.address_lookups[-1] == f"users/{uid}/{saved}"
    # The same snapshot as the same address given literally (checked and normalized).
    other = env.customer()
    literal = await open_session(
        env, other, *(await env.cart_with([(oil, 1)], other)), delivery_address=mumbai()
    )
    assert session.delivery_address == literal.delivery_address
    assert session.delivery_address.recipient_name == "Kavya Menon"
    assert session.delivery_address.state_code == "MH" and session.phone == "+919820012345"
    assert session.delivery_address.pincode == "400050"
    assert session.delivery_address.landmark == "Opp. Otters Club"
    # The full name of one's own address works too.
    again = await open_session(env, md, cart, token, saved_address=f"users/{uid}/{saved}")
    assert again.delivery_address == session.delivery_address

    # A snapshot: editing the address book afterwards does not move the order.
    env.auth.addresses[f"users/{uid}/{saved}"] = mumbai(line1="Somewhere else")
    order = await env.checkout.PlaceOrder(
        co_pb2.PlaceOrderRequest(checkout_session=session.name, request_id=secrets.token_hex(8)),
        metadata=md,
    )
    assert order.status == pb.ORDER_STATUS_CONFIRMED
    assert order.delivery_address == session.delivery_address
    assert order.delivery_address.line1 == "Flat 7, Sea Breeze"
    events = [e for e in await env.outbox_events() if e.order == order.name]
    assert [e.state_code for e in events] == ["MH"]


async def test_saved_address_refusals_change_nothing(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    uid, other_uid = f"u{secrets.token_hex(5)}", f"u{secrets.token_hex(5)}"
    md = env.customer(uid)
    mine = env.auth.save_address(uid, mumbai())
    theirs = env.auth.save_address(other_uid, mumbai(recipient_name="Someone Else"))
    delhi_in_mh = env.auth.save_address(uid, mumbai(pincode="110001"))
    cart, token = await env.cart_with([(oil, 1)], md)
    reservations = len(env.inventory.reservations)
    lookups = len(env.auth.address_lookups)

    # Another customer's address, by either name, or one that does not exist: NOT_FOUND
    # (never PERMISSION_DENIED: whether it exists is not the caller's business).
    for name in (theirs, f"users/{other_uid}/{theirs}", "addresses/nosuchaddress"):
        err = await refused(env, md, cart, token, saved_address=name)
        assert err.code() == StatusCode.NOT_FOUND, name
        assert error_info(err).metadata["name"] == name
    # Order only ever asked auth about the signed-in customer's own address book.
    assert env.auth.address_lookups[lookups:] == [
        f"users/{uid}/{theirs}",
        f"users/{uid}/addresses/nosuchaddress",
    ]

    cases = [
        ({"saved_address": mine, "delivery_address": mumbai()}, "saved_address"),
        ({}, "delivery_address"),
        ({"saved_address": "carts/mine"}, "saved_address"),
        ({"saved_address": "users/x/addresses/"}, "saved_address"),
        ({"saved_address": delhi_in_mh}, "saved_address.pincode"),  # 110001 is Delhi
    ]
    for fields, field in cases:
        err = await refused(env, md, cart, token, **fields)
        assert err.code() == StatusCode.INVALID_ARGUMENT, fields
        assert field in violations(err), (fields, violations(err))

    # A guest has no saved addresses: INVALID_ARGUMENT, and auth is not asked.
    gcart, gtoken = await env.cart_with([(oil, 1)])
    before = len(env.auth.address_lookups)
    err = await refused(
        env, (), gcart, gtoken, saved_address=mine, email="g@example.com", phone="9876543210"
    )
    assert err.code() == StatusCode.INVALID_ARGUMENT and "saved_address" in violations(err)
    assert len(env.auth.address_lookups) == before

    assert await sessions_of(env, uid) == 0
    assert len(env.inventory.reservations) == reservations  # no stock held
    ok = await open_session(env, md, cart, token, saved_address=mine)
    assert ok.state == pb.CHECKOUT_SESSION_STATE_OPEN and await sessions_of(env, uid) == 1


async def test_auth_down_is_unavailable_and_writes_nothing(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    uid = f"u{secrets.token_hex(5)}"
    md = env.customer(uid)
    saved = env.auth.save_address(uid, mumbai())
    cart, token = await env.cart_with([(oil, 1)], md)
    reservations = len(env.inventory.reservations)
    await env.peers["auth"].stop()
    try:
        err = await refused(env, md, cart, token, saved_address=saved)
        assert err.code() == StatusCode.UNAVAILABLE
        assert reason(err) == "DEPENDENCY_UNAVAILABLE"
        assert error_info(err).metadata["dependency"] == "auth"
        assert "try again" in (err.details() or "")
    finally:
        await env.restart("auth")
    assert await sessions_of(env, uid) == 0
    assert len(env.inventory.reservations) == reservations
    session = await open_session(env, md, cart, token, saved_address=saved)
    assert session.delivery_address.city == "Mumbai"
