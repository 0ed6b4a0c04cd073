from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.common.v1 import pagination_pb2 as _pagination_pb2
from cleanse.order.v1 import order_service_pb2 as _order_service_pb2
from cleanse.order.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EditOrderLine(_message.Message):
    __slots__ = ("variant_id", "quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class EditOrderRequest(_message.Message):
    __slots__ = ("name", "request_id", "lines", "delivery_address", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    lines: _containers.RepeatedCompositeFieldContainer[EditOrderLine]
    delivery_address: _address_pb2.PostalAddress
    reason: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[EditOrderLine, _Mapping]]] = ..., delivery_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class EditOrderResponse(_message.Message):
    __slots__ = ("order", "edit")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    EDIT_FIELD_NUMBER: _ClassVar[int]
    order: _resources_pb2.Order
    edit: _resources_pb2.OrderEdit
    def __init__(self, order: _Optional[_Union[_resources_pb2.Order, _Mapping]] = ..., edit: _Optional[_Union[_resources_pb2.OrderEdit, _Mapping]] = ...) -> None: ...

class ExportOrdersRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: _order_service_pb2.ListOrdersRequest
    def __init__(self, filter: _Optional[_Union[_order_service_pb2.ListOrdersRequest, _Mapping]] = ...) -> None: ...

class UpdateOrderStatusRequest(_message.Message):
    __slots__ = ("name", "status", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: _resources_pb2.OrderStatus
    reason: str
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.OrderStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class BatchUpdateOrderStatusRequest(_message.Message):
    __slots__ = ("names", "status", "reason")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    status: _resources_pb2.OrderStatus
    reason: str
    def __init__(self, names: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[_resources_pb2.OrderStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class OrderStatusResult(_message.Message):
    __slots__ = ("name", "ok", "status", "error_reason", "error_message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    ok: bool
    status: _resources_pb2.OrderStatus
    error_reason: str
    error_message: str
    def __init__(self, name: _Optional[str] = ..., ok: _Optional[bool] = ..., status: _Optional[_Union[_resources_pb2.OrderStatus, str]] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class BatchUpdateOrderStatusResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[OrderStatusResult]
    def __init__(self, results: _Optional[_Iterable[_Union[OrderStatusResult, _Mapping]]] = ...) -> None: ...

class MarkCodPaidRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ExportOrdersResponse(_message.Message):
    __slots__ = ("chunk", "rows")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    rows: int
    def __init__(self, chunk: _Optional[bytes] = ..., rows: _Optional[int] = ...) -> None: ...

class CreateRefundRequest(_message.Message):
    __slots__ = ("order", "request_id", "amount", "lines", "reason", "method")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    order: str
    request_id: str
    amount: _money_pb2.Money
    lines: _containers.RepeatedCompositeFieldContainer[_resources_pb2.RefundLine]
    reason: str
    method: _resources_pb2.RefundMethod
    def __init__(self, order: _Optional[str] = ..., request_id: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[_resources_pb2.RefundLine, _Mapping]]] = ..., reason: _Optional[str] = ..., method: _Optional[_Union[_resources_pb2.RefundMethod, str]] = ...) -> None: ...

class ListRefundsRequest(_message.Message):
    __slots__ = ("order", "page_size", "page_token")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    order: str
    page_size: int
    page_token: str
    def __init__(self, order: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRefundsResponse(_message.Message):
    __slots__ = ("refunds", "next_page_token")
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    refunds: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Refund]
    next_page_token: str
    def __init__(self, refunds: _Optional[_Iterable[_Union[_resources_pb2.Refund, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListReturnsRequest(_message.Message):
    __slots__ = ("order", "page_size", "page_token")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    order: str
    page_size: int
    page_token: str
    def __init__(self, order: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReturnsResponse(_message.Message):
    __slots__ = ("returns", "next_page_token")
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    returns: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Return]
    next_page_token: str
    def __init__(self, returns: _Optional[_Iterable[_Union[_resources_pb2.Return, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ApproveReturnRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RejectReturnRequest(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class LineInspection(_message.Message):
    __slots__ = ("variant_id", "passed", "note")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    passed: bool
    note: str
    def __init__(self, variant_id: _Optional[str] = ..., passed: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class InspectReturnRequest(_message.Message):
    __slots__ = ("name", "inspections")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSPECTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    inspections: _containers.RepeatedCompositeFieldContainer[LineInspection]
    def __init__(self, name: _Optional[str] = ..., inspections: _Optional[_Iterable[_Union[LineInspection, _Mapping]]] = ...) -> None: ...
