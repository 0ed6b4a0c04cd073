"""The work placing an order costs: the calls it makes to other services and its round
trips to its own database (services/order/README.md, "Performance"). Each test pins
a saving a shopper or an operator would notice being lost, together with what keeps
it safe: the reservation taken on the session's record (inventory not asked) only
where nothing can have ended it, the catalog's facts taken from pricing's coupon
hold, the saga's durable record before the payment order, and the statements a
checkout runs."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import event, select

from cleanse.common.v1 import events_pb2
from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import cart_service_pb2 as cart_pb2
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.pricing.v1 import coupon_hold_service_pb2 as hold_pb2
from mesh import context as call_context
from mesh.identity import Identity
from services.order import repository as repo
from services.order.models import OUTBOX, CheckoutSaga, Order, SagaJournalEntry
from tests.order.conftest import Checkout, OrderEnv, address
from tests.order.fakes import VARIANT_TITLE
from tests.support.rpc import error_info, reason


async def place_online(env: OrderEnv, vid: str, *, coupons: tuple[str, ...] = ()) -> Checkout:
    return await env.start_checkout([(vid, 1)], method="razorpay_upi", coupons=coupons)


async def confirm(env: OrderEnv, co: Checkout, order: pb.Order) -> pb.Order:
    pid, sig = env.razorpay.pay(order.payment.provider_order_id)
    return await env.checkout.ConfirmPayment(
        co_pb2.ConfirmPaymentRequest(
            order=order.name,
            provider_order_id=order.payment.provider_order_id,
            provider_payment_id=pid,
            signature=sig,
            cart_token=co.token,
        ),
        metadata=co.md,
    )


# --- calls to other services -----------------------------------------------------------


async def test_online_order_takes_the_sessions_reservation_on_its_record(
    order_env: OrderEnv,
) -> None:
    """The first saga of a session, paid online: the session's reservation is taken
    as its own record of it says (held, not about to lapse), without GetReservation;
    the items are snapshot from pricing's hold, without a catalog read."""
    env = order_env
    oil = env.shop.variant(stock=3)
    co = await place_online(env, oil)
    inventory_before, catalog_before = len(env.inventory.calls), len(env.catalog.requests)
    order = await env.place(co)
    assert order.status == pb.ORDER_STATUS_PENDING_PAYMENT
    assert env.inventory.calls[inventory_before:] == []  # no GetReservation, no ReserveStock
    assert env.catalog.requests[catalog_before:] == []
    assert env.shop.variants[oil].stock == 2  # the session's units, held once
    item = order.items[0]
    assert (item.product_name, item.variant_title) == (env.shop.variants[oil].title, VARIANT_TITLE)
    assert item.sku == f"SKU-{oil[-6:].upper()}" and item.hsn_code == "33049990"
    paid = await confirm(env, co, order)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED
    assert env.inventory.calls[inventory_before:] == ["CommitReservation"]
    res = env.inventory.reservations[co.session.reservation]
    assert res.state == inv.RESERVATION_STATE_COMMITTED


async def test_cod_order_still_looks_at_the_reservation_before_committing_it(
    order_env: OrderEnv,
) -> None:
    """COD commits at once: the reservation is looked at first, so inventory being
    down fails the check before the saga takes it (a retry runs at once)."""
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)])
    before = len(env.inventory.calls)
    order = await env.place(co)
    assert order.status == pb.ORDER_STATUS_CONFIRMED
    assert env.inventory.calls[before:] == ["GetReservation", "CommitReservation"]


async def test_a_later_saga_of_the_session_asks_inventory(order_env: OrderEnv) -> None:
    """A saga that failed gave the session's reservation back: the next one (another
    request id, same session) must not take it on the session's record."""
    env = order_env
    oil = env.shop.variant(stock=2)
    co = await place_online(env, oil)
    env.razorpay.fail_next(1, 500)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.place(co)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    session_res = env.inventory.reservations[co.session.reservation]
    assert session_res.state == inv.RESERVATION_STATE_RELEASED
    before = len(env.inventory.calls)
    order = await env.place(co)  # a new request id
    assert env.inventory.calls[before:] == ["GetReservation", "ReserveStock"]
    assert order.status == pb.ORDER_STATUS_PENDING_PAYMENT
    assert env.shop.variants[oil].stock == 1  # held by the new reservation
    paid = await confirm(env, co, order)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED and env.shop.variants[oil].stock == 1


