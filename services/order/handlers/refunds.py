"""Refunds: full or partial, by amount or by line, never more than was paid minus
what is refunded or pending.

Concurrency: the order row is locked (PostgreSQL FOR UPDATE; SQLite writers
serialize) while the refundable amount is computed and the PENDING refund is
inserted, so two refunds racing past the paid amount cannot both pass. The
request id is unique (a concurrent duplicate hits IntegrityError and replays).

Online orders: Razorpay refunds a payment at most what it captured, and an order
may have more than one captured payment (an admin edit's balance payment, a late
capture). So a refund is split over the captured payments while the order row is
locked (`refund_parts`: the order's own payment first, then balance payments by
time, each never more than its captured amount minus its parts pending or
processed) and each part goes to Razorpay outside the transaction, against its own
payment, with its own idempotency key (`X-Refund-Idempotency`: `refund-<refund
id>` for the first part, `refund-<refund id>-<n>` for the others), so a retry
never refunds twice. The gateway down: the part stays PENDING with the error and
the sweeper (or a retry of the request id) sends it again; declined: the part
FAILED. The refund is PROCESSED when every part is, FAILED when none went through;
some through and some declined: PROCESSED for what went through, the rest
refundable again (the error names the declined part); a refund by lines then keeps
only the units that amount reaches (domain.refunds.lines_reached), so its credit
note credits exactly what went back and the units not reached are refundable by
line again. Razorpay's refund.processed
/ refund.failed webhooks settle pending parts. Refunds made before parts existed
get one part, on the order's own payment, the first time they are needed.
COD orders: recorded as STORE_CREDIT or BANK_TRANSFER and PROCESSED at once (the
payout happens outside the gateway).

Processed refunds move the order to REFUNDED / PARTIALLY_REFUNDED when its state
allows it and write "order.refunded" into the outbox in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.order.v1 import events_pb2
from cleanse.order.v1 import order_admin_service_pb2 as admin_pb2
from cleanse.order.v1 import resources_pb2 as pb
from mesh.db import Database, new_id, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument, Violations
from mesh.outbox import Outbox
from observability.metrics import counter
from services.order import convert
from services.order import repository as repo
from services.order.domain import refunds as rules
from services.order.domain import states
from services.order.domain.checkout import body_hash
from services.order.domain.states import Status
from services.order.handlers.checkout import CheckoutHandlers
from services.order.handlers.common import Clock, actor, id_of, not_found, transition
from services.order.models import Order, Payment, Refund, RefundPart
from services.order.payments.gateway import PaymentError, ProviderRefund, RefundStatus

log = logging.getLogger("cleanse.order.refunds")
ORDER_REFUNDED = "order.refunded"
REFUNDS = counter("refunds_total", "Refunds by outcome.", ["outcome"])
COD_METHODS = ("STORE_CREDIT", "BANK_TRANSFER")


def idempotency_key(refund_id: str, position: int) -> str:
    """The provider idempotency key of a refund's part (the first part's is the one a
    refund had before refunds were split)."""
    return f"refund-{refund_id}" if position == 0 else f"refund-{refund_id}-{position}"


def refund_proto(r: Refund) -> pb.Refund:
    return pb.Refund(
        name=f"orders/{r.order_id}/refunds/{r.id}",
        amount=convert.money(r.amount_minor, r.currency),
        state=pb.RefundState.Value(f"REFUND_STATE_{r.state}"),
        reason=r.reason,
        provider_refund_id=r.provider_refund_id or "",
        create_time=convert.ts(r.create_time),
        update_time=convert.ts(r.update_time),
        method=pb.RefundMethod.Value(f"REFUND_METHOD_{r.method}"),
        lines=[pb.RefundLine(variant_id=v, quantity=q) for v, q in r.lines],
        request_id=r.request_id,
        actor=r.actor,
        error=r.error,
    )


def _past(rows: list[Refund]) -> list[rules.PastRefund]:
    return [rules.PastRefund(r.amount_minor, r.state, [(v, q) for v, q in r.lines]) for r in rows]


class RefundHandlers:
    def __init__(
        self, db: Database, checkout: CheckoutHandlers, outbox: Outbox, clock: Clock = utcnow
    ) -> None:
        self.db = db
        self.checkout = checkout
        self.outbox = outbox
        self.clock = clock

    async def _refunds(self, s: AsyncSession, order_id: str) -> list[Refund]:
        rows = await s.scalars(
            select(Refund)
            .where(Refund.order_id == order_id)
            .order_by(Refund.create_time, Refund.id)
        )
        return list(rows)

    async def counted(self, s: AsyncSession, order_id: str) -> int:
        """Refunds pending or processed (what no longer counts as paid)."""
        past = _past(await self._refunds(s, order_id))
        return sum(r.amount for r in past if r.state in rules.COUNTED)

    async def refund_late_payment(self, order_id: str, payment_id: str) -> pb.Refund:
        """A payment captured after the order was given up goes back in full, through
        the adapter (idempotency key `refund-<refund id>`; request id per payment)."""
        async with self.db.session() as s:
            paid = await repo.paid_amount(s, order_id)
        req = admin_pb2.CreateRefundRequest(
            order=f"orders/{order_id}",
            request_id=f"late-{payment_id}"[:128],
            amount=convert.money(paid),
            reason="payment captured after the order was closed",
        )
        return await self.create(req, who="system")

    async def list(self, req: admin_pb2.ListRefundsRequest) -> admin_pb2.ListRefundsResponse:
        """A page of the order's refunds, oldest first (page_size already read by the
        contract interceptor: default, clamped, never negative)."""
        oid = id_of(req.order, "orders", "order")
        after = repo.time_page_after(req.page_token, oid)
        async with self.db.session() as s:
            if await s.get(Order, oid) is None:
                raise not_found(req.order)
            rows = await repo.page_of_order(s, Refund, "create_time", oid, after, req.page_size + 1)
        return admin_pb2.ListRefundsResponse(
            refunds=[refund_proto(r) for r in rows[: req.page_size]],
            next_page_token=repo.time_page_token(rows, req.page_size, "create_time", oid),
        )

    async def create(
        self, req: admin_pb2.CreateRefundRequest, *, who: str | None = None
    ) -> pb.Refund:
        oid = id_of(req.order, "orders", "order")
        v = Violations()
        v.check(len(req.request_id) <= 128, "request_id", "at most 128 characters")
        v.check(req.amount.amount_minor >= 0, "amount", "must not be negative")
        v.check(
            not (req.amount.amount_minor and req.lines),
            "lines",
            "give an amount or lines, not both",
        )
        wanted: dict[str, int] = {}
        for i, line in enumerate(req.lines):
            v.check(line.quantity > 0, f"lines[{i}].quantity", "must be positive")
            wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
        v.check(len(req.reason) <= 500, "reason", "at most 500 characters")
        v.raise_if_any()
        method_name = pb.RefundMethod.Name(req.method).removeprefix("REFUND_METHOD_")
        body = body_hash(
            {
                "order": oid,
                "amount": req.amount.amount_minor,
                "lines": sorted(wanted.items()),
                "method": method_name,
            }
        )
        now = self.clock()
        try:
            # The replay of a known request id runs after this transaction (it may
            # resend, which writes in transactions of its own).
            async with self.db.transaction() as s:
                existing = await s.scalar(select(Refund).where(Refund.request_id == req.request_id))
                if existing is None:
                    order = await repo.locked(s, Order, oid)
                    if not isinstance(order, Order):
                        raise not_found(req.order)
                    refund = await self._new(s, order, req, wanted, method_name, body, now, who)
        except IntegrityError:
            async with self.db.session() as s:
                existing = await s.scalar(select(Refund).where(Refund.request_id == req.request_id))
            if existing is None:
                raise
        if existing is not None:
            return await self._replay(existing, body)
        if refund.method == "ORIGINAL_PAYMENT":
            refund = await self._send(refund)
        else:
            refund = await self._processed(refund.id)
        return refund_proto(refund)

    async def refund_in_full(self, order_id: str, reason: str) -> pb.Refund:
        """Everything still refundable, once per order (cancel of a paid order, or a
        payment that arrived after the stock ran out)."""
        req = admin_pb2.CreateRefundRequest(
            order=f"orders/{order_id}", request_id=f"full-{order_id}", reason=reason[:500]
        )
        return await self.create(req, who="system")

    async def _replay(self, existing: Refund, body: str) -> pb.Refund:
        if existing.body_hash != body:
            raise FailedPrecondition(
                "request_id was already used for a different refund",
                reason="IDEMPOTENCY_MISMATCH",
                metadata={"request_id": existing.request_id},
            )
        if await self._unsent(existing):
            existing = await self._send(existing)  # a retry resends (same idempotency keys)
        elif existing.state == "PENDING" and existing.method != "ORIGINAL_PAYMENT":
            existing = await self._processed(existing.id)  # recorded, not yet marked
        return refund_proto(existing)

    async def _new(
        self,
        s: AsyncSession,
        order: Order,
        req: admin_pb2.CreateRefundRequest,
        wanted: dict[str, int],
        method_name: str,
        body: str,
        now: datetime,
        who: str | None,
    ) -> Refund:
        # What was actually paid: the order's capture (or collected cash), balance
        # payments of admin edits, a payment captured after the order was closed.
        paid = await repo.paid_amount(s, order.id)
        if paid <= 0:
            raise FailedPrecondition("the order has not been paid", reason="ORDER_NOT_PAID")
        past = _past(await self._refunds(s, order.id))
        available = rules.refundable(paid, past)
        if wanted:
            items = await repo.order_items(s, order.id)
            sold = [rules.SoldLine(i.variant_id, i.quantity, i.total_minor) for i in items]
            amount = rules.lines_amount(wanted, sold, past)
        else:
            amount = req.amount.amount_minor or available
        rules.check_amount(amount, available)
        if order.payment_provider == "COD":
            method = method_name if method_name in COD_METHODS else "STORE_CREDIT"
        else:
            if method_name not in ("UNSPECIFIED", "ORIGINAL_PAYMENT"):
                raise InvalidArgument({"method": "online orders are refunded to the payment"})
            method = "ORIGINAL_PAYMENT"
        # Still under the order's lock: racing refunds see each other's parts.
        plan = (
            rules.allocate(amount, await self._rooms(s, order.id, now))
            if method == "ORIGINAL_PAYMENT"
            else []
        )
        refund = Refund(
            id=new_id(),
            order_id=order.id,
            request_id=req.request_id,
            body_hash=body,
            amount_minor=amount,
            currency=order.currency,
            state="PENDING",
            method=method,
            lines=[[v, q] for v, q in sorted(wanted.items())],
            reason=req.reason.strip(),
            actor=who if who is not None else actor(),
            create_time=now,
            update_time=now,
        )
        s.add(refund)
        await s.flush()
        for position, (payment_id, share) in enumerate(plan):
            s.add(
                RefundPart(
                    id=new_id(),
                    refund_id=refund.id,
                    order_id=order.id,
                    payment_id=payment_id,
                    position=position,
                    amount_minor=share,
                    state="PENDING",
                    error="",
                    create_time=now,
                    update_time=now,
                )
            )
        await s.flush()
        return refund

    # --- parts: a refund over the captured payments -------------------------------------

    async def _rooms(
        self, s: AsyncSession, order_id: str, now: datetime
    ) -> list[rules.PaymentRoom]:
        """The order's captured online payments, its own first and then balance
        payments (each by time), with what refund parts already claim of each. Call it
        with the order row locked."""
        await self._adopt_unsplit(s, order_id, now)
        payments = [
            p
            for p in await repo.payments(s, order_id)
            if p.state == "CAPTURED" and p.provider_payment_id
        ]
        payments.sort(key=lambda p: p.kind != "ORDER")  # stable: time order kept
        claimed: dict[str, int] = {}
        for part in await s.scalars(select(RefundPart).where(RefundPart.order_id == order_id)):
            if part.state in rules.COUNTED:
                claimed[part.payment_id] = claimed.get(part.payment_id, 0) + part.amount_minor
        return [rules.PaymentRoom(p.id, p.amount_minor, claimed.get(p.id, 0)) for p in payments]

    async def _adopt_unsplit(self, s: AsyncSession, order_id: str, now: datetime) -> None:
        """Online refunds made before refunds were split get their one part: the whole
        amount on the order's own latest payment, where they were (or will be) sent
        with the same idempotency key. Call it with the order row locked."""
        has_parts = select(RefundPart.id).where(RefundPart.refund_id == Refund.id).exists()
        rows = list(
            await s.scalars(
                select(Refund).where(
                    Refund.order_id == order_id,
                    Refund.method == "ORIGINAL_PAYMENT",
                    Refund.state.in_(rules.COUNTED),
                    ~has_parts,
                )
            )
        )
        payment = await repo.latest_payment(s, order_id) if rows else None
        if payment is None:
            return
        for r in rows:
            s.add(
                RefundPart(
                    id=new_id(),
                    refund_id=r.id,
                    order_id=order_id,
                    payment_id=payment.id,
                    position=0,
                    amount_minor=r.amount_minor,
                    state=r.state,
                    provider_refund_id=r.provider_refund_id,
                    error=r.error,
                    create_time=r.create_time,
                    update_time=now,
                )
            )
        await s.flush()

    async def _parts(self, refund: Refund) -> list[RefundPart]:
        async with self.db.session() as s:
            parts = list(
                await s.scalars(
                    select(RefundPart)
                    .where(RefundPart.refund_id == refund.id)
                    .order_by(RefundPart.position)
                )
            )
        if parts or refund.method != "ORIGINAL_PAYMENT" or refund.state not in rules.COUNTED:
            return parts
        async with self.db.transaction() as s:
            await repo.locked(s, Order, refund.order_id)
            await self._adopt_unsplit(s, refund.order_id, self.clock())
            return list(
                await s.scalars(
                    select(RefundPart)
                    .where(RefundPart.refund_id == refund.id)
                    .order_by(RefundPart.position)
                )
            )

    async def _update_part(
        self,
        part_id: str,
        *,
        provider: ProviderRefund | None = None,
        state: str | None = None,
        error: str | None = None,
    ) -> None:
        async with self.db.transaction() as s:
            row = await s.get(RefundPart, part_id)
            assert row is not None
            if provider is not None:
                row.provider_refund_id = provider.id
                if provider.status == RefundStatus.FAILED:
                    state, error = "FAILED", "refund failed at the provider"
                elif provider.status == RefundStatus.PROCESSED:
                    state, error = "PROCESSED", ""
                else:
                    error = ""
            if state is not None and row.state == "PENDING":
                row.state = state
            if error is not None:
                row.error = error[:500]
            row.update_time = self.clock()

    async def _settle(self, refund_id: str) -> Refund:
        """The refund follows its parts (domain.refunds.settle_parts)."""
        async with self.db.session() as s:
            refund = await s.get(Refund, refund_id)
            assert refund is not None
            parts = list(
                await s.scalars(
                    select(RefundPart)
                    .where(RefundPart.refund_id == refund_id)
                    .order_by(RefundPart.position)
                )
            )
        if refund.state != "PENDING" or not parts:
            return refund
        outcome = rules.settle_parts([(p.amount_minor, p.state) for p in parts])
        if len(parts) == 1:
            error = parts[0].error
        else:
            error = "; ".join(
                f"part {p.position + 1} of {len(parts)} ({p.amount_minor} paise): {p.error}"
                for p in parts
                if p.error
            )
        first = parts[0].provider_refund_id
        if outcome.state == "PENDING":
            return await self._update(refund_id, provider_id=first, error=error)
        if outcome.state == "FAILED":
            return await self._update(
                refund_id, state="FAILED", provider_id=first, error=error or "refund failed"
            )
        await self._update(refund_id, provider_id=first)
        if outcome.amount != refund.amount_minor:
            error = f"refunded {outcome.amount} of {refund.amount_minor} paise; {error}"
        return await self._processed(refund_id, amount=outcome.amount, error=error)

    async def _unsent(self, refund: Refund) -> bool:
        """An online refund with a part the gateway has not taken yet."""
        if refund.state != "PENDING" or refund.method != "ORIGINAL_PAYMENT":
            return False
        parts = await self._parts(refund)
        if not parts:
            return not refund.provider_refund_id
        return any(p.state == "PENDING" and not p.provider_refund_id for p in parts)

    async def _send(self, refund: Refund) -> Refund:
        """Each part not yet taken by the gateway, to its own payment (idempotency key
        per part), then the refund follows its parts."""
        gateway = self.checkout.gateway
        parts = await self._parts(refund)
        if gateway is None or not parts:
            return await self._update(refund.id, error="no captured payment to refund yet")
        async with self.db.session() as s:
            payments = {p.id: p for p in await repo.payments(s, refund.order_id)}
        for part in parts:
            if part.state != "PENDING" or part.provider_refund_id:
                continue
            payment = payments.get(part.payment_id)
            if payment is None or not payment.provider_payment_id:
                await self._update_part(part.id, error="no captured payment to refund yet")
                continue
            notes = {"order": refund.order_id, "refund": refund.id}
            if part.position:
                notes["part"] = str(part.position)
            try:
                provider = await gateway.refund(
                    payment.provider_payment_id,
                    part.amount_minor,
                    idempotency_key(refund.id, part.position),
                    notes,
                    receipt=refund.id[:40],
                )
            except PaymentError as exc:
                if exc.retryable:
                    REFUNDS.labels("retry_later").inc()
                    await self._update_part(part.id, error=f"gateway unavailable: {exc.message}")
                else:
                    REFUNDS.labels("declined").inc()
                    await self._update_part(part.id, state="FAILED", error=exc.message)
                continue
            await self._update_part(part.id, provider=provider)
        return await self._settle(refund.id)

    async def on_provider_refund(self, provider: ProviderRefund) -> Refund:
        """The provider's view of one of our refunds' parts (a refund.* webhook)."""
        async with self.db.session() as s:
            part = await s.scalar(
                select(RefundPart).where(RefundPart.provider_refund_id == provider.id)
            )
            unsplit = (
                await s.scalar(select(Refund).where(Refund.provider_refund_id == provider.id))
                if part is None
                else None
            )
        if unsplit is not None:  # sent before refunds were split
            part = next(
                (p for p in await self._parts(unsplit) if p.provider_refund_id == provider.id),
                None,
            )
        if part is None:  # the webhook overtook the answer to our own call
            part = await self._part_from_notes(provider)
        if part is None:
            raise not_found(f"refunds/{provider.id}")
        await self._update_part(part.id, provider=provider)
        return await self._settle(part.refund_id)

    async def _part_from_notes(self, provider: ProviderRefund) -> RefundPart | None:
        """Our part named by the refund's notes (refund id, part position), if it is
        unsent-or-this-one, of the same amount, on the same payment."""
        refund_id = provider.notes.get("refund", "")
        position = provider.notes.get("part", "0")
        if not refund_id or not position.isdigit():
            return None
        async with self.db.session() as s:
            part = await s.scalar(
                select(RefundPart).where(
                    RefundPart.refund_id == refund_id, RefundPart.position == int(position)
                )
            )
            payment = await s.get(Payment, part.payment_id) if part is not None else None
        if (
            part is None
            or payment is None
            or payment.provider_payment_id != provider.payment_id
            or part.amount_minor != provider.amount_minor
            or part.provider_refund_id not in (None, provider.id)
        ):
            return None
        return part

    async def _update(
        self,
        refund_id: str,
        *,
        state: str | None = None,
        provider_id: str | None = None,
        error: str | None = None,
    ) -> Refund:
        async with self.db.transaction() as s:
            row = await s.get(Refund, refund_id)
            assert row is not None
            if state is not None and row.state == "PENDING":
                row.state = state
            if provider_id:
                row.provider_refund_id = provider_id
            if error is not None:
                row.error = error[:500]
            row.update_time = self.clock()
            return row

    async def _processed(
        self, refund_id: str, *, amount: int | None = None, error: str = ""
    ) -> Refund:
        """PROCESSED, the order's status follows, "order.refunded" in the outbox.
        `amount`: what went through when part of the refund was declined."""
        now = self.clock()
        invoices = self.checkout.invoices
        seller = await invoices.seller() if invoices else None
        async with self.db.transaction() as s:
            row = await s.get(Refund, refund_id)
            assert row is not None
            order = await repo.locked(s, Order, row.order_id)
            assert isinstance(order, Order)
            if row.state != "PENDING":
                return row
            row.state = "PROCESSED"
            if amount is not None and amount != row.amount_minor:
                if row.lines:  # only the units the money that went back reaches
                    items = await repo.order_items(s, order.id)
                    sold = [rules.SoldLine(i.variant_id, i.quantity, i.total_minor) for i in items]
                    asked = [(str(v), int(q)) for v, q in row.lines]
                    kept = rules.lines_reached(asked, sold, amount)
                    row.lines = [[v, q] for v, q in kept]
                    if kept != asked:
                        error = (
                            "lines refunded: "
                            + ", ".join(f"{v} x{q}" for v, q in kept)
                            + " (asked: "
                            + ", ".join(f"{v} x{q}" for v, q in asked)
                            + f"); {error}"
                        )
                row.amount_minor = amount
            row.error = error[:500]
            row.update_time = now
            await s.flush()
            if invoices is not None and seller is not None:
                await invoices.issue_credit_note(s, order, row, seller, now)
            refunds = await self._refunds(s, order.id)
            done = sum(r.amount_minor for r in refunds if r.state == "PROCESSED")
            paid = await repo.paid_amount(s, order.id)
            target = Status.REFUNDED if done >= paid else Status.PARTIALLY_REFUNDED
            current = Status(order.status)
            if current != target and states.can_transition(current, target):
                transition(s, order, target, now, reason=f"refund {row.id}", who=row.actor)
            await self.outbox.add(
                s,
                ORDER_REFUNDED,
                events_pb2.OrderRefundedEvent(
                    order=f"orders/{order.id}",
                    order_number=order.order_number,
                    customer=f"users/{order.customer_id}" if order.customer_id else "",
                    amount=convert.money(row.amount_minor, row.currency),
                    refund=f"orders/{order.id}/refunds/{row.id}",
                    state_code=order.address.get("state_code", ""),
                    city=order.address.get("city", ""),
                    email=order.email,
                    phone=order.phone,
                ),
            )
        REFUNDS.labels("processed").inc()
        return row

    async def retry_pending(self, limit: int = 100) -> int:
        """Sweeper: resend online refunds with a part the gateway did not take (same
        idempotency keys)."""
        parts = select(RefundPart.id).where(RefundPart.refund_id == Refund.id)
        unsent = parts.where(
            RefundPart.state == "PENDING", RefundPart.provider_refund_id.is_(None)
        ).exists()
        async with self.db.session() as s:
            rows = list(
                await s.scalars(
                    select(Refund)
                    .where(
                        Refund.state == "PENDING",
                        Refund.method == "ORIGINAL_PAYMENT",
                        or_(unsent, and_(~parts.exists(), Refund.provider_refund_id.is_(None))),
                    )
                    .limit(limit)
                )
            )
        for r in rows:
            await self._send(r)
        return len(rows)
