from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
FORWARD_HEADERS_FIELD_NUMBER: _ClassVar[int]
forward_headers: _descriptor.FieldDescriptor

class ForwardHeaders(_message.Message):
    __slots__ = ("names", "max_value_bytes")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    max_value_bytes: int
    def __init__(self, names: _Optional[_Iterable[str]] = ..., max_value_bytes: _Optional[int] = ...) -> None: ...
