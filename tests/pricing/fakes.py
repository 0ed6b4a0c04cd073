"""Small in-process fakes of the services pricing reads, served over real gRPC."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc

from cleanse.catalog.v1 import catalog_internal_service_pb2 as catalog_pb2
from cleanse.catalog.v1 import catalog_internal_service_pb2_grpc as catalog_grpc
from cleanse.common.v1 import money_pb2
from cleanse.inventory.v1 import availability_service_pb2 as avail_pb2
from cleanse.inventory.v1 import availability_service_pb2_grpc as avail_grpc
from cleanse.settings.v1 import resources_pb2 as res_pb2
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as settings_grpc


def rs(paise: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=paise, currency_code="INR")


def snapshot(vid: str, price: int, mrp: int = 0, **kw: Any) -> catalog_pb2.VariantSnapshot:
    return catalog_pb2.VariantSnapshot(
        variant_id=vid,
        product_id=kw.pop("product_id", "prd_" + vid),
        sku=vid.upper(),
        product_title=kw.pop("title", vid),
        price=rs(price),
        mrp=rs(mrp or price),
        hsn_code=kw.pop("hsn_code", "3304"),
        tax_class=kw.pop("tax_class", "gst_18"),
        sellable=kw.pop("sellable", True),
        **kw,
    )


class FakeCatalog(catalog_grpc.CatalogInternalServiceServicer):
    def __init__(self) -> None:
        self.variants: dict[str, catalog_pb2.VariantSnapshot] = {}
        # Ids CheckReferences knows besides those the variants name.
        self.products: set[str] = set()
        self.categories: set[str] = set()
        self.collections: set[str] = set()
        self.brands: set[str] = set()
        self.down = False
        self.calls = 0
        self.reference_checks: list[catalog_pb2.CheckReferencesRequest] = []

    def known(self) -> dict[str, set[str]]:
        out = {
            "product_ids": set(self.products),
            "category_ids": set(self.categories),
            "collection_ids": set(self.collections),
            "brand_ids": set(self.brands),
        }
        for v in self.variants.values():
            out["product_ids"].add(v.product_id)
            out["category_ids"].update(v.category_ids)
            out["collection_ids"].update(v.collection_ids)
            if v.brand_id:
                out["brand_ids"].add(v.brand_id)
        return out

    async def CheckReferences(self, request: Any, context: Any) -> Any:
        self.calls += 1
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "catalog is down")
        self.reference_checks.append(request)
        known = self.known()
        out = catalog_pb2.CheckReferencesResponse()
        for name, ids in known.items():
            asked = getattr(request, name)
            if len(asked) > 500:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{name}: at most 500")
            missing = [i for i in dict.fromkeys(asked) if i and i not in ids]
            getattr(out, f"missing_{name}").extend(missing)
        return out

    async def BatchGetVariants(self, request: Any, context: Any) -> Any:
        self.calls += 1
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "catalog is down")
        out = catalog_pb2.BatchGetVariantsResponse()
        for vid in request.variant_ids:
            if vid in self.variants:
                out.variants.append(self.variants[vid])
            else:
                out.missing.append(vid)
        return out


# Rates by tax class (basis points); "gst_12" for combs, "gst_5" for food.
RATES = {"gst_18": 1800, "gst_12": 1200, "gst_5": 500}
# Slab rules by tax class, as settings seeds "apparel" from 22 Sep 2025: 5% up to
# Rs 2,625 a piece incl. GST (Rs 2,500 without), 18% above.
SLABS = {"apparel": ((262500, 500), (0, 1800))}
PINCODES = {"560001": "KA", "400001": "MH", "110001": "DL"}


@dataclass
class FakeSettings(settings_grpc.SettingsInternalServiceServicer):
    config: settings_pb2.CheckoutConfig = field(
        default_factory=lambda: settings_pb2.CheckoutConfig(
            registered_state_code="KA",
            gstin="29ABCDE1234F1Z5",
            prices_include_tax=True,
            flat_shipping_rate=rs(4900),
            free_shipping_threshold=rs(49900),
            payment_methods=[
                settings_pb2.PaymentMethodConfig(code="razorpay_upi", enabled=True),
                settings_pb2.PaymentMethodConfig(
                    code="cod",
                    display_name="Cash on delivery",
                    enabled=True,
                    max_order_value=rs(500000),
                    fee=rs(3900),
                ),
            ],
            currency_code="INR",
        )
    )
    segments: dict[str, list[str]] = field(default_factory=dict)
    down: bool = False
    # An older settings: answers carry the rate at the asked price but no slabs.
    without_slabs: bool = False
    tax_queries: list[settings_pb2.ResolveTaxRatesRequest] = field(default_factory=list)

    async def _check(self, context: Any) -> None:
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "settings is down")

    async def ResolveTaxRates(self, request: Any, context: Any) -> Any:
        await self._check(context)
        self.tax_queries.append(request)
        out = settings_pb2.ResolveTaxRatesResponse()
        for q in request.queries:
            slabs = SLABS.get(q.tax_class) or ((0, RATES.get(q.tax_class, 1800)),)
            price = q.unit_price.amount_minor
            rate = next(r for up_to, r in slabs if up_to == 0 or price <= up_to)
            out.rates.append(
                settings_pb2.TaxRate(
                    key=q.key,
                    rate_basis_points=rate,
                    rule=f"taxRates/{q.tax_class or 'default'}",
                    slabs=[]
                    if self.without_slabs
                    else [
                        res_pb2.TaxSlab(up_to_unit_price=rs(up_to), rate_basis_points=r)
                        for up_to, r in slabs
                    ],
                )
            )
        return out

    async def ResolvePlaceOfSupply(self, request: Any, context: Any) -> Any:
        await self._check(context)
        state = PINCODES.get(request.pincode)
        if state is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown pincode")
        return settings_pb2.ResolvePlaceOfSupplyResponse(state_code=state)

    async def GetCheckoutConfig(self, request: Any, context: Any) -> Any:
        await self._check(context)
        return self.config

    async def EvaluateCustomerSegments(self, request: Any, context: Any) -> Any:
        await self._check(context)
        mine = set(self.segments.get(request.user, []))
        wanted = set(request.segments) or mine
        return settings_pb2.EvaluateCustomerSegmentsResponse(segments=sorted(mine & wanted))


class FakeInventory(avail_grpc.AvailabilityServiceServicer):
    def __init__(self) -> None:
        self.stock: dict[str, int] = {}

    async def BatchGetAvailability(self, request: Any, context: Any) -> Any:
        return avail_pb2.BatchGetAvailabilityResponse(
            availabilities=[
                avail_pb2.VariantAvailability(variant_id=v, available=self.stock.get(v, 0))
                for v in request.variant_ids
            ]
        )


@dataclass
class Peers:
    catalog: FakeCatalog
    settings: FakeSettings
    inventory: FakeInventory
    server: grpc.aio.Server
    address: str


async def start_peers() -> Peers:
    catalog, settings, inventory = FakeCatalog(), FakeSettings(), FakeInventory()
    server = grpc.aio.server()
    catalog_grpc.add_CatalogInternalServiceServicer_to_server(catalog, server)
    settings_grpc.add_SettingsInternalServiceServicer_to_server(settings, server)
    avail_grpc.add_AvailabilityServiceServicer_to_server(inventory, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return Peers(catalog, settings, inventory, server, f"127.0.0.1:{port}")
