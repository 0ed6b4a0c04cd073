"""Admin order edits before fulfilment (README "Order editing"; rules in domain/edits.py).

Order of work, so that a failure leaves nothing half-done:

1. validate, replay a known request id (same body: the first result; another body:
   IDEMPOTENCY_MISMATCH);
2. price the new lines through pricing (coupons that no longer apply are dropped,
   with a note);
3. create the Razorpay order for a balance or a replaced payment, before any stock
   moves (an orphan provider order left by a later failure is never paid and
   harmless);
4. stock, counting the order's own units as its own (request ids derived from the
   order and the edit's request id, so a retry reuses a reservation that still holds
   its units; one that does not any more — released, lapsed, or committed and put
   back by an undone attempt — is never reused: the next id of the series,
   `<id>-1`, `<id>-2`, ...):
   - CONFIRMED: its units are committed (off the shelf), so only the added units
     are reserved (held); they are committed as the last step of 5, under the order
     row's lock; a kept or lowered quantity needs nothing;
   - PENDING_PAYMENT: its units are held by one reservation, which inventory cannot
     amend, and the payment commits the order's one reservation. So the hold is
     given back first and then the new line set reserved: the order's own units are
     available to it again. Refused (OUT_OF_STOCK, or inventory down): the old line
     set is reserved again at once and the order points at that hold (if even that
     fails, the order keeps the released name and the payment reserves again, as
     for a lapsed hold);
   OUT_OF_STOCK: nothing changed;
5. ONE transaction with the order row locked: the request id checked again (a
   concurrent duplicate replays), the order unchanged since step 1 (else the stock
   of step 4 is given back, a pending order's hold restored, and
   CONCURRENT_CHANGE), lines re-snapshotted, totals, address, coupons, payments,
   balance due, the `order_edits` row, a status history row (same status, reason
   "edited ..."), the invoice adjustment and, for a CONFIRMED order (its
   "order.placed" is out), "order.updated" in the outbox for shipping; last, a
   CONFIRMED order's added units committed (only if still HELD). Any failure
   gives step 4 back: the hold released, or, once committed, the units put back
   (`RestockReturn`, request id `undo-<reservation id>`) under the same lock and
   only if no recorded edit uses them. Committing and giving back both run under
   the order's lock, so a reservation is never both recorded and put back;
6. after the commit: removed units restocked (RestockReturn, idempotent; one per
   reservation that took them, as planned in step 5: domain/stock.py); the
   refund of a lower total sent through the refunds module (request id `edit-<edit
   id>`, capped at what was paid). A failure there leaves the edit recorded with the
   work pending; a retry with the same request id finishes it, and a restock left
   PENDING by inventory being down is retried by the sweeper (`retry_restocks`). A restock inventory
   refuses for good (RESTOCK_EXCEEDS_RESERVATION, RESERVATION_NOT_COMMITTED, ...:
   handlers/restocks.py) stays PENDING with the refusal in `restock_error`, shown
   in the edit's notes; the rest of the work goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import grpc
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cleanse.inventory.v1 import resources_pb2 as inv_pb2
from cleanse.order.v1 import order_admin_service_pb2 as admin_pb2
from mesh.db import Database, new_id, utcnow
from mesh.errors import FailedPrecondition, Unavailable, Violations
from mesh.india import PostalAddress
from services.order import convert
from services.order import repository as repo
from services.order.domain import checkout as checkout_rules
from services.order.domain import edits as rules
from services.order.domain import stock
from services.order.domain.checkout import body_hash
from services.order.domain.states import Status
from services.order.handlers import notify, restocks
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


def _units(res: inv_pb2.Reservation) -> dict[str, int]:
    out: dict[str, int] = {}
    for ln in res.lines:
        out[ln.variant_id] = out.get(ln.variant_id, 0) + ln.quantity
    return out


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
        # Cancellations' recorded restocks: this sweeper retries them too.
        self.cancel_restocks = restocks.Restocks(
            db, self.peers, checkout.settings, lambda: self.clock()
        )

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
            checkout_rules.check_address(PostalAddress.of(req.delivery_address)).as_dict()
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

        # 3. a provider order for what is to be paid online (before any stock moves).
        key = "edit-" + hashlib.sha256(f"{oid}:{req.request_id}".encode()).hexdigest()[:32]
        provider_order_id = None
        if plan.kind in ("BALANCE_PAYMENT", "PAYMENT_REPLACED"):
            gateway = self.checkout.gateway
            if gateway is None:
                raise Unavailable(
                    "online payments are unavailable", metadata={"dependency": "razorpay"}
                )
            try:
                provider_order = await gateway.create_order(
                    plan.amount,
                    order.currency,
                    key[:40],
                    {"order": oid, "edit_request_id": req.request_id[:200]},
                )
            except PaymentError as exc:
                raise gateway_error(exc) from None
            provider_order_id = provider_order.id
        invoices = self.checkout.invoices
        seller = await invoices.seller() if invoices else None

        # 4. stock: the order's own units count as its own.
        reservation = ""  # the new reservation (pending: the order's new hold)
        released = ""  # pending: the hold given back for it
        pending = status is Status.PENDING_PAYMENT
        if pending and after != before:
            reservation, released = await self._replace_hold(order, before, after, key, new_address)
        elif added and not pending:
            # Held now, committed in step 5 under the order's lock (see _commit_added).
            try:
                res = await self._reserve_held(
                    key,
                    added,
                    new_address,
                    spent=lambda r: self._give_back(oid, req.request_id, r.name, _units(r)),
                )
            except _Duplicate:
                return await self._replay(await self._edit_of(req.request_id), body)
            reservation = res.name

        # 5. apply.
        now = self.clock()
        who = actor()
        edit_id = new_id()
        try:
            async with self.db.transaction() as s:
                row = await repo.locked(s, Order, oid)
                assert isinstance(row, Order)
                # After the lock: a concurrent duplicate that held it has committed.
                dup = await s.scalar(
                    select(OrderEdit).where(OrderEdit.request_id == req.request_id)
                )
                if dup is not None:
                    raise _Duplicate()
                current = await repo.order_items(s, oid)
                # Cancelled (or packed) meanwhile: not editable any more.
                rules.check_editable(Status(row.status))
                if (
                    row.status != status.value
                    or _lines(current) != before
                    or row.total_minor != order.total_minor
                    or (released and row.reservation_name != released)
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
                    # Due for the sweeper should the restock after the commit not run.
                    restock_retry_at=self._retry_at(0)
                    if removed and status is Status.CONFIRMED
                    else None,
                    order_status=status.value,
                    create_time=now,
                )
                earlier = await repo.order_edits(s, oid)
                if removed and status is Status.CONFIRMED:
                    # Where the removed units go back: the reservations that took them
                    # (the order's own, or an earlier edit's), planned under the lock.
                    back = restocks.pool(row, current, earlier).plan(removed)
                    edit.restock_from = stock.triples(back)
                for item in current:
                    await s.delete(item)
                await s.flush()
                new_items = snapshot_items(oid, quote, catalog)
                for item in new_items:
                    s.add(item)
                self._apply_totals(row, quote, coupons, new_address, now)
                if pending and reservation:
                    row.reservation_name = reservation  # the old hold is given back already
                await self._apply_payment(s, row, plan, provider_order_id, edit, now)
                s.add(edit)
                if status is Status.CONFIRMED:  # its "order.placed" is out: tell shipping
                    await notify.order_updated(
                        self.checkout.outbox,
                        s,
                        row,
                        new_items,
                        edit,
                        len(earlier) + 1,
                        now,
                    )
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
                if reservation and not pending:
                    await s.flush()  # everything written: the commit is the last step
                    await self._commit_added(reservation)
        except (_Duplicate, IntegrityError):
            existing = await self._edit_of(req.request_id, required=False)
            if existing is None:  # another constraint: undone like any failure
                await self._undo_stock(order, status, reservation, released, before, req.request_id)
                raise
            if reservation and reservation != existing.reservation_name:
                # Ours was a fresh one (the winner's, made with the same key, was not
                # held any more when we asked): not the order's, give it back.
                await self._undo_stock(order, status, reservation, "", before, req.request_id)
            return await self._replay(existing, body)
        except Exception:
            await self._undo_stock(order, status, reservation, released, before, req.request_id)
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

    async def _reserve_held(
        self,
        key: str,
        lines: dict[str, int],
        address: dict,
        *,
        spent: Callable[[inv_pb2.Reservation], Awaitable[None]] | None = None,
    ) -> inv_pb2.Reservation:
        """A HELD reservation for `lines`, idempotent on `key`. A reservation the same key
        made before and that does not hold its units any more (an attempt undone:
        released, lapsed, or committed and put back) is not reused: the next key of the
        series (`<key>-1`, ...) is tried instead; so is a key an attempt with other
        lines used. `spent` is shown each committed one first (a confirmed order's
        edit gives back what an attempt that was not recorded committed)."""
        for attempt in range(8):
            try:
                res = await self.peers.reserve(
                    key if attempt == 0 else f"{key}-{attempt}",
                    lines,
                    pincode=address.get("pincode", ""),
                    state_code=address.get("state_code", ""),
                    ttl_seconds=self.checkout.settings.reservation_ttl_seconds,
                )
            except PeerError as exc:
                if exc.reason == "IDEMPOTENCY_MISMATCH":
                    continue
                raise
            if res.state == inv_pb2.RESERVATION_STATE_HELD:
                return res
            if res.state == inv_pb2.RESERVATION_STATE_COMMITTED and spent is not None:
                await spent(res)
        raise FailedPrecondition(
            "too many undone attempts of this edit: use another request_id",
            reason="CONCURRENT_CHANGE",
        )

    async def _commit_added(self, reservation: str) -> None:
        """A confirmed order's added units committed: the last step of the edit's
        transaction, with the order row locked. Every commit of an edit's reservation
        runs under that lock, so one still HELD here is committed by this call and no
        other; one committed already was committed by an attempt that was not
        recorded (its transaction failed after the commit), whose units are being put
        back: not ours to use."""
        try:
            res = await self.peers.get_reservation(reservation)
            if res.state == inv_pb2.RESERVATION_STATE_HELD:
                await self.peers.commit_reservation(reservation)
                return
        except PeerError as exc:  # released or lapsed meanwhile
            if exc.code != grpc.StatusCode.FAILED_PRECONDITION:
                raise
        raise FailedPrecondition(
            "the stock reserved for this edit is not held any more; try again",
            reason="CONCURRENT_CHANGE",
        )

    async def _give_back(
        self, order_id: str, request_id: str, reservation: str, lines: dict[str, int]
    ) -> None:
        """The units of a committed reservation of this edit back on the shelf, unless
        the recorded edit uses it (then the edit is a duplicate: _Duplicate). Under the
        order's lock, which the transaction that commits and records an edit's
        reservation holds too, so the two never overlap; idempotent on
        `undo-<reservation>` (an attempt's undo and a retry both may ask)."""
        async with self.db.transaction() as s:
            await repo.locked(s, Order, order_id)
            edit = await s.scalar(select(OrderEdit).where(OrderEdit.request_id == request_id))
            if edit is None or edit.reservation_name != reservation:
                rid = reservation.rsplit("/", 1)[-1]
                await self.peers.restock(f"undo-{rid}", lines, reservation, "edit abandoned")
        if edit is not None:
            raise _Duplicate()

    async def _edit_of(self, request_id: str, *, required: bool = True) -> OrderEdit | None:
        async with self.db.session() as s:
            edit = await s.scalar(select(OrderEdit).where(OrderEdit.request_id == request_id))
        assert edit is not None or not required
        return edit

    async def _replace_hold(
        self,
        order: Order,
        before: dict[str, int],
        after: dict[str, int],
        key: str,
        address: dict,
    ) -> tuple[str, str]:
        """A pending order's hold replaced by one for its new lines: (new reservation,
        the one given back). The old hold is given back first, so the order's own units
        are available to the new one; a refusal restores the old line set."""
        old = order.reservation_name
        if old:
            try:
                await self.peers.release_reservation(old)
            except PeerError as exc:
                if exc.reason == "RESERVATION_COMMITTED":  # paid meanwhile
                    raise FailedPrecondition(
                        "the order was paid meanwhile; try again", reason="CONCURRENT_CHANGE"
                    ) from None
                if not already_undone(exc):
                    raise
        try:
            res = await self._reserve_held(key, after, address)
        except Exception:
            await self._restore_hold(order.id, before, order.address, old)
            raise
        return res.name, old

    async def _restore_hold(
        self, order_id: str, lines: dict[str, int], address: dict, released: str
    ) -> None:
        """Reserve a pending order's old line set again after its hold was given back
        for an edit that did not happen; the order points at the new hold (unless it
        moved on meanwhile: then the hold goes back)."""
        if not released:
            return
        digest = hashlib.sha256(f"{order_id}:{released}".encode()).hexdigest()[:32]
        try:
            res = await self._reserve_held(f"restore-{digest}", lines, address)
        except (PeerError, Unavailable, FailedPrecondition) as exc:
            # The payment reserves again when it arrives (as for a lapsed hold).
            log.warning("edit: hold not restored", extra={"order": order_id, "error": str(exc)})
            return
        async with self.db.transaction() as s:
            row = await repo.locked(s, Order, order_id)
            keep = (
                isinstance(row, Order)
                and row.status == Status.PENDING_PAYMENT.value
                and row.reservation_name == released
            )
            if keep:
                assert isinstance(row, Order)
                row.reservation_name = res.name
        if not keep:
            with contextlib.suppress(PeerError, Unavailable):
                await self.peers.release_reservation(res.name)

    async def _undo_stock(
        self,
        order: Order,
        status: Status,
        reservation: str,
        released: str,
        before: dict[str, int],
        request_id: str,
    ) -> None:
        """Step 4 undone after a failure in step 5. A confirmed order's reservation is
        released (it is committed only at the end of step 5); one committed already
        (the transaction failed after the commit, or the commit's answer was lost) has
        its units put back instead. Inventory down: a hold lapses at its TTL, and a
        retry of the request finds either."""
        if not reservation:
            return
        try:
            await self.peers.release_reservation(reservation)
        except PeerError as exc:
            if exc.reason == "RESERVATION_COMMITTED" and status is Status.CONFIRMED:
                try:
                    res = await self.peers.get_reservation(reservation)
                    await self._give_back(order.id, request_id, reservation, _units(res))
                except _Duplicate:
                    pass  # recorded after all (only its answer failed): the edit's units
                except (PeerError, Unavailable) as again:
                    log.warning(
                        "edit: committed units not given back",
                        extra={"reservation": reservation, "error": str(again)},
                    )
            elif not already_undone(exc):
                log.warning(
                    "edit: reservation not released",
                    extra={"reservation": reservation, "error": str(exc)},
                )
        except Unavailable as exc:
            log.warning(
                "edit: reservation not released",
                extra={"reservation": reservation, "error": str(exc)},
            )
        if status is Status.PENDING_PAYMENT:
            await self._restore_hold(order.id, before, order.address, released)

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
            await self._restock(edit, order)
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

    async def _restock(self, edit: OrderEdit, order: Order, *, sweep: bool = False) -> str:
        """The edit's removed units back on the shelf (its recorded plan; idempotent);
        the outcome recorded on the edit: DONE; or still PENDING with the reason, and
        when a retry can change it (inventory down or too slow) the time the sweeper
        tries again (backoff doubling from `edit_restock_retry_seconds`, at most an
        hour); a refusal for good is not retried by itself (CleanseRestockRefused).
        Returns "DONE", "RETRY" or "REFUSED"."""
        sent = await restocks.send(
            self.peers,
            f"edit-{edit.id}",
            await self._restock_plan(edit),
            order.reservation_name,
            f"{order.order_number} edited",
        )
        if sent.outcome != "DONE" and not sent.not_back.refused:
            # Inventory down or too slow (retried with backoff), or another error.
            attempts = edit.restock_attempts + (1 if sweep else 0)
            await self._update(
                edit.id,
                restock_error=sent.error,
                restock_attempts=attempts,
                restock_retry_at=self._retry_at(attempts) if sent.outcome == "RETRY" else None,
            )
            return sent.outcome
        if sent.outcome == "REFUSED":  # for good: stays PENDING, with inventory's word
            await self._update(edit.id, restock_error=sent.error, restock_retry_at=None)
            return "REFUSED"
        # Units sent nowhere stay in the recorded plan (under "").
        await self._update(edit.id, restock_state="DONE", restock_error="", restock_retry_at=None)
        return "DONE"

    def _retry_at(self, attempts: int) -> datetime:
        return restocks.retry_at(
            self.clock(), self.checkout.settings.edit_restock_retry_seconds, attempts
        )

    async def retry_restocks(self, limit: int | None = None) -> dict[str, int]:
        """Sweeper, for every recorded restock: edits' and cancellations'
        (`order_restocks`, handlers/restocks.py `Restocks`) PENDING for a retryable
        reason and due (`restock_retry_at` / `retry_at`), oldest due first, at most
        `limit` (`edit_restock_retry_batch`) a sweep, edits first; each sent again
        (same request ids, same recorded plan) and its outcome recorded (`_restock`,
        `Restocks.finish`). Refused restocks have no retry time and are left alone."""
        limit = limit or self.checkout.settings.edit_restock_retry_batch
        now = self.clock()
        async with self.db.session() as s:
            due = list(
                await s.scalars(
                    select(OrderEdit)
                    .where(
                        OrderEdit.restock_state == "PENDING",
                        OrderEdit.restock_retry_at.is_not(None),
                        OrderEdit.restock_retry_at <= now,
                    )
                    .order_by(OrderEdit.restock_retry_at, OrderEdit.id)
                    .limit(limit)
                )
            )
            orders = {e.order_id: await s.get(Order, e.order_id) for e in due}
        done = {"DONE": 0, "RETRY": 0, "REFUSED": 0}
        for edit in due:
            order = orders[edit.order_id]
            assert order is not None
            try:
                done[await self._restock(edit, order, sweep=True)] += 1
            except Exception:
                log.warning("edit restock sweep failed", extra={"edit": edit.id}, exc_info=True)
        cancels = await self.cancel_restocks.retry_due(now, limit - len(due))
        return {k: n + cancels[k] for k, n in done.items()}

    async def _restock_plan(self, edit: OrderEdit) -> stock.Plan:
        """Where the edit's removed units go back: as recorded with the edit; an edit
        recorded before plans were (its restock still pending) gets one now, from what
        the order's reservations have out, recorded under the order's lock so a retry
        sends the same."""
        if edit.restock_from:
            return stock.plan_of(edit.restock_from)
        async with self.db.transaction() as s:
            order = await repo.locked(s, Order, edit.order_id)
            row = await s.get(OrderEdit, edit.id)
            assert isinstance(order, Order) and row is not None
            if not row.restock_from:
                # A cancellation's recorded plan counts too (the order may have been
                # cancelled since this edit).
                pool = await restocks.read_pool(s, order)
                removed = {str(k): int(q) for k, q in row.removed_lines}
                row.restock_from = stock.triples(pool.plan(removed))
            return stock.plan_of(row.restock_from)

    async def _update(self, edit_id: str, **changes: object) -> None:
        async with self.db.transaction() as s:
            row = await s.get(OrderEdit, edit_id)
            assert row is not None
            for k, v in changes.items():
                setattr(row, k, v)


class _Duplicate(Exception):
    """A concurrent call with the same request id committed first."""
