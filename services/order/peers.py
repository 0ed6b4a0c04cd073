"""What the order service asks other services, through typed mesh stubs.

Every call has the mesh's deadline, retries (idempotent RPCs) and breaker. A
dependency that does not answer (UNAVAILABLE, DEADLINE_EXCEEDED, circuit open)
becomes `Unavailable` (DEPENDENCY_UNAVAILABLE, metadata "dependency"): checkout
fails fast and retryably. A business error of the dependency (OUT_OF_STOCK,
COUPON_EXHAUSTED, INVALID_ARGUMENT ...) is passed on with its code, reason and
metadata.

Named degradations (counted in mesh_degraded_calls_total{policy}):
- "settings.cached_checkout_config": settings down -> the last checkout config
  read (kept past its TTL); none read yet -> UNAVAILABLE;
- "auth.trust_token": auth down -> a customer's email comes from the request (the
  access token auth signed already proves the user exists);
- cart reads: "pricing.cart_unpriced" / "inventory.stock_unknown" (handlers.carts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc, resources_pb2
from cleanse.catalog.v1 import catalog_internal_service_pb2 as catalog_pb2
from cleanse.catalog.v1 import catalog_internal_service_pb2_grpc as catalog_grpc
from cleanse.inventory.v1 import availability_service_pb2 as avail_pb2
from cleanse.inventory.v1 import availability_service_pb2_grpc as avail_grpc
from cleanse.inventory.v1 import reservation_service_pb2 as res_pb2
from cleanse.inventory.v1 import reservation_service_pb2_grpc as res_grpc
from cleanse.inventory.v1 import resources_pb2 as inv_pb2
from cleanse.pricing.v1 import breakdown_pb2, coupon_hold_service_pb2, pricing_service_pb2
from cleanse.pricing.v1 import coupon_hold_service_pb2_grpc as hold_grpc
from cleanse.pricing.v1 import pricing_service_pb2_grpc as pricing_grpc
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as settings_grpc
from mesh import client
from mesh.breaker import CircuitOpenError
from mesh.cached import TtlCache
from mesh.errors import ServiceError, Unavailable

T = TypeVar("T")
MAX_BATCH = 500
CHECKOUT_CONFIG_KEY = "checkout-config"
# How long the catalog's "yes, sold" for a variant added to a cart is kept: as long
# as pricing keeps the variants it prices a cart with (its variant_cache_seconds).
SELLABLE_CACHE_SECONDS = 5.0


class PeerError(ServiceError):
    """A dependency's business error, passed on with its own code and reason."""

    def __init__(self, code: grpc.StatusCode, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.code = code


def _error_info(exc: grpc.aio.AioRpcError) -> tuple[str, dict[str, str], list[Any]]:
    reason, metadata, extra = "", {}, []
    try:
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    except Exception:
        status = None
    for d in status.details if status else []:
        if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            d.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif d.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            d.Unpack(bad)
            extra.append(bad)
    return reason, metadata, extra


def dependency_down(dependency: str, what: str) -> Unavailable:
    return Unavailable(
        f"{dependency} is unavailable, so {what}; nothing was changed, try again shortly",
        metadata={"dependency": dependency},
    )


async def guarded(dependency: str, what: str, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except CircuitOpenError:
        raise dependency_down(dependency, what) from None
    except grpc.aio.AioRpcError as exc:
        if exc.code() in client.DEGRADE_CODES:
            raise dependency_down(dependency, what) from None
        reason, metadata, extra = _error_info(exc)
        raise PeerError(
            exc.code(),
            exc.details() or exc.code().name,
            reason=reason,
            metadata=metadata,
            details=extra,
        ) from None


def error_reason(exc: BaseException) -> str:
    return exc.reason if isinstance(exc, ServiceError) else ""


def pricing_cart(
    lines: Mapping[str, int],
    coupons: Iterable[str] = (),
    pincode: str = "",
    payment_method: str = "",
) -> breakdown_pb2.Cart:
    return breakdown_pb2.Cart(
        lines=[breakdown_pb2.CartLine(variant_id=v, quantity=q) for v, q in sorted(lines.items())],
        coupon_codes=list(coupons),
        delivery_pincode=pincode,
        payment_method=payment_method,
    )


class Peers:
    def __init__(
        self,
        *,
        settings_cache_seconds: float = 30.0,
        timeout: float = 3.0,
        sellable_cache_seconds: float = SELLABLE_CACHE_SECONDS,
    ) -> None:
        self.timeout = timeout
        self.config_cache = TtlCache(settings_cache_seconds, stale_if_error=True)
        self.sellable_cache = TtlCache(sellable_cache_seconds, max_entries=20_000)

    # --- pricing ---------------------------------------------------------------------

    async def price(self, cart: breakdown_pb2.Cart, customer: str) -> breakdown_pb2.PriceBreakdown:
        stub = client.stub("pricing", pricing_grpc.PricingServiceStub)
        req = pricing_service_pb2.CalculatePriceRequest(cart=cart, customer=customer)
        return await guarded(
            "pricing",
            "the cart cannot be priced",
            lambda: stub.CalculatePrice(req, timeout=self.timeout),
        )

    async def hold_coupons(
        self, request_id: str, cart: breakdown_pb2.Cart, customer: str, ttl_seconds: int
    ) -> coupon_hold_service_pb2.CouponHold:
        stub = client.stub("pricing", hold_grpc.CouponHoldServiceStub)
        req = coupon_hold_service_pb2.HoldCouponsRequest(
            request_id=request_id, cart=cart, customer=customer, ttl_seconds=ttl_seconds
        )
        return await guarded(
            "pricing", "coupons cannot be held", lambda: stub.HoldCoupons(req, timeout=self.timeout)
        )

    async def commit_hold(self, name: str) -> coupon_hold_service_pb2.CouponHold:
        stub = client.stub("pricing", hold_grpc.CouponHoldServiceStub)
        req = coupon_hold_service_pb2.CommitCouponHoldRequest(name=name)
        return await guarded(
            "pricing",
            "coupon use cannot be committed",
            lambda: stub.CommitCouponHold(req, timeout=self.timeout),
        )

    async def release_hold(self, name: str) -> coupon_hold_service_pb2.CouponHold:
        stub = client.stub("pricing", hold_grpc.CouponHoldServiceStub)
        req = coupon_hold_service_pb2.ReleaseCouponHoldRequest(name=name)
        return await guarded(
            "pricing",
            "the coupon hold cannot be released",
            lambda: stub.ReleaseCouponHold(req, timeout=self.timeout),
        )

    async def get_hold(self, name: str) -> coupon_hold_service_pb2.CouponHold:
        stub = client.stub("pricing", hold_grpc.CouponHoldServiceStub)
        req = coupon_hold_service_pb2.GetCouponHoldRequest(name=name)
        return await guarded(
            "pricing",
            "the coupon hold cannot be read",
            lambda: stub.GetCouponHold(req, timeout=self.timeout),
        )

    # --- inventory -------------------------------------------------------------------

    async def availability(self, variant_ids: Iterable[str]) -> dict[str, Any]:
        ids = sorted(set(variant_ids))
        stub = client.stub("inventory", avail_grpc.AvailabilityServiceStub)
        out: dict[str, Any] = {}
        for i in range(0, len(ids), MAX_BATCH):
            req = avail_pb2.BatchGetAvailabilityRequest(variant_ids=ids[i : i + MAX_BATCH])
            resp = await guarded(
                "inventory",
                "stock cannot be checked",
                lambda req=req: stub.BatchGetAvailability(req, timeout=self.timeout),
            )
            out.update({a.variant_id: a for a in resp.availabilities})
        return out

    def _reservations(self) -> res_grpc.ReservationServiceStub:
        return client.stub("inventory", res_grpc.ReservationServiceStub)

    async def reserve(
        self,
        request_id: str,
        lines: Mapping[str, int],
        *,
        pincode: str,
        state_code: str,
        ttl_seconds: int,
    ) -> inv_pb2.Reservation:
        req = res_pb2.ReserveStockRequest(
            request_id=request_id,
            lines=[res_pb2.ReserveLine(variant_id=v, quantity=q) for v, q in sorted(lines.items())],
            delivery_pincode=pincode,
            delivery_state_code=state_code,
            ttl_seconds=ttl_seconds,
        )
        stub = self._reservations()
        return await guarded(
            "inventory",
            "stock cannot be reserved",
            lambda: stub.ReserveStock(req, timeout=self.timeout),
        )

    async def get_reservation(self, name: str) -> inv_pb2.Reservation:
        stub = self._reservations()
        req = res_pb2.GetReservationRequest(name=name)
        return await guarded(
            "inventory",
            "the reservation cannot be read",
            lambda: stub.GetReservation(req, timeout=self.timeout),
        )

    async def commit_reservation(self, name: str) -> inv_pb2.Reservation:
        stub = self._reservations()
        req = res_pb2.CommitReservationRequest(name=name)
        return await guarded(
            "inventory",
            "the reservation cannot be committed",
            lambda: stub.CommitReservation(req, timeout=self.timeout),
        )

    async def release_reservation(self, name: str) -> inv_pb2.Reservation:
        stub = self._reservations()
        req = res_pb2.ReleaseReservationRequest(name=name)
        return await guarded(
            "inventory",
            "the reservation cannot be released",
            lambda: stub.ReleaseReservation(req, timeout=self.timeout),
        )

    async def restock(
        self, request_id: str, lines: Mapping[str, int], reservation: str, note: str
    ) -> None:
        """Units back on the shelf against `reservation` (idempotent on `request_id`);
        inventory's refusals (RESTOCK_EXCEEDS_RESERVATION, RESERVATION_NOT_COMMITTED,
        ...) raise PeerError, handled in handlers/restocks.py."""
        req = res_pb2.RestockReturnRequest(
            request_id=request_id,
            lines=[res_pb2.ReserveLine(variant_id=v, quantity=q) for v, q in sorted(lines.items())],
            reservation=reservation,
            note=note[:200],
        )
        stub = self._reservations()
        await guarded(
            "inventory",
            "stock cannot be put back",
            lambda: stub.RestockReturn(req, timeout=self.timeout),
        )

    # --- settings --------------------------------------------------------------------

    async def checkout_config(self) -> settings_pb2.CheckoutConfig:
        """Cached; settings down -> the last config read (policy
        "settings.cached_checkout_config"), none yet -> UNAVAILABLE."""
        stub = client.stub("settings", settings_grpc.SettingsInternalServiceStub)

        async def fetch() -> settings_pb2.CheckoutConfig:
            return await guarded(
                "settings",
                "the checkout configuration cannot be read",
                lambda: stub.GetCheckoutConfig(
                    settings_pb2.GetCheckoutConfigRequest(), timeout=self.timeout
                ),
            )

        failed: list[BaseException] = []

        async def fetch_noting_failure() -> settings_pb2.CheckoutConfig:
            try:
                return await fetch()
            except Exception as exc:
                failed.append(exc)
                raise

        config = await self.config_cache.get_or_fetch(CHECKOUT_CONFIG_KEY, fetch_noting_failure)
        if failed:  # answered from the stale copy
            from observability.metrics import DEGRADED_CALLS

            DEGRADED_CALLS.labels("settings.cached_checkout_config").inc()
        return config

    # --- catalog ---------------------------------------------------------------------

    async def variants(
        self, variant_ids: Iterable[str]
    ) -> tuple[dict[str, catalog_pb2.VariantSnapshot], list[str]]:
        ids = sorted(set(variant_ids))
        stub = client.stub("catalog", catalog_grpc.CatalogInternalServiceStub)
        found: dict[str, catalog_pb2.VariantSnapshot] = {}
        missing: list[str] = []
        for i in range(0, len(ids), MAX_BATCH):
            req = catalog_pb2.BatchGetVariantsRequest(variant_ids=ids[i : i + MAX_BATCH])
            resp = await guarded(
                "catalog",
                "the items cannot be checked",
                lambda req=req: stub.BatchGetVariants(req, timeout=self.timeout),
            )
            found.update({v.variant_id: v for v in resp.variants})
            missing.extend(resp.missing)
        return found, missing

    async def sellable(self, variant_id: str) -> bool:
        """Whether the catalog sells `variant_id`, for adding it to a cart. A yes is
        kept `sellable_cache_seconds`: a variant withdrawn that recently may still go
        into a cart, as the cart's prices (pricing's cached variants) still show it,
        and placing the order reads the catalog afresh (pricing's HoldCoupons). A no
        is never kept: a variant just created can be added at once."""
        if self.sellable_cache.get(variant_id):
            return True
        found, _missing = await self.variants([variant_id])
        snap = found.get(variant_id)
        if snap is None or not snap.sellable:
            return False
        self.sellable_cache.put(variant_id, True)
        return True

    # --- auth ------------------------------------------------------------------------

    async def user(self, name: str) -> resources_pb2.User | None:
        """The customer's account; None when auth does not know it. Auth down: raises
        Unavailable (callers degrade with "auth.trust_token")."""
        stub = client.stub("auth", auth_service_pb2_grpc.AuthServiceStub)
        req = auth_service_pb2.BatchGetUsersRequest(names=[name])
        resp = await guarded(
            "auth",
            "the account cannot be read",
            lambda: stub.BatchGetUsers(req, timeout=self.timeout),
        )
        return resp.users[0] if resp.users else None

    async def user_address(self, name: str) -> resources_pb2.Address:
        """A customer's saved address, "users/{user_id}/addresses/{id}". Missing or
        another customer's: PeerError NOT_FOUND. Auth down: Unavailable (no
        degradation: checkout cannot guess an address)."""
        stub = client.stub("auth", auth_service_pb2_grpc.AuthServiceStub)
        req = auth_service_pb2.GetUserAddressRequest(name=name)
        return await guarded(
            "auth",
            "the saved address cannot be read",
            lambda: stub.GetUserAddress(req, timeout=self.timeout),
        )

    async def users(self, names: list[str]) -> list[resources_pb2.User]:
        """Accounts by name (unknown ones left out), in batches."""
        stub = client.stub("auth", auth_service_pb2_grpc.AuthServiceStub)
        out: list[resources_pb2.User] = []
        for i in range(0, len(names), MAX_BATCH):
            req = auth_service_pb2.BatchGetUsersRequest(names=names[i : i + MAX_BATCH])
            resp = await guarded(
                "auth",
                "accounts cannot be read",
                lambda req=req: stub.BatchGetUsers(req, timeout=self.timeout),
            )
            out.extend(resp.users)
        return out
