"""Admin order edits before fulfilment: re-priced, stock re-reserved, the difference
collected or refunded (against the fake Razorpay), recorded, idempotent."""

from __future__ import annotations

import secrets

import grpc
import pytest
from sqlalchemy import func, select

from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from services.order.models import OrderEdit
from tests.order.conftest import OrderEnv
from tests.order.fakes import COD_FEE, FLAT_SHIPPING
from tests.order.test_refunds import paid_online
from tests.support.rpc import reason

ADMIN = ("orders.read", "orders.write", "refunds.write")


def edit_req(order: pb.Order, lines: list[tuple[str, int]], **kw) -> adm.EditOrderRequest:  # type: ignore[no-untyped-def]
    kw.setdefault("request_id", secrets.token_hex(8))
    return adm.EditOrderRequest(
        name=order.name,
        lines=[adm.EditOrderLine(variant_id=v, quantity=q) for v, q in lines],
        **kw,
    )


async def edit_count(env: OrderEnv, order: pb.Order) -> int:
    async with env.wired.db.session() as s:
        q = select(func.count()).select_from(OrderEdit)
        return int(await s.scalar(q.where(OrderEdit.order_id == order.name.split("/")[1])) or 0)


async def test_add_a_line_to_a_cod_order(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=10), env.shop.variant(price=20000, stock=10)
    co = await env.start_checkout([(oil, 1)])
    order = await env.place(co)
    assert order.total.amount_minor == 30000 + FLAT_SHIPPING + COD_FEE
    md = env.admin_md(ADMIN)
    got = await env.admin.EditOrder(
        edit_req(order, [(soap, 2)], reason="customer called"), metadata=md
    )
    edited = got.order
    assert edited.status == pb.ORDER_STATUS_CONFIRMED
    # Re-priced through pricing: Rs 700 of items -> still flat shipping, COD fee kept.
    assert edited.total.amount_minor == 70000 + FLAT_SHIPPING + COD_FEE
    assert {i.variant_id: i.quantity for i in edited.items} == {oil: 1, soap: 2}
    soap_line = next(i for i in edited.items if i.variant_id == soap)
    assert soap_line.sku.startswith("SKU-") and soap_line.unit_price.amount_minor == 20000
    # COD: the amount to collect changes; no gateway, no refund.
    assert edited.payment.amount.amount_minor == edited.total.amount_minor
    assert edited.payment.state == pb.PAYMENT_STATE_PENDING_ON_DELIVERY
    assert got.edit.settlement == "COD_AMOUNT_CHANGED"
    assert got.edit.difference.amount_minor == 40000
    # Stock: the two added units reserved and committed.
    assert env.shop.variants[soap].stock == 8
    added = [r for r in env.inventory.reservations.values() if r.lines[0].variant_id == soap]
    assert [r.state for r in added] == [inv.RESERVATION_STATE_COMMITTED]
    # Recorded: the edit (who, before/after, totals) and a status history row.
    e = got.edit
    assert e.actor.startswith("adminUsers/") and e.reason == "customer called"
    assert [(x.variant_id, x.quantity) for x in e.before_lines] == [(oil, 1)]
    assert e.before_total.amount_minor == order.total.amount_minor
    assert edited.status_history[-1].reason.startswith("edited")
    assert edited.status_history[-1].to_status == pb.ORDER_STATUS_CONFIRMED
    assert [x.name for x in edited.edits] == [e.name]
    # The invoice issued at placement gets a supplementary invoice for the difference.
    invoices = await env.orders.ListInvoices(o.ListInvoicesRequest(order=order.name), metadata=md)
    kinds = [i.kind for i in invoices.invoices]
    assert kinds == [pb.INVOICE_KIND_TAX_INVOICE, pb.INVOICE_KIND_SUPPLEMENTARY_INVOICE]
    assert invoices.invoices[1].total.amount_minor == 40000


