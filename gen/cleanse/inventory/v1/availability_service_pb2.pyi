from cleanse.common.v1 import access_pb2 as _access_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StockStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STOCK_STATUS_UNSPECIFIED: _ClassVar[StockStatus]
    STOCK_STATUS_IN_STOCK: _ClassVar[StockStatus]
    STOCK_STATUS_LOW_STOCK: _ClassVar[StockStatus]
    STOCK_STATUS_OUT_OF_STOCK: _ClassVar[StockStatus]
    STOCK_STATUS_BACKORDER: _ClassVar[StockStatus]
STOCK_STATUS_UNSPECIFIED: StockStatus
STOCK_STATUS_IN_STOCK: StockStatus
STOCK_STATUS_LOW_STOCK: StockStatus
STOCK_STATUS_OUT_OF_STOCK: StockStatus
STOCK_STATUS_BACKORDER: StockStatus

class BatchGetAvailabilityRequest(_message.Message):
    __slots__ = ("variant_ids",)
    VARIANT_IDS_FIELD_NUMBER: _ClassVar[int]
    variant_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, variant_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class VariantAvailability(_message.Message):
    __slots__ = ("variant_id", "status", "available", "backorder_remaining")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    BACKORDER_REMAINING_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    status: StockStatus
    available: int
    backorder_remaining: int
    def __init__(self, variant_id: _Optional[str] = ..., status: _Optional[_Union[StockStatus, str]] = ..., available: _Optional[int] = ..., backorder_remaining: _Optional[int] = ...) -> None: ...

class BatchGetAvailabilityResponse(_message.Message):
    __slots__ = ("availabilities",)
    AVAILABILITIES_FIELD_NUMBER: _ClassVar[int]
    availabilities: _containers.RepeatedCompositeFieldContainer[VariantAvailability]
    def __init__(self, availabilities: _Optional[_Iterable[_Union[VariantAvailability, _Mapping]]] = ...) -> None: ...
