from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.engagement.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetNotificationPreferencesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateNotificationPreferencesRequest(_message.Message):
    __slots__ = ("notification_preferences", "update_mask")
    NOTIFICATION_PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    notification_preferences: _resources_pb2.NotificationPreferences
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, notification_preferences: _Optional[_Union[_resources_pb2.NotificationPreferences, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
