from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.inventory.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListWarehousesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "show_inactive")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHOW_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    show_inactive: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., show_inactive: _Optional[bool] = ...) -> None: ...

class ListWarehousesResponse(_message.Message):
    __slots__ = ("warehouses", "next_page_token")
    WAREHOUSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    warehouses: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Warehouse]
    next_page_token: str
    def __init__(self, warehouses: _Optional[_Iterable[_Union[_resources_pb2.Warehouse, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetWarehouseRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateWarehouseRequest(_message.Message):
    __slots__ = ("warehouse_id", "warehouse")
    WAREHOUSE_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    warehouse_id: str
    warehouse: _resources_pb2.Warehouse
    def __init__(self, warehouse_id: _Optional[str] = ..., warehouse: _Optional[_Union[_resources_pb2.Warehouse, _Mapping]] = ...) -> None: ...

class UpdateWarehouseRequest(_message.Message):
    __slots__ = ("warehouse", "update_mask")
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    warehouse: _resources_pb2.Warehouse
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, warehouse: _Optional[_Union[_resources_pb2.Warehouse, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteWarehouseRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListStockLevelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "variant_id", "warehouse", "low_stock_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    LOW_STOCK_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    variant_id: str
    warehouse: str
    low_stock_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., variant_id: _Optional[str] = ..., warehouse: _Optional[str] = ..., low_stock_only: _Optional[bool] = ...) -> None: ...

class ListStockLevelsResponse(_message.Message):
    __slots__ = ("stock_levels", "next_page_token")
    STOCK_LEVELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    stock_levels: _containers.RepeatedCompositeFieldContainer[_resources_pb2.StockLevel]
    next_page_token: str
    def __init__(self, stock_levels: _Optional[_Iterable[_Union[_resources_pb2.StockLevel, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListLowStockItemsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "warehouse")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    warehouse: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., warehouse: _Optional[str] = ...) -> None: ...

class ListLowStockItemsResponse(_message.Message):
    __slots__ = ("stock_levels", "next_page_token")
    STOCK_LEVELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    stock_levels: _containers.RepeatedCompositeFieldContainer[_resources_pb2.StockLevel]
    next_page_token: str
    def __init__(self, stock_levels: _Optional[_Iterable[_Union[_resources_pb2.StockLevel, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStockLevelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SetStockLevelRequest(_message.Message):
    __slots__ = ("name", "on_hand", "reorder_point", "safety_stock", "backorder_allowed", "backorder_limit", "note")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    REORDER_POINT_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    BACKORDER_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    BACKORDER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    name: str
    on_hand: int
    reorder_point: int
    safety_stock: int
    backorder_allowed: bool
    backorder_limit: int
    note: str
    def __init__(self, name: _Optional[str] = ..., on_hand: _Optional[int] = ..., reorder_point: _Optional[int] = ..., safety_stock: _Optional[int] = ..., backorder_allowed: _Optional[bool] = ..., backorder_limit: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class AdjustStockRequest(_message.Message):
    __slots__ = ("name", "delta", "reason", "note")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    name: str
    delta: int
    reason: _resources_pb2.AdjustmentReason
    note: str
    def __init__(self, name: _Optional[str] = ..., delta: _Optional[int] = ..., reason: _Optional[_Union[_resources_pb2.AdjustmentReason, str]] = ..., note: _Optional[str] = ...) -> None: ...

class AdjustStockResponse(_message.Message):
    __slots__ = ("stock_level", "adjustment", "allocated_to_backorders")
    STOCK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_TO_BACKORDERS_FIELD_NUMBER: _ClassVar[int]
    stock_level: _resources_pb2.StockLevel
    adjustment: _resources_pb2.Adjustment
    allocated_to_backorders: int
    def __init__(self, stock_level: _Optional[_Union[_resources_pb2.StockLevel, _Mapping]] = ..., adjustment: _Optional[_Union[_resources_pb2.Adjustment, _Mapping]] = ..., allocated_to_backorders: _Optional[int] = ...) -> None: ...

class ListAdjustmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "warehouse", "variant_id", "reason")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    warehouse: str
    variant_id: str
    reason: _resources_pb2.AdjustmentReason
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., warehouse: _Optional[str] = ..., variant_id: _Optional[str] = ..., reason: _Optional[_Union[_resources_pb2.AdjustmentReason, str]] = ...) -> None: ...

class ListAdjustmentsResponse(_message.Message):
    __slots__ = ("adjustments", "next_page_token")
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    adjustments: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Adjustment]
    next_page_token: str
    def __init__(self, adjustments: _Optional[_Iterable[_Union[_resources_pb2.Adjustment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateTransferRequest(_message.Message):
    __slots__ = ("transfer",)
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: _resources_pb2.Transfer
    def __init__(self, transfer: _Optional[_Union[_resources_pb2.Transfer, _Mapping]] = ...) -> None: ...

class GetTransferRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListTransfersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _resources_pb2.TransferState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_resources_pb2.TransferState, str]] = ...) -> None: ...

class ListTransfersResponse(_message.Message):
    __slots__ = ("transfers", "next_page_token")
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Transfer]
    next_page_token: str
    def __init__(self, transfers: _Optional[_Iterable[_Union[_resources_pb2.Transfer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DispatchTransferRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ReceiveLine(_message.Message):
    __slots__ = ("variant_id", "quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class ReceiveTransferRequest(_message.Message):
    __slots__ = ("name", "lines", "close")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    name: str
    lines: _containers.RepeatedCompositeFieldContainer[ReceiveLine]
    close: bool
    def __init__(self, name: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReceiveLine, _Mapping]]] = ..., close: _Optional[bool] = ...) -> None: ...

class CancelTransferRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListBackordersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "variant_id", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    variant_id: str
    state: _resources_pb2.BackorderState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., variant_id: _Optional[str] = ..., state: _Optional[_Union[_resources_pb2.BackorderState, str]] = ...) -> None: ...

class ListBackordersResponse(_message.Message):
    __slots__ = ("backorders", "next_page_token")
    BACKORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backorders: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Backorder]
    next_page_token: str
    def __init__(self, backorders: _Optional[_Iterable[_Union[_resources_pb2.Backorder, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ImportStockCsvRequest(_message.Message):
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

class ImportStockCsvResponse(_message.Message):
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
