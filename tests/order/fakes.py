"""Small fake peers of the order service, each served over real gRPC on its own
ephemeral port (the registry is pointed at them with CLEANSE_<NAME>_ADDR).

`Peer` wraps a grpc.aio server that a test can really stop and start again on the
same port (degradation tests). `Shop` is the test's view of the catalogue: a
variant registered with it is known to the catalog, priced by pricing and stocked
by inventory.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from cleanse.auth.v1 import resources_pb2 as auth_res
from cleanse.catalog.v1 import catalog_internal_service_pb2 as catalog_pb2
from cleanse.catalog.v1 import catalog_internal_service_pb2_grpc as catalog_grpc
from cleanse.common.v1 import address_pb2, money_pb2
from cleanse.inventory.v1 import availability_service_pb2 as avail_pb2
from cleanse.inventory.v1 import availability_service_pb2_grpc as avail_grpc
from cleanse.inventory.v1 import reservation_service_pb2 as res_pb2
from cleanse.inventory.v1 import reservation_service_pb2_grpc as res_grpc
from cleanse.inventory.v1 import resources_pb2 as inv_pb2
from cleanse.pricing.v1 import breakdown_pb2 as bd
from cleanse.pricing.v1 import coupon_hold_service_pb2 as hold_pb2
from cleanse.pricing.v1 import coupon_hold_service_pb2_grpc as hold_grpc
from cleanse.pricing.v1 import pricing_service_pb2_grpc as pricing_grpc
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as settings_grpc
from mesh.errors import FailedPrecondition, InvalidArgument, NotFound, ServiceError
from mesh.gst import GstLine, gst_line
from mesh.india import state_for_pincode
from tests.conftest import free_address

REGISTERED_STATE = "KA"
GST_BP = 1800
FLAT_SHIPPING = 4900
FREE_SHIPPING_AT = 99900
COD_FEE = 2500
COD_MAX = 500000
VARIANT_TITLE = "30 ml"  # every variant's, as the fake catalog names it
STORE_NAME = "Cleanse Ayurveda"
LEGAL_NAME = "Cleanse Ayurveda Private Limited"
REGISTERED_ADDRESS = address_pb2.PostalAddress(
    line1="No. 42, 2nd Floor, 100 Feet Road",
    line2="HAL 2nd Stage, Indiranagar",
    city="Bengaluru",
    state_code=REGISTERED_STATE,
    pincode="560038",
    country_code="IN",
)


def inr(minor: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=minor, currency_code="INR")


def ts(d: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(d)
    return t


async def abort(context: Any, exc: ServiceError) -> None:
    st = exc.to_grpc_status()
    await context.abort(st.code, st.details, st.trailing_metadata)


class Peer:
    """A real grpc.aio server for fake servicers, stoppable and restartable."""

    def __init__(self, name: str, registrations: list[tuple[Callable[..., None], Any]]) -> None:
        self.name = name
        self.registrations = registrations
        self.address = str(free_address())
        self.server: grpc.aio.Server | None = None

    async def start(self) -> None:
        server = grpc.aio.server()
        for add_fn, servicer in self.registrations:
            add_fn(servicer, server)
        server.add_insecure_port(self.address)
        await server.start()
        self.server = server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)
            self.server = None


@dataclass
class Variant:
    variant_id: str
    price: int
    stock: int
    title: str
    sellable: bool = True


@dataclass
class Shop:
    variants: dict[str, Variant] = field(default_factory=dict)
    # code -> uses left
    coupons: dict[str, int] = field(default_factory=dict)
    # Free gifts as pricing's gift rules add them: a cart with the key variant gets
    # (gift variant, quantity) as a free line of its own (the gift may be the very
    # variant bought: then the order has that variant on two lines).
    gifts: dict[str, tuple[str, int]] = field(default_factory=dict)

    def variant(self, price: int = 49900, stock: int = 100, title: str = "") -> str:
        vid = f"var_{secrets.token_hex(6)}"
        self.variants[vid] = Variant(vid, price, stock, title or f"Kumkumadi oil {vid[-4:]}")
        return vid

    def coupon(self, uses: int = 100) -> str:
        code = f"SAVE{secrets.token_hex(3).upper()}"
        self.coupons[code] = uses
        return code


def tax_amounts(g: GstLine) -> bd.TaxAmounts:
    return bd.TaxAmounts(
        taxable_value=inr(g.taxable),
        cgst=inr(g.cgst),
        sgst=inr(g.sgst),
        igst=inr(g.igst),
        total_tax=inr(g.tax),
    )


def fee_rate_bp(lines: Iterable[bd.PricedLine]) -> int:
    """As pricing (services/pricing/domain/tax.py): the highest GST rate among the
    priced (non-gift) lines with a positive net; every line free: among all priced
    lines; none: 0."""
    priced = [ln for ln in lines if not ln.free_gift]
    taxed = [ln.gst_rate_basis_points for ln in priced if ln.net.amount_minor > 0]
    return max(taxed or [ln.gst_rate_basis_points for ln in priced] or [0])


def price_cart(shop: Shop, cart: bd.Cart) -> bd.PriceBreakdown:
    """10% off per valid coupon; 18% GST inclusive; flat shipping under Rs 999; COD fee.

    Shipping and the COD fee carry GST the way pricing puts it in them (its README,
    "GST on shipping and the COD fee"): tax-inclusive, at the highest rate of the
    taxed lines, CGST + SGST intra-state or IGST inter-state, half up per charge; in
    `shipping.tax` / `cod_fee_tax` with their rates, and in the bill's `tax`. The
    total is unchanged by it."""
    pos = state_for_pincode(cart.delivery_pincode) if cart.delivery_pincode else None
    pos = pos or REGISTERED_STATE
    out = bd.PriceBreakdown(
        registered_state_code=REGISTERED_STATE,
        place_of_supply_state_code=pos,
        inter_state=pos != REGISTERED_STATE,
        prices_include_tax=True,
        currency_code="INR",
        payment_method_available=True,
    )
    codes = sorted({c.upper() for c in cart.coupon_codes})
    applied = [c for c in codes if shop.coupons.get(c, 0) > 0]
    for c in codes:
        ok = c in applied
        out.coupons.add(
            code=c,
            applied=ok,
            coupon=f"coupons/{c.lower()}",
            rejection=bd.COUPON_REJECTION_UNSPECIFIED if ok else bd.COUPON_REJECTION_EXHAUSTED,
            message="applied" if ok else "no uses left",
        )
    subtotal = disc_total = total = taxable = cgst = sgst = igst = 0
    for line in sorted(cart.lines, key=lambda x: x.variant_id):
        v = shop.variants[line.variant_id]
        gross = v.price * line.quantity
        disc = gross * 10 * len(applied) // 100
        net = gross - disc
        g = gst_line(net, GST_BP, REGISTERED_STATE, pos)
        out.lines.add(
            variant_id=v.variant_id,
            product_id=f"prod_{v.variant_id[-6:]}",
            sku=f"SKU-{v.variant_id[-6:].upper()}",
            title=v.title,
            product_title=v.title,
            variant_title=VARIANT_TITLE,
            quantity=line.quantity,
            unit_mrp=inr(v.price + 10000),
            unit_price=inr(v.price),
            gross=inr(gross),
            discount_total=inr(disc),
            net=inr(net),
            hsn_code="33049990",
            gst_rate_basis_points=GST_BP,
            tax=tax_amounts(g),
            total=inr(net),
        )
        subtotal += gross
        disc_total += disc
        total += net
        taxable, cgst, sgst, igst = taxable + g.taxable, cgst + g.cgst, sgst + g.sgst, igst + g.igst
    for line in sorted(cart.lines, key=lambda x: x.variant_id):
        if line.variant_id in shop.gifts:  # as pricing: zero price, no GST
            gift, qty = shop.gifts[line.variant_id]
            v = shop.variants[gift]
            out.lines.add(
                variant_id=v.variant_id,
                product_id=f"prod_{v.variant_id[-6:]}",
                sku=f"SKU-{v.variant_id[-6:].upper()}",
                title=v.title,
                product_title=v.title,
                variant_title=VARIANT_TITLE,
                quantity=qty,
                unit_mrp=inr(v.price + 10000),
                unit_price=inr(0),
                gross=inr(0),
                discount_total=inr(0),
                net=inr(0),
                hsn_code="33049990",
                gst_rate_basis_points=0,
                tax=tax_amounts(gst_line(0, 0, REGISTERED_STATE, pos)),
                total=inr(0),
                free_gift=True,
                gift_rule=f"freeGiftRules/{line.variant_id[-6:]}",
            )
    fee = 0 if total >= FREE_SHIPPING_AT else FLAT_SHIPPING
    cod = COD_FEE if cart.payment_method == "cod" else 0
    rate = fee_rate_bp(out.lines)
    ship_gst = gst_line(fee, rate, REGISTERED_STATE, pos)
    cod_gst = gst_line(cod, rate, REGISTERED_STATE, pos)
    out.shipping.CopyFrom(
        bd.ShippingCharge(
            fee=inr(fee),
            base_fee=inr(FLAT_SHIPPING),
            source="flat_rate",
            free=fee == 0,
            tax=tax_amounts(ship_gst),
            gst_rate_basis_points=rate,
        )
    )
    out.cod_fee.CopyFrom(inr(cod))
    out.cod_fee_tax.CopyFrom(tax_amounts(cod_gst))
    out.cod_fee_gst_rate_basis_points = rate
    for g in (ship_gst, cod_gst):
        taxable, cgst, sgst, igst = taxable + g.taxable, cgst + g.cgst, sgst + g.sgst, igst + g.igst
    out.subtotal.CopyFrom(inr(subtotal))
    out.discount_total.CopyFrom(inr(disc_total))
    out.tax.CopyFrom(
        bd.TaxAmounts(
            taxable_value=inr(taxable),
            cgst=inr(cgst),
            sgst=inr(sgst),
            igst=inr(igst),
            total_tax=inr(cgst + sgst + igst),
        )
    )
    out.total.CopyFrom(inr(total + fee + cod))
    if cart.payment_method == "cod" and total + fee + cod > COD_MAX:
        out.payment_method_available = False
    return out


class FakePricing(pricing_grpc.PricingServiceServicer, hold_grpc.CouponHoldServiceServicer):
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.holds: dict[str, hold_pb2.CouponHold] = {}
        self.by_request: dict[str, str] = {}
        self.calls: list[str] = []
        # False: a pricing service from before PricedLine named the product and the
        # variant (product_title, variant_title empty).
        self.names_lines = True

    def _priced(self, cart: bd.Cart) -> bd.PriceBreakdown:
        out = price_cart(self.shop, cart)
        if not self.names_lines:
            for line in out.lines:
                line.ClearField("product_title")
                line.ClearField("variant_title")
        return out

    async def _refuse_unsold(self, cart: bd.Cart, context: Any) -> None:
        """As pricing (handlers/quote.py `inputs`): a variant the catalog does not know
        is INVALID_ARGUMENT on its line; one it does not sell, VARIANT_NOT_SELLABLE."""
        unknown = [
            (f"cart.lines[{i}].variant_id", "no such variant")
            for i, ln in enumerate(cart.lines)
            if ln.variant_id not in self.shop.variants
        ]
        if unknown:
            await abort(context, InvalidArgument(unknown))
        unsold = [
            ln.variant_id for ln in cart.lines if not self.shop.variants[ln.variant_id].sellable
        ]
        if unsold:
            await abort(
                context,
                FailedPrecondition(
                    f"not for sale: {', '.join(unsold)}",
                    reason="VARIANT_NOT_SELLABLE",
                    metadata={"variant_ids": ",".join(unsold)},
                ),
            )

    async def CalculatePrice(self, request: Any, context: Any) -> Any:
        self.calls.append("CalculatePrice")
        await self._refuse_unsold(request.cart, context)
        return self._priced(request.cart)

    async def HoldCoupons(self, request: Any, context: Any) -> Any:
        self.calls.append("HoldCoupons")
        if request.request_id in self.by_request:
            return self.holds[self.by_request[request.request_id]]
        await self._refuse_unsold(request.cart, context)
        codes = sorted({c.upper() for c in request.cart.coupon_codes})
        for c in codes:
            if self.shop.coupons.get(c, 0) <= 0:
                await abort(
                    context,
                    FailedPrecondition(
                        f"coupon {c} has no uses left",
                        reason="COUPON_EXHAUSTED",
                        metadata={"code": c},
                    ),
                )
        breakdown = self._priced(request.cart)
        for c in codes:
            self.shop.coupons[c] -= 1
        name = f"couponHolds/{secrets.token_hex(8)}"
        hold = hold_pb2.CouponHold(
            name=name,
            request_id=request.request_id,
            customer=request.customer,
            state=hold_pb2.HOLD_STATE_HELD,
            coupon_codes=codes,
            breakdown=breakdown,
        )
        self.holds[name] = hold
        self.by_request[request.request_id] = name
        return hold

    async def CommitCouponHold(self, request: Any, context: Any) -> Any:
        self.calls.append("CommitCouponHold")
        hold = self.holds[request.name]
        if hold.state == hold_pb2.HOLD_STATE_RELEASED:
            await abort(context, FailedPrecondition("released", reason="HOLD_NOT_HELD"))
        hold.state = hold_pb2.HOLD_STATE_COMMITTED
        return hold

    async def ReleaseCouponHold(self, request: Any, context: Any) -> Any:
        self.calls.append("ReleaseCouponHold")
        hold = self.holds[request.name]
        if hold.state == hold_pb2.HOLD_STATE_COMMITTED:
            await abort(context, FailedPrecondition("committed", reason="HOLD_COMMITTED"))
        if hold.state == hold_pb2.HOLD_STATE_HELD:
            for c in hold.coupon_codes:
                self.shop.coupons[c] += 1
        hold.state = hold_pb2.HOLD_STATE_RELEASED
        return hold

    async def GetCouponHold(self, request: Any, context: Any) -> Any:
        return self.holds[request.name]


class FakeInventory(res_grpc.ReservationServiceServicer, avail_grpc.AvailabilityServiceServicer):
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.reservations: dict[str, inv_pb2.Reservation] = {}
        self.by_request: dict[str, str] = {}
        # Reservation RPCs served, by method name, in order.
        self.calls: list[str] = []
        self.restocked: dict[str, list[tuple[str, int]]] = {}
        # request id -> the reservation the units were put back against
        self.restocked_against: dict[str, str] = {}
        self._restock_bodies: dict[str, tuple[Any, ...]] = {}
        # A test's hook, awaited with each ReserveStock request before it is handled.
        self.before_reserve: Callable[[Any], Awaitable[None]] | None = None
        # The same, awaited with each RestockReturn request; an error it returns is
        # the answer (e.g. Unavailable: inventory going down), nothing put back.
        self.before_restock: Callable[[Any], Awaitable[ServiceError | None]] | None = None

    async def BatchGetAvailability(self, request: Any, context: Any) -> Any:
        out = avail_pb2.BatchGetAvailabilityResponse()
        for vid in request.variant_ids:
            v = self.shop.variants.get(vid)
            n = v.stock if v else 0
            status = (
                avail_pb2.STOCK_STATUS_OUT_OF_STOCK
                if n <= 0
                else avail_pb2.STOCK_STATUS_LOW_STOCK
                if n <= 5
                else avail_pb2.STOCK_STATUS_IN_STOCK
            )
            out.availabilities.add(variant_id=vid, status=status, available=max(n, 0))
        return out

    async def ReserveStock(self, request: Any, context: Any) -> Any:
        self.calls.append("ReserveStock")
        if self.before_reserve is not None:
            await self.before_reserve(request)
        if request.request_id in self.by_request:
            return self.reservations[self.by_request[request.request_id]]
        short = [
            line.variant_id
            for line in request.lines
            if self.shop.variants[line.variant_id].stock < line.quantity
        ]
        if short:
            await abort(
                context,
                FailedPrecondition(
                    f"not enough stock for {', '.join(short)}",
                    reason="OUT_OF_STOCK",
                    metadata={"variant_ids": ",".join(short)},
                ),
            )
        for line in request.lines:
            self.shop.variants[line.variant_id].stock -= line.quantity
        now = datetime.now(UTC)
        res = inv_pb2.Reservation(
            name=f"reservations/{secrets.token_hex(8)}",
            request_id=request.request_id,
            state=inv_pb2.RESERVATION_STATE_HELD,
            lines=[
                inv_pb2.ReservationLine(variant_id=ln.variant_id, quantity=ln.quantity)
                for ln in request.lines
            ],
            expire_time=ts(now + timedelta(seconds=request.ttl_seconds or 900)),
            create_time=ts(now),
        )
        self.reservations[res.name] = res
        self.by_request[request.request_id] = res.name
        return res

    async def CommitReservation(self, request: Any, context: Any) -> Any:
        self.calls.append("CommitReservation")
        res = self.reservations[request.name]
        if res.state in (inv_pb2.RESERVATION_STATE_RELEASED, inv_pb2.RESERVATION_STATE_EXPIRED):
            await abort(context, FailedPrecondition("not held", reason="RESERVATION_NOT_HELD"))
        # As inventory answers (services/inventory/handlers/reservations.py
        # `_commit_locked`): a hold past its expiry that its sweeper has not taken yet.
        if res.state == inv_pb2.RESERVATION_STATE_HELD and res.expire_time.ToDatetime(
            tzinfo=UTC
        ) <= datetime.now(UTC):
            await abort(
                context, FailedPrecondition("reservation has expired", reason="RESERVATION_EXPIRED")
            )
        res.state = inv_pb2.RESERVATION_STATE_COMMITTED
        return res

    async def ReleaseReservation(self, request: Any, context: Any) -> Any:
        self.calls.append("ReleaseReservation")
        res = self.reservations[request.name]
        if res.state == inv_pb2.RESERVATION_STATE_COMMITTED:
            await abort(context, FailedPrecondition("committed", reason="RESERVATION_COMMITTED"))
        if res.state == inv_pb2.RESERVATION_STATE_HELD:
            for line in res.lines:
                self.shop.variants[line.variant_id].stock += line.quantity
        res.state = inv_pb2.RESERVATION_STATE_RELEASED
        return res

    async def GetReservation(self, request: Any, context: Any) -> Any:
        self.calls.append("GetReservation")
        return self.reservations[request.name]

    async def RestockReturn(self, request: Any, context: Any) -> Any:
        """As inventory checks it (services/inventory/handlers/reservations.py
        `restock_return`, README "Returns"): idempotent on the request id, replayed
        before anything else is checked (another body: IDEMPOTENCY_MISMATCH). Against
        a reservation: it must exist (NOT_FOUND), be COMMITTED
        (RESERVATION_NOT_COMMITTED), have reserved every variant (INVALID_ARGUMENT)
        and still have out what is asked of each: what it took less what restocks
        against it put back (RESTOCK_EXCEEDS_RESERVATION, metadata `variant_ids`,
        `remaining`). A refusal puts nothing back and is not remembered. With
        `warehouse` as well the units count against the reservation the same way;
        with `warehouse` alone they go back unchecked."""
        if self.before_restock is not None:
            error = await self.before_restock(request)
            if error is not None:
                await abort(context, error)
        body = (
            tuple(sorted((ln.variant_id, ln.quantity) for ln in request.lines)),
            request.reservation,
            request.warehouse,
            request.note,
        )
        prior = self._restock_bodies.get(request.request_id)
        if prior is not None:
            if prior != body:
                await abort(
                    context,
                    FailedPrecondition(
                        "request_id was already used for a different return",
                        reason="IDEMPOTENCY_MISMATCH",
                    ),
                )
            return res_pb2.RestockReturnResponse()
        demand: dict[str, int] = {}
        for ln in request.lines:
            demand[ln.variant_id] = demand.get(ln.variant_id, 0) + ln.quantity
        if not request.warehouse and not request.reservation:
            await abort(
                context, InvalidArgument({"warehouse": "give a warehouse or the reservation"})
            )
        if request.reservation:
            res = self.reservations.get(request.reservation)
            if res is None:
                await abort(context, NotFound(f"{request.reservation} not found"))
            if res.state != inv_pb2.RESERVATION_STATE_COMMITTED:
                state = inv_pb2.ReservationState.Name(res.state).removeprefix("RESERVATION_STATE_")
                await abort(
                    context,
                    FailedPrecondition(
                        f"reservation is {state.lower()}, not committed",
                        reason="RESERVATION_NOT_COMMITTED",
                        metadata={"state": state},
                    ),
                )
            out = self.still_out(request.reservation)
            unknown = sorted(set(demand) - {ln.variant_id for ln in res.lines})
            if unknown:
                await abort(
                    context,
                    InvalidArgument(
                        [("lines", f"{v} was not part of the reservation") for v in unknown]
                    ),
                )
            short = {v: out.get(v, 0) for v, q in sorted(demand.items()) if q > out.get(v, 0)}
            if short:
                await abort(
                    context,
                    FailedPrecondition(
                        f"more units than {res.name} has left to put back",
                        reason="RESTOCK_EXCEEDS_RESERVATION",
                        metadata={
                            "variant_ids": ",".join(short),
                            "remaining": ",".join(f"{v}={n}" for v, n in short.items()),
                        },
                    ),
                )
        self._restock_bodies[request.request_id] = body
        self.restocked[request.request_id] = [(ln.variant_id, ln.quantity) for ln in request.lines]
        self.restocked_against[request.request_id] = request.reservation
        for ln in request.lines:
            self.shop.variants[ln.variant_id].stock += ln.quantity
        return res_pb2.RestockReturnResponse()

    def put_back_by_hand(self, reservation: str, lines: dict[str, int]) -> str:
        """A restock against `reservation` made outside the order service (inventory's
        RestockReturn with the reservation and a warehouse: counted against the
        reservation all the same); its request id. Unchecked: a test's way to make
        inventory's books disagree with the order's."""
        rid = f"by-hand-{secrets.token_hex(4)}"
        self.restocked[rid] = sorted(lines.items())
        self.restocked_against[rid] = reservation
        for v, q in lines.items():
            self.shop.variants[v].stock += q
        return rid

    def undo_restock(self, request_id: str) -> None:
        """Inventory's books corrected: the restock `request_id` never happened."""
        for v, q in self.restocked.pop(request_id):
            self.shop.variants[v].stock -= q
        self.restocked_against.pop(request_id, None)
        self._restock_bodies.pop(request_id, None)

    def still_out(self, reservation: str) -> dict[str, int]:
        """What `reservation` took, less what restocks against it put back, by variant."""
        took: dict[str, int] = {}
        for ln in self.reservations[reservation].lines:
            took[ln.variant_id] = took.get(ln.variant_id, 0) + int(ln.quantity)
        for v, q in self.restocked_into(reservation).items():
            took[v] = took.get(v, 0) - q
        return took

    def restocked_into(self, reservation: str) -> dict[str, int]:
        """Units put back against `reservation`, by variant."""
        out: dict[str, int] = {}
        for rid, lines in self.restocked.items():
            if self.restocked_against.get(rid) == reservation:
                for v, q in lines:
                    out[v] = out.get(v, 0) + q
        return out

    def lapse(self, name: str) -> None:
        """The reservation's expiry passes; inventory's sweeper has not taken it yet
        (still HELD, its units still out)."""
        self.reservations[name].expire_time.CopyFrom(ts(datetime.now(UTC) - timedelta(seconds=1)))

    def expire(self, name: str) -> None:
        """The reservation lapses (the inventory sweeper gave it back)."""
        res = self.reservations[name]
        if res.state == inv_pb2.RESERVATION_STATE_HELD:
            for line in res.lines:
                self.shop.variants[line.variant_id].stock += line.quantity
            res.state = inv_pb2.RESERVATION_STATE_EXPIRED


