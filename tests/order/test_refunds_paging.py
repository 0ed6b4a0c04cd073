"""ListRefunds pages (AIP-158): page_size / page_token / next_page_token, oldest first;
0 is the default size, a size over the maximum is clamped, a negative one and a
token of another order's list are INVALID_ARGUMENT."""

from __future__ import annotations

import secrets

import grpc
import pytest

from cleanse.order.v1 import order_admin_service_pb2 as adm
from tests.order.conftest import OrderEnv
from tests.order.fakes import inr
from tests.support.rpc import violations

ADMIN = ("orders.read", "orders.write", "refunds.write")


async def test_list_refunds_pages(order_env: OrderEnv) -> None:
    env = order_env
    md = env.admin_md(ADMIN)
    co = await env.start_checkout([(env.shop.variant(price=30000), 2)])
    order = await env.place(co)
    await env.admin.MarkCodPaid(adm.MarkCodPaidRequest(name=order.name), metadata=md)
    made = []
    for amount in (100, 200, 300, 400, 500):  # COD: recorded and processed at once
        r = await env.admin.CreateRefund(
            adm.CreateRefundRequest(
                order=order.name, request_id=secrets.token_hex(8), amount=inr(amount)
            ),
            metadata=md,
        )
        made.append(r.name)

    async def page(size: int = 0, token: str = "", order_name: str = order.name):
        return await env.admin.ListRefunds(
            adm.ListRefundsRequest(order=order_name, page_size=size, page_token=token),
            metadata=md,
        )

    seen, token, sizes = [], "", []
    while True:
        p = await page(2, token)
        sizes.append(len(p.refunds))
        seen += [r.name for r in p.refunds]
        token = p.next_page_token
        if not token:
            break
    assert sizes == [2, 2, 1] and seen == made  # oldest first, each once
    exact = await page(5)
    assert len(exact.refunds) == 5 and exact.next_page_token == ""
    for size in (0, 10_000):  # default (20) and clamped (100): all five, one page
        p = await page(size)
        assert [r.name for r in p.refunds] == made and p.next_page_token == ""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await page(-1)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_size" in violations(err.value)
    other = await env.place(await env.start_checkout([(env.shop.variant(), 1)]))
    token = (await page(1)).next_page_token
    for bad, name in ((token, other.name), ("bm90LWEtdG9rZW4", order.name)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await page(1, bad, name)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "page_token" in violations(err.value)
    assert (await page(order_name=other.name)).refunds == []