async def test_a_reservation_that_ended_anyway_is_reserved_again_at_payment(
    order_env: OrderEnv,
) -> None:
    """What taking the reservation on record bets against (nothing but its expiry
    ends it) costs, if it happens all the same, what a reservation lapsing while the
    customer pays costs: the confirmation reserves again (or refunds)."""
    env = order_env
    oil = env.shop.variant(stock=2)
    co = await place_online(env, oil)
    env.inventory.expire(co.session.reservation)  # ended early, behind the order's back
    order = await env.place(co)
    paid = await confirm(env, co, order)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED and env.shop.variants[oil].stock == 1


@pytest.mark.parametrize("gone", ["unsellable", "unknown"])
async def test_an_item_no_longer_sold_is_refused_at_placement(
    order_env: OrderEnv, gone: str
) -> None:
    """Pricing's hold reads the catalog afresh and refuses it; the order answers
    ITEM_UNAVAILABLE naming the variant, as its own catalog check did; nothing held."""
    env = order_env
    oil, soap = env.shop.variant(stock=3), env.shop.variant(stock=3)
    code = env.shop.coupon(uses=1)
    co = await env.start_checkout([(oil, 1), (soap, 1)], method="razorpay_upi", coupons=(code,))
    if gone == "unsellable":
        env.shop.variants[soap].sellable = False
    else:
        del env.shop.variants[soap]
    rid = secrets.token_hex(8)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.place(co, rid)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "ITEM_UNAVAILABLE"
    info = error_info(err.value)
    assert info is not None and info.metadata["variant_ids"] == soap
    assert env.shop.coupons[code] == 1  # no use held
    assert not [h for h in env.pricing.holds.values() if h.coupon_codes == [code]]
    async with env.wired.db.session() as s:
        assert await s.scalar(select(Order).where(Order.request_id == rid)) is None


async def test_an_older_pricing_service_leaves_the_snapshot_to_the_catalog(
    order_env: OrderEnv,
) -> None:
    """A pricing service from before PricedLine named the product and the variant:
    the order asks the catalog for them, as it always did."""
    env = order_env
    oil = env.shop.variant()
    co = await place_online(env, oil)
    env.pricing.names_lines = False
    try:
        before = len(env.catalog.requests)
        order = await env.place(co)
    finally:
        env.pricing.names_lines = True
    assert env.catalog.requests[before:] == [[oil]]
    assert (order.items[0].product_name, order.items[0].variant_title) == (
        env.shop.variants[oil].title,
        VARIANT_TITLE,
    )


async def test_adding_a_variant_again_soon_does_not_ask_the_catalog(order_env: OrderEnv) -> None:
    """The catalog's "sold" answer for a cart line is kept a few seconds (as long as
    pricing keeps the variants a cart is priced with); "not sold" never is."""
    env = order_env
    oil = env.shop.variant()
    cart = await env.carts.CreateCart(cart_pb2.CreateCartRequest())
    add = cart_pb2.AddCartLineRequest(
        name=cart.name, cart_token=cart.cart_token, variant_id=oil, quantity=1
    )
    before = len(env.catalog.requests)
    await env.carts.AddCartLine(add)
    await env.carts.AddCartLine(add)
    assert env.catalog.requests[before:] == [[oil]]
    nope = f"var_{secrets.token_hex(6)}"
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.carts.AddCartLine(
                cart_pb2.AddCartLineRequest(
                    name=cart.name, cart_token=cart.cart_token, variant_id=nope, quantity=1
                )
            )
        assert reason(err.value) == "UNKNOWN_VARIANT"
    assert env.catalog.requests[before + 1 :] == [[nope], [nope]]


