from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.shipping.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListShippingZonesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListShippingZonesResponse(_message.Message):
    __slots__ = ("shipping_zones", "next_page_token")
    SHIPPING_ZONES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    shipping_zones: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ShippingZone]
    next_page_token: str
    def __init__(self, shipping_zones: _Optional[_Iterable[_Union[_resources_pb2.ShippingZone, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetShippingZoneRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateShippingZoneRequest(_message.Message):
    __slots__ = ("zone_id", "zone")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    zone: _resources_pb2.ShippingZone
    def __init__(self, zone_id: _Optional[str] = ..., zone: _Optional[_Union[_resources_pb2.ShippingZone, _Mapping]] = ...) -> None: ...

class UpdateShippingZoneRequest(_message.Message):
    __slots__ = ("zone", "update_mask")
    ZONE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    zone: _resources_pb2.ShippingZone
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, zone: _Optional[_Union[_resources_pb2.ShippingZone, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteShippingZoneRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListCarriersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCarriersResponse(_message.Message):
    __slots__ = ("carriers", "next_page_token")
    CARRIERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    carriers: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Carrier]
    next_page_token: str
    def __init__(self, carriers: _Optional[_Iterable[_Union[_resources_pb2.Carrier, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCarrierRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateCarrierRequest(_message.Message):
    __slots__ = ("carrier_id", "carrier")
    CARRIER_ID_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    carrier_id: str
    carrier: _resources_pb2.Carrier
    def __init__(self, carrier_id: _Optional[str] = ..., carrier: _Optional[_Union[_resources_pb2.Carrier, _Mapping]] = ...) -> None: ...

class UpdateCarrierRequest(_message.Message):
    __slots__ = ("carrier", "update_mask")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    carrier: _resources_pb2.Carrier
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, carrier: _Optional[_Union[_resources_pb2.Carrier, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteCarrierRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListShippingMethodsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "zone")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    zone: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., zone: _Optional[str] = ...) -> None: ...

class ListShippingMethodsResponse(_message.Message):
    __slots__ = ("shipping_methods", "next_page_token")
    SHIPPING_METHODS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    shipping_methods: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ShippingMethod]
    next_page_token: str
    def __init__(self, shipping_methods: _Optional[_Iterable[_Union[_resources_pb2.ShippingMethod, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetShippingMethodRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateShippingMethodRequest(_message.Message):
    __slots__ = ("method_id", "method")
    METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    method_id: str
    method: _resources_pb2.ShippingMethod
    def __init__(self, method_id: _Optional[str] = ..., method: _Optional[_Union[_resources_pb2.ShippingMethod, _Mapping]] = ...) -> None: ...

class UpdateShippingMethodRequest(_message.Message):
    __slots__ = ("method", "update_mask")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    method: _resources_pb2.ShippingMethod
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, method: _Optional[_Union[_resources_pb2.ShippingMethod, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteShippingMethodRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListPincodeServiceabilityRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "pincode_prefix")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PINCODE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    pincode_prefix: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., pincode_prefix: _Optional[str] = ...) -> None: ...

class ListPincodeServiceabilityResponse(_message.Message):
    __slots__ = ("pincodes", "next_page_token")
    PINCODES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pincodes: _containers.RepeatedCompositeFieldContainer[_resources_pb2.PincodeServiceability]
    next_page_token: str
    def __init__(self, pincodes: _Optional[_Iterable[_Union[_resources_pb2.PincodeServiceability, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPincodeServiceabilityRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SetPincodeServiceabilityRequest(_message.Message):
    __slots__ = ("serviceability",)
    SERVICEABILITY_FIELD_NUMBER: _ClassVar[int]
    serviceability: _resources_pb2.PincodeServiceability
    def __init__(self, serviceability: _Optional[_Union[_resources_pb2.PincodeServiceability, _Mapping]] = ...) -> None: ...

class DeletePincodeServiceabilityRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ImportPincodeCsvRequest(_message.Message):
    __slots__ = ("csv", "dry_run")
    CSV_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    csv: bytes
    dry_run: bool
    def __init__(self, csv: _Optional[bytes] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class CsvRowError(_message.Message):
    __slots__ = ("line", "column", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    column: str
    message: str
    def __init__(self, line: _Optional[int] = ..., column: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ImportPincodeCsvResponse(_message.Message):
    __slots__ = ("rows", "created", "updated", "errors", "applied")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    rows: int
    created: int
    updated: int
    errors: _containers.RepeatedCompositeFieldContainer[CsvRowError]
    applied: bool
    def __init__(self, rows: _Optional[int] = ..., created: _Optional[int] = ..., updated: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[CsvRowError, _Mapping]]] = ..., applied: _Optional[bool] = ...) -> None: ...

class ListShipmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "order", "status", "direction")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    order: str
    status: _resources_pb2.ShipmentStatus
    direction: _resources_pb2.ShipmentDirection
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.ShipmentStatus, str]] = ..., direction: _Optional[_Union[_resources_pb2.ShipmentDirection, str]] = ...) -> None: ...

class ListShipmentsResponse(_message.Message):
    __slots__ = ("shipments", "next_page_token")
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    shipments: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Shipment]
    next_page_token: str
    def __init__(self, shipments: _Optional[_Iterable[_Union[_resources_pb2.Shipment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetShipmentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateShipmentItem(_message.Message):
    __slots__ = ("variant_id", "sku", "title", "quantity", "unit_weight_grams")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    sku: str
    title: str
    quantity: int
    unit_weight_grams: int
    def __init__(self, variant_id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_weight_grams: _Optional[int] = ...) -> None: ...

class CreateShipmentRequest(_message.Message):
    __slots__ = ("request_id", "order", "order_number", "warehouse", "carrier", "method_kind", "address", "items", "cod_amount", "awb", "email")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    METHOD_KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    COD_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AWB_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    order: str
    order_number: str
    warehouse: str
    carrier: str
    method_kind: _resources_pb2.MethodKind
    address: _address_pb2.PostalAddress
    items: _containers.RepeatedCompositeFieldContainer[CreateShipmentItem]
    cod_amount: _money_pb2.Money
    awb: str
    email: str
    def __init__(self, request_id: _Optional[str] = ..., order: _Optional[str] = ..., order_number: _Optional[str] = ..., warehouse: _Optional[str] = ..., carrier: _Optional[str] = ..., method_kind: _Optional[_Union[_resources_pb2.MethodKind, str]] = ..., address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., items: _Optional[_Iterable[_Union[CreateShipmentItem, _Mapping]]] = ..., cod_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., awb: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class AssignAwbRequest(_message.Message):
    __slots__ = ("name", "awb")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AWB_FIELD_NUMBER: _ClassVar[int]
    name: str
    awb: str
    def __init__(self, name: _Optional[str] = ..., awb: _Optional[str] = ...) -> None: ...

class UpdateShipmentStatusRequest(_message.Message):
    __slots__ = ("name", "status", "note", "location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: _resources_pb2.ShipmentStatus
    note: str
    location: str
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.ShipmentStatus, str]] = ..., note: _Optional[str] = ..., location: _Optional[str] = ...) -> None: ...

class GetShipmentLabelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
