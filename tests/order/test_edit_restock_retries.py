"""The sweeper retries an edit's restock left PENDING because inventory was down
(`EditHandlers.retry_restocks`, one of the order sweeper's jobs): with backoff, a
bounded number a sweep, the outcome recorded on the edit. A restock inventory refused
for good is not retried by itself (CleanseRestockRefused alerts on it)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mesh.db import utcnow
from services.order.models import OrderEdit
from tests.order.conftest import OrderEnv
from tests.order.test_edits import edit_req
from tests.order.test_edits_stock import reservation_of, stock_of

ADMIN = ("orders.read", "orders.write", "refunds.write", "returns.write")


async def edit_row(env: OrderEnv, edit_id: str) -> OrderEdit:
    async with env.wired.db.session() as s:
        e = await s.get(OrderEdit, edit_id)
        assert e is not None
        return e


def later(monkeypatch: pytest.MonkeyPatch, env: OrderEnv, seconds: float) -> None:
    """The edits' clock moved on (the sweeper's notion of what is due)."""
    monkeypatch.setattr(env.wired.edits, "clock", lambda: utcnow() + timedelta(seconds=seconds))


async def test_sweeper_finishes_a_restock_left_pending_by_inventory_down(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = order_env
    edits = env.wired.edits
    oil = env.shop.variant(price=30000, stock=5)
    order = await env.place(await env.start_checkout([(oil, 2)]))  # COD: committed
    base = await reservation_of(env, order)
    assert stock_of(env, oil) == [3]

    await env.peers["inventory"].stop()
    try:
        got = await env.admin.EditOrder(edit_req(order, [(oil, 1)]), metadata=env.admin_md(ADMIN))
        edit_id = got.edit.name.rsplit("/", 1)[-1]
        assert [
            n for n in got.edit.notes if n.startswith("restock pending: stock not put back yet")
        ]
        first = await edit_row(env, edit_id)
        assert first.restock_state == "PENDING" and first.restock_retry_at is not None
        assert first.restock_attempts == 0
        # Not due yet: the sweep leaves it alone.
        await edits.retry_restocks()
        assert (await edit_row(env, edit_id)).restock_retry_at == first.restock_retry_at
        # Due, inventory still down: still PENDING, the next try later (backoff).
        later(monkeypatch, env, 2 * 3600)
        await edits.retry_restocks()
        second = await edit_row(env, edit_id)
        assert second.restock_state == "PENDING" and second.restock_attempts == 1
        assert second.restock_retry_at is not None
        assert second.restock_retry_at > first.restock_retry_at
        assert second.restock_error.startswith("stock not put back yet")
        assert stock_of(env, oil) == [3]
    finally:
        await env.restart("inventory")

    # Inventory back: one sweep puts the unit back, exactly once.
    later(monkeypatch, env, 24 * 3600)
    done = await edits.retry_restocks()
    assert done["DONE"] >= 1
    e = await edit_row(env, edit_id)
    assert (e.restock_state, e.restock_error, e.restock_retry_at) == ("DONE", "", None)
    assert stock_of(env, oil) == [4]
    assert env.inventory.restocked_into(base) == {oil: 1}
    await edits.retry_restocks()
    assert stock_of(env, oil) == [4]
    view = await env.admin.EditOrder(
        edit_req(order, [(oil, 1)], request_id=e.request_id), metadata=env.admin_md(ADMIN)
    )
    assert not [n for n in view.edit.notes if n.startswith("restock pending")]


async def test_sweeper_leaves_a_refused_restock_alone(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = order_env
    oil = env.shop.variant(price=30000, stock=5)
    order = await env.place(await env.start_checkout([(oil, 2)]))
    base = await reservation_of(env, order)
    env.inventory.put_back_by_hand(base, {oil: 2})  # inventory's books disagree
    got = await env.admin.EditOrder(edit_req(order, [(oil, 1)]), metadata=env.admin_md(ADMIN))
    edit_id = got.edit.name.rsplit("/", 1)[-1]
    before = await edit_row(env, edit_id)
    assert before.restock_state == "PENDING" and before.restock_retry_at is None
    assert "RESTOCK_EXCEEDS_RESERVATION" in before.restock_error
    stock_before = stock_of(env, oil)

    later(monkeypatch, env, 30 * 24 * 3600)
    await env.wired.edits.retry_restocks()
    after = await edit_row(env, edit_id)
    assert (after.restock_state, after.restock_error, after.restock_attempts) == (
        "PENDING",
        before.restock_error,
        0,
    )
    assert after.restock_retry_at is None
    assert f"edit-{edit_id}" not in env.inventory.restocked
    assert stock_of(env, oil) == stock_before


async def test_the_sweep_is_bounded(order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    env = order_env
    oil = env.shop.variant(price=30000, stock=20)
    orders = [await env.place(await env.start_checkout([(oil, 2)])) for _ in range(3)]
    await env.peers["inventory"].stop()
    try:
        for order in orders:
            await env.admin.EditOrder(edit_req(order, [(oil, 1)]), metadata=env.admin_md(ADMIN))
    finally:
        await env.restart("inventory")
    later(monkeypatch, env, 24 * 3600)
    first = await env.wired.edits.retry_restocks(limit=2)
    assert sum(first.values()) == 2
    while sum((await env.wired.edits.retry_restocks(limit=2)).values()):
        pass
    assert stock_of(env, oil) == [20 - 3]
