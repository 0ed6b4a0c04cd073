"""The hold path's shortcuts (SQLite and PostgreSQL).

- statements run straight on the driver (Database.fetch, PostgreSQL): a violated
  key surfaces as SQLAlchemy's IntegrityError, as the handlers expect, and JSON
  columns round-trip as text (the pool's side: tests/mesh/test_db_fetch.py);
- two expiry sweepers at once (two replicas) give every lapsed hold's uses back once,
  and two replicas seeding an empty database at once load the demo promotions once;
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cleanse.pricing.v1 import coupon_hold_service_pb2 as hpb
from cleanse.pricing.v1 import pricing_admin_service_pb2 as apb
from mesh.db import Database
from services.pricing import models, seed
from services.pricing import repository as repo
from services.pricing.handlers.holds import HoldHandlers
from tests.pricing.conftest import Pricing
from tests.pricing.test_service import cart, coupon


@pytest.mark.parametrize("pricing_database_url", ["postgres"], indirect=True)
async def test_a_violated_key_on_the_driver_path_is_an_integrity_error(pricing: Pricing) -> None:
    p = pricing
    db = p.wired.db
    hold = await p.holds.HoldCoupons(
        hpb.HoldCouponsRequest(request_id=secrets.token_hex(8), cart=cart([(p.variant(500), 1)]))
    )
    hid = hold.name.removeprefix("couponHolds/")
    # The primary key violated (ON CONFLICT covers request_id only): SQLAlchemy's
    # IntegrityError, as from a session.
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        await db.fetch(
            repo.PG_INSERT_HOLD,
            hid,
            secrets.token_hex(8),
            "",
            "",
            "HELD",
            "[]",
            "[]",
            b"",
            now,
            now,
        )
    # The hold is as it was; its JSON column reads back as text.
    rows = await db.fetch("SELECT codes::text AS codes, state FROM coupon_holds WHERE id = $1", hid)
    assert (rows[0].codes, rows[0].state) == ("[]", "HELD")


async def test_two_sweepers_give_each_lapsed_hold_back_once(pricing: Pricing) -> None:
    p = pricing
    v = p.variant(60000)
    c = await coupon(p, usage_limit=20)
    lapsing = [
        await p.holds.HoldCoupons(
            hpb.HoldCouponsRequest(
                request_id=secrets.token_hex(8),
                cart=cart([(v, 1)], (c.code,)),
                customer=f"users/sweep{i}",
                ttl_seconds=1,
            )
        )
        for i in range(8)
    ]
    kept = await p.holds.HoldCoupons(
        hpb.HoldCouponsRequest(request_id=secrets.token_hex(8), cart=cart([(v, 1)], (c.code,)))
    )
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert got.times_held == 9
    await asyncio.sleep(1.1)
    w = p.wired
    replicas = [HoldHandlers(w.db, w.quoter, w.settings) for _ in range(2)]
    released = await asyncio.gather(*(r.sweep_once() for r in replicas))
    assert sum(released) >= len(lapsing)
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert got.times_held == 1  # each lapsed use given back exactly once
    for h in lapsing:
        state = await p.holds.GetCouponHold(hpb.GetCouponHoldRequest(name=h.name))
        assert state.state == hpb.HOLD_STATE_EXPIRED
    assert await asyncio.gather(*(r.sweep_once() for r in replicas)) == [0, 0]
    done = await p.holds.CommitCouponHold(hpb.CommitCouponHoldRequest(name=kept.name))
    assert done.state == hpb.HOLD_STATE_COMMITTED and list(done.coupon_codes) == [c.code]
    got = await p.admin.GetCoupon(apb.GetCouponRequest(name=c.name), metadata=p.md())
    assert (got.times_used, got.times_held) == (1, 0)


async def test_two_replicas_seeding_at_once_load_it_once(database_url: str) -> None:
    dbs = [Database("pricing", database_url) for _ in range(2)]
    try:
        await dbs[0].migrate()
        now = datetime.now(UTC)
        done = await asyncio.gather(*(seed.seed_demo(db, now) for db in dbs))
        assert sorted(done) == [False, True]
        async with dbs[1].session() as s:
            coupons = await s.scalar(select(func.count()).select_from(models.Coupon))
            autos = await s.scalar(select(func.count()).select_from(models.AutomaticDiscount))
        assert (coupons, autos) == (len(seed.COUPONS), len(seed.AUTOMATIC))
        assert not await seed.seed_demo(dbs[0], now)  # later starts change nothing
    finally:
        for db in dbs:
            await db.dispose()
