"""Refunds over more than one captured payment: after an admin edit collected a balance
payment, a refund larger than the original payment is split over the payments (the
original first), never more than each one's captured minus refunded, one Razorpay
refund per payment with its own idempotency key; concurrency-safe and idempotent."""

from __future__ import annotations

import asyncio
import secrets

import grpc
import pytest
from sqlalchemy import select

from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from services.order.models import RefundPart
from tests.order.conftest import Checkout, OrderEnv
from tests.order.test_edits import edit_req
from tests.order.test_refunds import paid_online, refund_req
from tests.support.rpc import reason

ADMIN = ("orders.read", "orders.write", "refunds.write")
UNIT = 60000  # Rs 600: two units reach free shipping, so the totals are whole units


async def with_balance_paid(env: OrderEnv) -> tuple[Checkout, pb.Order, str, str]:
    """A paid Razorpay order of 2 units edited to 3, the balance paid: (checkout,
    order, original payment id, balance payment id) at Razorpay."""
    oil = env.shop.variant(price=UNIT, stock=10)
    co, order = await paid_online(env, [(oil, 2)])
    assert order.total.amount_minor == 2 * UNIT
    md = env.admin_md(ADMIN)
    got = await env.admin.EditOrder(edit_req(order, [(oil, 3)]), metadata=md)
    assert got.edit.settlement == "BALANCE_PAYMENT"
    oid = order.name.split("/")[1]
    [balance_order] = [
        k
        for k, v in env.razorpay.orders.items()
        if isinstance(v["notes"], dict) and v["notes"].get("order") == oid
    ]
    balance_pid, _ = env.razorpay.pay(balance_order, capture=True)
    await env.webhook("payment.captured", payment_id=balance_pid)
    order = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=md)
    assert order.total.amount_minor == 3 * UNIT and not order.balance_due
    return co, order, got.order.payment.provider_payment_id, balance_pid


def refunded(env: OrderEnv, payment_id: str) -> int:
    return int(env.razorpay.payments[payment_id]["amount_refunded"])


def provider_refunds(env: OrderEnv, *payment_ids: str) -> list[dict]:
    return [r for r in env.razorpay.refunds.values() if r["payment_id"] in payment_ids]


async def parts_of(env: OrderEnv, refund: pb.Refund) -> list[RefundPart]:
    async with env.wired.db.session() as s:
        rows = await s.scalars(
            select(RefundPart)
            .where(RefundPart.refund_id == refund.name.rsplit("/", 1)[-1])
            .order_by(RefundPart.position)
        )
        return list(rows)


async def test_cancel_after_a_balance_payment_refunds_both_payments(order_env: OrderEnv) -> None:
    env = order_env
    co, order, first, balance = await with_balance_paid(env)
    got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_REFUND_PENDING
    md = env.admin_md(ADMIN)
    [refund] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    # One refund of everything paid, sent as one Razorpay refund per payment.
    assert refund.amount.amount_minor == 3 * UNIT
    assert refund.state == pb.REFUND_STATE_PENDING and not refund.error
    assert refunded(env, first) == 2 * UNIT and refunded(env, balance) == UNIT
    sent = provider_refunds(env, first, balance)
    assert sorted((r["payment_id"], r["amount"]) for r in sent) == sorted(
        [(first, 2 * UNIT), (balance, UNIT)]
    )
    assert refund.provider_refund_id == next(r["id"] for r in sent if r["payment_id"] == first)
    keys = [call.headers.get("x-refund-idempotency") for call in env.razorpay.calls("POST")]
    rid = refund.name.rsplit("/", 1)[-1]
    assert f"refund-{rid}" in keys and f"refund-{rid}-1" in keys
    # The first part processed: the refund waits for the other.
    env.razorpay.settle_refund(sent[0]["id"])
    await env.webhook("refund.processed", refund_id=sent[0]["id"])
    [refund] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    assert refund.state == pb.REFUND_STATE_PENDING
    env.razorpay.settle_refund(sent[1]["id"])
    await env.webhook("refund.processed", refund_id=sent[1]["id"])
    [refund] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    assert refund.state == pb.REFUND_STATE_PROCESSED
    assert refund.amount.amount_minor == 3 * UNIT
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_REFUNDED