async def test_reduce_quantity_on_a_paid_razorpay_order_refunds_the_difference(
    order_env: OrderEnv,
) -> None:
    env = order_env
    oil = env.shop.variant(price=60000, stock=10)
    _, order = await paid_online(env, [(oil, 2)])  # Rs 1,200: free shipping
    md = env.admin_md(ADMIN)
    got = await env.admin.EditOrder(edit_req(order, [(oil, 1)]), metadata=md)
    new_total = 60000 + FLAT_SHIPPING  # below the free-shipping threshold now
    assert got.order.total.amount_minor == new_total
    diff = order.total.amount_minor - new_total
    assert got.edit.settlement == "REFUND" and got.edit.settlement_ref.startswith(order.name)
    refunds = await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    [refund] = refunds.refunds
    assert refund.amount.amount_minor == diff and refund.provider_refund_id
    pid = order.payment.provider_payment_id
    assert env.razorpay.payments[pid]["amount_refunded"] == diff
    # The removed unit went back on the shelf; the order stays confirmed and paid.
    assert env.shop.variants[oil].stock == 9
    assert got.order.status == pb.ORDER_STATUS_CONFIRMED and got.order.paid
    # What is left to refund is the new total: never above what was paid.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.CreateRefund(
            adm.CreateRefundRequest(
                order=order.name,
                request_id=secrets.token_hex(8),
                amount={"amount_minor": new_total + 1, "currency_code": "INR"},
            ),
            metadata=md,
        )
    assert reason(err.value) == "REFUND_EXCEEDS_PAID"


async def test_more_to_pay_on_a_paid_order_creates_a_balance_payment(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(price=60000, stock=10)
    _, order = await paid_online(env, [(oil, 2)])
    md = env.admin_md(ADMIN)
    got = await env.admin.EditOrder(edit_req(order, [(oil, 3)]), metadata=md)
    assert got.edit.settlement == "BALANCE_PAYMENT"
    assert got.order.balance_due and got.order.balance_due_amount.amount_minor == 60000
    assert got.order.status == pb.ORDER_STATUS_CONFIRMED
    balance = [o for o in env.razorpay.orders.values() if o["amount"] == 60000]
    assert balance and balance[-1]["status"] == "created"
    # The customer pays it; the webhook settles it.
    pid, _ = env.razorpay.pay(balance[-1]["id"], capture=True)
    await env.webhook("payment.captured", payment_id=pid)
    after = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=md)
    assert not after.balance_due and after.balance_due_amount.amount_minor == 0


async def test_edit_after_shipment_is_refused(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    order = await env.place(await env.start_checkout([(oil, 1)]))
    md = env.admin_md(ADMIN)
    for st in (pb.ORDER_STATUS_PACKED, pb.ORDER_STATUS_SHIPPED):
        await env.admin.UpdateOrderStatus(
            adm.UpdateOrderStatusRequest(name=order.name, status=st), metadata=md
        )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(edit_req(order, [(oil, 2)]), metadata=md)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "ORDER_NOT_EDITABLE"
    assert await edit_count(env, order) == 0


async def test_out_of_stock_for_added_units_changes_nothing(order_env: OrderEnv) -> None:
    env = order_env
    oil, rare = env.shop.variant(stock=5), env.shop.variant(stock=1)
    order = await env.place(await env.start_checkout([(oil, 1)]))
    md = env.admin_md(ADMIN)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(edit_req(order, [(rare, 2), (oil, 0)]), metadata=md)
    assert reason(err.value) == "OUT_OF_STOCK"
    got = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=md)
    assert got.total.amount_minor == order.total.amount_minor
    assert [(i.variant_id, i.quantity) for i in got.items] == [(oil, 1)]
    assert len(got.status_history) == len(order.status_history) and not got.edits
    assert env.shop.variants[rare].stock == 1 and env.shop.variants[oil].stock == 4
    assert await edit_count(env, order) == 0


async def test_edit_is_idempotent_on_request_id(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(stock=10), env.shop.variant(stock=10)
    order = await env.place(await env.start_checkout([(oil, 1)]))
    md = env.admin_md(ADMIN)
    req = edit_req(order, [(soap, 1)])
    first = await env.admin.EditOrder(req, metadata=md)
    again = await env.admin.EditOrder(req, metadata=md)
    assert again.edit.name == first.edit.name
    assert again.order.total.amount_minor == first.order.total.amount_minor
    assert env.shop.variants[soap].stock == 9  # reserved once
    assert await edit_count(env, order) == 1
    history = [h for h in again.order.status_history if h.reason.startswith("edited")]
    assert len(history) == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:  # same id, other body
        await env.admin.EditOrder(
            edit_req(order, [(soap, 2)], request_id=req.request_id), metadata=md
        )
    assert reason(err.value) == "IDEMPOTENCY_MISMATCH"


async def test_edit_needs_orders_write(order_env: OrderEnv) -> None:
    env = order_env
    order = await env.place(await env.start_checkout([(env.shop.variant(), 1)]))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(
            edit_req(order, [(env.shop.variant(), 1)]), metadata=env.admin_md(("orders.read",))
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
