from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.order.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateCheckoutSessionRequest(_message.Message):
    __slots__ = ("cart", "cart_token", "delivery_address", "email", "phone", "shipping_option", "payment_method", "coupon_codes", "saved_address")
    CART_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_OPTION_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODES_FIELD_NUMBER: _ClassVar[int]
    SAVED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    cart: str
    cart_token: str
    delivery_address: _address_pb2.PostalAddress
    email: str
    phone: str
    shipping_option: str
    payment_method: str
    coupon_codes: _containers.RepeatedScalarFieldContainer[str]
    saved_address: str
    def __init__(self, cart: _Optional[str] = ..., cart_token: _Optional[str] = ..., delivery_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., shipping_option: _Optional[str] = ..., payment_method: _Optional[str] = ..., coupon_codes: _Optional[_Iterable[str]] = ..., saved_address: _Optional[str] = ...) -> None: ...

class GetCheckoutSessionRequest(_message.Message):
    __slots__ = ("name", "cart_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    cart_token: str
    def __init__(self, name: _Optional[str] = ..., cart_token: _Optional[str] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("checkout_session", "request_id", "cart_token")
    CHECKOUT_SESSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    checkout_session: str
    request_id: str
    cart_token: str
    def __init__(self, checkout_session: _Optional[str] = ..., request_id: _Optional[str] = ..., cart_token: _Optional[str] = ...) -> None: ...

class ConfirmPaymentRequest(_message.Message):
    __slots__ = ("order", "provider_order_id", "provider_payment_id", "signature", "cart_token")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    order: str
    provider_order_id: str
    provider_payment_id: str
    signature: str
    cart_token: str
    def __init__(self, order: _Optional[str] = ..., provider_order_id: _Optional[str] = ..., provider_payment_id: _Optional[str] = ..., signature: _Optional[str] = ..., cart_token: _Optional[str] = ...) -> None: ...
