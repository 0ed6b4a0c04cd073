"""The gRPC face of the settings service: protos in, handler calls, protos out.

The contract interceptor has already authenticated the caller, enforced each RPC's
access policy, checked REQUIRED fields and clamped page_size.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from cleanse.settings.v1 import analytics_service_pb2 as analytics_pb
from cleanse.settings.v1 import analytics_service_pb2_grpc as analytics_grpc
from cleanse.settings.v1 import settings_admin_service_pb2 as admin_pb
from cleanse.settings.v1 import settings_admin_service_pb2_grpc as admin_grpc
from cleanse.settings.v1 import settings_internal_service_pb2 as internal_pb
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as internal_grpc
from cleanse.settings.v1 import storefront_settings_service_pb2 as front_pb
from cleanse.settings.v1 import storefront_settings_service_pb2_grpc as front_grpc
from mesh import context
from mesh.db import decode_page_token, encode_page_token, next_page_token
from mesh.errors import InvalidArgument
from mesh.resources import require_name
from services.settings import convert as cv
from services.settings.handlers.analytics import AnalyticsHandlers, IncomingEvent
from services.settings.handlers.segments import SegmentHandlers, SegmentValues
from services.settings.handlers.store import StoreHandlers
from services.settings.handlers.tax import NewRule, TaxHandlers, TaxQuery, place_of_supply


def _method_pb(m: Any) -> internal_pb.PaymentMethodConfig:
    return internal_pb.PaymentMethodConfig(
        code=m.code,
        display_name=m.display_name,
        enabled=m.enabled,
        display_order=m.display_order,
        min_order_value=cv.money(m.min_order_minor),
        max_order_value=cv.money(m.max_order_minor),
        fee=cv.money(m.fee_minor),
    )


class SettingsAdminService(admin_grpc.SettingsAdminServiceServicer):
    def __init__(self, store: StoreHandlers, tax: TaxHandlers, segments: SegmentHandlers) -> None:
        self.store = store
        self.tax = tax
        self.segments = segments

    async def GetStoreSettings(self, request: Any, context: Any) -> Any:
        return cv.store_pb(await self.store.get())

    async def UpdateStoreSettings(self, request: Any, context: Any) -> Any:
        values = cv.store_values(request.store_settings)
        view = await self.store.update(values, list(request.update_mask.paths))
        return cv.store_pb(view)

    async def ListTaxRateRules(self, request: Any, context: Any) -> Any:
        filters = {"hsn": request.hsn_prefix, "class": request.tax_class}
        after = decode_page_token(request.page_token, filters)
        rows = await self.tax.list(
            hsn_prefix=request.hsn_prefix,
            tax_class=request.tax_class,
            after=tuple(after) if after else None,
            limit=request.page_size,
        )
        page = list(rows[: request.page_size])
        token = ""
        if len(rows) > request.page_size:
            last = page[-1]
            key = [last.rule_key, str(last.effective_from.timestamp()), last.id]
            token = encode_page_token(key, filters)
        return admin_pb.ListTaxRateRulesResponse(
            tax_rate_rules=[cv.rule_pb(r) for r in page], next_page_token=token
        )

    async def GetTaxRateRule(self, request: Any, context: Any) -> Any:
        return cv.rule_pb(await self.tax.get(require_name(request.name, "taxRates")))

    async def CreateTaxRateRule(self, request: Any, context: Any) -> Any:
        m = request.tax_rate_rule
        row = await self.tax.create(
            NewRule(
                hsn_prefix=m.hsn_prefix,
                tax_class=m.tax_class,
                slabs=cv.slabs(m),
                effective_from=cv.from_ts(m.effective_from)
                if m.HasField("effective_from")
                else None,
                description=m.description,
            )
        )
        return cv.rule_pb(row)

    async def DeleteTaxRateRule(self, request: Any, context: Any) -> Any:
        await self.tax.delete(require_name(request.name, "taxRates"))
        return empty_pb2.Empty()

    async def ListPaymentMethods(self, request: Any, context: Any) -> Any:
        methods = await self.store.methods()
        return admin_pb.ListPaymentMethodsResponse(
            payment_methods=[cv.method_pb(m) for m in methods]
        )

    async def GetPaymentMethod(self, request: Any, context: Any) -> Any:
        return cv.method_pb(await self.store.method(require_name(request.name, "paymentMethods")))

    async def CreatePaymentMethod(self, request: Any, context: Any) -> Any:
        row = await self.store.create_method(
            request.payment_method_id, cv.method_values(request.payment_method)
        )
        return cv.method_pb(row)

    async def UpdatePaymentMethod(self, request: Any, context: Any) -> Any:
        code = require_name(request.payment_method.name, "paymentMethods", "payment_method.name")
        row = await self.store.update_method(
            code, cv.method_values(request.payment_method), list(request.update_mask.paths)
        )
        return cv.method_pb(row)

    async def DeletePaymentMethod(self, request: Any, context: Any) -> Any:
        await self.store.delete_method(require_name(request.name, "paymentMethods"))
        return empty_pb2.Empty()

    async def ListCustomerSegments(self, request: Any, context: Any) -> Any:
        after = decode_page_token(request.page_token) or ""
        rows = await self.segments.list(after, request.page_size)
        return admin_pb.ListCustomerSegmentsResponse(
            customer_segments=[cv.segment_pb(s) for s in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def GetCustomerSegment(self, request: Any, context: Any) -> Any:
        return cv.segment_pb(
            await self.segments.get(require_name(request.name, "customerSegments"))
        )

    async def CreateCustomerSegment(self, request: Any, context: Any) -> Any:
        m = request.customer_segment
        values = SegmentValues(m.display_name, m.description, cv.rules_from_pb(m.rules))
        return cv.segment_pb(await self.segments.create(request.customer_segment_id, values))

    async def UpdateCustomerSegment(self, request: Any, context: Any) -> Any:
        m = request.customer_segment
        sid = require_name(m.name, "customerSegments", "customer_segment.name")
        values = SegmentValues(m.display_name, m.description, cv.rules_from_pb(m.rules))
        row = await self.segments.update(sid, values, list(request.update_mask.paths))
        return cv.segment_pb(row)

    async def DeleteCustomerSegment(self, request: Any, context: Any) -> Any:
        await self.segments.delete(require_name(request.name, "customerSegments"))
        return empty_pb2.Empty()

    async def GetCustomerProfile(self, request: Any, context: Any) -> Any:
        uid = require_name(request.name, "customerProfiles")
        return cv.profile_pb(await self.segments.profile(uid))

    async def SetCustomerTags(self, request: Any, context: Any) -> Any:
        uid = require_name(request.name, "customerProfiles")
        return cv.profile_pb(await self.segments.set_tags(uid, list(request.tags)))


class StorefrontSettingsService(front_grpc.StorefrontSettingsServiceServicer):
    def __init__(self, store: StoreHandlers) -> None:
        self.store = store

    async def GetPublicStoreSettings(self, request: Any, context: Any) -> Any:
        return cv.public_pb((await self.store.get()).config)

    async def ListAvailablePaymentMethods(self, request: Any, context: Any) -> Any:
        value = (
            cv.minor(request.order_value, "order_value")
            if request.HasField("order_value")
            else None
        )
        if value is not None and value < 0:
            raise InvalidArgument({"order_value": "must not be negative"})
        methods = await self.store.available(value)
        return front_pb.ListAvailablePaymentMethodsResponse(
            payment_methods=[
                front_pb.AvailablePaymentMethod(
                    code=m.code,
                    display_name=m.display_name,
                    provider=m.provider,  # type: ignore[arg-type]
                    fee=cv.money(m.fee_minor),
                    description=m.description,
                )
                for m in methods
            ]
        )


class SettingsInternalService(internal_grpc.SettingsInternalServiceServicer):
    def __init__(self, store: StoreHandlers, tax: TaxHandlers, segments: SegmentHandlers) -> None:
        self.store = store
        self.tax = tax
        self.segments = segments

    async def ResolveTaxRates(self, request: Any, context: Any) -> Any:
        queries = [
            TaxQuery(
                q.key, q.hsn_code, q.tax_class, cv.minor(q.unit_price, f"queries[{i}].unit_price")
            )
            for i, q in enumerate(request.queries)
        ]
        at = cv.from_ts(request.at) if request.HasField("at") else None
        rates = await self.tax.resolve(queries, at)
        return internal_pb.ResolveTaxRatesResponse(
            rates=[
                internal_pb.TaxRate(
                    key=r.key,
                    rate_basis_points=r.rate_bp,
                    rule=r.rule,
                    slabs=[cv.tax_slab(s) for s in r.slabs],
                    fallback=r.fallback,
                    unknown_tax_class=r.unknown_class,
                )
                for r in rates
            ]
        )

    async def ListTaxClasses(self, request: Any, context: Any) -> Any:
        return internal_pb.ListTaxClassesResponse(tax_classes=await self.tax.classes())

    async def ResolvePlaceOfSupply(self, request: Any, context: Any) -> Any:
        return internal_pb.ResolvePlaceOfSupplyResponse(state_code=place_of_supply(request.pincode))

    async def GetCheckoutConfig(self, request: Any, context: Any) -> Any:
        c = (await self.store.get()).config
        if request.HasField("order_value"):
            methods = await self.store.available(cv.minor(request.order_value, "order_value"))
        else:
            methods = await self.store.methods()
        return internal_pb.CheckoutConfig(
            registered_state_code=c.registered_state_code,
            gstin=c.gstin,
            prices_include_tax=c.prices_include_tax,
            flat_shipping_rate=cv.money(c.flat_shipping_rate_minor),
            free_shipping_threshold=cv.money(c.free_shipping_threshold_minor),
            payment_methods=[_method_pb(m) for m in methods],
            return_window_days=c.return_window_days,
            invoice_prefix=c.invoice_prefix,
            currency_code=c.currency_code,
            store_name=c.store_name,
            legal_name=c.legal_name,
            registered_address=cv.address_pb(c.registered_address),
        )

    async def EvaluateCustomerSegments(self, request: Any, context: Any) -> Any:
        names = await self.segments.evaluate(request.user, list(request.segments))
        return internal_pb.EvaluateCustomerSegmentsResponse(segments=names)


class AnalyticsService(analytics_grpc.AnalyticsServiceServicer):
    def __init__(self, analytics: AnalyticsHandlers) -> None:
        self.analytics = analytics

    async def IngestEvents(self, request: Any, context: Any) -> Any:
        ctx = context_call()
        user = ctx.identity.subject if ctx.identity.is_customer else ""
        events = [
            IncomingEvent(
                type=e.type,
                anonymous_id=e.anonymous_id,
                session_id=e.session_id,
                client_time=cv.from_ts(e.client_time) if e.HasField("client_time") else None,
                properties=dict(e.properties),
            )
            for e in request.events
        ]
        accepted = await self.analytics.ingest(events, user, ctx.client_ip)
        return analytics_pb.IngestEventsResponse(accepted=accepted)

    async def GetFunnelReport(self, request: Any, context: Any) -> Any:
        start = cv.from_date(request.start_date, "start_date")
        end = cv.from_date(request.end_date, "end_date")
        days, total = await self.analytics.funnel(start, end)

        def row(r: Any) -> analytics_pb.FunnelDay:
            views, adds, checkouts, purchases = r.steps
            return analytics_pb.FunnelDay(
                date=cv.to_date(r.day) if r.day else None,
                product_view_sessions=views,
                add_to_cart_sessions=adds,
                checkout_sessions=checkouts,
                purchase_sessions=purchases,
            )

        return analytics_pb.FunnelReport(days=[row(d) for d in days], total=row(total))

    async def GetTopProductsReport(self, request: Any, context: Any) -> Any:
        start = cv.from_date(request.start_date, "start_date")
        end = cv.from_date(request.end_date, "end_date")
        if not 0 <= request.limit <= 100:
            raise InvalidArgument({"limit": "must be between 1 and 100 (0: 10)"})
        rows = await self.analytics.top_products(start, end, request.rank_by, request.limit or 10)
        return analytics_pb.TopProductsReport(
            products=[
                analytics_pb.ProductStats(
                    product_id=r.product_id,
                    views=r.views,
                    adds_to_cart=r.adds,
                    purchases=r.purchases,
                )
                for r in rows
            ]
        )


def context_call() -> context.CallContext:
    return context.current()