async def test_each_payment_refunded_at_most_what_is_left_of_it(order_env: OrderEnv) -> None:
    env = order_env
    _, order, first, balance = await with_balance_paid(env)
    md = env.admin_md(ADMIN)
    # Rs 1,000 fits the original payment (Rs 1,200): not split.
    one = await env.admin.CreateRefund(refund_req(order, amount=100000), metadata=md)
    assert [(p.amount_minor, p.position) for p in await parts_of(env, one)] == [(100000, 0)]
    assert refunded(env, first) == 100000 and refunded(env, balance) == 0
    # Rs 700: Rs 200 left on the original, Rs 500 from the balance payment.
    rid = secrets.token_hex(8)
    two = await env.admin.CreateRefund(refund_req(order, amount=70000, request_id=rid), metadata=md)
    assert two.amount.amount_minor == 70000
    assert [p.amount_minor for p in await parts_of(env, two)] == [20000, 50000]
    assert refunded(env, first) == 2 * UNIT and refunded(env, balance) == 50000
    # The same request again: the same refund, nothing more sent.
    before = len(env.razorpay.refunds)
    again = await env.admin.CreateRefund(
        refund_req(order, amount=70000, request_id=rid), metadata=md
    )
    assert again.name == two.name and len(env.razorpay.refunds) == before
    # Rs 100 is left in all; a paisa more is refused.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.CreateRefund(refund_req(order, amount=10001), metadata=md)
    assert reason(err.value) == "REFUND_EXCEEDS_PAID"
    rest = await env.admin.CreateRefund(refund_req(order), metadata=md)  # everything left
    assert rest.amount.amount_minor == 10000
    assert refunded(env, first) == 2 * UNIT and refunded(env, balance) == UNIT


async def test_racing_refunds_never_overdraw_a_payment(order_env: OrderEnv) -> None:
    env = order_env
    _, order, first, balance = await with_balance_paid(env)
    md = env.admin_md(ADMIN)
    # Four refunds of Rs 500 race for Rs 1,800 paid: three fit, and only split so that
    # no payment gives back more than it took.
    results = await asyncio.gather(
        *(env.admin.CreateRefund(refund_req(order, amount=50000), metadata=md) for _ in range(4)),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, pb.Refund)]
    failed = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(ok) == 3 and len(failed) == 1
    assert reason(failed[0]) == "REFUND_EXCEEDS_PAID"
    assert all(r.state == pb.REFUND_STATE_PENDING and not r.error for r in ok)
    assert refunded(env, first) == 2 * UNIT and refunded(env, balance) == 30000
    split = [len(await parts_of(env, r)) for r in ok]
    assert sorted(split) == [1, 1, 2]


async def test_gateway_down_for_one_part_is_resent_with_the_same_keys(order_env: OrderEnv) -> None:
    env = order_env
    _, order, first, balance = await with_balance_paid(env)
    md = env.admin_md(ADMIN)
    env.razorpay.fail_next(3, 503)  # the first part's call and both its retries
    req = refund_req(order, amount=150000)
    refund = await env.admin.CreateRefund(req, metadata=md)
    assert refund.state == pb.REFUND_STATE_PENDING
    assert "part 1 of 2" in refund.error and "unavailable" in refund.error
    assert refunded(env, first) == 0 and refunded(env, balance) == 30000
    # A retry of the request sends what the gateway did not take; the part already
    # taken is not sent again.
    again = await env.admin.CreateRefund(req, metadata=md)
    assert again.name == refund.name and again.provider_refund_id and not again.error
    assert refunded(env, first) == 2 * UNIT and refunded(env, balance) == 30000
    assert len(provider_refunds(env, first, balance)) == 2
    # The same through the sweeper.
    env.razorpay.fail_next(3, 503)
    later = await env.admin.CreateRefund(refund_req(order, amount=10000), metadata=md)
    assert later.state == pb.REFUND_STATE_PENDING and "unavailable" in later.error
    assert await env.wired.refunds.retry_pending() >= 1
    [got] = [
        r
        for r in (
            await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
        ).refunds
        if r.name == later.name
    ]
    assert got.provider_refund_id and not got.error
    assert refunded(env, balance) == 40000


async def test_a_declined_part_leaves_its_amount_refundable(order_env: OrderEnv) -> None:
    env = order_env
    _, order, first, balance = await with_balance_paid(env)
    md = env.admin_md(ADMIN)
    # Someone refunded the balance payment at Razorpay directly: our part is declined.
    env.razorpay.payments[balance]["amount_refunded"] = UNIT
    refund = await env.admin.CreateRefund(refund_req(order, amount=150000), metadata=md)
    assert refund.state == pb.REFUND_STATE_PENDING  # the first part is on its way
    [sent] = provider_refunds(env, first)
    env.razorpay.settle_refund(sent["id"])
    await env.webhook("refund.processed", refund_id=sent["id"])
    [got] = [
        r
        for r in (
            await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
        ).refunds
        if r.name == refund.name
    ]
    # Processed for what went through; the declined Rs 300 is named in the error.
    assert got.state == pb.REFUND_STATE_PROCESSED
    assert got.amount.amount_minor == 2 * UNIT
    assert "part 2 of 2" in got.error and "30000 paise" in got.error
    parts = await parts_of(env, refund)
    assert [p.state for p in parts] == ["PROCESSED", "FAILED"]


