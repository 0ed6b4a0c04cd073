from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.shipping.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckPincodeRequest(_message.Message):
    __slots__ = ("pincode",)
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    pincode: str
    def __init__(self, pincode: _Optional[str] = ...) -> None: ...

class DeliveryOption(_message.Message):
    __slots__ = ("kind", "display_name", "estimated_days", "cod_available")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_DAYS_FIELD_NUMBER: _ClassVar[int]
    COD_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    kind: _resources_pb2.MethodKind
    display_name: str
    estimated_days: int
    cod_available: bool
    def __init__(self, kind: _Optional[_Union[_resources_pb2.MethodKind, str]] = ..., display_name: _Optional[str] = ..., estimated_days: _Optional[int] = ..., cod_available: _Optional[bool] = ...) -> None: ...

class CheckPincodeResponse(_message.Message):
    __slots__ = ("pincode", "state_code", "city", "serviceable", "cod_available", "estimated_days", "options")
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    SERVICEABLE_FIELD_NUMBER: _ClassVar[int]
    COD_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_DAYS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    pincode: str
    state_code: str
    city: str
    serviceable: bool
    cod_available: bool
    estimated_days: int
    options: _containers.RepeatedCompositeFieldContainer[DeliveryOption]
    def __init__(self, pincode: _Optional[str] = ..., state_code: _Optional[str] = ..., city: _Optional[str] = ..., serviceable: _Optional[bool] = ..., cod_available: _Optional[bool] = ..., estimated_days: _Optional[int] = ..., options: _Optional[_Iterable[_Union[DeliveryOption, _Mapping]]] = ...) -> None: ...
