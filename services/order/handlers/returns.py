"""Returns: a customer asks within the return window (settings) per line with a
reason; an admin approves (a pickup is requested, recorded as manual coordination
while the mesh has no shipping service is unavailable: "shipping.manual_pickup") or rejects;
the items are received and inspected per line; passed units are restocked through
inventory (RestockReturn, idempotent on the return id, against the reservations that
took them: the order's, or an edit's for units it added; planned and recorded on the
return's lines under the order's lock: domain/stock.py) and refunded (their share
of what was paid, through the refunds module, idempotent on the return id). A
restock inventory refuses (handlers/restocks.py) does not hold the return up: it is
recorded on the order's status history (same status, "return <id>: stock not put
back: ...") and the refund goes ahead.

Order status: DELIVERED -> RETURN_REQUESTED -> RETURNED (some units passed) or
back to DELIVERED (rejected, or nothing passed); the refund then moves it to
PARTIALLY_REFUNDED / REFUNDED.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.order.v1 import order_admin_service_pb2 as admin_pb2
from cleanse.order.v1 import order_service_pb2 as order_pb2
from cleanse.order.v1 import resources_pb2 as pb
from mesh.db import Database, new_id, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument, Unavailable, Violations
from observability.metrics import DEGRADED_CALLS
from services.order import convert
from services.order import repository as repo
from services.order.domain import states
from services.order.domain.checkout import body_hash
from services.order.domain.states import Status
from services.order.handlers import restocks
from services.order.handlers.checkout import CheckoutHandlers
from services.order.handlers.common import (
    Clock,
    actor,
    id_of,
    not_found,
    record,
    require_customer,
    transition,
)
from services.order.handlers.notify import return_status_changed
from services.order.handlers.refunds import RefundHandlers
from services.order.handlers.shipments import request_return_pickup
from services.order.models import Order, OrderStatusChange, Return

DEFAULT_WINDOW_DAYS = 7
MANUAL_PICKUP = "manual"
OPEN = ("REQUESTED", "APPROVED", "RECEIVED")


def return_proto(r: Return) -> pb.Return:
    return pb.Return(
        name=f"orders/{r.order_id}/returns/{r.id}",
        state=pb.ReturnState.Value(f"RETURN_STATE_{r.state}"),
        lines=[
            pb.ReturnLine(
                variant_id=ln["variant_id"],
                quantity=ln["quantity"],
                reason=ln.get("reason", ""),
                inspection=pb.InspectionResult.Value(
                    f"INSPECTION_RESULT_{ln.get('inspection') or 'UNSPECIFIED'}"
                ),
                inspection_note=ln.get("note", ""),
            )
            for ln in r.lines
        ],
        create_time=convert.ts(r.create_time),
        update_time=convert.ts(r.update_time),
        request_id=r.request_id,
        pickup=r.pickup,
        reject_reason=r.reject_reason,
        refund=f"orders/{r.order_id}/refunds/{r.refund_id}" if r.refund_id else "",
    )


def _return_name(name: str) -> tuple[str, str]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "orders" or parts[2] != "returns" or not all(parts[1::2]):
        raise InvalidArgument({"name": "must be orders/{order_id}/returns/{return_id}"})
    return parts[1], parts[3]


class ReturnHandlers:
    def __init__(
        self,
        db: Database,
        checkout: CheckoutHandlers,
        refunds: RefundHandlers,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.checkout = checkout
        self.peers = checkout.peers
        self.refunds = refunds
        self.clock = clock

    async def _returns(self, s: AsyncSession, order_id: str) -> list[Return]:
        rows = await s.scalars(
            select(Return).where(Return.order_id == order_id).order_by(Return.create_time)
        )
        return list(rows)

    async def list(self, req: admin_pb2.ListReturnsRequest) -> admin_pb2.ListReturnsResponse:
        """A page of the order's returns, oldest first (page_size already read by the
        contract interceptor: default, clamped, never negative)."""
        oid = id_of(req.order, "orders", "order")
        after = repo.time_page_after(req.page_token, oid)
        async with self.db.session() as s:
            if await s.get(Order, oid) is None:
                raise not_found(req.order)
            rows = await repo.page_of_order(s, Return, "create_time", oid, after, req.page_size + 1)
        return admin_pb2.ListReturnsResponse(
            returns=[return_proto(r) for r in rows[: req.page_size]],
            next_page_token=repo.time_page_token(rows, req.page_size, "create_time", oid),
        )

    # --- the customer asks -------------------------------------------------------------

    async def request(self, req: order_pb2.RequestReturnRequest) -> pb.Return:
        cid = require_customer()
        oid = id_of(req.order, "orders", "order")
        v = Violations()
        v.check(len(req.request_id) <= 128, "request_id", "at most 128 characters")
        wanted: dict[str, tuple[int, str]] = {}
        for i, line in enumerate(req.lines):
            v.check(line.quantity > 0, f"lines[{i}].quantity", "must be positive")
            v.check(0 < len(line.reason.strip()) <= 200, f"lines[{i}].reason", "1-200 characters")
            v.check(line.variant_id not in wanted, f"lines[{i}].variant_id", "appears twice")
            wanted[line.variant_id] = (line.quantity, line.reason.strip())
        v.raise_if_any()
        body = body_hash({"order": oid, "lines": sorted((k, q) for k, (q, _) in wanted.items())})
        config = await self.peers.checkout_config()
        window = timedelta(days=config.return_window_days or DEFAULT_WINDOW_DAYS)
        now = self.clock()
        try:
            async with self.db.transaction() as s:
                existing = await s.scalar(select(Return).where(Return.request_id == req.request_id))
                if existing is not None:
                    return self._replay(existing, body)
                order = await repo.locked(s, Order, oid)
                if not isinstance(order, Order) or order.customer_id != cid:
                    raise not_found(req.order)
                states.check_transition(Status(order.status), Status.RETURN_REQUESTED)
                delivered = await self._delivered_at(s, oid)
                if delivered is None or now - delivered > window:
                    raise FailedPrecondition(
                        f"returns are accepted within {window.days} days of delivery",
                        reason="RETURN_WINDOW_CLOSED",
                    )
                await self._check_lines(s, order, wanted)
                row = Return(
                    id=new_id(),
                    order_id=oid,
                    request_id=req.request_id,
                    body_hash=body,
                    state="REQUESTED",
                    lines=[
                        {"variant_id": vid, "quantity": q, "reason": why}
                        for vid, (q, why) in sorted(wanted.items())
                    ],
                    create_time=now,
                    update_time=now,
                )
                s.add(row)
                transition(s, order, Status.RETURN_REQUESTED, now, reason="return requested")
                await return_status_changed(self.checkout.outbox, s, order, row)
        except IntegrityError:
            async with self.db.session() as s:
                existing = await s.scalar(select(Return).where(Return.request_id == req.request_id))
            if existing is None:
                raise
            return self._replay(existing, body)
        return return_proto(row)

    def _replay(self, existing: Return, body: str) -> pb.Return:
        if existing.body_hash != body:
            raise FailedPrecondition(
                "request_id was already used for a different return",
                reason="IDEMPOTENCY_MISMATCH",
            )
        return return_proto(existing)

    async def _delivered_at(self, s: AsyncSession, order_id: str) -> datetime | None:
        return await s.scalar(
            select(OrderStatusChange.time)
            .where(
                OrderStatusChange.order_id == order_id,
                OrderStatusChange.to_status == Status.DELIVERED.value,
            )
            .order_by(OrderStatusChange.time)
            .limit(1)
        )

    async def _check_lines(
        self, s: AsyncSession, order: Order, wanted: dict[str, tuple[int, str]]
    ) -> None:
        sold: dict[str, int] = {}
        for item in await repo.order_items(s, order.id):
            if not item.free_gift:
                sold[item.variant_id] = sold.get(item.variant_id, 0) + item.quantity
        returned: dict[str, int] = {}
        for r in await self._returns(s, order.id):
            if r.state != "REJECTED":
                for ln in r.lines:
                    returned[ln["variant_id"]] = returned.get(ln["variant_id"], 0) + ln["quantity"]
        v = Violations()
        for i, (vid, (qty, _)) in enumerate(sorted(wanted.items())):
            left = sold.get(vid, 0) - returned.get(vid, 0)
            if vid not in sold:
                v.add(f"lines[{i}].variant_id", "is not in this order")
            elif qty > left:
                v.add(f"lines[{i}].quantity", f"at most {left}")
        v.raise_if_any()

    # --- the admin decides ------------------------------------------------------------------

    async def _load(self, s: AsyncSession, name: str) -> tuple[Order, Return]:
        oid, rid = _return_name(name)
        order = await repo.locked(s, Order, oid)
        row = await s.get(Return, rid)
        if not isinstance(order, Order) or row is None or row.order_id != oid:
            raise not_found(name)
        return order, row

    async def approve(self, name: str) -> pb.Return:
        async with self.db.session() as s:
            order_id, rid = _return_name(name)
            order = await s.get(Order, order_id)
            row = await s.get(Return, rid)
            if order is None or row is None or row.order_id != order_id:
                raise not_found(name)
            if row.state == "APPROVED":
                return return_proto(row)
            if row.state != "REQUESTED":
                raise FailedPrecondition(f"the return is {row.state}", reason="ILLEGAL_TRANSITION")
            items = await repo.order_items(s, order_id)
        try:
            pickup = await request_return_pickup(order, row, items)
        except Unavailable:
            # Shipping down (or not deployed): the pickup is coordinated by hand.
            DEGRADED_CALLS.labels("shipping.manual_pickup").inc()
            pickup = MANUAL_PICKUP
        async with self.db.transaction() as s:
            order, row = await self._load(s, name)
            if row.state == "REQUESTED":
                row.state = "APPROVED"
                row.pickup = pickup
                row.update_time = self.clock()
                await return_status_changed(self.checkout.outbox, s, order, row)
        return return_proto(row)

    async def reject(self, name: str, reason: str) -> pb.Return:
        now = self.clock()
        async with self.db.transaction() as s:
            order, row = await self._load(s, name)
            if row.state == "REJECTED":
                return return_proto(row)
            if row.state not in ("REQUESTED", "APPROVED"):
                raise FailedPrecondition(f"the return is {row.state}", reason="ILLEGAL_TRANSITION")
            row.state = "REJECTED"
            row.reject_reason = reason.strip()[:500]
            row.update_time = now
            await return_status_changed(self.checkout.outbox, s, order, row)
            others = [r for r in await self._returns(s, order.id) if r.id != row.id]
            if order.status == Status.RETURN_REQUESTED.value and not any(
                r.state in OPEN for r in others
            ):
                transition(s, order, Status.DELIVERED, now, reason="return rejected")
        return return_proto(row)

    async def inspect(self, req: admin_pb2.InspectReturnRequest) -> pb.Return:
        now = self.clock()
        verdicts = {i.variant_id: i for i in req.inspections}
        async with self.db.transaction() as s:
            order, row = await self._load(s, req.name)
            if row.state == "COMPLETED":
                return return_proto(row)
            if row.state not in ("APPROVED", "RECEIVED"):
                raise FailedPrecondition(
                    f"the return is {row.state}; approve it first", reason="ILLEGAL_TRANSITION"
                )
            missing = [ln["variant_id"] for ln in row.lines if ln["variant_id"] not in verdicts]
            if missing:
                raise InvalidArgument({"inspections": f"no verdict for {', '.join(missing)}"})
            lines = []
            for ln in row.lines:
                verdict = verdicts[ln["variant_id"]]
                lines.append(
                    {
                        **ln,
                        "inspection": "PASSED" if verdict.passed else "FAILED",
                        "note": verdict.note[:200],
                    }
                )
            passed = {
                ln["variant_id"]: ln["quantity"] for ln in lines if ln["inspection"] == "PASSED"
            }
            if any(ln["inspection"] == "PASSED" and not ln.get("restock_from") for ln in lines):
                # Where the passed units go back: the reservations that took them (the
                # order's own, or an edit's), planned and recorded under the order's lock.
                others = [r for r in await self._returns(s, order.id) if r.id != row.id]
                pool = restocks.pool(
                    order,
                    await repo.order_items(s, order.id),
                    await repo.order_edits(s, order.id),
                    others,
                )
                back = pool.plan(passed)
                for ln in lines:
                    if ln["inspection"] == "PASSED":
                        v = ln["variant_id"]
                        ln["restock_from"] = [[r, back[r][v]] for r in sorted(back) if v in back[r]]
            row.lines = lines
            if row.state != "RECEIVED":
                row.state = "RECEIVED"
                await return_status_changed(self.checkout.outbox, s, order, row)
            row.update_time = now
        not_back = restocks.PutBack()
        if passed:
            # A refusal does not hold the return up (inventory would refuse a retry
            # the same): the refund goes ahead, the refusal goes on the history.
            plan, _ = restocks.return_plan(row)
            not_back = await restocks.put_back(
                self.peers,
                f"return-{row.id}",
                plan,
                order.reservation_name,
                f"{order.order_number} return",
            )
        async with self.db.transaction() as s:
            locked = await repo.locked(s, Order, order.id)
            assert isinstance(locked, Order)
            if locked.status == Status.RETURN_REQUESTED.value:
                target = Status.RETURNED if passed else Status.DELIVERED
                transition(
                    s, locked, target, now, reason=f"return inspected ({len(passed)} passed)"
                )
            if not_back:
                why = f"return {row.id}: "
                why += not_back.summary(500 - len(why))
                seen = await s.scalar(
                    select(OrderStatusChange.id)
                    .where(OrderStatusChange.order_id == order.id, OrderStatusChange.reason == why)
                    .limit(1)
                )
                if seen is None:  # once, though an inspection is retried
                    here = Status(locked.status)
                    record(s, locked, here.value, here, now, reason=why)
        refund_id = None
        if passed and order.paid:
            refund = await self.refunds.create(
                admin_pb2.CreateRefundRequest(
                    order=f"orders/{order.id}",
                    request_id=f"return-{row.id}",
                    lines=[pb.RefundLine(variant_id=v, quantity=q) for v, q in passed.items()],
                    reason="returned items passed inspection",
                ),
                who=actor(),
            )
            refund_id = refund.name.rsplit("/", 1)[-1]
        async with self.db.transaction() as s:
            final = await s.get(Return, row.id)
            assert final is not None
            final.state = "COMPLETED"
            final.refund_id = refund_id
            final.update_time = self.clock()
            owner = await s.get(Order, final.order_id)
            assert owner is not None
            await return_status_changed(self.checkout.outbox, s, owner, final)
            return return_proto(final)
