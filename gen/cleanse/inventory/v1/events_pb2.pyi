from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class LowStockEvent(_message.Message):
    __slots__ = ("variant_id", "warehouse", "available", "on_hand", "reorder_point")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    REORDER_POINT_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    warehouse: str
    available: int
    on_hand: int
    reorder_point: int
    def __init__(self, variant_id: _Optional[str] = ..., warehouse: _Optional[str] = ..., available: _Optional[int] = ..., on_hand: _Optional[int] = ..., reorder_point: _Optional[int] = ...) -> None: ...
