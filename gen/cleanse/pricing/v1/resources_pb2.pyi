import datetime

from cleanse.common.v1 import money_pb2 as _money_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DiscountKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCOUNT_KIND_UNSPECIFIED: _ClassVar[DiscountKind]
    DISCOUNT_KIND_PERCENTAGE: _ClassVar[DiscountKind]
    DISCOUNT_KIND_FLAT: _ClassVar[DiscountKind]
    DISCOUNT_KIND_FREE_SHIPPING: _ClassVar[DiscountKind]
    DISCOUNT_KIND_BUY_X_GET_Y: _ClassVar[DiscountKind]
DISCOUNT_KIND_UNSPECIFIED: DiscountKind
DISCOUNT_KIND_PERCENTAGE: DiscountKind
DISCOUNT_KIND_FLAT: DiscountKind
DISCOUNT_KIND_FREE_SHIPPING: DiscountKind
DISCOUNT_KIND_BUY_X_GET_Y: DiscountKind

class Eligibility(_message.Message):
    __slots__ = ("product_ids", "variant_ids", "category_ids", "collection_ids", "brand_ids", "tags", "exclude_product_ids", "exclude_variant_ids", "exclude_category_ids", "exclude_collection_ids")
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    VARIANT_IDS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_IDS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    BRAND_IDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_VARIANT_IDS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_CATEGORY_IDS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_COLLECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    variant_ids: _containers.RepeatedScalarFieldContainer[str]
    category_ids: _containers.RepeatedScalarFieldContainer[str]
    collection_ids: _containers.RepeatedScalarFieldContainer[str]
    brand_ids: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    exclude_product_ids: _containers.RepeatedScalarFieldContainer[str]
    exclude_variant_ids: _containers.RepeatedScalarFieldContainer[str]
    exclude_category_ids: _containers.RepeatedScalarFieldContainer[str]
    exclude_collection_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, product_ids: _Optional[_Iterable[str]] = ..., variant_ids: _Optional[_Iterable[str]] = ..., category_ids: _Optional[_Iterable[str]] = ..., collection_ids: _Optional[_Iterable[str]] = ..., brand_ids: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., exclude_product_ids: _Optional[_Iterable[str]] = ..., exclude_variant_ids: _Optional[_Iterable[str]] = ..., exclude_category_ids: _Optional[_Iterable[str]] = ..., exclude_collection_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BuyXGetY(_message.Message):
    __slots__ = ("buy_quantity", "get_quantity", "get_discount_basis_points", "max_applications")
    BUY_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    GET_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    GET_DISCOUNT_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    MAX_APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    buy_quantity: int
    get_quantity: int
    get_discount_basis_points: int
    max_applications: int
    def __init__(self, buy_quantity: _Optional[int] = ..., get_quantity: _Optional[int] = ..., get_discount_basis_points: _Optional[int] = ..., max_applications: _Optional[int] = ...) -> None: ...

