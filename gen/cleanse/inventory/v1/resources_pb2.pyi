import datetime

from cleanse.common.v1 import address_pb2 as _address_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdjustmentReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADJUSTMENT_REASON_UNSPECIFIED: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_RECEIVED: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_DAMAGED: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_COUNT_CORRECTION: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_RETURN_RESTOCK: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_LOST: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_TRANSIT_LOSS: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_TRANSFER_OUT: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_TRANSFER_IN: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_SALE: _ClassVar[AdjustmentReason]

class TransferState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_STATE_UNSPECIFIED: _ClassVar[TransferState]
    TRANSFER_STATE_REQUESTED: _ClassVar[TransferState]
    TRANSFER_STATE_DISPATCHED: _ClassVar[TransferState]
    TRANSFER_STATE_PARTIALLY_RECEIVED: _ClassVar[TransferState]
    TRANSFER_STATE_RECEIVED: _ClassVar[TransferState]
    TRANSFER_STATE_CANCELLED: _ClassVar[TransferState]

class ReservationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_STATE_UNSPECIFIED: _ClassVar[ReservationState]
    RESERVATION_STATE_HELD: _ClassVar[ReservationState]
    RESERVATION_STATE_COMMITTED: _ClassVar[ReservationState]
    RESERVATION_STATE_RELEASED: _ClassVar[ReservationState]
    RESERVATION_STATE_EXPIRED: _ClassVar[ReservationState]

class BackorderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKORDER_STATE_UNSPECIFIED: _ClassVar[BackorderState]
    BACKORDER_STATE_OPEN: _ClassVar[BackorderState]
    BACKORDER_STATE_FILLED: _ClassVar[BackorderState]
    BACKORDER_STATE_CANCELLED: _ClassVar[BackorderState]
ADJUSTMENT_REASON_UNSPECIFIED: AdjustmentReason
ADJUSTMENT_REASON_RECEIVED: AdjustmentReason
ADJUSTMENT_REASON_DAMAGED: AdjustmentReason
ADJUSTMENT_REASON_COUNT_CORRECTION: AdjustmentReason
ADJUSTMENT_REASON_RETURN_RESTOCK: AdjustmentReason
ADJUSTMENT_REASON_LOST: AdjustmentReason
ADJUSTMENT_REASON_TRANSIT_LOSS: AdjustmentReason
ADJUSTMENT_REASON_TRANSFER_OUT: AdjustmentReason
ADJUSTMENT_REASON_TRANSFER_IN: AdjustmentReason
ADJUSTMENT_REASON_SALE: AdjustmentReason
TRANSFER_STATE_UNSPECIFIED: TransferState
TRANSFER_STATE_REQUESTED: TransferState
TRANSFER_STATE_DISPATCHED: TransferState
TRANSFER_STATE_PARTIALLY_RECEIVED: TransferState
TRANSFER_STATE_RECEIVED: TransferState
TRANSFER_STATE_CANCELLED: TransferState
RESERVATION_STATE_UNSPECIFIED: ReservationState
RESERVATION_STATE_HELD: ReservationState
RESERVATION_STATE_COMMITTED: ReservationState
RESERVATION_STATE_RELEASED: ReservationState
RESERVATION_STATE_EXPIRED: ReservationState
BACKORDER_STATE_UNSPECIFIED: BackorderState
BACKORDER_STATE_OPEN: BackorderState
BACKORDER_STATE_FILLED: BackorderState
BACKORDER_STATE_CANCELLED: BackorderState

