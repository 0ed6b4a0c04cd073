from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
PAGE_LIMITS_FIELD_NUMBER: _ClassVar[int]
page_limits: _descriptor.FieldDescriptor

class PageLimits(_message.Message):
    __slots__ = ("default_size", "max_size")
    DEFAULT_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    default_size: int
    max_size: int
    def __init__(self, default_size: _Optional[int] = ..., max_size: _Optional[int] = ...) -> None: ...
