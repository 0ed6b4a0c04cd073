"""Orders after checkout: customers' own orders, the admin console, cancellation,
status changes (every one recorded in order_status_history), COD collection and
the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.order.v1 import order_admin_service_pb2 as admin_pb2
from cleanse.order.v1 import order_service_pb2 as order_pb2
from cleanse.order.v1 import resources_pb2 as pb
from mesh.db import Database, decode_page_token, encode_page_token, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument, ServiceError, Violations
from services.order import repository as repo
from services.order.domain import states
from services.order.domain.states import Status
from services.order.handlers import restocks
from services.order.handlers.checkout import CheckoutHandlers, order_view
from services.order.handlers.common import (
    Clock,
    id_of,
    not_found,
    require_customer,
    transition,
)
from services.order.handlers.refunds import RefundHandlers
from services.order.models import Order

MAX_BATCH = 500
EXPORT_PAGE = 500
CSV_COLUMNS = (
    "order_number",
    "order_id",
    "placed_at",
    "status",
    "customer",
    "email",
    "phone",
    "city",
    "state_code",
    "pincode",
    "payment_method",
    "paid",
    "items",
    "subtotal",
    "discount",
    "shipping",
    "cod_fee",
    "tax",
    "total",
    "coupons",
)


def _rupees(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _status_name(value: int, field: str) -> Status:
    name = pb.OrderStatus.Name(value) if value in pb.OrderStatus.values() else ""
    if not name or value == pb.ORDER_STATUS_UNSPECIFIED:
        raise InvalidArgument({field: "is not an order status"})
    return Status(name.removeprefix("ORDER_STATUS_"))


def _time(ts: Timestamp, present: bool) -> datetime | None:
    return ts.ToDatetime(tzinfo=utcnow().tzinfo) if present else None


def filters(req: order_pb2.ListOrdersRequest, *, customer_id: str | None) -> repo.OrderFilter:
    v = Violations()
    statuses = []
    for i, st in enumerate(req.statuses):
        try:
            statuses.append(_status_name(st, f"statuses[{i}]").value)
        except InvalidArgument as exc:
            v.items.extend(exc.violations)
    cust = customer_id
    if cust is None and req.customer:
        prefix, _, uid = req.customer.partition("/")
        v.check(prefix == "users" and bool(uid), "customer", "must be users/{id}")
        cust = uid
    v.raise_if_any()
    return repo.OrderFilter(
        customer_id=cust,
        statuses=tuple(statuses),
        placed_after=_time(req.placed_after, req.HasField("placed_after")),
        placed_before=_time(req.placed_before, req.HasField("placed_before")),
        order_number_prefix=req.order_number.strip().upper(),
    )


def _digest(f: repo.OrderFilter) -> dict[str, object]:
    return {
        "c": f.customer_id,
        "s": list(f.statuses),
        "a": f.placed_after.isoformat() if f.placed_after else "",
        "b": f.placed_before.isoformat() if f.placed_before else "",
        "n": f.order_number_prefix,
    }


class OrderHandlers:
    def __init__(
        self,
        db: Database,
        checkout: CheckoutHandlers,
        refunds: RefundHandlers,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.checkout = checkout
        self.refunds = refunds
        self.peers = checkout.peers
        self.clock = clock
        self.restocks = restocks.Restocks(db, self.peers, checkout.settings, lambda: self.clock())

    async def _view(self, s: AsyncSession, order: Order) -> pb.Order:
        return await order_view(s, order, self.checkout.gateway)

    # --- listing ---------------------------------------------------------------------------

    async def list(
        self, req: order_pb2.ListOrdersRequest, *, customer_id: str | None
    ) -> order_pb2.ListOrdersResponse:
        f = filters(req, customer_id=customer_id)
        after = decode_page_token(req.page_token, _digest(f))
        async with self.db.session() as s:
            rows = await repo.list_orders(s, f, after_id=after, limit=req.page_size + 1)
            more = len(rows) > req.page_size
            rows = rows[: req.page_size]
            out = order_pb2.ListOrdersResponse(orders=[await self._view(s, o) for o in rows])
        if more and rows:
            out.next_page_token = encode_page_token(rows[-1].id, _digest(f))
        return out

    async def list_mine(self, req: order_pb2.ListOrdersRequest) -> order_pb2.ListOrdersResponse:
        return await self.list(req, customer_id=require_customer())

    async def get(self, name: str, *, customer_id: str | None = None) -> pb.Order:
        oid = id_of(name, "orders")
        async with self.db.session() as s:
            order = await s.get(Order, oid)
            if order is None or (customer_id is not None and order.customer_id != customer_id):
                raise not_found(name)
            return await self._view(s, order)

    async def get_mine(self, name: str) -> pb.Order:
        return await self.get(name, customer_id=require_customer())

    # --- cancelling ---------------------------------------------------------------------------

    async def cancel(self, name: str, reason: str, *, customer_id: str | None = None) -> pb.Order:
        """Before shipment. A confirmed order's units go back on the shelf: planned and
        recorded in the transaction that cancels it (the order row locked: an edit
        records its lines, reservation and restock plan under the same lock, and one
        reaching its transaction after this is refused), sent to inventory after the
        commit, so no transaction waits for inventory; left PENDING for the sweeper
        when inventory is down (handlers/restocks.py `Restocks`). A paid order is
        refunded in full."""
        oid = id_of(name, "orders")
        async with self.db.session() as s:
            order = await s.get(Order, oid)
        if order is None or (customer_id is not None and order.customer_id != customer_id):
            raise not_found(name)
        current = Status(order.status)
        if current in (Status.CANCELLED, Status.REFUND_PENDING) and order.cancel_reason:
            # A repeat: a restock still pending is sent again (its recorded plan).
            await self.restocks.finish_order(oid)
            return await self.get(name)
        outcome = states.cancel_outcome(current, order.paid)
        if outcome.release_holds:
            await self.checkout.release_unpaid(order)
        now = self.clock()
        async with self.db.transaction() as s:
            row = await repo.locked(s, Order, oid)
            assert isinstance(row, Order)
            if row.status != current.value:
                raise FailedPrecondition(
                    "the order changed meanwhile; try again", reason="CONCURRENT_CHANGE"
                )
            restock = None
            if current in (Status.CONFIRMED, Status.PACKED):
                # Planned from the order's lines and reservations with its row
                # locked, and recorded; sent after the commit.
                restock = await self.restocks.record_cancel(s, row, now)
            why = reason.strip()[:500] or "cancelled"
            transition(s, row, outcome.target, now, reason=why)
            row.cancel_reason = why
            payment = await repo.latest_payment(s, row.id)
            if payment is not None and payment.state in ("CREATED", "PENDING_ON_DELIVERY"):
                payment.state = "CANCELLED"
                payment.update_time = now
            held = (row.reservation_name, row.coupon_hold_name)
        if outcome.release_holds and held != (order.reservation_name, order.coupon_hold_name):
            # An edit replaced the order's hold before the lock was ours: that one too.
            await self.checkout.release_unpaid(row)
        if outcome.refund_owed:  # a paid order is refunded in full on cancel
            await self.refunds.refund_in_full(oid, why)
        if restock is not None:
            # Inventory down or refusing: recorded on the restock and the order's
            # history; the cancellation stands.
            await self.restocks.finish(restock.id)
        return await self.get(name)

    async def cancel_mine(self, name: str, reason: str) -> pb.Order:
        return await self.cancel(name, reason, customer_id=require_customer())

    # --- admin status changes ------------------------------------------------------------------

    async def update_status(self, name: str, status: int, reason: str) -> pb.Order:
        target = _status_name(status, "status")
        if target not in states.ADMIN_SETTABLE:
            raise InvalidArgument({"status": "must be PACKED, SHIPPED, DELIVERED or CANCELLED"})
        if target is Status.CANCELLED:
            return await self.cancel(name, reason or "cancelled by the store")
        oid = id_of(name, "orders")
        now = self.clock()
        async with self.db.transaction() as s:
            row = await repo.locked(s, Order, oid)
            if not isinstance(row, Order):
                raise not_found(name)
            if row.status == target.value:
                return await self._view(s, row)  # a repeat
            transition(s, row, target, now, reason=reason.strip()[:500])
            if states.cod_paid_on(target, row.payment_provider) and not row.paid:
                await self._collect_cod(s, row, now)
            return await self._view(s, row)

    async def _collect_cod(self, s: AsyncSession, row: Order, now: datetime) -> None:
        row.paid = True
        row.update_time = now
        payment = await repo.latest_payment(s, row.id)
        if payment is not None:
            payment.state = "COLLECTED"
            payment.update_time = now

    async def batch_update(
        self, req: admin_pb2.BatchUpdateOrderStatusRequest
    ) -> admin_pb2.BatchUpdateOrderStatusResponse:
        v = Violations()
        v.check(len(req.names) <= MAX_BATCH, "names", f"at most {MAX_BATCH}")
        v.raise_if_any()
        _status_name(req.status, "status")
        out = admin_pb2.BatchUpdateOrderStatusResponse()
        for name in req.names:
            try:
                order = await self.update_status(name, req.status, req.reason)
                out.results.add(name=name, ok=True, status=order.status)
            except ServiceError as exc:
                current = pb.ORDER_STATUS_UNSPECIFIED
                try:
                    current = (await self.get(name)).status
                except ServiceError:
                    pass
                out.results.add(
                    name=name,
                    ok=False,
                    status=current,
                    error_reason=exc.reason,
                    error_message=exc.message,
                )
        return out

    async def mark_cod_paid(self, name: str) -> pb.Order:
        oid = id_of(name, "orders")
        async with self.db.transaction() as s:
            row = await repo.locked(s, Order, oid)
            if not isinstance(row, Order):
                raise not_found(name)
            if row.payment_provider != "COD":
                raise FailedPrecondition("not a cash-on-delivery order", reason="NOT_COD")
            if row.status in (Status.CANCELLED.value, Status.PAYMENT_FAILED.value):
                raise FailedPrecondition(f"the order is {row.status}", reason="ILLEGAL_TRANSITION")
            if not row.paid:
                await self._collect_cod(s, row, self.clock())
            return await self._view(s, row)

    # --- export ---------------------------------------------------------------------------------

    async def export(self, req: admin_pb2.ExportOrdersRequest) -> AsyncIterator[tuple[bytes, int]]:
        """(chunk, rows so far): the header first, then a chunk per page of orders."""
        f = filters(req.filter, customer_id=None)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        rows = 0
        after: str | None = None
        while True:
            async with self.db.session() as s:
                page = await repo.list_orders(s, f, after_id=after, limit=EXPORT_PAGE)
                for o in page:
                    items = await repo.order_items(s, o.id)
                    writer.writerow(
                        [
                            o.order_number,
                            o.id,
                            o.create_time.isoformat(),
                            o.status,
                            f"users/{o.customer_id}" if o.customer_id else "guest",
                            o.email,
                            o.phone,
                            o.address.get("city", ""),
                            o.address.get("state_code", ""),
                            o.address.get("pincode", ""),
                            o.payment_method,
                            "yes" if o.paid else "no",
                            sum(i.quantity for i in items),
                            _rupees(o.subtotal_minor),
                            _rupees(o.discount_minor),
                            _rupees(o.shipping_minor),
                            _rupees(o.cod_fee_minor),
                            _rupees(o.tax_minor),
                            _rupees(o.total_minor),
                            " ".join(o.coupon_codes),
                        ]
                    )
            rows += len(page)
            yield buf.getvalue().encode(), rows
            buf.seek(0)
            buf.truncate()
            if len(page) < EXPORT_PAGE:
                return
            after = page[-1].id