class FakeSettings(settings_grpc.SettingsInternalServiceServicer):
    def __init__(self) -> None:
        self.calls = 0

    async def GetCheckoutConfig(self, request: Any, context: Any) -> Any:
        self.calls += 1
        return settings_pb2.CheckoutConfig(
            registered_state_code=REGISTERED_STATE,
            gstin="29ABCDE1234F1Z5",
            store_name=STORE_NAME,
            legal_name=LEGAL_NAME,
            registered_address=REGISTERED_ADDRESS,
            invoice_prefix="CLN",
            return_window_days=7,
            prices_include_tax=True,
            flat_shipping_rate=inr(FLAT_SHIPPING),
            free_shipping_threshold=inr(FREE_SHIPPING_AT),
            currency_code="INR",
            payment_methods=[
                settings_pb2.PaymentMethodConfig(
                    code="cod", enabled=True, max_order_value=inr(COD_MAX), fee=inr(COD_FEE)
                ),
                settings_pb2.PaymentMethodConfig(code="razorpay_upi", enabled=True),
                settings_pb2.PaymentMethodConfig(code="razorpay_card", enabled=False),
            ],
        )


class FakeCatalog(catalog_grpc.CatalogInternalServiceServicer):
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        # The variant ids of each BatchGetVariants, in order.
        self.requests: list[list[str]] = []

    async def BatchGetVariants(self, request: Any, context: Any) -> Any:
        self.requests.append(list(request.variant_ids))
        out = catalog_pb2.BatchGetVariantsResponse()
        for vid in request.variant_ids:
            v = self.shop.variants.get(vid)
            if v is None:
                out.missing.append(vid)
                continue
            out.variants.add(
                variant_id=vid,
                product_id=f"prod_{vid[-6:]}",
                sku=f"SKU-{vid[-6:].upper()}",
                product_title=v.title,
                variant_title=VARIANT_TITLE,
                price=inr(v.price),
                hsn_code="33049990",
                sellable=v.sellable,
            )
        return out


