"""The gRPC face of the shipping service: protos in, handler calls, protos out.

The contract interceptor has already authenticated the caller, enforced each RPC's
access policy, checked REQUIRED fields and clamped page_size.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.api import httpbody_pb2
from google.protobuf import empty_pb2

from cleanse.shipping.v1 import (
    carrier_webhook_service_pb2_grpc,
    shipping_admin_service_pb2,
    shipping_admin_service_pb2_grpc,
    shipping_internal_service_pb2,
    shipping_internal_service_pb2_grpc,
    shipping_service_pb2,
    shipping_service_pb2_grpc,
)
from cleanse.shipping.v1 import resources_pb2 as pb
from mesh import context
from mesh.resources import parse_name, require_name
from services.shipping import convert
from services.shipping.carriers.base import EVENT_ID_HEADER, SIGNATURE_HEADER
from services.shipping.domain import rules
from services.shipping.handlers.config import ConfigHandlers, QuoteResult
from services.shipping.handlers.shipments import NewItem, NewShipment, ShipmentHandlers

Ctx = grpc.aio.ServicerContext
admin_pb2 = shipping_admin_service_pb2
internal_pb2 = shipping_internal_service_pb2


def _kind(value: int, enum: Any, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix) if value else ""


def _items(items: Any) -> list[NewItem]:
    return [NewItem(i.variant_id, i.sku, i.title, i.quantity, i.unit_weight_grams) for i in items]


class ShippingAdminService(shipping_admin_service_pb2_grpc.ShippingAdminServiceServicer):
    def __init__(self, config: ConfigHandlers, shipments: ShipmentHandlers) -> None:
        self.c = config
        self.s = shipments

    # zones
    async def ListShippingZones(self, request: Any, context: Ctx) -> Any:
        rows, token = await self.c.list_zones(request.page_size, request.page_token)
        return admin_pb2.ListShippingZonesResponse(
            shipping_zones=[convert.zone_pb(r) for r in rows], next_page_token=token
        )

    async def GetShippingZone(self, request: Any, context: Ctx) -> Any:
        return convert.zone_pb(await self.c.get_zone(request.name))

    async def CreateShippingZone(self, request: Any, context: Ctx) -> Any:
        return convert.zone_pb(await self.c.create_zone(request.zone_id, request.zone))

    async def UpdateShippingZone(self, request: Any, context: Ctx) -> Any:
        return convert.zone_pb(
            await self.c.update_zone(request.zone, list(request.update_mask.paths))
        )

    async def DeleteShippingZone(self, request: Any, context: Ctx) -> Any:
        await self.c.delete_zone(request.name)
        return empty_pb2.Empty()

    # carriers
    async def ListCarriers(self, request: Any, context: Ctx) -> Any:
        rows, token = await self.c.list_carriers(request.page_size, request.page_token)
        return admin_pb2.ListCarriersResponse(
            carriers=[convert.carrier_pb(r) for r in rows], next_page_token=token
        )

    async def GetCarrier(self, request: Any, context: Ctx) -> Any:
        return convert.carrier_pb(await self.c.get_carrier(request.name))

    async def CreateCarrier(self, request: Any, context: Ctx) -> Any:
        return convert.carrier_pb(await self.c.create_carrier(request.carrier_id, request.carrier))

    async def UpdateCarrier(self, request: Any, context: Ctx) -> Any:
        return convert.carrier_pb(
            await self.c.update_carrier(request.carrier, list(request.update_mask.paths))
        )

    async def DeleteCarrier(self, request: Any, context: Ctx) -> Any:
        await self.c.delete_carrier(request.name)
        return empty_pb2.Empty()

    # methods
    async def ListShippingMethods(self, request: Any, context: Ctx) -> Any:
        rows, token = await self.c.list_methods(request.page_size, request.page_token, request.zone)
        return admin_pb2.ListShippingMethodsResponse(
            shipping_methods=[convert.method_pb(r) for r in rows], next_page_token=token
        )

    async def GetShippingMethod(self, request: Any, context: Ctx) -> Any:
        return convert.method_pb(await self.c.get_method(request.name))

    async def CreateShippingMethod(self, request: Any, context: Ctx) -> Any:
        return convert.method_pb(await self.c.create_method(request.method_id, request.method))

    async def UpdateShippingMethod(self, request: Any, context: Ctx) -> Any:
        return convert.method_pb(
            await self.c.update_method(request.method, list(request.update_mask.paths))
        )

    async def DeleteShippingMethod(self, request: Any, context: Ctx) -> Any:
        await self.c.delete_method(request.name)
        return empty_pb2.Empty()

    # pincodes
    async def ListPincodeServiceability(self, request: Any, context: Ctx) -> Any:
        rows, token = await self.c.list_pincodes(
            request.page_size, request.page_token, request.pincode_prefix
        )
        return admin_pb2.ListPincodeServiceabilityResponse(
            pincodes=[convert.serviceability_pb(r) for r in rows], next_page_token=token
        )

    async def GetPincodeServiceability(self, request: Any, context: Ctx) -> Any:
        return convert.serviceability_pb(await self.c.get_pincode(request.name))

    async def SetPincodeServiceability(self, request: Any, context: Ctx) -> Any:
        return convert.serviceability_pb(await self.c.set_pincode(request.serviceability))

    async def DeletePincodeServiceability(self, request: Any, context: Ctx) -> Any:
        await self.c.delete_pincode(request.name)
        return empty_pb2.Empty()

    async def ImportPincodeCsv(self, request: Any, context: Ctx) -> Any:
        r = await self.c.import_csv(request.csv, request.dry_run)
        return admin_pb2.ImportPincodeCsvResponse(
            rows=r["rows"],
            created=r["created"],
            updated=r["updated"],
            errors=[
                admin_pb2.CsvRowError(line=ln, column=c, message=m) for ln, c, m in r["errors"]
            ],
            applied=r["applied"],
        )

    # shipments
    async def ListShipments(self, request: Any, context: Ctx) -> Any:
        views, token = await self.s.list(
            request.page_size,
            request.page_token,
            request.order,
            _kind(request.status, pb.ShipmentStatus, "SHIPMENT_STATUS_"),
            _kind(request.direction, pb.ShipmentDirection, "SHIPMENT_DIRECTION_"),
        )
        return admin_pb2.ListShipmentsResponse(
            shipments=[v.proto() for v in views], next_page_token=token
        )

    async def GetShipment(self, request: Any, context: Ctx) -> Any:
        return (await self.s.get(request.name)).proto()

    async def CreateShipment(self, request: Any, context: Ctx) -> Any:
        order_id = require_name(request.order, "orders", "order")
        wid = require_name(request.warehouse, "warehouses", "warehouse")
        carrier = require_name(request.carrier, "carriers", "carrier") if request.carrier else ""
        from services.shipping.handlers.config import pincode_or_raise

        pincode_or_raise(request.address.pincode, "address.pincode")
        new = NewShipment(
            request_id=f"admin:{request.request_id}",
            order_id=order_id,
            order_number=request.order_number,
            direction="FORWARD",
            warehouse_id=wid,
            address=convert.address_dict(request.address),
            items=_items(request.items),
            carrier_id=carrier,
            method_kind=_kind(request.method_kind, pb.MethodKind, "METHOD_KIND_") or "STANDARD",
            cod_amount_minor=request.cod_amount.amount_minor,
            awb=request.awb,
            email=request.email,
        )
        actor = context_actor()
        return (await self.s.create(new, actor)).proto()

    async def AssignAwb(self, request: Any, context: Ctx) -> Any:
        return (await self.s.assign_awb(request.name, request.awb.strip())).proto()

    async def UpdateShipmentStatus(self, request: Any, context: Ctx) -> Any:
        target = _kind(request.status, pb.ShipmentStatus, "SHIPMENT_STATUS_")
        view = await self.s.update_status(
            request.name, target, request.note, request.location, context_actor()
        )
        return view.proto()

    async def GetShipmentLabel(self, request: Any, context: Ctx) -> Any:
        pdf = await self.s.label(request.name)
        return httpbody_pb2.HttpBody(content_type="application/pdf", data=pdf)


def context_actor() -> str:
    return context.identity().subject or "unknown"


def options_pb(q: QuoteResult) -> list[internal_pb2.ShippingQuoteOption]:
    return [
        internal_pb2.ShippingQuoteOption(
            kind=pb.MethodKind.Value(f"METHOD_KIND_{o.method.kind}"),
            method=f"methods/{o.method.id}",
            display_name=o.method.display_name,
            rate=convert.money(o.rate),
            free=o.free,
            base_rate=convert.money(o.base_rate),
            cod_available=o.cod_available,
            cod_fee=convert.money(o.cod_fee),
            estimated_days=o.estimated_days,
            carrier=f"carriers/{o.carrier_id}",
            available=o.available,
            unavailable_reason=o.unavailable_reason,
        )
        for o in q.options
    ]


class ShippingService(shipping_service_pb2_grpc.ShippingServiceServicer):
    def __init__(self, config: ConfigHandlers) -> None:
        self.c = config

    async def CheckPincode(self, request: Any, context: Ctx) -> Any:
        pin = request.pincode.strip()
        q = await self.c.quote(pin, 500, 0, False)
        opts = [
            shipping_service_pb2.DeliveryOption(
                kind=pb.MethodKind.Value(f"METHOD_KIND_{o.method.kind}"),
                display_name=o.method.display_name,
                estimated_days=o.estimated_days,
                cod_available=o.cod_available,
            )
            for o in sorted(q.options, key=lambda o: o.estimated_days)
        ]
        return shipping_service_pb2.CheckPincodeResponse(
            pincode=pin,
            state_code=q.state_code,
            city=rules.pincode_city(pin),
            serviceable=q.serviceable,
            cod_available=any(o.cod_available for o in q.options),
            estimated_days=min((o.estimated_days for o in q.options), default=0),
            options=opts,
        )


class ShippingInternalService(shipping_internal_service_pb2_grpc.ShippingInternalServiceServicer):
    def __init__(self, config: ConfigHandlers, shipments: ShipmentHandlers) -> None:
        self.c = config
        self.s = shipments

    async def QuoteShipping(self, request: Any, context: Ctx) -> Any:
        weight = request.weight_grams or sum(
            ln.unit_weight_grams * ln.quantity for ln in request.lines
        )
        from mesh.errors import InvalidArgument

        if weight <= 0:
            raise InvalidArgument({"weight_grams": "give weight_grams or lines with weights"})
        q = await self.c.quote(
            request.pincode.strip(),
            weight,
            request.order_value.amount_minor,
            request.payment_method.lower() == "cod",
        )
        return internal_pb2.QuoteShippingResponse(
            pincode=q.pincode,
            state_code=q.state_code,
            zone=f"zones/{q.zone_id}" if q.zone_id else "",
            serviceable=q.serviceable,
            weight_grams=q.weight_grams,
            options=options_pb(q),
        )

    async def CreateReturnPickup(self, request: Any, context: Ctx) -> Any:
        order_id = require_name(request.order, "orders", "order")
        from services.shipping.handlers.config import pincode_or_raise

        pincode_or_raise(request.pickup_address.pincode, "pickup_address.pincode")
        wid = parse_name(request.warehouse, "warehouses") or ""
        if not wid:
            forward = [
                v
                for v in await self.s.for_order(request.order)
                if v.shipment.direction == "FORWARD"
            ]
            wid = forward[0].shipment.warehouse_id if forward else ""
        from mesh.errors import InvalidArgument

        if not wid:
            raise InvalidArgument({"warehouse": "is required (the order has no shipment)"})
        new = NewShipment(
            request_id=f"return:{request.request_id}",
            order_id=order_id,
            order_number=request.order_number,
            direction="RETURN",
            warehouse_id=wid,
            address=convert.address_dict(request.pickup_address),
            items=_items(request.items),
            email=request.email,
            return_request=request.return_request,
        )
        return (await self.s.create(new, "service:order")).proto()

    async def ListOrderShipments(self, request: Any, context: Ctx) -> Any:
        views = await self.s.for_order(request.order)
        return internal_pb2.ListOrderShipmentsResponse(shipments=[v.proto() for v in views])


class CarrierWebhookService(carrier_webhook_service_pb2_grpc.CarrierWebhookServiceServicer):
    def __init__(self, shipments: ShipmentHandlers) -> None:
        self.s = shipments

    async def ReceiveCarrierWebhook(self, request: Any, context: Ctx) -> Any:
        md = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        await self.s.receive_webhook(
            request.carrier_id,
            request.body.data,
            md.get(SIGNATURE_HEADER, ""),
            md.get(EVENT_ID_HEADER, ""),
        )
        return empty_pb2.Empty()
