from cleanse.common.v1 import access_pb2 as _access_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImportOptions(_message.Message):
    __slots__ = ("dry_run", "file_name")
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    file_name: str
    def __init__(self, dry_run: _Optional[bool] = ..., file_name: _Optional[str] = ...) -> None: ...

class ImportProductsRequest(_message.Message):
    __slots__ = ("options", "chunk")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    options: ImportOptions
    chunk: bytes
    def __init__(self, options: _Optional[_Union[ImportOptions, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ImportRowError(_message.Message):
    __slots__ = ("line", "column", "message", "sku")
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    line: int
    column: str
    message: str
    sku: str
    def __init__(self, line: _Optional[int] = ..., column: _Optional[str] = ..., message: _Optional[str] = ..., sku: _Optional[str] = ...) -> None: ...

class ImportProgress(_message.Message):
    __slots__ = ("rows_processed", "errors_so_far", "bytes_received", "new_errors")
    ROWS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_SO_FAR_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    NEW_ERRORS_FIELD_NUMBER: _ClassVar[int]
    rows_processed: int
    errors_so_far: int
    bytes_received: int
    new_errors: _containers.RepeatedCompositeFieldContainer[ImportRowError]
    def __init__(self, rows_processed: _Optional[int] = ..., errors_so_far: _Optional[int] = ..., bytes_received: _Optional[int] = ..., new_errors: _Optional[_Iterable[_Union[ImportRowError, _Mapping]]] = ...) -> None: ...

class ImportSummary(_message.Message):
    __slots__ = ("dry_run", "rows_total", "rows_failed", "products_created", "products_updated", "products_unchanged", "variants_created", "variants_updated", "variants_unchanged", "errors", "errors_truncated")
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ROWS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ROWS_FAILED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_CREATED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_CREATED_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    rows_total: int
    rows_failed: int
    products_created: int
    products_updated: int
    products_unchanged: int
    variants_created: int
    variants_updated: int
    variants_unchanged: int
    errors: _containers.RepeatedCompositeFieldContainer[ImportRowError]
    errors_truncated: bool
    def __init__(self, dry_run: _Optional[bool] = ..., rows_total: _Optional[int] = ..., rows_failed: _Optional[int] = ..., products_created: _Optional[int] = ..., products_updated: _Optional[int] = ..., products_unchanged: _Optional[int] = ..., variants_created: _Optional[int] = ..., variants_updated: _Optional[int] = ..., variants_unchanged: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ImportRowError, _Mapping]]] = ..., errors_truncated: _Optional[bool] = ...) -> None: ...

class ImportProductsResponse(_message.Message):
    __slots__ = ("progress", "summary")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    progress: ImportProgress
    summary: ImportSummary
    def __init__(self, progress: _Optional[_Union[ImportProgress, _Mapping]] = ..., summary: _Optional[_Union[ImportSummary, _Mapping]] = ...) -> None: ...

class ImportProductsCsvRequest(_message.Message):
    __slots__ = ("csv", "dry_run")
    CSV_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    csv: bytes
    dry_run: bool
    def __init__(self, csv: _Optional[bytes] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ExportProductsRequest(_message.Message):
    __slots__ = ("statuses", "brand_slugs", "category_slugs")
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    BRAND_SLUGS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_SLUGS_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[str]
    brand_slugs: _containers.RepeatedScalarFieldContainer[str]
    category_slugs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, statuses: _Optional[_Iterable[str]] = ..., brand_slugs: _Optional[_Iterable[str]] = ..., category_slugs: _Optional[_Iterable[str]] = ...) -> None: ...

class ExportProductsResponse(_message.Message):
    __slots__ = ("chunk", "rows")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    rows: int
    def __init__(self, chunk: _Optional[bytes] = ..., rows: _Optional[int] = ...) -> None: ...
