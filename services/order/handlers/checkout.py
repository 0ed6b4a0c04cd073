"""Checkout sessions, the place-order saga and payment confirmation.

The saga (services/order/README.md has the diagram) is keyed by the client's
request id. Each step is journalled (started, done, failed; `saga_journal`, an
entry per write holding the steps it made durable), and
the names of what it acquired (coupon hold, reservation) are saved on the saga
row, so a crash leaves enough behind for the sweeper (`sweep_once`) to finish the
job: forward when the point of no return was passed (reservation committed),
backward (compensation) otherwise.

The journal is written with the saga's writes that happen anyway, not one
transaction per line: a transaction costs several round trips, and a saga with a
dozen steps spent most of its time journalling. What must be durable before the
next remote call is written before it, each as one statement on its own: the
acquired names (an UPDATE of the saga row) before a commit or a payment order, the
committed reservation (the journal's lines, one INSERT) before a COD order is
created. The sweeper reads only those. What a crash can lose is journal lines
before the order's transaction (the names are on the saga row all the same), and
an acquisition made just before the crash whose name was not written yet: holds
and reservations lapse on their own (both have a TTL), which is the backstop the
sweeper relies on anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import grpc
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update

from cleanse.catalog.v1 import catalog_internal_service_pb2 as catalog_pb2
from cleanse.inventory.v1 import resources_pb2 as inv_pb2
from cleanse.order.v1 import checkout_service_pb2 as checkout_pb2
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.pricing.v1 import breakdown_pb2
from mesh import deadlines
from mesh.db import Database, new_id, utcnow
from mesh.errors import (
    Aborted,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    ServiceError,
    Unavailable,
    Violations,
)
from mesh.india import PostalAddress
from mesh.leases import Lease, LeaseLost
from mesh.outbox import Outbox
from observability.metrics import DEGRADED_CALLS, counter
from services.order import convert
from services.order import repository as repo
from services.order.config import Settings
from services.order.domain import checkout as rules
from services.order.domain.numbers import format_order_number
from services.order.domain.states import Status, can_transition, check_transition
from services.order.handlers import notify
from services.order.handlers.carts import CartHandlers
from services.order.handlers.common import (
    Clock,
    actor,
    customer_id,
    id_of,
    not_found,
    owns,
    transition,
)
from services.order.handlers.invoices import InvoiceHandlers, Seller
from services.order.models import (
    Cart,
    CheckoutSaga,
    CheckoutSession,
    Order,
    OrderEdit,
    OrderItem,
    OrderStatusChange,
    Payment,
    SagaJournalEntry,
)
from services.order.payments.gateway import OrderStatus as ProviderOrderStatus
from services.order.payments.gateway import (
    PaymentDeclined,
    PaymentError,
    PaymentGateway,
    PaymentStatus,
    ProviderPayment,
)
from services.order.peers import PeerError, Peers, pricing_cart

log = logging.getLogger("cleanse.order.checkout")

ORDERS_PLACED = counter("orders_placed_total", "Orders confirmed.", ["payment_provider"])
CHECKOUT_FAILURES = counter(
    "checkout_failures_total", "PlaceOrder sagas that failed and were compensated.", ["reason"]
)
LIVE_SAGA = ("RUNNING", "COMPENSATING", "AWAITING_PAYMENT", "COMPLETED")
MAX_REQUEST_ID = 128
RESERVATION_MARGIN = timedelta(seconds=60)
# CommitReservation's refusals of a reservation that is not held any more: the
# payment reserves again (or refunds) instead of failing.
LAPSED = ("RESERVATION_NOT_HELD", "RESERVATION_EXPIRED")


def gateway_error(exc: PaymentError) -> ServiceError:
    if exc.retryable:
        return Unavailable(
            "the payment gateway is unavailable; try again shortly",
            metadata={"dependency": "razorpay"},
        )
    return FailedPrecondition(
        f"the payment gateway refused: {exc.message}",
        reason="PAYMENT_DECLINED",
        metadata={"code": exc.code} if exc.code else None,
    )


def already_undone(exc: PeerError) -> bool:
    """A release answered FAILED_PRECONDITION: not held any more (released, lapsed)."""
    return exc.code == grpc.StatusCode.FAILED_PRECONDITION and exc.reason not in (
        "RESERVATION_COMMITTED",
        "HOLD_COMMITTED",
    )


class CheckoutHandlers:
    def __init__(
        self,
        db: Database,
        peers: Peers,
        outbox: Outbox,
        settings: Settings,
        carts: CartHandlers,
        gateway: PaymentGateway | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.peers = peers
        self.outbox = outbox
        self.settings = settings
        self.carts = carts
        self.gateway = gateway
        self.clock = clock
        # Set by the app: pays back a paid order that cannot be fulfilled
        # (order id, reason) -> the refunds module; and extra sweeper jobs.
        self.refund_owed: Callable[[str, str], Awaitable[object]] | None = None
        # Set by the app: issues the GST tax invoice in the confirming transaction.
        self.invoices: InvoiceHandlers | None = None
        self.sweepers: list[Callable[[], Awaitable[object]]] = []
        # Set by the app: refunds a payment captured after the order was given up.
        self.late_refund: Callable[[str, str], Awaitable[object]] | None = None
        # Set by the app: the lease that keeps the sweeper on one replica at a time
        # (services/order/README.md, "Replicas"); None: this process sweeps alone.
        self.sweep_lease: Lease | None = None

    # =====================================================================================
    # checkout sessions
    # =====================================================================================

    async def create_session(
        self, req: checkout_pb2.CreateCheckoutSessionRequest
    ) -> pb.CheckoutSession:
        cid = customer_id()
        async with self.db.reads() as s:
            cart, items = await self.carts.read(s, req.cart, req.cart_token)
        if not items:
            raise FailedPrecondition("the cart is empty", reason="CART_EMPTY")
        address = await self._delivery_address(req, cid)
        email, phone = rules.check_contact(req.email, req.phone or address.phone, guest=cid is None)
        if cid is not None:
            email = await self._account_email(cid, email)
        option = req.shipping_option or "standard"
        v = Violations()
        v.check(option in rules.SHIPPING_OPTIONS, "shipping_option", "must be standard")
        codes = sorted({c.strip().upper() for c in req.coupon_codes if c.strip()})
        v.check(len(codes) <= 5, "coupon_codes", "at most 5 coupons")
        v.raise_if_any()

        config = await self.peers.checkout_config()
        methods = [
            rules.MethodConfig(
                m.code,
                m.enabled,
                m.min_order_value.amount_minor,
                m.max_order_value.amount_minor,
                m.fee.amount_minor,
            )
            for m in config.payment_methods
            if rules.provider_for(m.code) == "COD" or self.gateway is not None
        ]
        known = {m.code for m in config.payment_methods}
        if req.payment_method not in known:
            raise InvalidArgument({"payment_method": f"must be one of {', '.join(sorted(known))}"})
        lines = {i.variant_id: i.quantity for i in items}
        customer = f"users/{cid}" if cid else ""
        quote = await self.peers.price(
            pricing_cart(lines, codes, address.pincode, req.payment_method), customer
        )
        rejected = [c for c in quote.coupons if not c.applied]
        if rejected:
            c = rejected[0]
            raise FailedPrecondition(
                f"coupon {c.code} does not apply: {c.message}",
                reason="COUPON_NOT_APPLICABLE",
                metadata={
                    "code": c.code,
                    "rejection": breakdown_pb2.CouponRejection.Name(c.rejection),
                },
            )
        total = quote.total.amount_minor
        allowed = rules.allowed_methods(methods, total)
        if req.payment_method not in allowed or not quote.payment_method_available:
            raise FailedPrecondition(
                f"{req.payment_method} is not available for this order",
                reason="PAYMENT_METHOD_UNAVAILABLE",
                metadata={"available": ",".join(allowed)},
            )
        degradations = []
        if quote.shipping.source in ("", "flat_rate"):
            degradations.append("shipping.flat_rate")
        session_id = new_id()
        request_id = f"checkout-{session_id}"
        reservation = await self.peers.reserve(
            request_id,
            lines,
            pincode=address.pincode,
            state_code=address.state_code,
            ttl_seconds=self.settings.reservation_ttl_seconds,
        )
        now = self.clock()
        row = repo.make(
            CheckoutSession,
            id=session_id,
            cart_id=cart.id,
            customer_id=cid,
            token_hash=cart.token_hash if cid is None else None,
            state="OPEN",
            address=address.as_dict(),
            email=email,
            phone=phone,
            shipping_option=option,
            shipping_rate_minor=quote.shipping.fee.amount_minor,
            shipping_source=quote.shipping.source or "flat_rate",
            payment_method=req.payment_method,
            coupon_codes=codes,
            lines=[[v, q] for v, q in sorted(lines.items())],
            quote=quote.SerializeToString(),
            quote_total_minor=total,
            quote_expire_time=now + timedelta(seconds=self.settings.quote_ttl_seconds),
            reservation_name=reservation.name,
            reservation_request_id=request_id,
            reservation_expire_time=reservation.expire_time.ToDatetime(tzinfo=now.tzinfo)
            if reservation.HasField("expire_time")
            else now + timedelta(seconds=self.settings.reservation_ttl_seconds),
            available_methods=allowed,
            degradations=degradations,
            create_time=now,
            update_time=now,
        )
        try:
            await repo.write_at_once(self.db, repo.Writes().insert([row]))
        except BaseException:
            with contextlib.suppress(Exception):
                await self.peers.release_reservation(reservation.name)
            raise
        return convert.session(row)

    async def _delivery_address(
        self, req: checkout_pb2.CreateCheckoutSessionRequest, cid: str | None
    ) -> PostalAddress:
        """The literal delivery_address, or the signed-in customer's saved_address read
        from auth (no degradation: auth down is UNAVAILABLE), checked the same way."""
        literal = req.HasField("delivery_address")
        if not req.saved_address:
            if not literal:
                raise InvalidArgument({"delivery_address": "is required (or saved_address)"})
            return rules.check_address(PostalAddress.of(req.delivery_address))
        if literal:
            raise InvalidArgument(
                {"saved_address": "give saved_address or delivery_address, not both"}
            )
        if cid is None:
            raise InvalidArgument({"saved_address": "sign in to use a saved address"})
        ref = rules.saved_address_ref(req.saved_address)
        if ref is None:
            raise InvalidArgument({"saved_address": "must look like addresses/{address_id}"})
        owner, aid = ref
        if owner not in ("", cid):
            raise not_found(req.saved_address)
        try:
            saved = await self.peers.user_address(f"users/{cid}/addresses/{aid}")
        except PeerError as exc:
            if exc.code == grpc.StatusCode.NOT_FOUND:
                raise not_found(req.saved_address) from None
            raise
        return rules.check_address(PostalAddress.of(saved.postal_address), "saved_address.")

    async def _account_email(self, cid: str, given: str) -> str:
        """The customer must exist in auth (the reference is validated there); the
        order's email is the one given, else the account's. Auth down: the signed
        access token stands for the account ("auth.trust_token") and the email must
        be given."""
        try:
            user = await self.peers.user(f"users/{cid}")
        except Unavailable:
            DEGRADED_CALLS.labels("auth.trust_token").inc()
            if not given:
                raise InvalidArgument(
                    {"email": "is required while accounts are unavailable"}
                ) from None
            return given
        if user is None:
            raise FailedPrecondition("the account no longer exists", reason="UNKNOWN_CUSTOMER")
        return given or user.email

    async def get_session(self, name: str, token: str) -> pb.CheckoutSession:
        sid = id_of(name, "checkoutSessions")
        async with self.db.session() as s:
            row = await s.get(CheckoutSession, sid)
        if row is None or not owns(row.customer_id, row.token_hash, token):
            raise not_found(name)
        out = convert.session(row)
        if row.state == "OPEN" and self.clock() >= row.quote_expire_time:
            out.state = pb.CHECKOUT_SESSION_STATE_EXPIRED
        return out

    # =====================================================================================
    # PlaceOrder: the saga
    # =====================================================================================

    async def place_order(self, session_name: str, request_id: str, token: str) -> pb.Order:
        v = Violations()
        v.check(len(request_id) <= MAX_REQUEST_ID, "request_id", "at most 128 characters")
        v.raise_if_any()
        session_id = id_of(session_name, "checkoutSessions", "checkout_session")
        body = rules.body_hash({"checkout_session": session_id})
        saga, sess, first = await self._claim(request_id, body, session_name, session_id, token)
        if sess is None:  # another call placed (or is placing) this order
            return await self._outcome(saga.id)
        try:
            return await self._run(saga, sess, first=first)
        except ServiceError as exc:
            await self._compensate(saga, exc)
            raise
        except asyncio.CancelledError:
            raise  # left RUNNING: the sweeper compensates it
        except Exception as exc:
            log.exception("place-order saga crashed", extra={"saga": saga.id})
            await self._compensate(saga, Internal("internal error"))
            raise Internal("internal error") from exc

    def _mismatch(self, request_id: str) -> FailedPrecondition:
        return FailedPrecondition(
            "request_id was already used to place an order from another checkout session",
            reason="IDEMPOTENCY_MISMATCH",
            metadata={"request_id": request_id},
        )

    async def _claim(
        self, request_id: str, body: str, session_name: str, session_id: str, token: str
    ) -> tuple[CheckoutSaga, CheckoutSession | None, bool]:
        """(the saga for request_id, its session when this call runs it, whether it is
        the first saga of that session). Locks the session row first (NOT_FOUND unless
        the caller owns it), then reads, in one query, the saga of the request id and
        every saga of the session, so a concurrent duplicate waiting on the lock finds
        the first one's saga (PostgreSQL READ COMMITTED sees it then), and a live saga
        of the session (at most one: claims of a session run one at a time under its
        lock) stops another from starting.

        Three round trips between BEGIN and COMMIT: the lock, the sagas, the new saga.
        The session row is not written: the saga's `session_id` is the link (sessions'
        `saga_id` column is no longer kept). The "start"/"retry" journal line is
        written with the saga's next write."""
        now = self.clock()
        try:
            async with self.db.unit() as s:
                row = await repo.locked_row(self.db, s, CheckoutSession, session_id)
                if row is None or not owns(row.customer_id, row.token_hash, token):
                    raise not_found(session_name)
                sagas = await repo.sagas_by_request_or_session(self.db, s, request_id, row.id)
                existing = next((g for g in sagas if g.request_id == request_id), None)
                others = [g for g in sagas if g.request_id != request_id]  # the session's
                if existing is not None:
                    if existing.body_hash != body:
                        raise self._mismatch(request_id)
                    if existing.state != "FAILED":
                        return existing, None, False
                    self._check_session_free(row, others)
                    existing.attempt += 1
                    existing.state = "RUNNING"
                    existing.hold_name = existing.reservation_name = ""
                    existing.error_code = existing.error_reason = existing.error_message = ""
                    existing.update_time = now
                    retry = repo.Writes().update(
                        CheckoutSaga,
                        existing.id,
                        attempt=existing.attempt,
                        state="RUNNING",
                        hold_name="",
                        reservation_name="",
                        error_code="",
                        error_reason="",
                        error_message="",
                        update_time=now,
                    )
                    await repo.write_together(s, self.db, retry)
                    self._note(existing, "retry", "DONE", now=now)
                    return existing, row, False
                self._check_session_free(row, others)
                saga = repo.make(
                    CheckoutSaga,
                    id=new_id(),
                    request_id=request_id,
                    body_hash=body,
                    session_id=row.id,
                    state="RUNNING",
                    attempt=1,
                    create_time=now,
                    update_time=now,
                )
                # A Core INSERT (no flush): `saga` stays transient, holding what was written.
                await repo.write_together(s, self.db, repo.Writes().insert([saga]))
                self._note(saga, "start", "DONE", now=now)
                return saga, row, not others
        except IntegrityError:  # a concurrent duplicate inserted the request id first
            async with self.db.session() as s:
                found = await repo.saga_by_request(s, request_id)
            if found is None:
                raise
            if found.body_hash != body:
                raise self._mismatch(request_id) from None
            return found, None, False

    @staticmethod
    def _check_session_free(row: CheckoutSession, others: Sequence[CheckoutSaga]) -> None:
        """The session may start a saga: it placed no order, and none of its other
        sagas is live (running, compensating, awaiting payment or completed)."""
        if row.state == "COMPLETED":
            raise FailedPrecondition(
                f"this checkout session already placed orders/{row.order_id}",
                reason="CHECKOUT_SESSION_USED",
                metadata={"order": f"orders/{row.order_id}"},
            )
        if any(other.state in LIVE_SAGA for other in others):
            raise FailedPrecondition(
                "an order is already being placed from this checkout session",
                reason="CHECKOUT_IN_PROGRESS",
            )

    async def _outcome(self, saga_id: str) -> pb.Order:
        """What the first call with this request id produced (waiting while it runs)."""
        wait = self.settings.duplicate_wait_seconds
        left = deadlines.remaining()
        if left is not None:
            wait = min(wait, max(left - 0.2, 0.0))
        until = time.monotonic() + wait
        while True:
            async with self.db.session() as s:
                saga = await s.get(CheckoutSaga, saga_id)
            assert saga is not None
            if saga.order_id and saga.state in ("AWAITING_PAYMENT", "COMPLETED"):
                return await self.order_proto(saga.order_id)
            if saga.error_code:
                raise PeerError(
                    grpc.StatusCode[saga.error_code], saga.error_message, reason=saga.error_reason
                )
            if time.monotonic() >= until:
                raise Aborted(
                    "an order with this request_id is still being placed; retry shortly",
                    reason="REQUEST_IN_PROGRESS",
                )
            await asyncio.sleep(0.05)

    # --- steps ---------------------------------------------------------------------------

    def _add_step(
        self, s: AsyncSession, saga: CheckoutSaga, step: str, status: str, now: datetime, detail=""
    ) -> None:
        self._note(saga, step, status, detail, now=now)
        self._journal_into(s, saga)

    def _note(
        self,
        saga: CheckoutSaga,
        step: str,
        status: str,
        detail: object = "",
        *,
        now: datetime | None = None,
        **acquired: str,
    ) -> None:
        """Journal a step in memory (and what it acquired, on `saga`); written by the
        saga's next write (`_journal_into`, `_save_journal`)."""
        for k, v in acquired.items():
            setattr(saga, k, v)
        pending: list[repo.SagaStep] = saga.__dict__.setdefault("_journal", [])
        pending.append(
            repo.SagaStep(saga.attempt, step, status, str(detail)[:2000], now or self.clock())
        )

    @staticmethod
    def _pending_steps(saga: CheckoutSaga) -> list[repo.SagaStep]:
        """The steps journalled in memory (`_note`), taken off `saga`."""
        steps: list[repo.SagaStep] = saga.__dict__.pop("_journal", [])
        return steps

    def _journal_entries(self, saga: CheckoutSaga) -> list[SagaJournalEntry]:
        """The steps journalled in memory, taken off `saga`, as the entry that writes
        them (none when there are none)."""
        steps = self._pending_steps(saga)
        return [repo.journal_entry(saga.id, saga.attempt, steps)] if steps else []

    def _journal_into(self, s: AsyncSession, saga: CheckoutSaga) -> None:
        """Add the steps journalled in memory to the transaction `s`."""
        s.add_all(self._journal_entries(saga))

    async def _save_journal(self, saga: CheckoutSaga) -> None:
        """Write the journal and the names of what the saga holds, in one transaction."""
        async with self.db.transaction() as s:
            await s.execute(self._names_update(saga))
            self._journal_into(s, saga)

    def _names_update(self, saga: CheckoutSaga) -> Update:
        """The UPDATE that saves the names of what the saga holds (Core, on the table:
        the ORM's bulk UPDATE would look for the saga in the session first)."""
        t = CheckoutSaga.__table__
        return (
            update(t)
            .where(t.c.id == saga.id)
            .values(
                hold_name=saga.hold_name,
                reservation_name=saga.reservation_name,
                update_time=self.clock(),
            )
        )

    async def _step(self, saga: CheckoutSaga, step: str, status: str, **changes: Any) -> None:
        """Journal a step (and save what it acquired on the saga row) durably, now."""
        self._note(saga, step, status, changes.pop("detail", ""), **changes)
        await self._save_journal(saga)

    def _names(self, saga: CheckoutSaga) -> repo.Writes:
        """The UPDATE that puts the names of what the saga holds on its row."""
        return repo.Writes().update(
            CheckoutSaga,
            saga.id,
            hold_name=saga.hold_name,
            reservation_name=saga.reservation_name,
            update_time=self.clock(),
        )

    async def _save_names(self, saga: CheckoutSaga) -> None:
        """The names of what the saga holds, durable now: one UPDATE on its own (on
        PostgreSQL one round trip; a transaction would add BEGIN and COMMIT). The
        journal lines noted so far wait for the saga's next write: the sweeper needs
        only the names to give everything back (and a DONE commit_reservation, which
        `_save_steps` writes, to go forward)."""
        await repo.write_at_once(self.db, self._names(saga))

    async def _save_steps(self, saga: CheckoutSaga) -> None:
        """The journal noted so far, durable now: one entry's INSERT on its own."""
        entries = self._journal_entries(saga)
        if entries:
            await repo.write_at_once(self.db, repo.Writes().insert(entries))

    async def _run(self, saga: CheckoutSaga, sess: CheckoutSession, *, first: bool) -> pb.Order:
        """`first`: no other saga ever ran for this session (`_reserve`)."""
        key = f"{saga.id}-{saga.attempt}"
        # 1. validate: the session, the quote's age (the items still sold: step 2).
        self._note(saga, "validate", "STARTED")
        now = self.clock()
        if now >= sess.quote_expire_time:
            raise FailedPrecondition(
                "the price quote expired; start checkout again", reason="QUOTE_EXPIRED"
            )
        provider = rules.provider_for(sess.payment_method)
        if (provider == "RAZORPAY" and self.gateway is None) or not provider:
            raise FailedPrecondition(
                f"{sess.payment_method} is not available", reason="PAYMENT_METHOD_UNAVAILABLE"
            )
        lines = {str(v): int(q) for v, q in sess.lines}
        self._note(saga, "validate", "DONE")

        # 2. hold coupon usage; the hold prices the cart: what the order charges.
        # Pricing reads every variant from the catalog for it, uncached, and refuses
        # one that is unknown or no longer sold (ITEM_UNAVAILABLE, below); its lines
        # name what the order snapshots as sold, so no catalog read of our own.
        customer = f"users/{sess.customer_id}" if sess.customer_id else ""
        cart = pricing_cart(lines, sess.coupon_codes, sess.address["pincode"], sess.payment_method)
        self._note(saga, "hold_coupons", "STARTED", f"request_id=order-{key}")
        try:
            hold = await self.peers.hold_coupons(
                f"order-{key}", cart, customer, self.settings.hold_ttl_seconds
            )
        except PeerError as exc:
            if exc.code == grpc.StatusCode.INVALID_ARGUMENT or exc.reason == "VARIANT_NOT_SELLABLE":
                await self._sold(lines)  # ITEM_UNAVAILABLE, as the catalog says
            raise
        self._note(saga, "hold_coupons", "DONE", hold.name, hold_name=hold.name)
        catalog = sold_as(hold.breakdown)
        if catalog is None:  # a pricing service from before its lines named them
            catalog = await self._sold(lines)

        # 3. reserve stock: the session's reservation while it holds, else a new one.
        self._note(saga, "reserve_stock", "STARTED", f"request_id=order-{key}")
        reservation = await self._reserve(
            saga, sess, lines, key, on_record=first and provider != "COD"
        )
        self._note(saga, "reserve_stock", "DONE", reservation, reservation_name=reservation)

        # 4. lock the price: the hold's total must be the quote the customer accepted.
        breakdown = hold.breakdown
        if breakdown.total.amount_minor != sess.quote_total_minor:
            raise FailedPrecondition(
                "prices changed since checkout started; review the new total",
                reason="PRICE_CHANGED",
                metadata={
                    "quoted_minor": str(sess.quote_total_minor),
                    "current_minor": str(breakdown.total.amount_minor),
                },
            )
        self._note(saga, "lock_price", "DONE", breakdown.total.amount_minor)

        # 5. the payment.
        if provider == "COD":
            await self._commit_remote(saga)
            return await self._create_order(
                saga, sess, breakdown, catalog, provider, provider_order_id=None
            )
        # What the saga holds is on record before the payment order exists
        # (`_save_names`); the order's number comes with that write, one round trip
        # for both (a number then unused is a gap, as order numbers may have).
        self._note(saga, "create_payment", "STARTED", f"receipt=s-{saga.id}")
        year = self.clock().year
        number = (year, await repo.write_and_number(self.db, self._names(saga), year))
        assert self.gateway is not None
        try:
            provider_order = await self.gateway.create_order(
                breakdown.total.amount_minor,
                breakdown.currency_code or "INR",
                f"s-{saga.id}"[:40],
                {"checkout_session": sess.id, "request_id": saga.request_id[:200]},
            )
        except PaymentError as exc:
            raise gateway_error(exc) from None
        self._note(saga, "create_payment", "DONE", provider_order.id)
        return await self._create_order(
            saga,
            sess,
            breakdown,
            catalog,
            provider,
            provider_order_id=provider_order.id,
            number=number,
        )

    async def _sold(self, lines: Mapping[str, int]) -> dict[str, catalog_pb2.VariantSnapshot]:
        """The catalog's snapshot of `lines`; ITEM_UNAVAILABLE when one is no longer
        sold (unknown, or not sellable)."""
        catalog, _missing = await self.peers.variants(lines)
        gone = sorted(v for v in lines if v not in catalog or not catalog[v].sellable)
        if gone:
            raise FailedPrecondition(
                f"no longer sold: {', '.join(gone)}",
                reason="ITEM_UNAVAILABLE",
                metadata={"variant_ids": ",".join(gone)},
            )
        return catalog

    async def _reserve(
        self,
        saga: CheckoutSaga,
        sess: CheckoutSession,
        lines: Mapping[str, int],
        key: str,
        *,
        on_record: bool,
    ) -> str:
        """The reservation the order takes: the session's own on a first attempt while
        it holds and is not about to lapse, else a new one.

        `on_record` (the session's first saga, an online payment): the session's own
        record of the reservation's expiry answers, inventory is not asked. A
        reservation ends before its expiry only when the order service releases it
        (compensating a saga of the session, which is then not the first) or commits
        it (an order was placed, the session is used); inventory's sweeper takes only
        lapsed ones and nothing else releases them. Should it have ended all the same,
        the payment's confirmation reserves again or refunds (`complete_paid_order`),
        as for one that lapses while the customer pays. COD commits the reservation at
        once, so it is looked at first as before: inventory down then fails the check,
        before the saga takes the reservation, and a retry runs at once."""
        if saga.attempt == 1 and sess.reservation_name:
            if on_record and sess.reservation_expire_time > self.clock() + RESERVATION_MARGIN:
                return sess.reservation_name
            current = await self.peers.get_reservation(sess.reservation_name)
            expires = current.expire_time.ToDatetime(tzinfo=self.clock().tzinfo)
            if (
                current.state == inv_pb2.RESERVATION_STATE_HELD
                and expires > self.clock() + RESERVATION_MARGIN
            ):
                return current.name
        reservation = await self.peers.reserve(
            f"order-{key}",
            lines,
            pincode=sess.address["pincode"],
            state_code=sess.address["state_code"],
            ttl_seconds=self.settings.reservation_ttl_seconds,
        )
        return reservation.name

    async def _commit_remote(self, saga: CheckoutSaga) -> None:
        """The point of no return: stock leaves on hand, coupon uses become permanent.
        What the saga holds is on record before it (`_save_names`), and the DONE line
        after it (`_save_steps`: the sweeper resumes forward from there)."""
        await self._save_names(saga)
        self._note(saga, "commit_reservation", "STARTED", saga.reservation_name)
        await self.peers.commit_reservation(saga.reservation_name)
        self._note(saga, "commit_reservation", "DONE", saga.reservation_name)
        await self._save_steps(saga)  # resumable
        await self._commit_hold(saga, saga.hold_name)

    async def _commit_hold(self, saga: CheckoutSaga, hold: str) -> None:
        self._note(saga, "commit_coupons", "STARTED", hold)
        try:
            await self.peers.commit_hold(hold)
        except PeerError as exc:
            # The hold lapsed after the stock was committed: the order is honoured at
            # the locked price; only the coupon's usage count misses this use.
            log.warning("coupon hold not committed", extra={"hold": hold, "reason": exc.reason})
            self._note(saga, "commit_coupons", "FAILED", exc.reason)
            return
        self._note(saga, "commit_coupons", "DONE", hold)

    async def _create_order(
        self,
        saga: CheckoutSaga,
        sess: CheckoutSession,
        breakdown: breakdown_pb2.PriceBreakdown,
        catalog: Mapping[str, catalog_pb2.VariantSnapshot],
        provider: str,
        *,
        provider_order_id: str | None,
        number: tuple[int, int] | None = None,
    ) -> pb.Order:
        """`number`: (year, counter value) taken already (`repo.write_and_number`),
        else taken here (`repo.next_order_number`)."""
        now = self.clock()
        cod = provider == "COD"
        status = Status.CONFIRMED if cod else Status.PENDING_PAYMENT
        tax = breakdown.tax
        who = actor()
        seller = await self.invoices.seller() if cod and self.invoices else None
        year, value = number or (now.year, await repo.next_order_number(self.db, now.year))
        # A guest session carries its cart's token hash (a cart's never changes, so it
        # is read before the order's write, not in it).
        token_hash = sess.token_hash
        if token_hash is None:
            async with self.db.session() as s:
                token_hash = await s.scalar(select(Cart.token_hash).where(Cart.id == sess.cart_id))
        order = repo.make(
            Order,
            id=new_id(),
            order_number=format_order_number(year, value, self.settings.order_number_prefix),
            request_id=saga.request_id,
            customer_id=sess.customer_id,
            status=status.value,
            email=sess.email,
            phone=sess.phone,
            address=sess.address,
            currency=breakdown.currency_code or "INR",
            subtotal_minor=breakdown.subtotal.amount_minor,
            discount_minor=breakdown.discount_total.amount_minor,
            shipping_minor=breakdown.shipping.fee.amount_minor,
            cod_fee_minor=breakdown.cod_fee.amount_minor,
            taxable_minor=tax.taxable_value.amount_minor,
            cgst_minor=tax.cgst.amount_minor,
            sgst_minor=tax.sgst.amount_minor,
            igst_minor=tax.igst.amount_minor,
            tax_minor=tax.total_tax.amount_minor,
            total_minor=breakdown.total.amount_minor,
            coupon_codes=list(sess.coupon_codes),
            payment_method=sess.payment_method,
            payment_provider=provider,
            paid=False,
            place_of_supply=breakdown.place_of_supply_state_code,
            inter_state=breakdown.inter_state,
            shipping_option=sess.shipping_option,
            shipping_source=sess.shipping_source,
            reservation_name=saga.reservation_name,
            coupon_hold_name=saga.hold_name,
            session_id=sess.id,
            saga_id=saga.id,
            cart_token_hash=token_hash,
            breakdown=breakdown.SerializeToString(),
            create_time=now,
            update_time=now,
        )
        items = snapshot_items(order.id, breakdown, catalog)
        placed = repo.make(
            OrderStatusChange,
            order_id=order.id,
            from_status="",
            to_status=status.value,
            actor=who,
            reason="order placed",
            time=now,
        )
        payment = repo.make(
            Payment,
            order_id=order.id,
            provider=provider,
            method=sess.payment_method,
            state="PENDING_ON_DELIVERY" if cod else "CREATED",
            amount_minor=order.total_minor,
            currency=order.currency,
            provider_order_id=provider_order_id,
            create_time=now,
            update_time=now,
        )
        self._note(saga, "create_order", "DONE", order.order_number, now=now)
        journal = self._journal_entries(saga)
        # The order, its lines, history row and payment, the saga's state and journal,
        # the session used: rows only written, as Core statements (no unit of work).
        writes = (
            repo.Writes()
            .insert([order])
            .insert(items)
            .insert([placed])
            .insert([payment])
            .update(
                CheckoutSaga,
                saga.id,
                state="COMPLETED" if cod else "AWAITING_PAYMENT",
                order_id=order.id,
                hold_name=saga.hold_name,
                reservation_name=saga.reservation_name,
                update_time=now,
            )
            .update(CheckoutSession, sess.id, state="COMPLETED", order_id=order.id, update_time=now)
            .insert(journal)
        )
        if not cod:
            # One statement on PostgreSQL, atomic on its own: no BEGIN, no COMMIT.
            await repo.write_at_once(self.db, writes)
        else:
            async with self.db.transaction() as s:
                await repo.write_together(s, self.db, writes)
                await self._confirmed(s, order, seller, now)
            ORDERS_PLACED.labels(provider).inc()
            return await self.order_proto(order.id)  # the invoice and event wrote more
        # A new order is exactly what was just written: no need to read it back.
        return order_message(order, items, [placed], payment, [], self.gateway)

    async def _confirmed(
        self, s: AsyncSession, order: Order, seller: Seller | None, now: datetime
    ) -> list[OrderItem]:
        """In the confirming transaction: "order.placed" and the GST tax invoice; the
        order's items, read for them."""
        items = await repo.order_items(s, order.id)
        await notify.order_placed(self.outbox, s, order, items)
        if self.invoices is not None and seller is not None:
            await self.invoices.issue_tax_invoice(s, order, seller, now, items)
        return items

    # --- compensation --------------------------------------------------------------------

    async def _compensate(self, saga: CheckoutSaga, exc: ServiceError) -> bool:
        """Give back what the saga acquired; FAILED when done, else left COMPENSATING
        (with the error stored) for the sweeper. True when fully compensated.

        `saga` is the running one, whose journal and acquired names may not be
        written yet: they are, first."""
        now = self.clock()
        saga_id = saga.id
        async with self.db.transaction() as s:
            row = await s.get(CheckoutSaga, saga_id)
            assert row is not None
            row.hold_name = saga.hold_name or row.hold_name
            row.reservation_name = saga.reservation_name or row.reservation_name
            row.state = "COMPENSATING"
            row.error_code = exc.code.name
            row.error_reason = exc.reason
            row.error_message = exc.message[:2000]
            row.update_time = now
            self._journal_into(s, saga)
            self._add_step(s, row, "compensate", "STARTED", now, exc.reason or exc.code.name)
            saga = row
        done = await self._release(saga)
        async with self.db.transaction() as s:
            row = await s.get(CheckoutSaga, saga_id)
            assert row is not None
            if done:
                row.state = "FAILED"  # the session may start another saga
            row.update_time = self.clock()
            self._add_step(s, row, "compensate", "DONE" if done else "FAILED", row.update_time)
        CHECKOUT_FAILURES.labels(exc.reason or exc.code.name).inc()
        return done

    async def _release(self, saga: CheckoutSaga) -> bool:
        ok = True
        for step, name, release in (
            ("release_reservation", saga.reservation_name, self.peers.release_reservation),
            ("release_coupons", saga.hold_name, self.peers.release_hold),
        ):
            if not name:
                continue
            try:
                await release(name)
            except PeerError as exc:
                if not already_undone(exc):
                    log.error("cannot undo %s: %s", name, exc.reason)
                    await self._step(saga, step, "FAILED", detail=exc.reason)
                    continue  # committed: nothing left to give back
            except Unavailable:
                ok = False
                await self._step(saga, step, "FAILED", detail="dependency unavailable")
                continue
            await self._step(saga, step, "DONE", detail=name)
        return ok

    # =====================================================================================
    # payment confirmation (Razorpay)
    # =====================================================================================

    async def confirm_payment(
        self, order_name: str, provider_order_id: str, payment_id: str, signature: str, token: str
    ) -> pb.Order:
        order_id = id_of(order_name, "orders", "order")
        async with self.db.reads() as s:
            order, payment = await repo.order_and_latest_payment(self.db, s, order_id)
        if order is None or not owns(order.customer_id, order.cart_token_hash, token):
            raise not_found(order_name)
        if payment is None or payment.provider != "RAZORPAY":
            raise FailedPrecondition("this order is not paid online", reason="NOT_ONLINE_PAYMENT")
        if payment.provider_order_id != provider_order_id:
            raise InvalidArgument({"provider_order_id": "is not this order's payment"})
        if self.gateway is None:
            raise Unavailable(
                "online payments are unavailable", metadata={"dependency": "razorpay"}
            )
        if not self.gateway.verify_checkout_signature(provider_order_id, payment_id, signature):
            CHECKOUT_FAILURES.labels("PAYMENT_SIGNATURE_INVALID").inc()
            raise InvalidArgument(
                {"signature": "does not match this payment"}, reason="PAYMENT_SIGNATURE_INVALID"
            )
        if order.paid:
            if payment.provider_payment_id == payment_id:
                return await self.order_proto(order.id)  # a repeat (or the webhook won)
            raise FailedPrecondition("the order is already paid", reason="ALREADY_PAID")
        if order.status != Status.PENDING_PAYMENT.value:
            raise FailedPrecondition(
                f"the order is {order.status}", reason="ORDER_NOT_AWAITING_PAYMENT"
            )
        # The signature proves the payment is this order's: capture it straight away
        # (Razorpay checks the amount is the one authorized), one call instead of a
        # fetch then a capture. A payment it will not capture (failed, captured by
        # the webhook's handler first, another amount) is fetched and settled as is.
        try:
            try:
                paid = await self.gateway.capture(payment_id, order.total_minor, order.currency)
            except PaymentDeclined:
                paid = await self.gateway.fetch_payment(payment_id)
        except PaymentError as exc:
            raise gateway_error(exc) from None
        return await self.settle_payment(order, provider_order_id, paid)

    async def settle_payment(
        self, order: Order, provider_order_id: str, paid: ProviderPayment
    ) -> pb.Order:
        """A provider payment of `order` (fetched after a verified checkout signature, or
        from a verified webhook): captured when only authorized, then the order is
        completed. The payment must be for this order's provider order and amount."""
        assert self.gateway is not None
        if paid.order_id != provider_order_id or paid.amount_minor != order.total_minor:
            raise FailedPrecondition(
                "the payment does not match the order", reason="PAYMENT_MISMATCH"
            )
        try:
            if paid.status == PaymentStatus.AUTHORIZED:
                paid = await self.gateway.capture(paid.id, order.total_minor, order.currency)
        except PaymentError as exc:
            raise gateway_error(exc) from None
        if paid.status != PaymentStatus.CAPTURED:
            await self.record_payment_failure(
                order.id, paid.id, paid.error_code, paid.error_description
            )
            raise FailedPrecondition(
                f"the payment is {paid.status.value}", reason="PAYMENT_NOT_CAPTURED"
            )
        return await self.complete_paid_order(order.id, paid.id, method=paid.method, order=order)

    async def record_payment_failure(
        self, order_id: str, payment_id: str, code: str, description: str
    ) -> None:
        """A failed attempt (the customer may try again until the payment window ends)."""
        now = self.clock()
        async with self.db.transaction() as s:
            payment = await repo.latest_payment(s, order_id)
            if payment is None or payment.state != "CREATED":
                return
            payment.error_code = code[:64]
            payment.error_description = description[:500]
            payment.update_time = now
            order = await s.get(Order, order_id)
            assert order is not None
            await notify.payment_failed(
                self.outbox, s, order, payment.amount_minor, description or code or "failed"
            )

    async def settle_balance(self, payment_row_id: str, paid: ProviderPayment) -> None:
        """A Razorpay payment of an edit's balance: captured when only authorized, then
        the balance payment CAPTURED and the order's balance due cleared."""
        assert self.gateway is not None
        async with self.db.session() as s:
            row = await s.get(Payment, payment_row_id)
        if row is None or row.state != "CREATED" or paid.amount_minor != row.amount_minor:
            return
        try:
            if paid.status == PaymentStatus.AUTHORIZED:
                paid = await self.gateway.capture(paid.id, row.amount_minor, row.currency)
        except PaymentError as exc:
            raise gateway_error(exc) from None
        if paid.status != PaymentStatus.CAPTURED:
            return
        now = self.clock()
        async with self.db.transaction() as s:
            order = await repo.locked(s, Order, row.order_id)
            assert isinstance(order, Order)
            pay = await s.get(Payment, payment_row_id)
            assert pay is not None
            if pay.state != "CREATED":
                return
            pay.state = "CAPTURED"
            pay.provider_payment_id = paid.id
            pay.update_time = now
            order.balance_due_minor = max(order.balance_due_minor - pay.amount_minor, 0)
            order.update_time = now

    async def record_late_payment(
        self, order_id: str, payment_id: str, *, captured: bool = True
    ) -> bool:
        """Money paid for an order that was given up. Captured: recorded as CAPTURED
        (it counts as paid, so the refunds module may pay it back) and refunded in
        full automatically (`late_refund`, request id `late-<payment id>`, the
        adapter's idempotency key `refund-<refund id>`). Only authorized: never
        captured (Razorpay gives an uncaptured authorization back by itself).
        Returns whether a refund is owed."""
        now = self.clock()
        async with self.db.transaction() as s:
            payment = await repo.latest_payment(s, order_id)
            if payment is None:
                return False
            if payment.provider_payment_id and payment.provider_payment_id != payment_id:
                return False  # another payment of this order: not this one's record
            payment.provider_payment_id = payment_id
            payment.error_code = "CAPTURED_AFTER_ORDER_CLOSED"
            if captured:
                payment.state = "CAPTURED"
                payment.error_description = "captured after the order was closed: refunded"
            else:
                payment.error_description = "authorized after the order was closed: not captured"
            payment.update_time = now
        if captured and self.late_refund is not None:
            await self.late_refund(order_id, payment_id)
        return captured

    async def complete_paid_order(
        self, order_id: str, payment_id: str, *, method: str = "", order: Order | None = None
    ) -> pb.Order:
        """Payment captured: commit stock and coupons, CONFIRMED, "order.placed".

        Safe to call twice and concurrently (the storefront's confirm and the
        webhook): the remote commits are idempotent and the local transaction locks
        the order row (the UPDATE that marks it paid only while it is unpaid, else a
        SELECT ... FOR UPDATE) and does nothing for an order already paid. A reservation that
        lapsed before the payment is reserved again; when the stock is gone the paid
        order goes to REFUND_PENDING.

        `order` is the row when the caller has just read it. The steps are
        journalled with the final transaction: a crash before it leaves the order
        unpaid, and the sweeper settles it again from the provider (the commits
        are idempotent).
        """
        if order is None or order.id != order_id:
            async with self.db.session() as s:
                order = await s.get(Order, order_id)
        if order is None:
            raise not_found(f"orders/{order_id}")
        if order.paid:
            return await self.order_proto(order.id)
        # Holds the journal until written.
        saga = repo.make(CheckoutSaga, id=order.saga_id, attempt=0)
        reservation = order.reservation_name
        refund_reason = ""
        try:
            self._note(saga, "commit_reservation", "STARTED", reservation)
            await self.peers.commit_reservation(reservation)
        except PeerError as exc:
            # Not held any more: released or swept (NOT_HELD), or lapsed and not swept
            # yet (EXPIRED: inventory refuses to commit a hold past its expiry).
            if exc.reason not in LAPSED:
                raise
            if exc.reason == "RESERVATION_EXPIRED":
                # Its units are still out until inventory's sweeper takes it: given
                # back first, so that the new reservation can have them (else the last
                # units would be refunded while they sit in the lapsed hold).
                with contextlib.suppress(PeerError, Unavailable):
                    await self.peers.release_reservation(reservation)
            reservation, refund_reason = await self._re_reserve(order)
        self._note(saga, "commit_reservation", "DONE", reservation)
        if refund_reason:
            with contextlib.suppress(PeerError, Unavailable):
                await self.peers.release_hold(order.coupon_hold_name)
        else:
            await self._commit_hold(saga, order.coupon_hold_name)
        now = self.clock()
        seller = await self.invoices.seller() if self.invoices else None
        target = Status.REFUND_PENDING if refund_reason else Status.CONFIRMED
        changes: dict[str, Any] = {
            "status": target.value,
            "reservation_name": reservation,
            "update_time": now,
        }
        if refund_reason:
            changes["cancel_reason"] = refund_reason
        async with self.db.unit() as s:
            # The order as read (unpaid, in a status it may leave for `target`): locked,
            # re-checked and marked paid by one UPDATE ... RETURNING. Else it changed
            # meanwhile: locked and read, then as before (paid: a no-op; the transition
            # checked, ILLEGAL_TRANSITION).
            before = order.status
            row = (
                await repo.pay_order(self.db, s, order.id, before, changes)
                if can_transition(Status(before), target)
                else None
            )
            if row is None:
                current = await repo.locked_row(self.db, s, Order, order.id)
                assert current is not None
                if current.paid:
                    return await self.order_proto(order.id)
                check_transition(Status(current.status), target)
                before = current.status
                row = await repo.pay_order(self.db, s, order.id, before, changes)
                assert row is not None  # the row is locked
            change = repo.make(
                OrderStatusChange,
                order_id=row.id,
                from_status=before,
                to_status=target.value,
                actor="system" if refund_reason else actor(),
                reason=(refund_reason or f"paid {method}".strip())[:500],
                time=now,
            )
            # The answer's rows, read before the writes below (the new history row is
            # added to what is read), so the invoice counter's lock, taken last, is
            # held for one statement and the COMMIT. The items come with whether there
            # are edits or a tax invoice (one query): those are read only when any.
            found = await repo.read_order_items_and_counts(self.db, s, row.id)
            items = found.items
            history = await repo.read_order_history(self.db, s, row.id)
            edits = await repo.read_order_edits(self.db, s, row.id) if found.edit_count != 0 else []
            writes = repo.Writes().insert([change])
            if not refund_reason:
                # "order.placed" goes out with the statement below (on PostgreSQL not
                # an INSERT of its own): the relay wakes when the transaction commits.
                writes.insert_rows(
                    self.outbox.table, notify.order_placed_rows(self.outbox, row, items)
                )
                self.outbox.written(s)
                if self.invoices is not None and seller is not None:
                    invoice, new = await self.invoices.tax_invoice(
                        s, row, seller, now, items, none_yet=found.tax_invoiced is False
                    )
                    if new:
                        writes.insert([invoice])
            self._note(saga, "confirm_order", "DONE", payment_id, now=now)
            writes.update(CheckoutSaga, order.saga_id, state="COMPLETED", update_time=now)
            writes.journal(order.saga_id, self._pending_steps(saga))
            # The payment CAPTURED, the history row, "order.placed", the invoice, the
            # saga COMPLETED and its journal (with the saga's attempt): one statement
            # on PostgreSQL.
            captured = await repo.write_together(
                s,
                self.db,
                writes,
                repo.capture_latest_payment(order.id, payment_id, now),
            )
            payment = None if captured is None else repo.entity(Payment, captured)
        history = sorted([*history, change], key=lambda h: (h.time, h.id))
        if not refund_reason:
            ORDERS_PLACED.labels("RAZORPAY").inc()
        elif self.refund_owed is not None:
            await self.refund_owed(order.id, refund_reason)
            return await self.order_proto(order.id)  # the refund moved it on
        return order_message(row, items, history, payment, edits, self.gateway)

    async def _re_reserve(self, order: Order) -> tuple[str, str]:
        """(reservation, refund reason): a new committed reservation, or the reason the
        paid order cannot be fulfilled."""
        async with self.db.session() as s:
            items = await repo.order_items(s, order.id)
        lines: dict[str, int] = {}
        for i in items:
            if not i.free_gift:
                lines[i.variant_id] = lines.get(i.variant_id, 0) + i.quantity
        try:
            res = await self.peers.reserve(
                f"repay-{order.id}",
                lines,
                pincode=order.address.get("pincode", ""),
                state_code=order.address.get("state_code", ""),
                ttl_seconds=self.settings.reservation_ttl_seconds,
            )
            await self.peers.commit_reservation(res.name)
        except PeerError as exc:
            if exc.reason != "OUT_OF_STOCK":
                raise
            return order.reservation_name, "stock ran out before the payment arrived"
        return res.name, ""

    # =====================================================================================
    # giving up unpaid orders, and the sweeper
    # =====================================================================================

    async def release_unpaid(self, order: Order) -> None:
        """An unpaid order's stock and coupon uses go back (cancel, payment window over)."""
        for name, release in (
            (order.reservation_name, self.peers.release_reservation),
            (order.coupon_hold_name, self.peers.release_hold),
        ):
            if not name:
                continue
            try:
                await release(name)
            except PeerError as exc:
                if not already_undone(exc):
                    raise

    async def sweep_once(self) -> dict[str, int]:
        """Finish sagas a crash left behind, and give up unpaid orders past the window.

        - RUNNING/COMPENSATING sagas untouched for `stale_saga_seconds`: forward when
          their reservation was committed (COD: the order is created), else
          compensated.
        - PENDING_PAYMENT orders older than `payment_window_seconds`: holds released,
          PAYMENT_FAILED.
        """
        now = self.clock()
        done = {"resumed": 0, "compensated": 0, "expired": 0, "settled": 0}
        async with self.db.session() as s:
            stale = await repo.stale_sagas(
                s, now - timedelta(seconds=self.settings.stale_saga_seconds)
            )
            unpaid = await repo.unpaid_orders(
                s, now - timedelta(seconds=self.settings.payment_window_seconds)
            )
        for saga in stale:
            try:
                if await self._resume(saga):
                    done["resumed"] += 1
                else:
                    done["compensated"] += 1
            except Exception:
                log.warning("saga sweep failed", extra={"saga": saga.id}, exc_info=True)
        for order in unpaid:
            try:
                if await self._paid_at_provider(order):
                    if await self._settle_from_provider(order):
                        done["settled"] += 1
                    continue  # else the webhook (retried by Razorpay) or ConfirmPayment
                await self.release_unpaid(order)
                async with self.db.transaction() as s:
                    row = await repo.locked(s, Order, order.id)
                    if isinstance(row, Order) and row.status == Status.PENDING_PAYMENT.value:
                        transition(
                            s,
                            row,
                            Status.PAYMENT_FAILED,
                            self.clock(),
                            reason="payment window ended",
                            who="system",
                        )
                        payment = await repo.latest_payment(s, row.id)
                        if payment is not None and payment.state == "CREATED":
                            payment.state = "CANCELLED"
                            payment.update_time = self.clock()
                        await notify.payment_failed(
                            self.outbox, s, row, row.total_minor, "payment window ended"
                        )
                done["expired"] += 1
            except Exception:
                log.warning("unpaid order sweep failed", extra={"order": order.id}, exc_info=True)
        return done

    async def _paid_at_provider(self, order: Order) -> bool:
        """Razorpay says the order was paid (a confirm and webhook not seen yet)."""
        if self.gateway is None or order.payment_provider != "RAZORPAY":
            return False
        async with self.db.session() as s:
            payment = await repo.latest_payment(s, order.id)
        if payment is None or not payment.provider_order_id:
            return False
        try:
            provider = await self.gateway.fetch_order(payment.provider_order_id)
        except PaymentError:
            return True  # cannot tell: do not give up a possibly paid order now
        return provider.status == ProviderOrderStatus.PAID or provider.amount_paid_minor > 0

    async def _settle_from_provider(self, order: Order) -> bool:
        """Razorpay says the order was paid but neither the confirm nor a webhook came:
        ask it for the order's payments (GET /v1/orders/{id}/payments) and settle with
        the one that pays it, exactly as the webhook would."""
        assert self.gateway is not None
        async with self.db.session() as s:
            payment = await repo.latest_payment(s, order.id)
        if payment is None or not payment.provider_order_id:
            return False
        try:
            found = await self.gateway.fetch_order_payments(payment.provider_order_id)
        except PaymentError:
            return False
        usable = [
            p
            for p in found
            if p.status in (PaymentStatus.CAPTURED, PaymentStatus.AUTHORIZED)
            and p.amount_minor == order.total_minor
        ]
        if not usable:
            return False
        usable.sort(key=lambda p: p.status != PaymentStatus.CAPTURED)  # captured first
        try:
            await self.settle_payment(order, payment.provider_order_id, usable[0])
        except ServiceError:
            log.warning("sweeper could not settle a paid order", extra={"order": order.id})
            return False
        return True

    async def _resume(self, saga: CheckoutSaga) -> bool:
        """True when resumed forward, False when compensated."""
        async with self.db.session() as s:
            steps = await repo.saga_steps(s, saga.id)
            sess = await s.get(CheckoutSession, saga.session_id)
        mine = [st for st in steps if st.attempt == saga.attempt]
        committed = any(st.step == "commit_reservation" and st.status == "DONE" for st in mine)
        if saga.state == "RUNNING" and committed and sess is not None:
            provider = rules.provider_for(sess.payment_method)
            if provider == "COD":
                await self._commit_hold(saga, saga.hold_name)
                hold = await self._hold_breakdown(saga)
                lines = {str(v): int(q) for v, q in sess.lines}
                catalog = sold_as(hold)
                if catalog is None:
                    catalog, _ = await self.peers.variants(lines)
                await self._create_order(
                    saga, sess, hold, catalog, provider, provider_order_id=None
                )
                return True
        error = (
            PeerError(
                grpc.StatusCode[saga.error_code], saga.error_message, reason=saga.error_reason
            )
            if saga.error_code
            else Aborted("the checkout was interrupted; start again", reason="CHECKOUT_INTERRUPTED")
        )
        await self._compensate(saga, error)
        return False

    async def _hold_breakdown(self, saga: CheckoutSaga) -> breakdown_pb2.PriceBreakdown:
        return (await self.peers.get_hold(saga.hold_name)).breakdown

    async def sweep_pass(self) -> None:
        """One pass of every sweeper job: the saga sweeper, then the extra jobs."""
        for job in (self.sweep_once, *self.sweepers):
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("order sweeper job failed")

    async def sweep_forever(self) -> None:
        """A pass every `sweep_interval_seconds`; with replicas (`sweep_lease`) only on
        the replica holding the lease, renewed while the pass runs."""
        while True:
            await asyncio.sleep(self.settings.sweep_interval_seconds)
            lease = self.sweep_lease
            if lease is None:
                await self.sweep_pass()
                continue
            try:
                if not await lease.acquire():
                    continue  # another replica sweeps
                await lease.run(self.sweep_pass())
            except LeaseLost:
                log.warning("sweep pass stopped: the sweeper's lease was lost")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("order sweeper lease failed")

    # =====================================================================================
    # reading orders
    # =====================================================================================

    async def order_proto(self, order_id: str) -> pb.Order:
        async with self.db.session() as s:
            order = await s.get(Order, order_id)
            if order is None:
                raise not_found(f"orders/{order_id}")
            return await order_view(s, order, self.gateway)


