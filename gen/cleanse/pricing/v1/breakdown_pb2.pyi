from cleanse.common.v1 import money_pb2 as _money_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DiscountSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCOUNT_SOURCE_UNSPECIFIED: _ClassVar[DiscountSource]
    DISCOUNT_SOURCE_COUPON: _ClassVar[DiscountSource]
    DISCOUNT_SOURCE_AUTOMATIC: _ClassVar[DiscountSource]
    DISCOUNT_SOURCE_TIER: _ClassVar[DiscountSource]

class CouponRejection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COUPON_REJECTION_UNSPECIFIED: _ClassVar[CouponRejection]
    COUPON_REJECTION_NOT_FOUND: _ClassVar[CouponRejection]
    COUPON_REJECTION_INACTIVE: _ClassVar[CouponRejection]
    COUPON_REJECTION_NOT_STARTED: _ClassVar[CouponRejection]
    COUPON_REJECTION_EXPIRED: _ClassVar[CouponRejection]
    COUPON_REJECTION_MIN_CART_VALUE: _ClassVar[CouponRejection]
    COUPON_REJECTION_EXHAUSTED: _ClassVar[CouponRejection]
    COUPON_REJECTION_CUSTOMER_LIMIT: _ClassVar[CouponRejection]
    COUPON_REJECTION_FIRST_ORDER_ONLY: _ClassVar[CouponRejection]
    COUPON_REJECTION_SEGMENT: _ClassVar[CouponRejection]
    COUPON_REJECTION_LOGIN_REQUIRED: _ClassVar[CouponRejection]
    COUPON_REJECTION_NO_ELIGIBLE_ITEMS: _ClassVar[CouponRejection]
    COUPON_REJECTION_NOT_COMBINABLE: _ClassVar[CouponRejection]
    COUPON_REJECTION_NO_SAVINGS: _ClassVar[CouponRejection]

class ProgressKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROGRESS_KIND_UNSPECIFIED: _ClassVar[ProgressKind]
    PROGRESS_KIND_TIER: _ClassVar[ProgressKind]
    PROGRESS_KIND_FREE_GIFT: _ClassVar[ProgressKind]
    PROGRESS_KIND_FREE_SHIPPING: _ClassVar[ProgressKind]
DISCOUNT_SOURCE_UNSPECIFIED: DiscountSource
DISCOUNT_SOURCE_COUPON: DiscountSource
DISCOUNT_SOURCE_AUTOMATIC: DiscountSource
DISCOUNT_SOURCE_TIER: DiscountSource
COUPON_REJECTION_UNSPECIFIED: CouponRejection
COUPON_REJECTION_NOT_FOUND: CouponRejection
COUPON_REJECTION_INACTIVE: CouponRejection
COUPON_REJECTION_NOT_STARTED: CouponRejection
COUPON_REJECTION_EXPIRED: CouponRejection
COUPON_REJECTION_MIN_CART_VALUE: CouponRejection
COUPON_REJECTION_EXHAUSTED: CouponRejection
COUPON_REJECTION_CUSTOMER_LIMIT: CouponRejection
COUPON_REJECTION_FIRST_ORDER_ONLY: CouponRejection
COUPON_REJECTION_SEGMENT: CouponRejection
COUPON_REJECTION_LOGIN_REQUIRED: CouponRejection
COUPON_REJECTION_NO_ELIGIBLE_ITEMS: CouponRejection
COUPON_REJECTION_NOT_COMBINABLE: CouponRejection
COUPON_REJECTION_NO_SAVINGS: CouponRejection
PROGRESS_KIND_UNSPECIFIED: ProgressKind
PROGRESS_KIND_TIER: ProgressKind
PROGRESS_KIND_FREE_GIFT: ProgressKind
PROGRESS_KIND_FREE_SHIPPING: ProgressKind

