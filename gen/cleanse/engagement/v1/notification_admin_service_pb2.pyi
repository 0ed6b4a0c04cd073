from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.engagement.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListNotificationTemplatesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "event_type", "channel")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    event_type: str
    channel: _resources_pb2.Channel
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., event_type: _Optional[str] = ..., channel: _Optional[_Union[_resources_pb2.Channel, str]] = ...) -> None: ...

class ListNotificationTemplatesResponse(_message.Message):
    __slots__ = ("notification_templates", "next_page_token")
    NOTIFICATION_TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notification_templates: _containers.RepeatedCompositeFieldContainer[_resources_pb2.NotificationTemplate]
    next_page_token: str
    def __init__(self, notification_templates: _Optional[_Iterable[_Union[_resources_pb2.NotificationTemplate, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetNotificationTemplateRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ListNotificationTemplateVersionsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListNotificationTemplateVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[_resources_pb2.NotificationTemplate]
    def __init__(self, versions: _Optional[_Iterable[_Union[_resources_pb2.NotificationTemplate, _Mapping]]] = ...) -> None: ...

class CreateNotificationTemplateRequest(_message.Message):
    __slots__ = ("notification_template_id", "notification_template")
    NOTIFICATION_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    notification_template_id: str
    notification_template: _resources_pb2.NotificationTemplate
    def __init__(self, notification_template_id: _Optional[str] = ..., notification_template: _Optional[_Union[_resources_pb2.NotificationTemplate, _Mapping]] = ...) -> None: ...

class UpdateNotificationTemplateRequest(_message.Message):
    __slots__ = ("notification_template", "update_mask")
    NOTIFICATION_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    notification_template: _resources_pb2.NotificationTemplate
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, notification_template: _Optional[_Union[_resources_pb2.NotificationTemplate, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteNotificationTemplateRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class PreviewNotificationTemplateRequest(_message.Message):
    __slots__ = ("name", "data", "draft")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    name: str
    data: _struct_pb2.Struct
    draft: _resources_pb2.NotificationTemplate
    def __init__(self, name: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., draft: _Optional[_Union[_resources_pb2.NotificationTemplate, _Mapping]] = ...) -> None: ...

class PreviewNotificationTemplateResponse(_message.Message):
    __slots__ = ("subject", "text_body", "html_body", "version")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    subject: str
    text_body: str
    html_body: str
    version: int
    def __init__(self, subject: _Optional[str] = ..., text_body: _Optional[str] = ..., html_body: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "channel", "recipient", "event_type")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: _resources_pb2.NotificationStatus
    channel: _resources_pb2.Channel
    recipient: str
    event_type: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.NotificationStatus, str]] = ..., channel: _Optional[_Union[_resources_pb2.Channel, str]] = ..., recipient: _Optional[str] = ..., event_type: _Optional[str] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Notification]
    next_page_token: str
    def __init__(self, notifications: _Optional[_Iterable[_Union[_resources_pb2.Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetNotificationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RetryNotificationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