async def test_webhook_ahead_of_our_own_record_settles_the_part(order_env: OrderEnv) -> None:
    env = order_env
    _, order, first, _ = await with_balance_paid(env)
    md = env.admin_md(ADMIN)
    refund = await env.admin.CreateRefund(refund_req(order, amount=50000), metadata=md)
    [sent] = [r for r in provider_refunds(env, first) if r["amount"] == 50000]
    # As if Razorpay's webhook came before we wrote down its answer to our call.
    async with env.wired.db.transaction() as s:
        [part] = await s.scalars(
            select(RefundPart).where(RefundPart.refund_id == refund.name.rsplit("/", 1)[-1])
        )
        part.provider_refund_id = None
    env.razorpay.settle_refund(sent["id"])
    await env.webhook("refund.processed", refund_id=sent["id"])
    [got] = [
        r
        for r in (
            await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
        ).refunds
        if r.name == refund.name
    ]
    assert got.state == pb.REFUND_STATE_PROCESSED and got.provider_refund_id == sent["id"]


def test_allocation_and_outcome_rules() -> None:
    from services.order.domain import refunds as rules

    rooms = [rules.PaymentRoom("a", 1000, 900), rules.PaymentRoom("b", 500, 0)]
    assert rules.allocate(100, rooms) == [("a", 100)]
    assert rules.allocate(400, rooms) == [("a", 100), ("b", 300)]
    assert rules.allocate(600, rooms) == [("a", 100), ("b", 500)]
    over = [rules.PaymentRoom("a", 1000, 1200), rules.PaymentRoom("b", 500, 0)]
    assert rules.allocate(500, over) == [("b", 500)]  # never below zero left
    with pytest.raises(Exception) as err:
        rules.allocate(601, rooms)
    assert getattr(err.value, "reason", "") == "REFUND_EXCEEDS_PAID"
    assert rules.settle_parts([(100, "PROCESSED"), (50, "PENDING")]).state == "PENDING"
    assert rules.settle_parts([(100, "PROCESSED"), (50, "PROCESSED")]) == rules.PartOutcome(
        "PROCESSED", 150
    )
    assert rules.settle_parts([(100, "FAILED"), (50, "FAILED")]).state == "FAILED"
    assert rules.settle_parts([(100, "PROCESSED"), (50, "FAILED")]) == rules.PartOutcome(
        "PROCESSED", 100
    )


# --- a refund by lines with a declined part ---------------------------------------------


async def settle(env: OrderEnv, refund_id: str, *, fail: bool = False) -> None:
    """Razorpay finishes one of its refunds and tells us by webhook."""
    env.razorpay.settle_refund(refund_id, fail=fail)
    await env.webhook("refund.failed" if fail else "refund.processed", refund_id=refund_id)


async def refund_named(env: OrderEnv, order: pb.Order, name: str) -> pb.Refund:
    md = env.admin_md(ADMIN)
    listed = await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    [got] = [r for r in listed.refunds if r.name == name]
    return got


async def credit_notes(env: OrderEnv, order: pb.Order) -> list[pb.Invoice]:
    md = env.admin_md(ADMIN)
    invoices = await env.orders.ListInvoices(o.ListInvoicesRequest(order=order.name), metadata=md)
    return [i for i in invoices.invoices if i.kind == pb.INVOICE_KIND_CREDIT_NOTE]


def note_for(notes: list[pb.Invoice], refund: pb.Refund) -> pb.Invoice:
    [note] = [n for n in notes if n.refund == refund.name]
    # Exactly what went back, to the paisa, line by line and in its GST.
    assert note.total.amount_minor == refund.amount.amount_minor
    assert sum(ln.total.amount_minor for ln in note.lines) == refund.amount.amount_minor
    for ln in note.lines:
        tax = ln.cgst.amount_minor + ln.sgst.amount_minor + ln.igst.amount_minor
        assert ln.taxable_value.amount_minor + tax == ln.total.amount_minor
    return note


def lines_of(x: pb.Refund | pb.Invoice) -> list[tuple[str, int]]:
    return [(ln.variant_id if isinstance(x, pb.Refund) else ln.sku, ln.quantity) for ln in x.lines]