# --- the saga's record before the payment order ---------------------------------------


class Crash(BaseException):
    """Stands in for the process dying mid-saga (not an Exception: nothing catches it)."""


@pytest.mark.parametrize("where", ["create_order", "_create_order"])
async def test_an_online_saga_that_crashed_before_its_order_is_given_back(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The coupon hold and the reservation are on the saga's row before Razorpay is
    asked for a payment order (one UPDATE, the journal lines wait): a crash while
    Razorpay answers, or after, before the order exists, leaves the sweeper what it
    needs to give both back."""
    env = order_env
    oil = env.shop.variant(stock=4)
    code = env.shop.coupon(uses=1)
    uid = f"u{secrets.token_hex(4)}"
    co = await env.start_checkout(
        [(oil, 1)], method="razorpay_upi", coupons=(code,), md=env.customer(uid)
    )
    handlers = env.wired.checkout

    async def boom(*a, **kw):  # type: ignore[no-untyped-def]
        raise Crash()

    monkeypatch.setattr(handlers if where == "_create_order" else handlers.gateway, where, boom)
    token = call_context.set_current(
        call_context.CallContext(identity=Identity(kind="customer", subject=f"users/{uid}"))
    )
    rid = secrets.token_hex(8)
    try:
        with pytest.raises(Crash):
            await handlers.place_order(co.session.name, rid, "")
    finally:
        call_context.reset(token)
        monkeypatch.undo()
    async with env.wired.db.session() as s:
        saga = await s.scalar(select(CheckoutSaga).where(CheckoutSaga.request_id == rid))
    assert saga is not None and saga.state == "RUNNING"
    assert saga.reservation_name == co.session.reservation and saga.hold_name
    assert env.shop.coupons[code] == 0 and env.shop.variants[oil].stock == 3

    later = handlers.clock
    handlers.clock = lambda: later() + timedelta(minutes=10)
    try:
        done = await handlers.sweep_once()
    finally:
        handlers.clock = later
    assert done["compensated"] >= 1
    async with env.wired.db.session() as s:
        saga = await s.scalar(select(CheckoutSaga).where(CheckoutSaga.request_id == rid))
        assert saga is not None and saga.state == "FAILED"
        steps = [st.step for st in await repo.saga_steps(s, saga.id)]
    assert {"release_reservation", "release_coupons"} <= set(steps)
    assert env.pricing.holds[saga.hold_name].state == hold_pb2.HOLD_STATE_RELEASED
    res = env.inventory.reservations[co.session.reservation]
    assert res.state == inv.RESERVATION_STATE_RELEASED
    assert env.shop.coupons[code] == 1 and env.shop.variants[oil].stock == 4


async def test_a_paid_checkout_journals_every_step_with_the_writes_it_makes_anyway(
    order_env: OrderEnv,
) -> None:
    """The saga's journal, as the sweeper reads it: every step in the order taken, of
    attempt 1, written by the order's write (placing) and the confirmation's (paying):
    an entry each, not a row per step."""
    env = order_env
    co = await place_online(env, env.shop.variant(stock=3))
    order = await env.place(co)
    paid = await confirm(env, co, order)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED
    async with env.wired.db.session() as s:
        oid = order.name.split("/")[1]
        saga = await s.scalar(select(CheckoutSaga).where(CheckoutSaga.order_id == oid))
        assert saga is not None and saga.state == "COMPLETED"
        steps = await repo.saga_steps(s, saga.id)
        entries = (
            await s.scalars(select(SagaJournalEntry.id).where(SagaJournalEntry.saga_id == saga.id))
        ).all()
    assert [(st.step, st.status) for st in steps] == [
        ("start", "DONE"),
        ("validate", "STARTED"),
        ("validate", "DONE"),
        ("hold_coupons", "STARTED"),
        ("hold_coupons", "DONE"),
        ("reserve_stock", "STARTED"),
        ("reserve_stock", "DONE"),
        ("lock_price", "DONE"),
        ("create_payment", "STARTED"),
        ("create_payment", "DONE"),
        ("create_order", "DONE"),
        ("commit_reservation", "STARTED"),
        ("commit_reservation", "DONE"),
        ("commit_coupons", "STARTED"),
        ("commit_coupons", "DONE"),
        ("confirm_order", "DONE"),
    ]
    details = {(st.step, st.status): st.detail for st in steps}
    assert details["create_order", "DONE"] == order.order_number
    assert details["reserve_stock", "DONE"] == co.session.reservation
    assert details["confirm_order", "DONE"] == paid.payment.provider_payment_id
    assert {st.attempt for st in steps} == {1}
    times = [st.time for st in steps]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert len(entries) == 2


async def test_a_paid_order_announces_itself_once_and_wakes_the_relay(
    order_env: OrderEnv,
) -> None:
    """ConfirmPayment writes "order.placed" with its final statement: one event, a row
    for each subscriber that wants it, holding the order as paid; the relay is woken
    when the transaction commits (not at its next poll)."""
    env = order_env

    async def announced(order: pb.Order) -> list[tuple[str, str, int, str]]:
        """(event id, subscriber, total, order number) of each outbox row of `order`."""
        found = []
        async with env.wired.db.session() as s:
            rows = await s.execute(
                select(OUTBOX.c.event_id, OUTBOX.c.subscriber, OUTBOX.c.event).where(
                    OUTBOX.c.topic == "order.placed"
                )
            )
            for event_id, subscriber, data in rows.all():
                placed = order_events.OrderPlacedEvent()
                events_pb2.Event.FromString(data).payload.Unpack(placed)
                if placed.order == order.name:
                    found.append(
                        (event_id, subscriber, placed.total.amount_minor, placed.order_number)
                    )
        return sorted(found, key=lambda r: r[1])

    co = await place_online(env, env.shop.variant())
    order = await env.place(co)
    assert await announced(order) == []  # not before the payment
    env.wired.outbox.wake.clear()
    paid = await confirm(env, co, order)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED
    assert env.wired.outbox.wake.is_set()
    rows = await announced(order)
    subscribers = sorted(env.wired.outbox.subscribers("order.placed"))
    assert subscribers and [r[1] for r in rows] == subscribers
    assert len({r[0] for r in rows}) == 1  # one event, a row per subscriber
    assert {r[2:] for r in rows} == {(order.total.amount_minor, order.order_number)}


# --- round trips to the order database -------------------------------------------------


@dataclass
class Trips:
    statements: int = 0
    transactions: int = 0

    @property
    def round_trips(self) -> int:
        """Statements, plus BEGIN and COMMIT of each transaction (PostgreSQL)."""
        return self.statements + 2 * self.transactions


@contextmanager
def counting(env: OrderEnv) -> Iterator[Trips]:
    """The order database's statements and transactions while the block runs (the
    outbox relay and the sweepers are quiet in these tests: their own intervals):
    SQLAlchemy's and those run straight on the driver (`Database.run`, `run_in`, units)."""
    trips = Trips()
    engine = env.wired.db.engine.sync_engine

    def on_statement(*_: object) -> None:
        trips.statements += 1

    def on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            trips.transactions += 1

    db = env.wired.db
    on_driver = db.driver_round_trips  # statements run straight on asyncpg (Database.run)
    begun = db.driver_transactions  # transactions of units on asyncpg (Database.unit)
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield trips
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)
        trips.statements += db.driver_round_trips - on_driver
        trips.transactions += db.driver_transactions - begun


