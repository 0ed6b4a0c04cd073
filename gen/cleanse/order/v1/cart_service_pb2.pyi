from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.order.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class CreateCartRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCartRequest(_message.Message):
    __slots__ = ("name", "cart_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    cart_token: str
    def __init__(self, name: _Optional[str] = ..., cart_token: _Optional[str] = ...) -> None: ...

class AddCartLineRequest(_message.Message):
    __slots__ = ("name", "cart_token", "variant_id", "quantity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    cart_token: str
    variant_id: str
    quantity: int
    def __init__(self, name: _Optional[str] = ..., cart_token: _Optional[str] = ..., variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class UpdateCartLineRequest(_message.Message):
    __slots__ = ("name", "cart_token", "variant_id", "quantity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    cart_token: str
    variant_id: str
    quantity: int
    def __init__(self, name: _Optional[str] = ..., cart_token: _Optional[str] = ..., variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class RemoveCartLineRequest(_message.Message):
    __slots__ = ("name", "cart_token", "variant_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    cart_token: str
    variant_id: str
    def __init__(self, name: _Optional[str] = ..., cart_token: _Optional[str] = ..., variant_id: _Optional[str] = ...) -> None: ...

class MergeCartRequest(_message.Message):
    __slots__ = ("guest_cart", "cart_token")
    GUEST_CART_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    guest_cart: str
    cart_token: str
    def __init__(self, guest_cart: _Optional[str] = ..., cart_token: _Optional[str] = ...) -> None: ...