class Warehouse(_message.Message):
    __slots__ = ("name", "display_name", "address", "active", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    address: _address_pb2.PostalAddress
    active: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., active: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StockLevel(_message.Message):
    __slots__ = ("name", "variant_id", "warehouse", "on_hand", "reserved", "available", "safety_stock", "reorder_point", "backorder_allowed", "backorder_limit", "backordered", "in_transit", "low_stock", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    REORDER_POINT_FIELD_NUMBER: _ClassVar[int]
    BACKORDER_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    BACKORDER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    BACKORDERED_FIELD_NUMBER: _ClassVar[int]
    IN_TRANSIT_FIELD_NUMBER: _ClassVar[int]
    LOW_STOCK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    variant_id: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int
    safety_stock: int
    reorder_point: int
    backorder_allowed: bool
    backorder_limit: int
    backordered: int
    in_transit: int
    low_stock: bool
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., variant_id: _Optional[str] = ..., warehouse: _Optional[str] = ..., on_hand: _Optional[int] = ..., reserved: _Optional[int] = ..., available: _Optional[int] = ..., safety_stock: _Optional[int] = ..., reorder_point: _Optional[int] = ..., backorder_allowed: _Optional[bool] = ..., backorder_limit: _Optional[int] = ..., backordered: _Optional[int] = ..., in_transit: _Optional[int] = ..., low_stock: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Adjustment(_message.Message):
    __slots__ = ("name", "warehouse", "variant_id", "delta", "reason", "note", "actor", "on_hand_after", "reference", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_AFTER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    warehouse: str
    variant_id: str
    delta: int
    reason: AdjustmentReason
    note: str
    actor: str
    on_hand_after: int
    reference: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., warehouse: _Optional[str] = ..., variant_id: _Optional[str] = ..., delta: _Optional[int] = ..., reason: _Optional[_Union[AdjustmentReason, str]] = ..., note: _Optional[str] = ..., actor: _Optional[str] = ..., on_hand_after: _Optional[int] = ..., reference: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TransferLine(_message.Message):
    __slots__ = ("variant_id", "quantity", "received_quantity", "written_off_quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_OFF_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    received_quantity: int
    written_off_quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ..., received_quantity: _Optional[int] = ..., written_off_quantity: _Optional[int] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("name", "source_warehouse", "destination_warehouse", "state", "lines", "note", "requested_by", "create_time", "dispatch_time", "receive_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_TIME_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    source_warehouse: str
    destination_warehouse: str
    state: TransferState
    lines: _containers.RepeatedCompositeFieldContainer[TransferLine]
    note: str
    requested_by: str
    create_time: _timestamp_pb2.Timestamp
    dispatch_time: _timestamp_pb2.Timestamp
    receive_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., source_warehouse: _Optional[str] = ..., destination_warehouse: _Optional[str] = ..., state: _Optional[_Union[TransferState, str]] = ..., lines: _Optional[_Iterable[_Union[TransferLine, _Mapping]]] = ..., note: _Optional[str] = ..., requested_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dispatch_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReservationLine(_message.Message):
    __slots__ = ("variant_id", "warehouse", "quantity", "backordered_quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    BACKORDERED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    warehouse: str
    quantity: int
    backordered_quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., warehouse: _Optional[str] = ..., quantity: _Optional[int] = ..., backordered_quantity: _Optional[int] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("name", "request_id", "state", "lines", "delivery_pincode", "expire_time", "create_time", "shipment_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_PINCODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    state: ReservationState
    lines: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    delivery_pincode: str
    expire_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    shipment_count: int
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., state: _Optional[_Union[ReservationState, str]] = ..., lines: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ..., delivery_pincode: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., shipment_count: _Optional[int] = ...) -> None: ...

class Backorder(_message.Message):
    __slots__ = ("name", "reservation", "variant_id", "warehouse", "quantity", "allocated_quantity", "state", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    reservation: str
    variant_id: str
    warehouse: str
    quantity: int
    allocated_quantity: int
    state: BackorderState
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., reservation: _Optional[str] = ..., variant_id: _Optional[str] = ..., warehouse: _Optional[str] = ..., quantity: _Optional[int] = ..., allocated_quantity: _Optional[int] = ..., state: _Optional[_Union[BackorderState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
