from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.shipping.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ShipmentStatusChangedEvent(_message.Message):
    __slots__ = ("shipment", "order", "order_number", "direction", "return_request", "previous_status", "status", "carrier", "awb", "tracking_url", "recipient_name", "phone", "email", "note")
    SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    RETURN_REQUEST_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    AWB_FIELD_NUMBER: _ClassVar[int]
    TRACKING_URL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    shipment: str
    order: str
    order_number: str
    direction: _resources_pb2.ShipmentDirection
    return_request: str
    previous_status: _resources_pb2.ShipmentStatus
    status: _resources_pb2.ShipmentStatus
    carrier: str
    awb: str
    tracking_url: str
    recipient_name: str
    phone: str
    email: str
    note: str
    def __init__(self, shipment: _Optional[str] = ..., order: _Optional[str] = ..., order_number: _Optional[str] = ..., direction: _Optional[_Union[_resources_pb2.ShipmentDirection, str]] = ..., return_request: _Optional[str] = ..., previous_status: _Optional[_Union[_resources_pb2.ShipmentStatus, str]] = ..., status: _Optional[_Union[_resources_pb2.ShipmentStatus, str]] = ..., carrier: _Optional[str] = ..., awb: _Optional[str] = ..., tracking_url: _Optional[str] = ..., recipient_name: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class OrderPlacedShippingView(_message.Message):
    __slots__ = ("order", "order_number", "customer", "email", "state_code", "city", "pincode", "payment_method", "delivery_address", "lines", "reservation", "cod_amount", "phone")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    COD_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    order: str
    order_number: str
    customer: str
    email: str
    state_code: str
    city: str
    pincode: str
    payment_method: str
    delivery_address: _address_pb2.PostalAddress
    lines: _containers.RepeatedCompositeFieldContainer[OrderPlacedLine]
    reservation: str
    cod_amount: _money_pb2.Money
    phone: str
    def __init__(self, order: _Optional[str] = ..., order_number: _Optional[str] = ..., customer: _Optional[str] = ..., email: _Optional[str] = ..., state_code: _Optional[str] = ..., city: _Optional[str] = ..., pincode: _Optional[str] = ..., payment_method: _Optional[str] = ..., delivery_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderPlacedLine, _Mapping]]] = ..., reservation: _Optional[str] = ..., cod_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., phone: _Optional[str] = ...) -> None: ...

class OrderPlacedLine(_message.Message):
    __slots__ = ("variant_id", "sku", "title", "quantity", "unit_weight_grams", "warehouse")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    sku: str
    title: str
    quantity: int
    unit_weight_grams: int
    warehouse: str
    def __init__(self, variant_id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_weight_grams: _Optional[int] = ..., warehouse: _Optional[str] = ...) -> None: ...