class CartLine(_message.Message):
    __slots__ = ("variant_id", "quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Cart(_message.Message):
    __slots__ = ("lines", "coupon_codes", "delivery_pincode", "payment_method")
    LINES_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODES_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_PINCODE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    coupon_codes: _containers.RepeatedScalarFieldContainer[str]
    delivery_pincode: str
    payment_method: str
    def __init__(self, lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ..., coupon_codes: _Optional[_Iterable[str]] = ..., delivery_pincode: _Optional[str] = ..., payment_method: _Optional[str] = ...) -> None: ...

class AppliedDiscount(_message.Message):
    __slots__ = ("source", "rule", "code", "title", "amount", "capped")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CAPPED_FIELD_NUMBER: _ClassVar[int]
    source: DiscountSource
    rule: str
    code: str
    title: str
    amount: _money_pb2.Money
    capped: bool
    def __init__(self, source: _Optional[_Union[DiscountSource, str]] = ..., rule: _Optional[str] = ..., code: _Optional[str] = ..., title: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., capped: _Optional[bool] = ...) -> None: ...

class TaxAmounts(_message.Message):
    __slots__ = ("taxable_value", "cgst", "sgst", "igst", "total_tax")
    TAXABLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    CGST_FIELD_NUMBER: _ClassVar[int]
    SGST_FIELD_NUMBER: _ClassVar[int]
    IGST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TAX_FIELD_NUMBER: _ClassVar[int]
    taxable_value: _money_pb2.Money
    cgst: _money_pb2.Money
    sgst: _money_pb2.Money
    igst: _money_pb2.Money
    total_tax: _money_pb2.Money
    def __init__(self, taxable_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., cgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., sgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., igst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total_tax: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class PricedLine(_message.Message):
    __slots__ = ("variant_id", "product_id", "sku", "title", "quantity", "unit_mrp", "unit_price", "gross", "discounts", "discount_total", "net", "hsn_code", "gst_rate_basis_points", "tax_rule", "tax", "total", "free_gift", "gift_rule", "product_title", "variant_title")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_MRP_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    GROSS_FIELD_NUMBER: _ClassVar[int]
    DISCOUNTS_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    GST_RATE_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    TAX_RULE_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    FREE_GIFT_FIELD_NUMBER: _ClassVar[int]
    GIFT_RULE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TITLE_FIELD_NUMBER: _ClassVar[int]
    VARIANT_TITLE_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_mrp: _money_pb2.Money
    unit_price: _money_pb2.Money
    gross: _money_pb2.Money
    discounts: _containers.RepeatedCompositeFieldContainer[AppliedDiscount]
    discount_total: _money_pb2.Money
    net: _money_pb2.Money
    hsn_code: str
    gst_rate_basis_points: int
    tax_rule: str
    tax: TaxAmounts
    total: _money_pb2.Money
    free_gift: bool
    gift_rule: str
    product_title: str
    variant_title: str
    def __init__(self, variant_id: _Optional[str] = ..., product_id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., gross: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discounts: _Optional[_Iterable[_Union[AppliedDiscount, _Mapping]]] = ..., discount_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., net: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., hsn_code: _Optional[str] = ..., gst_rate_basis_points: _Optional[int] = ..., tax_rule: _Optional[str] = ..., tax: _Optional[_Union[TaxAmounts, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., free_gift: _Optional[bool] = ..., gift_rule: _Optional[str] = ..., product_title: _Optional[str] = ..., variant_title: _Optional[str] = ...) -> None: ...

class CouponResult(_message.Message):
    __slots__ = ("code", "applied", "coupon", "rejection", "message", "savings")
    CODE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    COUPON_FIELD_NUMBER: _ClassVar[int]
    REJECTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SAVINGS_FIELD_NUMBER: _ClassVar[int]
    code: str
    applied: bool
    coupon: str
    rejection: CouponRejection
    message: str
    savings: _money_pb2.Money
    def __init__(self, code: _Optional[str] = ..., applied: _Optional[bool] = ..., coupon: _Optional[str] = ..., rejection: _Optional[_Union[CouponRejection, str]] = ..., message: _Optional[str] = ..., savings: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class ShippingCharge(_message.Message):
    __slots__ = ("fee", "base_fee", "source", "free", "free_reason", "tax", "gst_rate_basis_points")
    FEE_FIELD_NUMBER: _ClassVar[int]
    BASE_FEE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    FREE_REASON_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    GST_RATE_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    fee: _money_pb2.Money
    base_fee: _money_pb2.Money
    source: str
    free: bool
    free_reason: str
    tax: TaxAmounts
    gst_rate_basis_points: int
    def __init__(self, fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., base_fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., source: _Optional[str] = ..., free: _Optional[bool] = ..., free_reason: _Optional[str] = ..., tax: _Optional[_Union[TaxAmounts, _Mapping]] = ..., gst_rate_basis_points: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("kind", "rule", "title", "threshold", "remaining", "percent_basis_points", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    PERCENT_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: ProgressKind
    rule: str
    title: str
    threshold: _money_pb2.Money
    remaining: _money_pb2.Money
    percent_basis_points: int
    message: str
    def __init__(self, kind: _Optional[_Union[ProgressKind, str]] = ..., rule: _Optional[str] = ..., title: _Optional[str] = ..., threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., remaining: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., percent_basis_points: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class PriceBreakdown(_message.Message):
    __slots__ = ("lines", "discounts", "coupons", "shipping", "cod_fee", "subtotal", "mrp_total", "discount_total", "tax", "total", "registered_state_code", "place_of_supply_state_code", "inter_state", "prices_include_tax", "progress", "payment_method_available", "messages", "currency_code", "cod_fee_tax", "cod_fee_gst_rate_basis_points")
    LINES_FIELD_NUMBER: _ClassVar[int]
    DISCOUNTS_FIELD_NUMBER: _ClassVar[int]
    COUPONS_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FIELD_NUMBER: _ClassVar[int]
    COD_FEE_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    MRP_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    PLACE_OF_SUPPLY_STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    INTER_STATE_FIELD_NUMBER: _ClassVar[int]
    PRICES_INCLUDE_TAX_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    COD_FEE_TAX_FIELD_NUMBER: _ClassVar[int]
    COD_FEE_GST_RATE_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[PricedLine]
    discounts: _containers.RepeatedCompositeFieldContainer[AppliedDiscount]
    coupons: _containers.RepeatedCompositeFieldContainer[CouponResult]
    shipping: ShippingCharge
    cod_fee: _money_pb2.Money
    subtotal: _money_pb2.Money
    mrp_total: _money_pb2.Money
    discount_total: _money_pb2.Money
    tax: TaxAmounts
    total: _money_pb2.Money
    registered_state_code: str
    place_of_supply_state_code: str
    inter_state: bool
    prices_include_tax: bool
    progress: _containers.RepeatedCompositeFieldContainer[Progress]
    payment_method_available: bool
    messages: _containers.RepeatedScalarFieldContainer[str]
    currency_code: str
    cod_fee_tax: TaxAmounts
    cod_fee_gst_rate_basis_points: int
    def __init__(self, lines: _Optional[_Iterable[_Union[PricedLine, _Mapping]]] = ..., discounts: _Optional[_Iterable[_Union[AppliedDiscount, _Mapping]]] = ..., coupons: _Optional[_Iterable[_Union[CouponResult, _Mapping]]] = ..., shipping: _Optional[_Union[ShippingCharge, _Mapping]] = ..., cod_fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., subtotal: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., mrp_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[TaxAmounts, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., registered_state_code: _Optional[str] = ..., place_of_supply_state_code: _Optional[str] = ..., inter_state: _Optional[bool] = ..., prices_include_tax: _Optional[bool] = ..., progress: _Optional[_Iterable[_Union[Progress, _Mapping]]] = ..., payment_method_available: _Optional[bool] = ..., messages: _Optional[_Iterable[str]] = ..., currency_code: _Optional[str] = ..., cod_fee_tax: _Optional[_Union[TaxAmounts, _Mapping]] = ..., cod_fee_gst_rate_basis_points: _Optional[int] = ...) -> None: ...