def sold_as(
    breakdown: breakdown_pb2.PriceBreakdown,
) -> dict[str, catalog_pb2.VariantSnapshot] | None:
    """What the catalog said of the breakdown's (paid) variants when pricing read it,
    as `snapshot_items` takes it: the same facts a catalog read of the cart's lines
    gives (free gift lines are not looked up, as they never were). None when pricing
    did not name them (a pricing service from before PricedLine carried them)."""
    out: dict[str, catalog_pb2.VariantSnapshot] = {}
    for line in breakdown.lines:
        if line.free_gift:
            continue
        if not line.product_title:
            return None
        out[line.variant_id] = catalog_pb2.VariantSnapshot(
            variant_id=line.variant_id,
            product_id=line.product_id,
            product_title=line.product_title,
            variant_title=line.variant_title,
            sku=line.sku,
            hsn_code=line.hsn_code,
            sellable=True,
        )
    return out or None


def snapshot_items(
    order_id: str,
    breakdown: breakdown_pb2.PriceBreakdown,
    catalog: Mapping[str, catalog_pb2.VariantSnapshot],
) -> list[OrderItem]:
    """The order's lines as sold: pricing's lines with the catalog's names, SKU, HSN."""
    out = []
    for pos, line in enumerate(breakdown.lines):
        snap = catalog.get(line.variant_id)
        facts = rules.snapshot_item(
            convert.priced_line(line),
            rules.Catalogued(
                snap.product_id, snap.product_title, snap.variant_title, snap.sku, snap.hsn_code
            )
            if snap is not None
            else None,
            breakdown.registered_state_code,
            breakdown.place_of_supply_state_code,
        )
        out.append(
            repo.make(
                OrderItem,
                order_id=order_id,
                position=pos,
                variant_id=facts.variant_id,
                product_id=facts.product_id,
                product_name=facts.product_name,
                variant_title=facts.variant_title,
                sku=facts.sku,
                hsn_code=facts.hsn_code,
                quantity=facts.quantity,
                unit_mrp_minor=facts.unit_mrp,
                unit_price_minor=facts.unit_price,
                discount_minor=facts.discount,
                taxable_minor=facts.taxable,
                gst_rate_bp=facts.rate_bp,
                cgst_minor=facts.cgst,
                sgst_minor=facts.sgst,
                igst_minor=facts.igst,
                total_minor=facts.total,
                free_gift=facts.free_gift,
                gift_rule=facts.gift_rule,
            )
        )
    return out


async def order_view(
    s: AsyncSession, order: Order, gateway: PaymentGateway | None = None
) -> pb.Order:
    return order_message(
        order,
        await repo.order_items(s, order.id),
        await repo.order_history(s, order.id),
        await repo.latest_payment(s, order.id),
        await repo.order_edits(s, order.id),
        gateway,
    )


def order_message(
    order: Order,
    items: Sequence[OrderItem],
    history: Sequence[OrderStatusChange],
    payment: Payment | None,
    edits: Sequence[OrderEdit],
    gateway: PaymentGateway | None = None,
) -> pb.Order:
    """The Order message of an order and its rows (items by position, history by
    time, the latest payment, edits)."""
    out = convert.order(order, items, history, payment, gateway.key_id if gateway else "")
    out.balance_due = order.balance_due_minor > 0
    out.balance_due_amount.CopyFrom(convert.money(order.balance_due_minor, order.currency))
    out.edits.extend(convert.order_edit(e) for e in edits)
    return out
