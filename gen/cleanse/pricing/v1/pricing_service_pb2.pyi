from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.pricing.v1 import breakdown_pb2 as _breakdown_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CalculatePriceRequest(_message.Message):
    __slots__ = ("cart", "customer")
    CART_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    cart: _breakdown_pb2.Cart
    customer: str
    def __init__(self, cart: _Optional[_Union[_breakdown_pb2.Cart, _Mapping]] = ..., customer: _Optional[str] = ...) -> None: ...

class SuggestCouponsRequest(_message.Message):
    __slots__ = ("cart", "customer")
    CART_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    cart: _breakdown_pb2.Cart
    customer: str
    def __init__(self, cart: _Optional[_Union[_breakdown_pb2.Cart, _Mapping]] = ..., customer: _Optional[str] = ...) -> None: ...

class CouponSuggestion(_message.Message):
    __slots__ = ("code", "description", "savings", "total", "applicable", "rejection", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SAVINGS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    APPLICABLE_FIELD_NUMBER: _ClassVar[int]
    REJECTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    description: str
    savings: _money_pb2.Money
    total: _money_pb2.Money
    applicable: bool
    rejection: _breakdown_pb2.CouponRejection
    message: str
    def __init__(self, code: _Optional[str] = ..., description: _Optional[str] = ..., savings: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., applicable: _Optional[bool] = ..., rejection: _Optional[_Union[_breakdown_pb2.CouponRejection, str]] = ..., message: _Optional[str] = ...) -> None: ...

class SuggestCouponsResponse(_message.Message):
    __slots__ = ("suggestions", "best_code")
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    BEST_CODE_FIELD_NUMBER: _ClassVar[int]
    suggestions: _containers.RepeatedCompositeFieldContainer[CouponSuggestion]
    best_code: str
    def __init__(self, suggestions: _Optional[_Iterable[_Union[CouponSuggestion, _Mapping]]] = ..., best_code: _Optional[str] = ...) -> None: ...

class ListPromotionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Promotion(_message.Message):
    __slots__ = ("kind", "rule", "title", "threshold", "percent_basis_points", "gift_variant_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PERCENT_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    GIFT_VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    kind: _breakdown_pb2.ProgressKind
    rule: str
    title: str
    threshold: _money_pb2.Money
    percent_basis_points: int
    gift_variant_id: str
    def __init__(self, kind: _Optional[_Union[_breakdown_pb2.ProgressKind, str]] = ..., rule: _Optional[str] = ..., title: _Optional[str] = ..., threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., percent_basis_points: _Optional[int] = ..., gift_variant_id: _Optional[str] = ...) -> None: ...

class ListPromotionsResponse(_message.Message):
    __slots__ = ("promotions",)
    PROMOTIONS_FIELD_NUMBER: _ClassVar[int]
    promotions: _containers.RepeatedCompositeFieldContainer[Promotion]
    def __init__(self, promotions: _Optional[_Iterable[_Union[Promotion, _Mapping]]] = ...) -> None: ...
