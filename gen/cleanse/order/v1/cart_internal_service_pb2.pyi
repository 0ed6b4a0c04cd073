import datetime

from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListAbandonedCartsRequest(_message.Message):
    __slots__ = ("idle_since", "page_size", "page_token")
    IDLE_SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    idle_since: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, idle_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAbandonedCartsResponse(_message.Message):
    __slots__ = ("carts", "next_page_token")
    CARTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    carts: _containers.RepeatedCompositeFieldContainer[AbandonedCart]
    next_page_token: str
    def __init__(self, carts: _Optional[_Iterable[_Union[AbandonedCart, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AbandonedCart(_message.Message):
    __slots__ = ("cart", "update_time", "user", "email", "phone", "customer_name", "item_count", "subtotal")
    CART_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_NAME_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    cart: str
    update_time: _timestamp_pb2.Timestamp
    user: str
    email: str
    phone: str
    customer_name: str
    item_count: int
    subtotal: _money_pb2.Money
    def __init__(self, cart: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., customer_name: _Optional[str] = ..., item_count: _Optional[int] = ..., subtotal: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...
