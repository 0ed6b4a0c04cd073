from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.pricing.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListCouponsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "code_prefix", "active_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CODE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    code_prefix: str
    active_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., code_prefix: _Optional[str] = ..., active_only: _Optional[bool] = ...) -> None: ...

class ListCouponsResponse(_message.Message):
    __slots__ = ("coupons", "next_page_token")
    COUPONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    coupons: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Coupon]
    next_page_token: str
    def __init__(self, coupons: _Optional[_Iterable[_Union[_resources_pb2.Coupon, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCouponRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateCouponRequest(_message.Message):
    __slots__ = ("coupon",)
    COUPON_FIELD_NUMBER: _ClassVar[int]
    coupon: _resources_pb2.Coupon
    def __init__(self, coupon: _Optional[_Union[_resources_pb2.Coupon, _Mapping]] = ...) -> None: ...

class UpdateCouponRequest(_message.Message):
    __slots__ = ("coupon", "update_mask")
    COUPON_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    coupon: _resources_pb2.Coupon
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, coupon: _Optional[_Union[_resources_pb2.Coupon, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteCouponRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListAutomaticDiscountsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "active_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    active_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., active_only: _Optional[bool] = ...) -> None: ...

class ListAutomaticDiscountsResponse(_message.Message):
    __slots__ = ("automatic_discounts", "next_page_token")
    AUTOMATIC_DISCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    automatic_discounts: _containers.RepeatedCompositeFieldContainer[_resources_pb2.AutomaticDiscount]
    next_page_token: str
    def __init__(self, automatic_discounts: _Optional[_Iterable[_Union[_resources_pb2.AutomaticDiscount, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetAutomaticDiscountRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateAutomaticDiscountRequest(_message.Message):
    __slots__ = ("automatic_discount",)
    AUTOMATIC_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    automatic_discount: _resources_pb2.AutomaticDiscount
    def __init__(self, automatic_discount: _Optional[_Union[_resources_pb2.AutomaticDiscount, _Mapping]] = ...) -> None: ...

class UpdateAutomaticDiscountRequest(_message.Message):
    __slots__ = ("automatic_discount", "update_mask")
    AUTOMATIC_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    automatic_discount: _resources_pb2.AutomaticDiscount
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, automatic_discount: _Optional[_Union[_resources_pb2.AutomaticDiscount, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteAutomaticDiscountRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListTierDiscountsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "active_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    active_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., active_only: _Optional[bool] = ...) -> None: ...

class ListTierDiscountsResponse(_message.Message):
    __slots__ = ("tier_discounts", "next_page_token")
    TIER_DISCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tier_discounts: _containers.RepeatedCompositeFieldContainer[_resources_pb2.TierDiscount]
    next_page_token: str
    def __init__(self, tier_discounts: _Optional[_Iterable[_Union[_resources_pb2.TierDiscount, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTierDiscountRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateTierDiscountRequest(_message.Message):
    __slots__ = ("tier_discount",)
    TIER_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    tier_discount: _resources_pb2.TierDiscount
    def __init__(self, tier_discount: _Optional[_Union[_resources_pb2.TierDiscount, _Mapping]] = ...) -> None: ...

class UpdateTierDiscountRequest(_message.Message):
    __slots__ = ("tier_discount", "update_mask")
    TIER_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tier_discount: _resources_pb2.TierDiscount
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tier_discount: _Optional[_Union[_resources_pb2.TierDiscount, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteTierDiscountRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListFreeGiftRulesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "active_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    active_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., active_only: _Optional[bool] = ...) -> None: ...

class ListFreeGiftRulesResponse(_message.Message):
    __slots__ = ("free_gift_rules", "next_page_token")
    FREE_GIFT_RULES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    free_gift_rules: _containers.RepeatedCompositeFieldContainer[_resources_pb2.FreeGiftRule]
    next_page_token: str
    def __init__(self, free_gift_rules: _Optional[_Iterable[_Union[_resources_pb2.FreeGiftRule, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetFreeGiftRuleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateFreeGiftRuleRequest(_message.Message):
    __slots__ = ("free_gift_rule",)
    FREE_GIFT_RULE_FIELD_NUMBER: _ClassVar[int]
    free_gift_rule: _resources_pb2.FreeGiftRule
    def __init__(self, free_gift_rule: _Optional[_Union[_resources_pb2.FreeGiftRule, _Mapping]] = ...) -> None: ...

class UpdateFreeGiftRuleRequest(_message.Message):
    __slots__ = ("free_gift_rule", "update_mask")
    FREE_GIFT_RULE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    free_gift_rule: _resources_pb2.FreeGiftRule
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, free_gift_rule: _Optional[_Union[_resources_pb2.FreeGiftRule, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteFreeGiftRuleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetPricingSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdatePricingSettingsRequest(_message.Message):
    __slots__ = ("pricing_settings", "update_mask")
    PRICING_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    pricing_settings: _resources_pb2.PricingSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, pricing_settings: _Optional[_Union[_resources_pb2.PricingSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
