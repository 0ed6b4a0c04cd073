from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.shipping.v1 import resources_pb2 as _resources_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QuoteLine(_message.Message):
    __slots__ = ("variant_id", "quantity", "unit_weight_grams")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    unit_weight_grams: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_weight_grams: _Optional[int] = ...) -> None: ...

class QuoteShippingRequest(_message.Message):
    __slots__ = ("pincode", "weight_grams", "lines", "order_value", "payment_method")
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    pincode: str
    weight_grams: int
    lines: _containers.RepeatedCompositeFieldContainer[QuoteLine]
    order_value: _money_pb2.Money
    payment_method: str
    def __init__(self, pincode: _Optional[str] = ..., weight_grams: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[QuoteLine, _Mapping]]] = ..., order_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., payment_method: _Optional[str] = ...) -> None: ...

class ShippingQuoteOption(_message.Message):
    __slots__ = ("kind", "method", "display_name", "rate", "free", "base_rate", "cod_available", "cod_fee", "estimated_days", "carrier", "available", "unavailable_reason")
    KIND_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    BASE_RATE_FIELD_NUMBER: _ClassVar[int]
    COD_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    COD_FEE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_DAYS_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    kind: _resources_pb2.MethodKind
    method: str
    display_name: str
    rate: _money_pb2.Money
    free: bool
    base_rate: _money_pb2.Money
    cod_available: bool
    cod_fee: _money_pb2.Money
    estimated_days: int
    carrier: str
    available: bool
    unavailable_reason: str
    def __init__(self, kind: _Optional[_Union[_resources_pb2.MethodKind, str]] = ..., method: _Optional[str] = ..., display_name: _Optional[str] = ..., rate: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., free: _Optional[bool] = ..., base_rate: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., cod_available: _Optional[bool] = ..., cod_fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., estimated_days: _Optional[int] = ..., carrier: _Optional[str] = ..., available: _Optional[bool] = ..., unavailable_reason: _Optional[str] = ...) -> None: ...

class QuoteShippingResponse(_message.Message):
    __slots__ = ("pincode", "state_code", "zone", "serviceable", "weight_grams", "options")
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    SERVICEABLE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    pincode: str
    state_code: str
    zone: str
    serviceable: bool
    weight_grams: int
    options: _containers.RepeatedCompositeFieldContainer[ShippingQuoteOption]
    def __init__(self, pincode: _Optional[str] = ..., state_code: _Optional[str] = ..., zone: _Optional[str] = ..., serviceable: _Optional[bool] = ..., weight_grams: _Optional[int] = ..., options: _Optional[_Iterable[_Union[ShippingQuoteOption, _Mapping]]] = ...) -> None: ...

class CreateReturnPickupRequest(_message.Message):
    __slots__ = ("request_id", "order", "order_number", "return_request", "pickup_address", "warehouse", "items", "email")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    RETURN_REQUEST_FIELD_NUMBER: _ClassVar[int]
    PICKUP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    order: str
    order_number: str
    return_request: str
    pickup_address: _address_pb2.PostalAddress
    warehouse: str
    items: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ShipmentItem]
    email: str
    def __init__(self, request_id: _Optional[str] = ..., order: _Optional[str] = ..., order_number: _Optional[str] = ..., return_request: _Optional[str] = ..., pickup_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., warehouse: _Optional[str] = ..., items: _Optional[_Iterable[_Union[_resources_pb2.ShipmentItem, _Mapping]]] = ..., email: _Optional[str] = ...) -> None: ...

class ListOrderShipmentsRequest(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: str
    def __init__(self, order: _Optional[str] = ...) -> None: ...

class ListOrderShipmentsResponse(_message.Message):
    __slots__ = ("shipments",)
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    shipments: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Shipment]
    def __init__(self, shipments: _Optional[_Iterable[_Union[_resources_pb2.Shipment, _Mapping]]] = ...) -> None: ...
