import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
    CHANNEL_SMS: _ClassVar[Channel]

class NotificationCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_CATEGORY_UNSPECIFIED: _ClassVar[NotificationCategory]
    NOTIFICATION_CATEGORY_TRANSACTIONAL: _ClassVar[NotificationCategory]
    NOTIFICATION_CATEGORY_MARKETING: _ClassVar[NotificationCategory]

class NotificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_STATUS_UNSPECIFIED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_PENDING: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SENT: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_RETRYING: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_DEAD_LETTER: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SUPPRESSED: _ClassVar[NotificationStatus]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_EMAIL: Channel
CHANNEL_SMS: Channel
NOTIFICATION_CATEGORY_UNSPECIFIED: NotificationCategory
NOTIFICATION_CATEGORY_TRANSACTIONAL: NotificationCategory
NOTIFICATION_CATEGORY_MARKETING: NotificationCategory
NOTIFICATION_STATUS_UNSPECIFIED: NotificationStatus
NOTIFICATION_STATUS_PENDING: NotificationStatus
NOTIFICATION_STATUS_SENT: NotificationStatus
NOTIFICATION_STATUS_RETRYING: NotificationStatus
NOTIFICATION_STATUS_DEAD_LETTER: NotificationStatus
NOTIFICATION_STATUS_SUPPRESSED: NotificationStatus

class NotificationTemplate(_message.Message):
    __slots__ = ("name", "event_type", "channel", "category", "display_name", "subject", "text_body", "html_body", "provider_template_id", "active", "version", "create_time", "update_time", "updated_by")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    event_type: str
    channel: Channel
    category: NotificationCategory
    display_name: str
    subject: str
    text_body: str
    html_body: str
    provider_template_id: str
    active: bool
    version: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, name: _Optional[str] = ..., event_type: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., category: _Optional[_Union[NotificationCategory, str]] = ..., display_name: _Optional[str] = ..., subject: _Optional[str] = ..., text_body: _Optional[str] = ..., html_body: _Optional[str] = ..., provider_template_id: _Optional[str] = ..., active: _Optional[bool] = ..., version: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("name", "event_id", "event_type", "channel", "category", "recipient", "user", "template", "template_version", "subject", "status", "attempts", "last_error", "provider_message_id", "next_attempt_time", "create_time", "update_time", "sent_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SENT_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    event_id: str
    event_type: str
    channel: Channel
    category: NotificationCategory
    recipient: str
    user: str
    template: str
    template_version: int
    subject: str
    status: NotificationStatus
    attempts: int
    last_error: str
    provider_message_id: str
    next_attempt_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    sent_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., category: _Optional[_Union[NotificationCategory, str]] = ..., recipient: _Optional[str] = ..., user: _Optional[str] = ..., template: _Optional[str] = ..., template_version: _Optional[int] = ..., subject: _Optional[str] = ..., status: _Optional[_Union[NotificationStatus, str]] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NotificationPreferences(_message.Message):
    __slots__ = ("name", "email_marketing", "sms_marketing", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_MARKETING_FIELD_NUMBER: _ClassVar[int]
    SMS_MARKETING_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    email_marketing: bool
    sms_marketing: bool
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., email_marketing: _Optional[bool] = ..., sms_marketing: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
