import datetime

from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.order.v1 import resources_pb2 as _resources_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderPlacedEvent(_message.Message):
    __slots__ = ("order", "order_number", "customer", "total", "email", "state_code", "city", "pincode", "payment_method", "item_count", "delivery_address", "lines", "reservation", "cod_amount", "phone", "customer_name")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    COD_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_NAME_FIELD_NUMBER: _ClassVar[int]
    order: str
    order_number: str
    customer: str
    total: _money_pb2.Money
    email: str
    state_code: str
    city: str
    pincode: str
    payment_method: str
    item_count: int
    delivery_address: _address_pb2.PostalAddress
    lines: _containers.RepeatedCompositeFieldContainer[OrderPlacedLine]
    reservation: str
    cod_amount: _money_pb2.Money
    phone: str
    customer_name: str
    def __init__(self, order: _Optional[str] = ..., order_number: _Optional[str] = ..., customer: _Optional[str] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., email: _Optional[str] = ..., state_code: _Optional[str] = ..., city: _Optional[str] = ..., pincode: _Optional[str] = ..., payment_method: _Optional[str] = ..., item_count: _Optional[int] = ..., delivery_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderPlacedLine, _Mapping]]] = ..., reservation: _Optional[str] = ..., cod_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., phone: _Optional[str] = ..., customer_name: _Optional[str] = ...) -> None: ...

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

class OrderRefundedEvent(_message.Message):
    __slots__ = ("order", "order_number", "customer", "amount", "refund", "state_code", "city", "email", "phone")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    order: str
    order_number: str
    customer: str
    amount: _money_pb2.Money
    refund: str
    state_code: str
    city: str
    email: str
    phone: str
    def __init__(self, order: _Optional[str] = ..., order_number: _Optional[str] = ..., customer: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., refund: _Optional[str] = ..., state_code: _Optional[str] = ..., city: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class OrderPaymentFailedEvent(_message.Message):
    __slots__ = ("order", "order_number", "customer", "email", "phone", "amount", "reason")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order: str
    order_number: str
    customer: str
    email: str
    phone: str
    amount: _money_pb2.Money
    reason: str
    def __init__(self, order: _Optional[str] = ..., order_number: _Optional[str] = ..., customer: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class OrderReturnStatusChangedEvent(_message.Message):
    __slots__ = ("order", "return_name", "status", "customer", "email", "phone", "order_number")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    RETURN_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    order: str
    return_name: str
    status: _resources_pb2.ReturnState
    customer: str
    email: str
    phone: str
    order_number: str
    def __init__(self, order: _Optional[str] = ..., return_name: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.ReturnState, str]] = ..., customer: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., order_number: _Optional[str] = ...) -> None: ...

class OrderUpdatedEvent(_message.Message):
    __slots__ = ("order", "order_number", "customer", "total", "email", "state_code", "city", "pincode", "payment_method", "item_count", "delivery_address", "lines", "reservation", "cod_amount", "phone", "customer_name", "revision", "edit", "lines_changed", "address_changed", "reason", "update_time")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    COD_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EDIT_FIELD_NUMBER: _ClassVar[int]
    LINES_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    order: str
    order_number: str
    customer: str
    total: _money_pb2.Money
    email: str
    state_code: str
    city: str
    pincode: str
    payment_method: str
    item_count: int
    delivery_address: _address_pb2.PostalAddress
    lines: _containers.RepeatedCompositeFieldContainer[OrderPlacedLine]
    reservation: str
    cod_amount: _money_pb2.Money
    phone: str
    customer_name: str
    revision: int
    edit: str
    lines_changed: bool
    address_changed: bool
    reason: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, order: _Optional[str] = ..., order_number: _Optional[str] = ..., customer: _Optional[str] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., email: _Optional[str] = ..., state_code: _Optional[str] = ..., city: _Optional[str] = ..., pincode: _Optional[str] = ..., payment_method: _Optional[str] = ..., item_count: _Optional[int] = ..., delivery_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderPlacedLine, _Mapping]]] = ..., reservation: _Optional[str] = ..., cod_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., phone: _Optional[str] = ..., customer_name: _Optional[str] = ..., revision: _Optional[int] = ..., edit: _Optional[str] = ..., lines_changed: _Optional[bool] = ..., address_changed: _Optional[bool] = ..., reason: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