# Round trips are PostgreSQL's (SQLite is in-process): this test runs on PostgreSQL only.
@pytest.mark.parametrize("order_database_url", ["postgres"], indirect=True)
async def test_a_guest_checkout_round_trips(order_env: OrderEnv) -> None:
    """The bench's checkout (a guest, Razorpay UPI) step by step, as PostgreSQL sees
    it: the figures of services/order/README.md "Performance". At most, so a step
    that gets cheaper passes; one that gets dearer fails here first."""
    env = order_env
    assert env.backend == "postgres"
    oil = env.shop.variant()
    with counting(env) as create_cart:
        cart = await env.carts.CreateCart(cart_pb2.CreateCartRequest())
    with counting(env) as add_line:
        await env.carts.AddCartLine(
            cart_pb2.AddCartLineRequest(
                name=cart.name, cart_token=cart.cart_token, variant_id=oil, quantity=1
            )
        )
    with counting(env) as session:
        sess = await env.checkout.CreateCheckoutSession(
            co_pb2.CreateCheckoutSessionRequest(
                cart=cart.name,
                cart_token=cart.cart_token,
                delivery_address=address(),
                email="guest@example.com",
                phone="9876543210",
                payment_method="razorpay_upi",
            )
        )
    co = Checkout(cart.name, cart.cart_token, (), sess)
    with counting(env) as place:
        order = await env.place(co)
    with counting(env) as pay:
        paid = await confirm(env, co, order)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED
    got = {
        "create_cart": (create_cart.round_trips, create_cart.transactions),
        "add_line": (add_line.round_trips, add_line.transactions),
        "checkout_session": (session.round_trips, session.transactions),
        "place_order": (place.round_trips, place.transactions),
        "confirm_payment": (pay.round_trips, pay.transactions),
    }
    # (round trips, transactions). Before this was measured: 1, 6, 3, 21, 18; then
    # (fourth session) 1, 6, 2, 16, 16. Now: AddCartLine locks and touches the cart
    # with one UPDATE ... RETURNING; PlaceOrder writes the order, its lines, history,
    # payment, the saga's state and journal and the used session in ONE statement
    # (data-modifying CTEs, atomic alone: no BEGIN/COMMIT); ConfirmPayment marks the
    # order paid with one conditional UPDATE ... RETURNING (no SELECT ... FOR UPDATE),
    # reads its items with whether it has edits or a tax invoice (each read only when
    # there is one), and writes the payment, history row, invoice, saga and journal
    # in one statement. Seventh session: PlaceOrder's saga UPDATE (what it holds, on
    # record before the payment order) takes the order's number in the same statement;
    # ConfirmPayment's "order.placed" outbox rows join its final statement.
    limits = {
        "create_cart": (1, 0),
        "add_line": (5, 1),
        "checkout_session": (2, 0),
        "place_order": (7, 1),
        "confirm_payment": (8, 1),
    }
    assert {k: (v[0] <= limits[k][0], v[1] <= limits[k][1]) for k, v in got.items()} == {
        k: (True, True) for k in limits
    }, got


