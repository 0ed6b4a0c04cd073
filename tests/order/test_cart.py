"""Carts over real gRPC: guest tokens, customer carts, limits, re-pricing on read, merge."""

from __future__ import annotations

import grpc
import pytest

from cleanse.inventory.v1 import availability_service_pb2 as avail_pb2
from cleanse.order.v1 import cart_service_pb2 as c
from tests.order.conftest import OrderEnv
from tests.support.rpc import reason, violations


async def test_guest_cart_add_update_remove_and_reprice(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(price=49900)
    soap = env.shop.variant(price=19900, stock=3)
    cart = await env.carts.CreateCart(c.CreateCartRequest())
    assert cart.cart_token and cart.name.startswith("carts/") and not cart.customer
    tok = cart.cart_token

    got = await env.carts.AddCartLine(
        c.AddCartLineRequest(name=cart.name, cart_token=tok, variant_id=oil, quantity=2)
    )
    got = await env.carts.AddCartLine(
        c.AddCartLineRequest(name=cart.name, cart_token=tok, variant_id=soap, quantity=1)
    )
    lines = {ln.variant_id: ln for ln in got.lines}
    assert lines[oil].quantity == 2 and lines[oil].price.unit_price.amount_minor == 49900
    assert lines[soap].stock_status == avail_pb2.STOCK_STATUS_LOW_STOCK
    assert got.price.subtotal.amount_minor == 2 * 49900 + 19900
    assert got.item_count == 3 and got.all_in_stock

    # The catalog price changes: the next read shows it (no price is ever stored).
    env.shop.variants[oil].price = 45900
    got = await env.carts.GetCart(c.GetCartRequest(name=cart.name, cart_token=tok))
    assert {ln.variant_id: ln.price.unit_price.amount_minor for ln in got.lines}[oil] == 45900
    assert got.price.subtotal.amount_minor == 2 * 45900 + 19900

    got = await env.carts.UpdateCartLine(
        c.UpdateCartLineRequest(name=cart.name, cart_token=tok, variant_id=soap, quantity=5)
    )
    assert not got.all_in_stock  # 5 wanted, 3 available
    got = await env.carts.RemoveCartLine(
        c.RemoveCartLineRequest(name=cart.name, cart_token=tok, variant_id=soap)
    )
    assert [ln.variant_id for ln in got.lines] == [oil]
    got = await env.carts.UpdateCartLine(
        c.UpdateCartLineRequest(name=cart.name, cart_token=tok, variant_id=oil, quantity=0)
    )
    assert not got.lines and got.item_count == 0
    assert got.last_activity_time.seconds > 0


async def test_cart_limits_and_validation(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    cart = await env.carts.CreateCart(c.CreateCartRequest())
    add = env.carts.AddCartLine
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await add(
            c.AddCartLineRequest(
                name=cart.name, cart_token=cart.cart_token, variant_id=oil, quantity=11
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "quantity" in violations(err.value)
    await add(
        c.AddCartLineRequest(name=cart.name, cart_token=cart.cart_token, variant_id=oil, quantity=8)
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:  # 8 + 3 > 10 per line
        await add(
            c.AddCartLineRequest(
                name=cart.name, cart_token=cart.cart_token, variant_id=oil, quantity=3
            )
        )
    assert "quantity" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:  # unknown to the catalog
        await add(
            c.AddCartLineRequest(
                name=cart.name, cart_token=cart.cart_token, variant_id="var_nope", quantity=1
            )
        )
    assert reason(err.value) == "UNKNOWN_VARIANT"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await add(
            c.AddCartLineRequest(
                name=cart.name, cart_token=cart.cart_token, variant_id="bad id!", quantity=1
            )
        )
    assert "variant_id" in violations(err.value)


async def test_lines_per_cart_limit(order_env: OrderEnv) -> None:
    env = order_env
    from services.order.domain.cart import MAX_LINES

    cart = await env.carts.CreateCart(c.CreateCartRequest())
    for _ in range(MAX_LINES):
        await env.carts.AddCartLine(
            c.AddCartLineRequest(
                name=cart.name,
                cart_token=cart.cart_token,
                variant_id=env.shop.variant(),
                quantity=1,
            )
        )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.carts.AddCartLine(
            c.AddCartLineRequest(
                name=cart.name,
                cart_token=cart.cart_token,
                variant_id=env.shop.variant(),
                quantity=1,
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "variant_id" in violations(err.value)


async def test_guest_cart_needs_its_token(order_env: OrderEnv) -> None:
    env = order_env
    cart = await env.carts.CreateCart(c.CreateCartRequest())
    for token in ("", "wrong-token", cart.cart_token + "x"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.carts.GetCart(c.GetCartRequest(name=cart.name, cart_token=token))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    # Another customer cannot read it either.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.carts.GetCart(c.GetCartRequest(name=cart.name), metadata=env.customer())
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_customer_cart_is_per_customer(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    alice, bob = env.customer(), env.customer()
    a = await env.carts.CreateCart(c.CreateCartRequest(), metadata=alice)
    assert a.customer.startswith("users/") and not a.cart_token
    await env.carts.AddCartLine(
        c.AddCartLineRequest(name="carts/mine", variant_id=oil, quantity=1), metadata=alice
    )
    again = await env.carts.CreateCart(c.CreateCartRequest(), metadata=alice)
    assert again.name == a.name and again.item_count == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.carts.GetCart(c.GetCartRequest(name=a.name), metadata=bob)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.carts.GetCart(c.GetCartRequest(name="carts/mine"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_guest_cart_merges_into_customer_cart_on_login(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap, serum = env.shop.variant(), env.shop.variant(), env.shop.variant()
    me = env.customer()
    await env.cart_with([(oil, 2), (soap, 1)], me)
    guest, token = await env.cart_with([(oil, 9), (serum, 1)])
    merged = await env.carts.MergeCart(
        c.MergeCartRequest(guest_cart=guest, cart_token=token), metadata=me
    )
    qty = {ln.variant_id: ln.quantity for ln in merged.lines}
    assert qty == {oil: 10, soap: 1, serum: 1}  # 2 + 9 capped at 10
    assert any("capped" in m for m in merged.messages)
    # Idempotent: merging again changes nothing; the guest cart is closed.
    again = await env.carts.MergeCart(
        c.MergeCartRequest(guest_cart=guest, cart_token=token), metadata=me
    )
    assert {ln.variant_id: ln.quantity for ln in again.lines} == qty
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.carts.GetCart(c.GetCartRequest(name=guest, cart_token=token))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    # Someone else cannot claim it.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.carts.MergeCart(
            c.MergeCartRequest(guest_cart=guest, cart_token=token), metadata=env.customer()
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_cart_read_degrades_when_pricing_is_down(order_env: OrderEnv) -> None:

    env = order_env
    oil = env.shop.variant()
    name, token = await env.cart_with([(oil, 1)])
    await env.peers["pricing"].stop()
    try:
        got = await env.carts.GetCart(c.GetCartRequest(name=name, cart_token=token))
        assert got.degraded and got.lines[0].quantity == 1
        assert not got.lines[0].HasField("price")
    finally:
        await env.restart("pricing")
