"""What pricing reads from other services, cached briefly, failing fast and loudly.

- catalog (CatalogInternalService.BatchGetVariants): unit prices, tax keys,
  eligibility facts. Cached per variant for `variant_cache_seconds` (5 s): a price
  change reaches carts within that time; HoldCoupons re-reads the catalog (no
  cache) so checkout holds at the current price. CheckReferences (never cached):
  the product/category/collection/brand ids of a rule an admin saves.
- settings (SettingsInternalService): checkout config and place of supply per PIN
  code for `settings_cache_seconds` (30 s); the GST rule per (HSN code, tax class),
  with its price slabs (the engine picks the slab by the discounted price per piece),
  for the same time; segment membership is read on each call that needs it.
- inventory (AvailabilityService.BatchGetAvailability): gift stock, cached
  `variant_cache_seconds`.
- shipping (ShippingInternalService.QuoteShipping): the shipping charge of a cart
  (services/pricing/shipping.py: the STANDARD option; an unserviceable PIN is
  FAILED_PRECONDITION PINCODE_NOT_SERVICEABLE; down -> the flat rate, policy
  "shipping.flat_rate").

A dependency that does not answer (UNAVAILABLE, DEADLINE_EXCEEDED, circuit open)
raises Unavailable (DEPENDENCY_UNAVAILABLE) naming it: a price is never guessed.
Segments degrade instead (policy "settings.segments": no segment membership, so
segment coupons do not apply); gift stock degrades to "no gift" (policy
"inventory.gift_stock").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import grpc

from cleanse.catalog.v1 import catalog_internal_service_pb2 as catalog_pb2
from cleanse.catalog.v1 import catalog_internal_service_pb2_grpc as catalog_grpc
from cleanse.common.v1 import money_pb2
from cleanse.inventory.v1 import availability_service_pb2 as avail_pb2
from cleanse.inventory.v1 import availability_service_pb2_grpc as avail_grpc
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as settings_grpc
from cleanse.shipping.v1 import resources_pb2 as shipping_resources_pb2
from cleanse.shipping.v1 import shipping_internal_service_pb2 as shipping_pb2
from cleanse.shipping.v1 import shipping_internal_service_pb2_grpc as shipping_grpc
from mesh import client
from mesh.cached import TtlCache
from mesh.errors import FailedPrecondition, InvalidArgument, ServiceError, Unavailable
from services.pricing import convert
from services.pricing.config import Settings
from services.pricing.domain import model as d
from services.pricing.shipping import SHIPPING, Quote, QuoteRequest

T = TypeVar("T")
MAX_BATCH = 500


async def _guard(dependency: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run a read; a dependency that does not answer becomes Unavailable."""
    try:
        return await call()
    except (grpc.aio.AioRpcError, ServiceError) as exc:
        code = client.error_code(exc)
        if code in client.DEGRADE_CODES:
            raise Unavailable(
                f"{dependency} is unavailable, so prices cannot be computed now; retry shortly",
                metadata={"dependency": dependency},
            ) from None
        raise


