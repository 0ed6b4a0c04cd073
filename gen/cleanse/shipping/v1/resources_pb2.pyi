import datetime

from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CarrierKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARRIER_KIND_UNSPECIFIED: _ClassVar[CarrierKind]
    CARRIER_KIND_MANUAL: _ClassVar[CarrierKind]
    CARRIER_KIND_AGGREGATOR: _ClassVar[CarrierKind]

class MethodKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METHOD_KIND_UNSPECIFIED: _ClassVar[MethodKind]
    METHOD_KIND_STANDARD: _ClassVar[MethodKind]
    METHOD_KIND_EXPRESS: _ClassVar[MethodKind]

class ShipmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHIPMENT_STATUS_UNSPECIFIED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_CREATED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_PICKED_UP: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_IN_TRANSIT: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_OUT_FOR_DELIVERY: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_DELIVERED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_FAILED_DELIVERY: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_RTO: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_RTO_DELIVERED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_CANCELLED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_LOST: _ClassVar[ShipmentStatus]

class ShipmentDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHIPMENT_DIRECTION_UNSPECIFIED: _ClassVar[ShipmentDirection]
    SHIPMENT_DIRECTION_FORWARD: _ClassVar[ShipmentDirection]
    SHIPMENT_DIRECTION_RETURN: _ClassVar[ShipmentDirection]
CARRIER_KIND_UNSPECIFIED: CarrierKind
CARRIER_KIND_MANUAL: CarrierKind
CARRIER_KIND_AGGREGATOR: CarrierKind
METHOD_KIND_UNSPECIFIED: MethodKind
METHOD_KIND_STANDARD: MethodKind
METHOD_KIND_EXPRESS: MethodKind
SHIPMENT_STATUS_UNSPECIFIED: ShipmentStatus
SHIPMENT_STATUS_CREATED: ShipmentStatus
SHIPMENT_STATUS_PICKED_UP: ShipmentStatus
SHIPMENT_STATUS_IN_TRANSIT: ShipmentStatus
SHIPMENT_STATUS_OUT_FOR_DELIVERY: ShipmentStatus
SHIPMENT_STATUS_DELIVERED: ShipmentStatus
SHIPMENT_STATUS_FAILED_DELIVERY: ShipmentStatus
SHIPMENT_STATUS_RTO: ShipmentStatus
SHIPMENT_STATUS_RTO_DELIVERED: ShipmentStatus
SHIPMENT_STATUS_CANCELLED: ShipmentStatus
SHIPMENT_STATUS_LOST: ShipmentStatus
SHIPMENT_DIRECTION_UNSPECIFIED: ShipmentDirection
SHIPMENT_DIRECTION_FORWARD: ShipmentDirection
SHIPMENT_DIRECTION_RETURN: ShipmentDirection

class PincodeRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class ShippingZone(_message.Message):
    __slots__ = ("name", "display_name", "state_codes", "pincode_prefixes", "pincode_ranges", "active", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_CODES_FIELD_NUMBER: _ClassVar[int]
    PINCODE_PREFIXES_FIELD_NUMBER: _ClassVar[int]
    PINCODE_RANGES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    state_codes: _containers.RepeatedScalarFieldContainer[str]
    pincode_prefixes: _containers.RepeatedScalarFieldContainer[str]
    pincode_ranges: _containers.RepeatedCompositeFieldContainer[PincodeRange]
    active: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., state_codes: _Optional[_Iterable[str]] = ..., pincode_prefixes: _Optional[_Iterable[str]] = ..., pincode_ranges: _Optional[_Iterable[_Union[PincodeRange, _Mapping]]] = ..., active: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Carrier(_message.Message):
    __slots__ = ("name", "display_name", "kind", "tracking_url_template", "webhook_secret", "webhook_secret_set", "test_mode", "active", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TRACKING_URL_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_SET_FIELD_NUMBER: _ClassVar[int]
    TEST_MODE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    kind: CarrierKind
    tracking_url_template: str
    webhook_secret: str
    webhook_secret_set: bool
    test_mode: bool
    active: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[CarrierKind, str]] = ..., tracking_url_template: _Optional[str] = ..., webhook_secret: _Optional[str] = ..., webhook_secret_set: _Optional[bool] = ..., test_mode: _Optional[bool] = ..., active: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WeightSlab(_message.Message):
    __slots__ = ("max_weight_grams", "rate_minor")
    MAX_WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    RATE_MINOR_FIELD_NUMBER: _ClassVar[int]
    max_weight_grams: int
    rate_minor: int
    def __init__(self, max_weight_grams: _Optional[int] = ..., rate_minor: _Optional[int] = ...) -> None: ...

class ShippingMethod(_message.Message):
    __slots__ = ("name", "zone", "kind", "display_name", "slabs", "extra_per_500g_minor", "free_shipping_threshold_minor", "cod_available", "cod_fee_minor", "cod_max_order_value_minor", "estimated_days", "carrier", "active", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SLABS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_PER_500G_MINOR_FIELD_NUMBER: _ClassVar[int]
    FREE_SHIPPING_THRESHOLD_MINOR_FIELD_NUMBER: _ClassVar[int]
    COD_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    COD_FEE_MINOR_FIELD_NUMBER: _ClassVar[int]
    COD_MAX_ORDER_VALUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_DAYS_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    zone: str
    kind: MethodKind
    display_name: str
    slabs: _containers.RepeatedCompositeFieldContainer[WeightSlab]
    extra_per_500g_minor: int
    free_shipping_threshold_minor: int
    cod_available: bool
    cod_fee_minor: int
    cod_max_order_value_minor: int
    estimated_days: int
    carrier: str
    active: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., zone: _Optional[str] = ..., kind: _Optional[_Union[MethodKind, str]] = ..., display_name: _Optional[str] = ..., slabs: _Optional[_Iterable[_Union[WeightSlab, _Mapping]]] = ..., extra_per_500g_minor: _Optional[int] = ..., free_shipping_threshold_minor: _Optional[int] = ..., cod_available: _Optional[bool] = ..., cod_fee_minor: _Optional[int] = ..., cod_max_order_value_minor: _Optional[int] = ..., estimated_days: _Optional[int] = ..., carrier: _Optional[str] = ..., active: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PincodeServiceability(_message.Message):
    __slots__ = ("name", "pincode", "state_code", "serviceable", "cod_available", "estimated_days", "carrier", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    SERVICEABLE_FIELD_NUMBER: _ClassVar[int]
    COD_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_DAYS_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    pincode: str
    state_code: str
    serviceable: bool
    cod_available: bool
    estimated_days: int
    carrier: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., pincode: _Optional[str] = ..., state_code: _Optional[str] = ..., serviceable: _Optional[bool] = ..., cod_available: _Optional[bool] = ..., estimated_days: _Optional[int] = ..., carrier: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShipmentItem(_message.Message):
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

class ShipmentStatusChange(_message.Message):
    __slots__ = ("from_status", "to_status", "source", "note", "location", "time")
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    from_status: ShipmentStatus
    to_status: ShipmentStatus
    source: str
    note: str
    location: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, from_status: _Optional[_Union[ShipmentStatus, str]] = ..., to_status: _Optional[_Union[ShipmentStatus, str]] = ..., source: _Optional[str] = ..., note: _Optional[str] = ..., location: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("name", "order", "order_number", "direction", "return_request", "warehouse", "carrier", "method_kind", "awb", "tracking_url", "status", "address", "items", "weight_grams", "cod_amount", "label_ready", "history", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    RETURN_REQUEST_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    METHOD_KIND_FIELD_NUMBER: _ClassVar[int]
    AWB_FIELD_NUMBER: _ClassVar[int]
    TRACKING_URL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    COD_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    LABEL_READY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    order: str
    order_number: str
    direction: ShipmentDirection
    return_request: str
    warehouse: str
    carrier: str
    method_kind: MethodKind
    awb: str
    tracking_url: str
    status: ShipmentStatus
    address: _address_pb2.PostalAddress
    items: _containers.RepeatedCompositeFieldContainer[ShipmentItem]
    weight_grams: int
    cod_amount: _money_pb2.Money
    label_ready: bool
    history: _containers.RepeatedCompositeFieldContainer[ShipmentStatusChange]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., order: _Optional[str] = ..., order_number: _Optional[str] = ..., direction: _Optional[_Union[ShipmentDirection, str]] = ..., return_request: _Optional[str] = ..., warehouse: _Optional[str] = ..., carrier: _Optional[str] = ..., method_kind: _Optional[_Union[MethodKind, str]] = ..., awb: _Optional[str] = ..., tracking_url: _Optional[str] = ..., status: _Optional[_Union[ShipmentStatus, str]] = ..., address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., items: _Optional[_Iterable[_Union[ShipmentItem, _Mapping]]] = ..., weight_grams: _Optional[int] = ..., cod_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., label_ready: _Optional[bool] = ..., history: _Optional[_Iterable[_Union[ShipmentStatusChange, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