class FakeAuth(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self) -> None:
        # "users/{user_id}/addresses/{address_id}" -> the saved postal address
        self.addresses: dict[str, address_pb2.PostalAddress] = {}
        self.address_lookups: list[str] = []  # GetUserAddress names, as order sent them

    def save_address(self, user_id: str, postal: address_pb2.PostalAddress) -> str:
        """A saved address of the customer; its name as the customer sees it."""
        aid = f"addr_{secrets.token_hex(6)}"
        self.addresses[f"users/{user_id}/addresses/{aid}"] = postal
        return f"addresses/{aid}"

    async def GetUserAddress(self, request: Any, context: Any) -> Any:
        self.address_lookups.append(request.name)
        postal = self.addresses.get(request.name)
        if postal is None:
            await abort(context, NotFound(f"{request.name} not found"))
        return auth_res.Address(
            name=f"addresses/{request.name.rsplit('/', 1)[-1]}", postal_address=postal
        )

    async def BatchGetUsers(self, request: Any, context: Any) -> Any:
        return auth_service_pb2.BatchGetUsersResponse(
            users=[
                auth_res.User(name=n, email=f"{n.rsplit('/', 1)[-1]}@example.com")
                for n in request.names
            ]
        )


def make_peers(shop: Shop) -> dict[str, Peer]:
    pricing = FakePricing(shop)
    inventory = FakeInventory(shop)
    return {
        "pricing": Peer(
            "pricing",
            [
                (pricing_grpc.add_PricingServiceServicer_to_server, pricing),
                (hold_grpc.add_CouponHoldServiceServicer_to_server, pricing),
            ],
        ),
        "inventory": Peer(
            "inventory",
            [
                (res_grpc.add_ReservationServiceServicer_to_server, inventory),
                (avail_grpc.add_AvailabilityServiceServicer_to_server, inventory),
            ],
        ),
        "settings": Peer(
            "settings",
            [(settings_grpc.add_SettingsInternalServiceServicer_to_server, FakeSettings())],
        ),
        "catalog": Peer(
            "catalog",
            [(catalog_grpc.add_CatalogInternalServiceServicer_to_server, FakeCatalog(shop))],
        ),
        "auth": Peer(
            "auth", [(auth_service_pb2_grpc.add_AuthServiceServicer_to_server, FakeAuth())]
        ),
    }