class Coupon(_message.Message):
    __slots__ = ("name", "code", "description", "kind", "percent_basis_points", "amount", "buy_x_get_y", "min_cart_value", "max_discount", "start_time", "end_time", "usage_limit", "per_customer_limit", "first_order_only", "customer_segments", "eligibility", "exclusive", "combination_group", "priority", "active", "listed", "times_used", "times_held", "created_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PERCENT_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BUY_X_GET_Y_FIELD_NUMBER: _ClassVar[int]
    MIN_CART_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    USAGE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PER_CUSTOMER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    FIRST_ORDER_ONLY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    ELIGIBILITY_FIELD_NUMBER: _ClassVar[int]
    EXCLUSIVE_FIELD_NUMBER: _ClassVar[int]
    COMBINATION_GROUP_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    LISTED_FIELD_NUMBER: _ClassVar[int]
    TIMES_USED_FIELD_NUMBER: _ClassVar[int]
    TIMES_HELD_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    code: str
    description: str
    kind: DiscountKind
    percent_basis_points: int
    amount: _money_pb2.Money
    buy_x_get_y: BuyXGetY
    min_cart_value: _money_pb2.Money
    max_discount: _money_pb2.Money
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    usage_limit: int
    per_customer_limit: int
    first_order_only: bool
    customer_segments: _containers.RepeatedScalarFieldContainer[str]
    eligibility: Eligibility
    exclusive: bool
    combination_group: str
    priority: int
    active: bool
    listed: bool
    times_used: int
    times_held: int
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., code: _Optional[str] = ..., description: _Optional[str] = ..., kind: _Optional[_Union[DiscountKind, str]] = ..., percent_basis_points: _Optional[int] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., buy_x_get_y: _Optional[_Union[BuyXGetY, _Mapping]] = ..., min_cart_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., usage_limit: _Optional[int] = ..., per_customer_limit: _Optional[int] = ..., first_order_only: _Optional[bool] = ..., customer_segments: _Optional[_Iterable[str]] = ..., eligibility: _Optional[_Union[Eligibility, _Mapping]] = ..., exclusive: _Optional[bool] = ..., combination_group: _Optional[str] = ..., priority: _Optional[int] = ..., active: _Optional[bool] = ..., listed: _Optional[bool] = ..., times_used: _Optional[int] = ..., times_held: _Optional[int] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AutomaticDiscount(_message.Message):
    __slots__ = ("name", "title", "kind", "percent_basis_points", "amount", "buy_x_get_y", "min_cart_value", "min_quantity", "max_discount", "start_time", "end_time", "eligibility", "priority", "active", "combines_with_coupons", "created_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PERCENT_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BUY_X_GET_Y_FIELD_NUMBER: _ClassVar[int]
    MIN_CART_VALUE_FIELD_NUMBER: _ClassVar[int]
    MIN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    MAX_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ELIGIBILITY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    COMBINES_WITH_COUPONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    kind: DiscountKind
    percent_basis_points: int
    amount: _money_pb2.Money
    buy_x_get_y: BuyXGetY
    min_cart_value: _money_pb2.Money
    min_quantity: int
    max_discount: _money_pb2.Money
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    eligibility: Eligibility
    priority: int
    active: bool
    combines_with_coupons: bool
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., kind: _Optional[_Union[DiscountKind, str]] = ..., percent_basis_points: _Optional[int] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., buy_x_get_y: _Optional[_Union[BuyXGetY, _Mapping]] = ..., min_cart_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., min_quantity: _Optional[int] = ..., max_discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., eligibility: _Optional[_Union[Eligibility, _Mapping]] = ..., priority: _Optional[int] = ..., active: _Optional[bool] = ..., combines_with_coupons: _Optional[bool] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TierDiscount(_message.Message):
    __slots__ = ("name", "title", "min_subtotal", "percent_basis_points", "max_discount", "start_time", "end_time", "active", "created_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MIN_SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    PERCENT_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    MAX_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    min_subtotal: _money_pb2.Money
    percent_basis_points: int
    max_discount: _money_pb2.Money
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    active: bool
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., min_subtotal: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., percent_basis_points: _Optional[int] = ..., max_discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., active: _Optional[bool] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FreeGiftRule(_message.Message):
    __slots__ = ("name", "title", "min_subtotal", "gift_variant_id", "gift_quantity", "start_time", "end_time", "priority", "active", "created_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MIN_SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    GIFT_VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    GIFT_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    min_subtotal: _money_pb2.Money
    gift_variant_id: str
    gift_quantity: int
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    priority: int
    active: bool
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., min_subtotal: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., gift_variant_id: _Optional[str] = ..., gift_quantity: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[int] = ..., active: _Optional[bool] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PricingSettings(_message.Message):
    __slots__ = ("name", "stacking_cap_basis_points", "updated_by", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STACKING_CAP_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    stacking_cap_basis_points: int
    updated_by: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., stacking_cap_basis_points: _Optional[int] = ..., updated_by: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
