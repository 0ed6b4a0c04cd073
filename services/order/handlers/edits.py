"""Admin order edits before fulfilment (README "Order editing"; rules in domain/edits.py).

Order of work, so that a failure leaves nothing half-done:

1. validate, replay a known request id (same body: the first result; another body:
   IDEMPOTENCY_MISMATCH);
2. price the new lines through pricing (coupons that no longer apply are dropped,
   with a note);
3. reserve the added units (request id derived from the order and the edit's
   request id, so a retry reuses the reservation). OUT_OF_STOCK: nothing changed;
4. create the Razorpay order for a balance or a replaced payment (an orphan
   provider order left by a later failure is never paid and harmless);
5. ONE transaction with the order row locked: the request id checked again (a
   concurrent duplicate replays), the order unchanged since step 1 (else the
   reservation is given back and CONCURRENT_CHANGE), lines re-snapshotted, totals,
   address, coupons, payments, balance due, the `order_edits` row, a status
   history row (same status, reason "edited ...") and the invoice adjustment;
6. after the commit: removed units restocked (RestockReturn, idempotent) and a
   replaced reservation released; the refund of a lower total sent through the
   refunds module (request id `edit-<edit id>`, capped at what was paid). A failure
   there leaves the edit recorded with the work pending; a retry with the same
   request id finishes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cleanse.order.v1 import order_admin_service_pb2 as admin_pb2
from mesh.db import Database, new_id, utcnow
from mesh.errors import FailedPrecondition, Unavailable, Violations
from services.order import convert
from services.order import repository as repo
from services.order.domain import checkout as checkout_rules
from services.order.domain import edits as rules
from services.order.domain.checkout import body_hash
from services.order.domain.states import Status
from services.order.handlers.checkout import (
    CheckoutHandlers,
    already_undone,
    gateway_error,
    order_view,
    snapshot_items,
)
from services.order.handlers.common import Clock, actor, id_of, not_found, record
from services.order.handlers.refunds import RefundHandlers
from services.order.models import Invoice, Order, OrderEdit, OrderItem, Payment
from services.order.payments.gateway import PaymentError
from services.order.peers import PeerError, pricing_cart

log = logging.getLogger("cleanse.order.edits")


def _lines(items: list[OrderItem]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        if not i.free_gift:
            out[i.variant_id] = out.get(i.variant_id, 0) + i.quantity
    return out


class EditHandlers:
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

    async def edit(self, req: admin_pb2.EditOrderRequest) -> admin_pb2.EditOrderResponse:
        oid = id_of(req.name, "orders")
        v = Violations()
        v.check(bool(req.request_id), "request_id", "is required")
        v.check(len(req.request_id) <= 128, "request_id", "at most 128 characters")
        v.check(len(req.reason) <= 500, "reason", "at most 500 characters")
        v.check(
            bool(req.lines) or req.HasField("delivery_address"),
            "lines",
            "change some lines or the delivery address",
        )
        v.raise_if_any()
        address = (
            checkout_rules.check_address(convert.address_in(req.delivery_address)).to_json()
            if req.HasField("delivery_address")
            else None
        )
        changes = [(ln.variant_id, ln.quantity) for ln in req.lines]
        body = body_hash({"order": oid, "lines": changes, "address": address})
        async with self.db.session() as s:
            existing = await s.scalar(
                select(OrderEdit).where(OrderEdit.request_id == req.request_id)
            )
        if existing is not None:
            return await self._replay(existing, body)

        async with self.db.session() as s:
            order = await s.get(Order, oid)
            if order is None:
                raise not_found(req.name)
            items = await repo.order_items(s, oid)
            paid = await repo.paid_amount(s, oid)
            refunded = await self.refunds.counted(s, oid)
        status = Status(order.status)
        rules.check_editable(status)
        before = _lines(items)
        after = rules.apply_lines(before, changes)
        added, removed = rules.difference(before, after)
        new_address = address or order.address
        catalog, _ = await self.peers.variants(after)
        gone = sorted(x for x in added if x not in catalog or not catalog[x].sellable)
        if gone:
            raise FailedPrecondition(
                f"not sold: {', '.join(gone)}",
                reason="ITEM_UNAVAILABLE",
                metadata={"variant_ids": ",".join(gone)},
            )

        # 2. re-price: coupons kept while they apply.
        customer = f"users/{order.customer_id}" if order.customer_id else ""
        notes: list[str] = []
        cart = pricing_cart(
            after, order.coupon_codes, new_address.get("pincode", ""), order.payment_method
        )
        quote = await self.peers.price(cart, customer)
        dropped = [c for c in quote.coupons if not c.applied]
        if dropped:
            for c in dropped:
                notes.append(f"coupon {c.code} dropped: {c.message or 'no longer applies'}")
            kept = [c.code for c in quote.coupons if c.applied]
            cart = pricing_cart(after, kept, new_address.get("pincode", ""), order.payment_method)
            quote = await self.peers.price(cart, customer)
        coupons = [c.code for c in quote.coupons if c.applied]
        new_total = quote.total.amount_minor
        plan = rules.settle(
            status=status,
            provider=order.payment_provider,
            paid=paid,
            refunded=refunded,
            old_total=order.total_minor,
            new_total=new_total,
        )

        # 3. stock for the added units (a pending order's whole reservation is replaced).
        key = "edit-" + hashlib.sha256(f"{oid}:{req.request_id}".encode()).hexdigest()[:32]
        reservation = ""
        pending = status is Status.PENDING_PAYMENT
        if added or (pending and removed):
            res = await self.peers.reserve(
                key,
                after if pending else added,
                pincode=new_address.get("pincode", ""),
                state_code=new_address.get("state_code", ""),
                ttl_seconds=self.checkout.settings.reservation_ttl_seconds,
            )
            reservation = res.name
            if status is Status.CONFIRMED:
                await self.peers.commit_reservation(reservation)

        # 4. a provider order for what is to be paid online.
        provider_order_id = None
        if plan.kind in ("BALANCE_PAYMENT", "PAYMENT_REPLACED"):
            gateway = self.checkout.gateway
            try:
                if gateway is None:
                    raise Unavailable(
                        "online payments are unavailable", metadata={"dependency": "razorpay"}
                    )
                provider_order = await gateway.create_order(
                    plan.amount,
                    order.currency,
                    key[:40],
                    {"order": oid, "edit_request_id": req.request_id[:200]},
                )
            except PaymentError as exc:
                await self._undo_reservation(reservation, status, added, key)
                raise gateway_error(exc) from None
            except Unavailable:
                await self._undo_reservation(reservation, status, added, key)
                raise
            provider_order_id = provider_order.id

        # 5. apply.
        now = self.clock()
        who = actor()
        invoices = self.checkout.invoices
        seller = await invoices.seller() if invoices else None
        edit_id = new_id()
        try:
            async with self.db.transaction() as s:
                dup = await s.scalar(
                    select(OrderEdit).where(OrderEdit.request_id == req.request_id)
                )
                row = await repo.locked(s, Order, oid)
                assert isinstance(row, Order)
                if dup is not None:
                    raise _Duplicate()
                current = await repo.order_items(s, oid)
                if (
                    row.status != status.value
                    or _lines(current) != before
                    or row.total_minor != order.total_minor
                ):
                    raise FailedPrecondition(
                        "the order changed meanwhile; try again", reason="CONCURRENT_CHANGE"
                    )
                edit = OrderEdit(
                    id=edit_id,
                    order_id=oid,
                    request_id=req.request_id,
                    body_hash=body,
                    actor=who,
                    reason=req.reason.strip(),
                    before_lines=[[k, q] for k, q in sorted(before.items())],
                    after_lines=[[k, q] for k, q in sorted(after.items())],
                    before_total_minor=row.total_minor,
                    after_total_minor=new_total,
                    address_changed=address is not None and address != row.address,
                    before_address=dict(row.address),
                    settlement=plan.kind,
                    settlement_ref="",
                    settlement_minor=plan.amount,
                    notes=notes,
                    reservation_name=reservation,
                    removed_lines=[[k, q] for k, q in sorted(removed.items())]
                    if status is Status.CONFIRMED
                    else [],
                    restock_state="PENDING" if removed and status is Status.CONFIRMED else "",
                    create_time=now,
                )
                for item in current:
                    await s.delete(item)
                await s.flush()
                for item in snapshot_items(oid, quote, catalog):
                    s.add(item)
                old_reservation = row.reservation_name
                self._apply_totals(row, quote, coupons, new_address, now)
                if pending and reservation:
                    row.reservation_name = reservation
                    edit.replaced_reservation = old_reservation
                await self._apply_payment(s, row, plan, provider_order_id, edit, now)
                s.add(edit)
                record(
                    s,
                    row,
                    status.value,
                    status,
                    now,
                    reason=f"edited: {req.reason.strip() or 'by the store'}"[:500],
                    who=who,
                )
                await s.flush()
                invoiced = await s.scalar(
                    select(Invoice.id).where(Invoice.order_id == oid, Invoice.kind == "TAX_INVOICE")
                )
                diff = new_total - edit.before_total_minor
                if invoices and seller and invoiced and diff and plan.kind != "REFUND":
                    doc = await invoices.issue_edit_adjustment(s, row, seller, now, diff)
                    if doc is not None:
                        kind = "supplementary invoice" if diff > 0 else "credit note"
                        edit.notes = [*edit.notes, f"{kind} {doc.number} issued"]
        except _Duplicate:
            async with self.db.session() as s:
                existing = await s.scalar(
                    select(OrderEdit).where(OrderEdit.request_id == req.request_id)
                )
            assert existing is not None
            return await self._replay(existing, body)
        except IntegrityError:
            async with self.db.session() as s:
                existing = await s.scalar(
                    select(OrderEdit).where(OrderEdit.request_id == req.request_id)
                )
            if existing is None:
                raise
            return await self._replay(existing, body)
        except FailedPrecondition:
            await self._undo_reservation(reservation, status, added, key)
            raise
        return await self._finish(edit_id)

    # --- pieces ------------------------------------------------------------------------

    @staticmethod
    def _apply_totals(row: Order, quote, coupons: list[str], address: dict, now) -> None:  # type: ignore[no-untyped-def]
        tax = quote.tax
        row.subtotal_minor = quote.subtotal.amount_minor
        row.discount_minor = quote.discount_total.amount_minor
        row.shipping_minor = quote.shipping.fee.amount_minor
        row.cod_fee_minor = quote.cod_fee.amount_minor
        row.taxable_minor = tax.taxable_value.amount_minor
        row.cgst_minor = tax.cgst.amount_minor
        row.sgst_minor = tax.sgst.amount_minor
        row.igst_minor = tax.igst.amount_minor
        row.tax_minor = tax.total_tax.amount_minor
        row.total_minor = quote.total.amount_minor
        row.coupon_codes = coupons
        row.address = address
        row.place_of_supply = quote.place_of_supply_state_code
        row.inter_state = quote.inter_state
        row.breakdown = quote.SerializeToString()
        row.update_time = now

    async def _apply_payment(self, s, row: Order, plan, provider_order_id, edit, now) -> None:  # type: ignore[no-untyped-def]
        payments = await repo.payments(s, row.id)
        if plan.kind == "PAYMENT_REPLACED":
            for p in payments:
                if p.kind == "ORDER" and p.state == "CREATED":
                    p.state = "CANCELLED"
                    p.error_description = "replaced after an admin edit"
                    p.update_time = now
            pay = Payment(
                id=new_id(),
                order_id=row.id,
                provider="RAZORPAY",
                kind="ORDER",
                method=row.payment_method,
                state="CREATED",
                amount_minor=plan.amount,
                currency=row.currency,
                provider_order_id=provider_order_id,
                create_time=now,
                update_time=now,
            )
            s.add(pay)
            edit.settlement_ref = f"orders/{row.id}/payments/{pay.id}"
            return
        if plan.kind == "COD_AMOUNT_CHANGED":
            for p in payments:
                if p.kind == "ORDER" and p.state == "PENDING_ON_DELIVERY":
                    p.amount_minor = row.total_minor
                    p.update_time = now
            return
        # A paid order: earlier unpaid balance payments are superseded by this one.
        for p in payments:
            if p.kind == "BALANCE" and p.state == "CREATED":
                p.state = "CANCELLED"
                p.update_time = now
        row.balance_due_minor = plan.amount if plan.kind.endswith("BALANCE_DUE") else 0
        if plan.kind == "BALANCE_PAYMENT":
            row.balance_due_minor = plan.amount
            pay = Payment(
                id=new_id(),
                order_id=row.id,
                provider="RAZORPAY",
                kind="BALANCE",
                method=row.payment_method,
                state="CREATED",
                amount_minor=plan.amount,
                currency=row.currency,
                provider_order_id=provider_order_id,
                create_time=now,
                update_time=now,
            )
            s.add(pay)
            edit.settlement_ref = f"orders/{row.id}/payments/{pay.id}"

    async def _undo_reservation(
        self, reservation: str, status: Status, added: dict[str, int], key: str
    ) -> None:
        if not reservation:
            return
        with contextlib.suppress(PeerError, Unavailable):
            if status is Status.CONFIRMED:
                await self.peers.restock(f"{key}-undo", added, reservation, "edit abandoned")
            else:
                await self.peers.release_reservation(reservation)

    async def _replay(self, existing: OrderEdit, body: str) -> admin_pb2.EditOrderResponse:
        if existing.body_hash != body:
            raise FailedPrecondition(
                "request_id was already used for a different edit",
                reason="IDEMPOTENCY_MISMATCH",
                metadata={"request_id": existing.request_id},
            )
        return await self._finish(existing.id)

    async def _finish(self, edit_id: str) -> admin_pb2.EditOrderResponse:
        """The work after the commit (idempotent): restock, release, refund."""
        async with self.db.session() as s:
            edit = await s.get(OrderEdit, edit_id)
            assert edit is not None
            order = await s.get(Order, edit.order_id)
            assert order is not None
        if edit.restock_state == "PENDING":
            lines = {str(k): int(q) for k, q in edit.removed_lines}
            try:
                await self.peers.restock(
                    f"edit-{edit.id}",
                    lines,
                    order.reservation_name,
                    f"{order.order_number} edited",
                )
                await self._update(edit.id, restock_state="DONE")
            except (PeerError, Unavailable) as exc:
                log.warning("edit restock pending", extra={"edit": edit.id, "error": str(exc)})
        if edit.replaced_reservation:
            try:
                try:
                    await self.peers.release_reservation(edit.replaced_reservation)
                except PeerError as exc:
                    if not already_undone(exc):
                        raise
                await self._update(edit.id, replaced_reservation="")
            except (PeerError, Unavailable) as exc:
                log.warning("edit release pending", extra={"edit": edit.id, "error": str(exc)})
        if edit.settlement == "REFUND" and not edit.settlement_ref:
            req = admin_pb2.CreateRefundRequest(
                order=f"orders/{order.id}",
                request_id=f"edit-{edit.id}",
                amount=convert.money(edit.settlement_minor, order.currency),
                reason=f"order edited: {edit.reason}"[:500],
            )
            refund = await self.refunds.create(req, who=edit.actor)
            await self._update(edit.id, settlement_ref=refund.name)
        async with self.db.session() as s:
            edit = await s.get(OrderEdit, edit_id)
            order = await s.get(Order, edit.order_id)  # type: ignore[union-attr]
            assert edit is not None and order is not None
            view = await order_view(s, order, self.checkout.gateway)
        return admin_pb2.EditOrderResponse(order=view, edit=convert.order_edit(edit))

    async def _update(self, edit_id: str, **changes: object) -> None:
        async with self.db.transaction() as s:
            row = await s.get(OrderEdit, edit_id)
            assert row is not None
            for k, v in changes.items():
                setattr(row, k, v)


class _Duplicate(Exception):
    """A concurrent call with the same request id committed first."""
