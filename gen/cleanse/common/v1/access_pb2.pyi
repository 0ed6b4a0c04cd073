from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Audience(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIENCE_UNSPECIFIED: _ClassVar[Audience]
    AUDIENCE_PUBLIC: _ClassVar[Audience]
    AUDIENCE_CUSTOMER: _ClassVar[Audience]
    AUDIENCE_ADMIN: _ClassVar[Audience]
    AUDIENCE_INTERNAL: _ClassVar[Audience]
AUDIENCE_UNSPECIFIED: Audience
AUDIENCE_PUBLIC: Audience
AUDIENCE_CUSTOMER: Audience
AUDIENCE_ADMIN: Audience
AUDIENCE_INTERNAL: Audience
ACCESS_FIELD_NUMBER: _ClassVar[int]
access: _descriptor.FieldDescriptor

class AccessPolicy(_message.Message):
    __slots__ = ("audience", "permission", "allow_admin")
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_ADMIN_FIELD_NUMBER: _ClassVar[int]
    audience: Audience
    permission: str
    allow_admin: bool
    def __init__(self, audience: _Optional[_Union[Audience, str]] = ..., permission: _Optional[str] = ..., allow_admin: _Optional[bool] = ...) -> None: ...