async def test_line_refund_with_a_declined_part_credits_only_what_went_back(
    order_env: OrderEnv,
) -> None:
    env = order_env
    _, order, first, balance = await with_balance_paid(env)  # 3 oils: Rs 1,200 + Rs 600
    md = env.admin_md(ADMIN)
    [item] = order.items
    oil = item.variant_id
    refund = await env.admin.CreateRefund(
        refund_req(order, lines=[pb.RefundLine(variant_id=oil, quantity=3)]), metadata=md
    )
    assert refund.amount.amount_minor == 3 * UNIT
    [on_first] = provider_refunds(env, first)
    [on_balance] = provider_refunds(env, balance)
    assert (on_first["amount"], on_balance["amount"]) == (2 * UNIT, UNIT)
    await settle(env, on_first["id"], fail=True)  # Razorpay declines Rs 1,200
    await settle(env, on_balance["id"])  # and pays back Rs 600
    got = await refund_named(env, order, refund.name)
    # The refund is what went back: Rs 600, i.e. one of the three oils.
    assert got.state == pb.REFUND_STATE_PROCESSED and got.amount.amount_minor == UNIT
    note = note_for(await credit_notes(env, order), got)  # credits Rs 600, not Rs 1,800
    assert lines_of(got) == [(oil, 1)] and lines_of(note) == [(item.sku, 1)]
    assert "part 1 of 2" in got.error
    # The two oils not paid back are refundable again, by line, exactly once.
    rest = await env.admin.CreateRefund(
        refund_req(order, lines=[pb.RefundLine(variant_id=oil, quantity=2)]), metadata=md
    )
    assert rest.amount.amount_minor == 2 * UNIT
    [again] = [r for r in provider_refunds(env, first) if r["status"] == "pending"]
    await settle(env, again["id"])
    rest = await refund_named(env, order, rest.name)
    assert rest.state == pb.REFUND_STATE_PROCESSED and lines_of(rest) == [(oil, 2)]
    notes = await credit_notes(env, order)
    note_for(notes, rest)
    assert sum(n.total.amount_minor for n in notes) == 3 * UNIT == order.total.amount_minor
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.CreateRefund(
            refund_req(order, lines=[pb.RefundLine(variant_id=oil, quantity=1)]), metadata=md
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_line_refund_paid_back_in_part_of_a_unit(order_env: OrderEnv) -> None:
    """What went back ends inside a unit: that unit counts as refunded (its credit note
    line credits what went back for it), the rest of its value is refundable by amount,
    the units not reached by line."""
    env = order_env
    _, order, first, balance = await with_balance_paid(env)
    md = env.admin_md(ADMIN)
    [item] = order.items
    oil = item.variant_id
    goodwill = await env.admin.CreateRefund(refund_req(order, amount=30000), metadata=md)
    [sent] = provider_refunds(env, first)
    await settle(env, sent["id"])  # Rs 300 back from the first payment
    refund = await env.admin.CreateRefund(
        refund_req(order, lines=[pb.RefundLine(variant_id=oil, quantity=2)]), metadata=md
    )
    [on_first] = [r for r in provider_refunds(env, first) if r["status"] == "pending"]
    [on_balance] = provider_refunds(env, balance)
    assert (on_first["amount"], on_balance["amount"]) == (90000, 30000)
    await settle(env, on_first["id"], fail=True)
    await settle(env, on_balance["id"])
    got = await refund_named(env, order, refund.name)
    assert got.state == pb.REFUND_STATE_PROCESSED
    assert got.amount.amount_minor == 30000 and lines_of(got) == [(oil, 1)]
    notes = await credit_notes(env, order)
    assert lines_of(note_for(notes, got)) == [(item.sku, 1)]
    note_for(notes, await refund_named(env, order, goodwill.name))
    # Left: Rs 1,200 in all; the two units not reached, by line (exactly that).
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.CreateRefund(
            refund_req(order, lines=[pb.RefundLine(variant_id=oil, quantity=3)]), metadata=md
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    rest = await env.admin.CreateRefund(
        refund_req(order, lines=[pb.RefundLine(variant_id=oil, quantity=2)]), metadata=md
    )
    assert rest.amount.amount_minor == 2 * UNIT
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.CreateRefund(refund_req(order, amount=1), metadata=md)
    assert reason(err.value) == "REFUND_EXCEEDS_PAID"


def test_units_a_partly_paid_back_line_refund_reaches() -> None:
    from services.order.domain import refunds as rules

    sold = [rules.SoldLine("a", 3, 1000), rules.SoldLine("b", 2, 501)]  # a: 333/667/1000
    asked = [("a", 3), ("b", 2)]
    assert rules.lines_reached(asked, sold, 1501) == asked  # everything
    assert rules.lines_reached(asked, sold, 1000) == [("a", 3)]  # exactly line a
    assert rules.lines_reached(asked, sold, 1001) == [("a", 3), ("b", 1)]  # into b
    assert rules.lines_reached(asked, sold, 333) == [("a", 1)]
    assert rules.lines_reached(asked, sold, 334) == [("a", 2)]  # a paisa into the 2nd unit
    assert rules.lines_reached(asked, sold, 1) == [("a", 1)]
    assert rules.lines_reached([("gone", 2), ("a", 1)], sold, 100) == [("gone", 2), ("a", 1)]