# --- plans that stay good as tables grow ------------------------------------------------


@pytest.mark.parametrize("order_database_url", ["postgres"], indirect=True)
async def test_placing_an_order_finds_its_sagas_by_index_however_large_the_table_grows(
    order_env: OrderEnv,
) -> None:
    """PostgreSQL plans a prepared statement once for any values (its generic plan)
    after five runs, and keeps it. PlaceOrder's saga lookup, planned while the table
    was empty, must still be index scans: a sequential scan there reads every saga
    ever made on every order (it did, with `request_id = $1 OR session_id = $2`)."""
    from services.order import repository as repo

    db = order_env.wired.db
    sql = db.driver_statement(repo._SAGAS_BY_REQUEST_OR_SESSION).sql
    async with db.reads() as u:
        conn = u.driver  # type: ignore[union-attr]
        await conn.execute("PREPARE sagas_probe AS " + sql)
        try:
            for i in range(6):  # past the point where PostgreSQL settles on one plan
                await conn.execute(f"EXECUTE sagas_probe('r{i}', 's{i}')")
            plan = "\n".join(
                r[0] for r in await conn.fetch("EXPLAIN EXECUTE sagas_probe('r', 's')")
            )
        finally:
            await conn.execute("DEALLOCATE sagas_probe")
    assert "Seq Scan" not in plan, plan
    assert plan.count("Index Scan") == 2, plan
