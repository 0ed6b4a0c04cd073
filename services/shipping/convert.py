"""Rows -> protos (one place, used by the servicers and the event writer)."""

from __future__ import annotations

from collections.abc import Sequence

from cleanse.common.v1 import address_pb2, money_pb2
from cleanse.shipping.v1 import resources_pb2 as pb
from mesh.timestamps import ts
from services.shipping.models import (
    Carrier,
    Method,
    Serviceability,
    Shipment,
    ShipmentItem,
    StatusChange,
    Zone,
)

ADDRESS_FIELDS = tuple(address_pb2.PostalAddress.DESCRIPTOR.fields_by_name)


def money(minor: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=minor, currency_code="INR")


def address_dict(a: address_pb2.PostalAddress) -> dict[str, str]:
    return {f: getattr(a, f) for f in ADDRESS_FIELDS if getattr(a, f)}


def address_pb(d: dict[str, str]) -> address_pb2.PostalAddress:
    return address_pb2.PostalAddress(**{k: v for k, v in d.items() if k in ADDRESS_FIELDS})


def zone_pb(z: Zone) -> pb.ShippingZone:
    return pb.ShippingZone(
        name=z.name,
        display_name=z.display_name,
        state_codes=z.state_codes,
        pincode_prefixes=z.pincode_prefixes,
        pincode_ranges=[pb.PincodeRange(start=lo, end=hi) for lo, hi in z.pincode_ranges],
        active=z.active,
        create_time=ts(z.create_time),
        update_time=ts(z.update_time),
    )


def carrier_pb(c: Carrier) -> pb.Carrier:
    return pb.Carrier(
        name=c.name,
        display_name=c.display_name,
        kind=pb.CarrierKind.Value(f"CARRIER_KIND_{c.kind}"),
        tracking_url_template=c.tracking_url_template,
        webhook_secret_set=bool(c.webhook_secret_encrypted),
        test_mode=c.test_mode,
        active=c.active,
        create_time=ts(c.create_time),
        update_time=ts(c.update_time),
    )


def method_pb(m: Method) -> pb.ShippingMethod:
    return pb.ShippingMethod(
        name=m.name,
        zone=f"zones/{m.zone_id}",
        kind=pb.MethodKind.Value(f"METHOD_KIND_{m.kind}"),
        display_name=m.display_name,
        slabs=[pb.WeightSlab(max_weight_grams=w, rate_minor=r) for w, r in m.slabs],
        extra_per_500g_minor=m.extra_per_500g_minor,
        free_shipping_threshold_minor=m.free_shipping_threshold_minor,
        cod_available=m.cod_available,
        cod_fee_minor=m.cod_fee_minor,
        cod_max_order_value_minor=m.cod_max_order_value_minor,
        estimated_days=m.estimated_days,
        carrier=f"carriers/{m.carrier_id}",
        active=m.active,
        create_time=ts(m.create_time),
        update_time=ts(m.update_time),
    )


def serviceability_pb(r: Serviceability) -> pb.PincodeServiceability:
    return pb.PincodeServiceability(
        name=r.name,
        pincode=r.pincode,
        state_code=r.state_code,
        serviceable=r.serviceable,
        cod_available=r.cod_available,
        estimated_days=r.estimated_days,
        carrier=f"carriers/{r.carrier_id}" if r.carrier_id else "",
        update_time=ts(r.update_time),
    )


def status_pb(name: str) -> int:
    return pb.ShipmentStatus.Value(f"SHIPMENT_STATUS_{name}") if name else 0


def status_name(value: int) -> str:
    return pb.ShipmentStatus.Name(value).removeprefix("SHIPMENT_STATUS_")


def tracking_url(template: str, awb: str | None) -> str:
    return template.replace("{awb}", awb) if template and awb else ""


def shipment_pb(
    s: Shipment,
    items: Sequence[ShipmentItem],
    history: Sequence[StatusChange],
    carrier: Carrier | None,
) -> pb.Shipment:
    return pb.Shipment(
        name=s.name,
        order=f"orders/{s.order_id}",
        order_number=s.order_number,
        direction=pb.ShipmentDirection.Value(f"SHIPMENT_DIRECTION_{s.direction}"),
        return_request=s.return_request,
        warehouse=f"warehouses/{s.warehouse_id}",
        carrier=f"carriers/{s.carrier_id}",
        method_kind=pb.MethodKind.Value(f"METHOD_KIND_{s.method_kind}"),
        awb=s.awb or "",
        tracking_url=tracking_url(carrier.tracking_url_template if carrier else "", s.awb),
        status=status_pb(s.status),
        address=address_pb(s.address),
        items=[
            pb.ShipmentItem(
                variant_id=i.variant_id,
                sku=i.sku,
                title=i.title,
                quantity=i.quantity,
                unit_weight_grams=i.unit_weight_grams,
            )
            for i in items
        ],
        weight_grams=s.weight_grams,
        cod_amount=money(s.cod_amount_minor),
        # The label is rendered on first download (GetShipmentLabel) once there is an AWB.
        label_ready=bool(s.awb),
        history=[
            pb.ShipmentStatusChange(
                from_status=status_pb(h.from_status),
                to_status=status_pb(h.to_status),
                source=h.source,
                note=h.note,
                location=h.location,
                time=ts(h.time),
            )
            for h in history
            if h.applied
        ],
        create_time=ts(s.create_time),
        update_time=ts(s.update_time),
    )
