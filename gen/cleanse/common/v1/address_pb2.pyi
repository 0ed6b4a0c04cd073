from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PostalAddress(_message.Message):
    __slots__ = ("recipient_name", "phone", "line1", "line2", "landmark", "city", "state_code", "pincode", "country_code")
    RECIPIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    LINE1_FIELD_NUMBER: _ClassVar[int]
    LINE2_FIELD_NUMBER: _ClassVar[int]
    LANDMARK_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    recipient_name: str
    phone: str
    line1: str
    line2: str
    landmark: str
    city: str
    state_code: str
    pincode: str
    country_code: str
    def __init__(self, recipient_name: _Optional[str] = ..., phone: _Optional[str] = ..., line1: _Optional[str] = ..., line2: _Optional[str] = ..., landmark: _Optional[str] = ..., city: _Optional[str] = ..., state_code: _Optional[str] = ..., pincode: _Optional[str] = ..., country_code: _Optional[str] = ...) -> None: ...
