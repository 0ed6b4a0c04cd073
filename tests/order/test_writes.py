"""The repository's writes without the unit of work (services/order/repository.py,
`Writes`): several writes as ONE statement on PostgreSQL (data-modifying CTEs), one
after the other in a transaction on SQLite; each shape's statement built once, its
values bound as parameters. Both back ends: all or nothing, and every row exactly
what was asked, however often a shape is reused."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mesh.db import Database
from services.order import repository as repo
from services.order.models import Cart, CartItem
from tests.order.conftest import OrderEnv


def cart(now: datetime) -> Cart:
    return Cart(
        customer_id=None,
        token_hash=secrets.token_hex(32),
        state="ACTIVE",
        create_time=now,
        update_time=now,
        last_activity_time=now,
    )


async def items_of(db: Database, cart_id: str) -> list[tuple[str, int, datetime]]:
    async with db.session() as s:
        rows = await s.execute(
            select(CartItem.variant_id, CartItem.quantity, CartItem.add_time)
            .where(CartItem.cart_id == cart_id)
            .order_by(CartItem.variant_id)
        )
        return [(v, q, t) for v, q, t in rows]


async def carts_with(db: Database, ids: list[str]) -> list[str]:
    async with db.session() as s:
        return list(await s.scalars(select(Cart.id).where(Cart.id.in_(ids))))


async def test_writes_go_together_and_reuse_their_shape(order_env: OrderEnv) -> None:
    """Two groups of the same shape (a cart and three lines): the second writes its
    own values, not the first's (the statement is reused, the parameters are not)."""
    db = order_env.wired.db
    now = datetime.now(UTC).replace(microsecond=0)
    written = []
    for n in range(2):
        c = cart(now + timedelta(seconds=n))
        lines = [
            CartItem(cart_id="", variant_id=f"v{n}{i}", quantity=n + i + 1, add_time=now)
            for i in range(3)
        ]
        await repo.write_at_once(db, repo.Writes().insert([c]))
        for line in lines:
            line.cart_id = c.id
        await repo.write_at_once(db, repo.Writes().insert(lines))
        assert c.id and all(line.id for line in lines)  # defaults filled in
        written.append((c, lines))
    for n, (c, _lines) in enumerate(written):
        assert await items_of(db, c.id) == [(f"v{n}{i}", n + i + 1, now) for i in range(3)]


async def test_a_failing_write_leaves_nothing_of_its_group(order_env: OrderEnv) -> None:
    """One write of a group refused (a line of a cart that does not exist: foreign
    key): nothing of the group is written, the cart before it included."""
    db = order_env.wired.db
    now = datetime.now(UTC)
    c = cart(now)
    orphan = CartItem(cart_id="no-such-cart", variant_id="v", quantity=1, add_time=now)
    with pytest.raises(IntegrityError):
        await repo.write_at_once(db, repo.Writes().insert([c]).insert([orphan]))
    assert await carts_with(db, [c.id]) == []
    # The same group in a transaction (`write_together`): rolled back as a whole too.
    c2 = cart(now)
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            await repo.write_together(s, db, repo.Writes().insert([c2]).insert([orphan]))
    assert await carts_with(db, [c2.id]) == []


async def test_updates_and_a_returning_main_statement(order_env: OrderEnv) -> None:
    """Updates by primary key with a RETURNING statement as the group's main one."""
    db = order_env.wired.db
    now = datetime.now(UTC).replace(microsecond=0)
    a, b = cart(now), cart(now)
    await repo.write_at_once(db, repo.Writes().insert([a]).insert([b]))
    later = now + timedelta(minutes=5)
    async with db.transaction() as s:
        touched = await repo.touch_cart(db, s, "id", b.id, later)
        await repo.write_together(
            s, db, repo.Writes().update(Cart, a.id, state="MERGED", merged_into=b.id)
        )
    assert touched is not None and touched.id == b.id and touched.update_time == later
    async with db.session() as s:
        rows = {r.id: r for r in await s.scalars(select(Cart).where(Cart.id.in_([a.id, b.id])))}
    assert (rows[a.id].state, rows[a.id].merged_into) == ("MERGED", b.id)
    assert rows[a.id].update_time == now  # only what was asked
    assert (rows[b.id].state, rows[b.id].last_activity_time) == ("ACTIVE", later)


async def test_made_objects_are_those_the_constructor_makes(order_env: OrderEnv) -> None:
    """`repo.make` (the hot path's objects, without the ORM's constructor) and
    `repo.entity` give ORM objects holding what `Model(**values)` holds: the same
    values written by `Writes.insert`, the same defaults filled in, and a session
    that adds one INSERTs it."""
    db = order_env.wired.db
    now = datetime.now(UTC).replace(microsecond=0)
    values = {
        "customer_id": None,
        "token_hash": secrets.token_hex(32),
        "create_time": now,
        "update_time": now,
        "last_activity_time": now,
    }
    made, built = repo.make(Cart, **values), Cart(**values)
    assert type(made) is Cart
    assert made.state is None and built.state is None  # not set: the INSERT's default
    made_values, built_values = repo.values_of(made), repo.values_of(built)
    assert made_values.pop("id") != built_values.pop("id")  # each its own new_id()
    assert made_values == built_values and made.state == "ACTIVE"
    await repo.write_at_once(db, repo.Writes().insert([made]))
    async with db.session() as s:
        row = (await s.execute(select(Cart.__table__).where(Cart.id == made.id))).one()
    read = repo.entity(Cart, row)
    assert type(read) is Cart
    assert {k: getattr(read, k) for k in made_values} == made_values
    added = repo.make(Cart, **{**values, "token_hash": secrets.token_hex(32)})
    async with db.transaction() as s:
        s.add(added)
    async with db.session() as s:
        found = await s.get(Cart, added.id)
        assert found is not None and found.token_hash == added.token_hash
        assert found.state == "ACTIVE"


def test_an_object_made_first_in_a_fresh_process_takes_attribute_sets() -> None:
    # `make` before anything has built a model the usual way (a new order process's
    # first request: a customer's first cart): the mappers are not configured yet, and
    # setting an attribute on the made object must still work.
    import subprocess
    import sys

    code = (
        "from datetime import UTC, datetime\n"
        "from services.order import repository as repo\n"
        "from services.order.models import Cart\n"
        "cart = repo.make(Cart, id='c1', state='ACTIVE')\n"
        "cart.update_time = datetime(2026, 1, 1, tzinfo=UTC)\n"
        "print(cart.id, cart.update_time.year)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["c1", "2026"]
