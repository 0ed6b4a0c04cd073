import datetime

from cleanse.common.v1 import access_pb2 as _access_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnalyticsEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANALYTICS_EVENT_TYPE_UNSPECIFIED: _ClassVar[AnalyticsEventType]
    ANALYTICS_EVENT_TYPE_PAGE_VIEW: _ClassVar[AnalyticsEventType]
    ANALYTICS_EVENT_TYPE_PRODUCT_VIEW: _ClassVar[AnalyticsEventType]
    ANALYTICS_EVENT_TYPE_SEARCH: _ClassVar[AnalyticsEventType]
    ANALYTICS_EVENT_TYPE_ADD_TO_CART: _ClassVar[AnalyticsEventType]
    ANALYTICS_EVENT_TYPE_CHECKOUT_STEP: _ClassVar[AnalyticsEventType]
    ANALYTICS_EVENT_TYPE_PURCHASE: _ClassVar[AnalyticsEventType]

class ProductRanking(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRODUCT_RANKING_UNSPECIFIED: _ClassVar[ProductRanking]
    PRODUCT_RANKING_VIEWS: _ClassVar[ProductRanking]
    PRODUCT_RANKING_ADDS_TO_CART: _ClassVar[ProductRanking]
    PRODUCT_RANKING_PURCHASES: _ClassVar[ProductRanking]
ANALYTICS_EVENT_TYPE_UNSPECIFIED: AnalyticsEventType
ANALYTICS_EVENT_TYPE_PAGE_VIEW: AnalyticsEventType
ANALYTICS_EVENT_TYPE_PRODUCT_VIEW: AnalyticsEventType
ANALYTICS_EVENT_TYPE_SEARCH: AnalyticsEventType
ANALYTICS_EVENT_TYPE_ADD_TO_CART: AnalyticsEventType
ANALYTICS_EVENT_TYPE_CHECKOUT_STEP: AnalyticsEventType
ANALYTICS_EVENT_TYPE_PURCHASE: AnalyticsEventType
PRODUCT_RANKING_UNSPECIFIED: ProductRanking
PRODUCT_RANKING_VIEWS: ProductRanking
PRODUCT_RANKING_ADDS_TO_CART: ProductRanking
PRODUCT_RANKING_PURCHASES: ProductRanking

class AnalyticsEvent(_message.Message):
    __slots__ = ("type", "anonymous_id", "session_id", "client_time", "properties", "user")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ANONYMOUS_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    type: AnalyticsEventType
    anonymous_id: str
    session_id: str
    client_time: _timestamp_pb2.Timestamp
    properties: _containers.ScalarMap[str, str]
    user: str
    def __init__(self, type: _Optional[_Union[AnalyticsEventType, str]] = ..., anonymous_id: _Optional[str] = ..., session_id: _Optional[str] = ..., client_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., properties: _Optional[_Mapping[str, str]] = ..., user: _Optional[str] = ...) -> None: ...

class IngestEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AnalyticsEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[AnalyticsEvent, _Mapping]]] = ...) -> None: ...

class IngestEventsResponse(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    def __init__(self, accepted: _Optional[int] = ...) -> None: ...

class GetFunnelReportRequest(_message.Message):
    __slots__ = ("start_date", "end_date")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    def __init__(self, start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class FunnelDay(_message.Message):
    __slots__ = ("date", "product_view_sessions", "add_to_cart_sessions", "checkout_sessions", "purchase_sessions")
    DATE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_VIEW_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    ADD_TO_CART_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    date: _date_pb2.Date
    product_view_sessions: int
    add_to_cart_sessions: int
    checkout_sessions: int
    purchase_sessions: int
    def __init__(self, date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., product_view_sessions: _Optional[int] = ..., add_to_cart_sessions: _Optional[int] = ..., checkout_sessions: _Optional[int] = ..., purchase_sessions: _Optional[int] = ...) -> None: ...

class FunnelReport(_message.Message):
    __slots__ = ("days", "total")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedCompositeFieldContainer[FunnelDay]
    total: FunnelDay
    def __init__(self, days: _Optional[_Iterable[_Union[FunnelDay, _Mapping]]] = ..., total: _Optional[_Union[FunnelDay, _Mapping]] = ...) -> None: ...

class GetTopProductsReportRequest(_message.Message):
    __slots__ = ("start_date", "end_date", "rank_by", "limit")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    RANK_BY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    rank_by: ProductRanking
    limit: int
    def __init__(self, start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., rank_by: _Optional[_Union[ProductRanking, str]] = ..., limit: _Optional[int] = ...) -> None: ...

class ProductStats(_message.Message):
    __slots__ = ("product_id", "views", "adds_to_cart", "purchases")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    ADDS_TO_CART_FIELD_NUMBER: _ClassVar[int]
    PURCHASES_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    views: int
    adds_to_cart: int
    purchases: int
    def __init__(self, product_id: _Optional[str] = ..., views: _Optional[int] = ..., adds_to_cart: _Optional[int] = ..., purchases: _Optional[int] = ...) -> None: ...

class TopProductsReport(_message.Message):
    __slots__ = ("products",)
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[ProductStats]
    def __init__(self, products: _Optional[_Iterable[_Union[ProductStats, _Mapping]]] = ...) -> None: ...