class Peers:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.variant_cache = TtlCache(settings.variant_cache_seconds, max_entries=20_000)
        self.settings_cache = TtlCache(settings.settings_cache_seconds, max_entries=20_000)
        self.stock_cache = TtlCache(settings.variant_cache_seconds, max_entries=5_000)

    def _timeout(self) -> float:
        return self.s.dependency_timeout_seconds

    # --- catalog -------------------------------------------------------------------

    async def variants(
        self, ids: Iterable[str], *, fresh: bool = False
    ) -> tuple[dict[str, d.Variant], list[str]]:
        """(variants by id, ids the catalog does not know)."""
        wanted = sorted(set(ids))
        found: dict[str, d.Variant] = {}
        todo = []
        for vid in wanted:
            hit = None if fresh else self.variant_cache.get(vid)
            if hit is None:
                todo.append(vid)
            else:
                found[vid] = hit
        missing: list[str] = []
        if todo:
            stub = client.stub("catalog", catalog_grpc.CatalogInternalServiceStub)
            for i in range(0, len(todo), MAX_BATCH):
                req = catalog_pb2.BatchGetVariantsRequest(variant_ids=todo[i : i + MAX_BATCH])
                resp = await _guard(
                    "catalog",
                    lambda req=req: stub.BatchGetVariants(req, timeout=self._timeout()),
                )
                for snap in resp.variants:
                    v = convert.variant(snap)
                    found[v.variant_id] = v
                    self.variant_cache.put(v.variant_id, v)
                missing.extend(resp.missing)
        missing.extend(v for v in todo if v not in found and v not in missing)
        return found, sorted(set(missing))

    async def missing_references(self, ids: dict[str, Iterable[str]]) -> dict[str, set[str]]:
        """Of the ids by kind ("product_ids", "category_ids", "collection_ids",
        "brand_ids"), those the catalog does not know. Never cached."""
        wanted = {k: sorted(set(v)) for k, v in ids.items()}
        out: dict[str, set[str]] = {k: set() for k in wanted}
        if not any(wanted.values()):
            return out
        stub = client.stub("catalog", catalog_grpc.CatalogInternalServiceStub)
        longest = max(len(v) for v in wanted.values())
        for i in range(0, longest, MAX_BATCH):
            req = catalog_pb2.CheckReferencesRequest(
                **{k: v[i : i + MAX_BATCH] for k, v in wanted.items()}
            )
            resp = await _guard(
                "catalog", lambda req=req: stub.CheckReferences(req, timeout=self._timeout())
            )
            for k in wanted:
                out[k].update(getattr(resp, f"missing_{k}"))
        return out

    # --- settings ------------------------------------------------------------------

    def _settings(self) -> Any:
        return client.stub("settings", settings_grpc.SettingsInternalServiceStub)

    async def checkout_config(self) -> settings_pb2.CheckoutConfig:
        async def fetch() -> settings_pb2.CheckoutConfig:
            req = settings_pb2.GetCheckoutConfigRequest()
            return await _guard(
                "settings", lambda: self._settings().GetCheckoutConfig(req, timeout=self._timeout())
            )

        return await self.settings_cache.get_or_fetch("checkout", fetch)

    async def place_of_supply(self, pincode: str) -> str:
        async def fetch() -> str:
            req = settings_pb2.ResolvePlaceOfSupplyRequest(pincode=pincode)
            try:
                resp = await _guard(
                    "settings",
                    lambda: self._settings().ResolvePlaceOfSupply(req, timeout=self._timeout()),
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                    raise InvalidArgument(
                        {"cart.delivery_pincode": "is not a PIN code we know"}
                    ) from None
                raise
            return resp.state_code

        return await self.settings_cache.get_or_fetch(("pos", pincode), fetch)

    async def tax_rates(self, variants: Iterable[d.Variant]) -> dict[str, d.TaxRate]:
        """The GST rule per variant id, with its price slabs.

        The engine picks the slab by the value per piece after discounts, so the rule
        is cached per (HSN code, tax class), not per price: one ResolveTaxRates call
        per request at most, for the keys not cached, and none in steady state. A
        settings answer without slabs (an older settings) holds for its price only
        and is cached per (HSN code, tax class, price).
        """
        out: dict[str, d.TaxRate] = {}
        todo: dict[tuple[str, str], list[d.Variant]] = {}
        cache = self.settings_cache
        for v in variants:
            hit = cache.get(("tax", v.hsn_code, v.tax_class)) or cache.get(
                ("tax", v.hsn_code, v.tax_class, v.price)
            )
            if hit is None:
                todo.setdefault((v.hsn_code, v.tax_class), []).append(v)
            else:
                out[v.variant_id] = hit
        if todo:
            keys = sorted(todo)
            req = settings_pb2.ResolveTaxRatesRequest(
                queries=[
                    settings_pb2.TaxQuery(
                        key=str(i),
                        hsn_code=k[0],
                        tax_class=k[1],
                        unit_price=money_pb2.Money(
                            amount_minor=todo[k][0].price, currency_code="INR"
                        ),
                    )
                    for i, k in enumerate(keys)
                ]
            )
            resp = await _guard(
                "settings",
                lambda: self._settings().ResolveTaxRates(req, timeout=self._timeout()),
            )
            again: list[d.Variant] = []
            for rate in resp.rates:
                k = keys[int(rate.key)]
                slabs = tuple(
                    (s.up_to_unit_price.amount_minor, s.rate_basis_points) for s in rate.slabs
                )
                tr = d.TaxRate(rate.rate_basis_points, rate.rule, slabs)
                if slabs:
                    cache.put(("tax", *k), tr)
                    out.update((v.variant_id, tr) for v in todo[k])
                    continue
                asked = todo[k][0].price  # no slabs: the answer holds for this price only
                cache.put(("tax", *k, asked), tr)
                for v in todo[k]:
                    if v.price == asked:
                        out[v.variant_id] = tr
                    else:
                        again.append(v)
            if again:
                out.update(await self.tax_rates(again))
        return out

    async def segments(self, customer_id: str, wanted: Iterable[str]) -> frozenset[str]:
        names = sorted(set(wanted))
        if not customer_id or not names:
            return frozenset()
        req = settings_pb2.EvaluateCustomerSegmentsRequest(
            user=f"users/{customer_id}", segments=names
        )

        async def call() -> frozenset[str]:
            resp = await self._settings().EvaluateCustomerSegments(req, timeout=self._timeout())
            return frozenset(resp.segments)

        return await client.call_with_fallback(
            call, lambda _exc: frozenset(), policy="settings.segments"
        )

    # --- inventory -----------------------------------------------------------------

    async def stock(self, variant_ids: Iterable[str]) -> dict[str, int]:
        """Units available now per variant (gifts); unknown -> 0."""
        wanted = sorted(set(variant_ids))
        if not wanted:
            return {}

        async def call() -> dict[str, int]:
            stub = client.stub("inventory", avail_grpc.AvailabilityServiceStub)
            req = avail_pb2.BatchGetAvailabilityRequest(variant_ids=wanted)
            resp = await stub.BatchGetAvailability(req, timeout=self._timeout())
            return {a.variant_id: int(a.available) for a in resp.availabilities}

        async def fetch() -> dict[str, int]:
            return await client.call_with_fallback(
                call, lambda _exc: {}, policy="inventory.gift_stock"
            )

        return await self.stock_cache.get_or_fetch(tuple(wanted), fetch)

    # --- shipping ------------------------------------------------------------------

    async def shipping_quote(self, req: QuoteRequest) -> Quote:
        """The STANDARD option of QuoteShipping for `req` (shipping.py). Raises the
        caller's business errors; UNAVAILABLE/DEADLINE_EXCEEDED pass through for
        ShippingQuotes to fall back on."""
        stub = client.stub("shipping", shipping_grpc.ShippingInternalServiceStub)
        request = shipping_pb2.QuoteShippingRequest(
            pincode=req.pincode,
            weight_grams=req.weight_grams,
            lines=[
                shipping_pb2.QuoteLine(
                    variant_id=ln.variant_id,
                    quantity=ln.quantity,
                    unit_weight_grams=ln.unit_weight_grams,
                )
                for ln in req.lines
            ],
            order_value=money_pb2.Money(amount_minor=req.merchandise, currency_code="INR"),
            payment_method=req.payment_method,
        )
        try:
            resp = await stub.QuoteShipping(request, timeout=self._timeout())
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise InvalidArgument(
                    {"cart.delivery_pincode": "is not a PIN code we deliver to"}
                ) from None
            raise
        option = choose_option(resp.options)
        if not resp.serviceable or option is None:
            raise FailedPrecondition(
                f"we do not deliver to PIN code {req.pincode}",
                reason="PINCODE_NOT_SERVICEABLE",
                metadata={"pincode": req.pincode},
            )
        cod = req.payment_method.lower() == d.COD
        fee = option.cod_fee.amount_minor if option.cod_available else 0
        return Quote(
            fee=option.rate.amount_minor,
            source=option.method or SHIPPING,
            base_fee=max(option.base_rate.amount_minor, option.rate.amount_minor),
            free=option.free,
            cod_available=option.cod_available if cod else None,
            cod_fee=fee if cod and fee > 0 else None,
        )


def choose_option(
    options: Iterable[shipping_pb2.ShippingQuoteOption],
) -> shipping_pb2.ShippingQuoteOption | None:
    """The STANDARD option; without one, the first (cheapest) available, else the first."""
    opts = list(options)
    for o in opts:
        if o.kind == shipping_resources_pb2.METHOD_KIND_STANDARD:
            return o
    return next((o for o in opts if o.available), opts[0] if opts else None)
