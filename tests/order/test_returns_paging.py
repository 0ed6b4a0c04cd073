"""ListReturns pages (AIP-158): page_size / page_token / next_page_token, oldest first;
0 is the default size, a size over the maximum is clamped, a negative one and a
token of another order's list are INVALID_ARGUMENT."""

from __future__ import annotations

import grpc
import pytest

from cleanse.order.v1 import order_admin_service_pb2 as adm
from tests.order.conftest import OrderEnv
from tests.order.test_returns import ADMIN, ask, delivered_cod
from tests.support.rpc import violations


async def test_list_returns_pages(order_env: OrderEnv) -> None:
    env = order_env
    md = env.admin_md(ADMIN)
    oil = env.shop.variant(price=40000)
    co, order = await delivered_cod(env, [(oil, 3)])
    made = []
    for i in range(3):  # requested and rejected (back to DELIVERED), then asked again
        ret = await env.orders.RequestReturn(ask(order, [(oil, 1)]), metadata=co.md)
        made.append(ret.name)
        if i < 2:
            await env.admin.RejectReturn(adm.RejectReturnRequest(name=ret.name), metadata=md)

    async def page(size: int = 0, token: str = "", order_name: str = order.name):
        return await env.admin.ListReturns(
            adm.ListReturnsRequest(order=order_name, page_size=size, page_token=token),
            metadata=md,
        )

    first = await page(2)
    assert [r.name for r in first.returns] == made[:2] and first.next_page_token
    second = await page(2, first.next_page_token)
    assert [r.name for r in second.returns] == made[2:] and second.next_page_token == ""
    for size in (0, 10_000):  # default and clamped: everything, one page
        p = await page(size)
        assert [r.name for r in p.returns] == made and p.next_page_token == ""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await page(-5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_size" in violations(err.value)
    _, other = await delivered_cod(env, [(env.shop.variant(), 1)])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await page(2, first.next_page_token, other.name)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in violations(err.value)
