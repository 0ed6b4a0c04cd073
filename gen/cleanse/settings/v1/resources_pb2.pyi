import datetime

from cleanse.common.v1 import address_pb2 as _address_pb2
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

class PaymentProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_PROVIDER_UNSPECIFIED: _ClassVar[PaymentProvider]
    PAYMENT_PROVIDER_RAZORPAY: _ClassVar[PaymentProvider]
    PAYMENT_PROVIDER_COD: _ClassVar[PaymentProvider]
PAYMENT_PROVIDER_UNSPECIFIED: PaymentProvider
PAYMENT_PROVIDER_RAZORPAY: PaymentProvider
PAYMENT_PROVIDER_COD: PaymentProvider

class StoreSettings(_message.Message):
    __slots__ = ("name", "store_name", "legal_name", "gstin", "registered_state_code", "invoice_prefix", "return_window_days", "flat_shipping_rate", "free_shipping_threshold", "currency_code", "support_email", "support_phone", "prices_include_tax", "update_time", "update_by", "registered_address")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STORE_NAME_FIELD_NUMBER: _ClassVar[int]
    LEGAL_NAME_FIELD_NUMBER: _ClassVar[int]
    GSTIN_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    INVOICE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    RETURN_WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    FLAT_SHIPPING_RATE_FIELD_NUMBER: _ClassVar[int]
    FREE_SHIPPING_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_PHONE_FIELD_NUMBER: _ClassVar[int]
    PRICES_INCLUDE_TAX_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_BY_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    store_name: str
    legal_name: str
    gstin: str
    registered_state_code: str
    invoice_prefix: str
    return_window_days: int
    flat_shipping_rate: _money_pb2.Money
    free_shipping_threshold: _money_pb2.Money
    currency_code: str
    support_email: str
    support_phone: str
    prices_include_tax: bool
    update_time: _timestamp_pb2.Timestamp
    update_by: str
    registered_address: _address_pb2.PostalAddress
    def __init__(self, name: _Optional[str] = ..., store_name: _Optional[str] = ..., legal_name: _Optional[str] = ..., gstin: _Optional[str] = ..., registered_state_code: _Optional[str] = ..., invoice_prefix: _Optional[str] = ..., return_window_days: _Optional[int] = ..., flat_shipping_rate: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., free_shipping_threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., currency_code: _Optional[str] = ..., support_email: _Optional[str] = ..., support_phone: _Optional[str] = ..., prices_include_tax: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_by: _Optional[str] = ..., registered_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ...) -> None: ...

class PublicStoreSettings(_message.Message):
    __slots__ = ("store_name", "currency_code", "support_email", "support_phone", "return_window_days", "flat_shipping_rate", "free_shipping_threshold", "prices_include_tax")
    STORE_NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_PHONE_FIELD_NUMBER: _ClassVar[int]
    RETURN_WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    FLAT_SHIPPING_RATE_FIELD_NUMBER: _ClassVar[int]
    FREE_SHIPPING_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PRICES_INCLUDE_TAX_FIELD_NUMBER: _ClassVar[int]
    store_name: str
    currency_code: str
    support_email: str
    support_phone: str
    return_window_days: int
    flat_shipping_rate: _money_pb2.Money
    free_shipping_threshold: _money_pb2.Money
    prices_include_tax: bool
    def __init__(self, store_name: _Optional[str] = ..., currency_code: _Optional[str] = ..., support_email: _Optional[str] = ..., support_phone: _Optional[str] = ..., return_window_days: _Optional[int] = ..., flat_shipping_rate: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., free_shipping_threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., prices_include_tax: _Optional[bool] = ...) -> None: ...

class TaxSlab(_message.Message):
    __slots__ = ("up_to_unit_price", "rate_basis_points")
    UP_TO_UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    RATE_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    up_to_unit_price: _money_pb2.Money
    rate_basis_points: int
    def __init__(self, up_to_unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., rate_basis_points: _Optional[int] = ...) -> None: ...

class TaxRateRule(_message.Message):
    __slots__ = ("name", "hsn_prefix", "tax_class", "slabs", "effective_from", "description", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HSN_PREFIX_FIELD_NUMBER: _ClassVar[int]
    TAX_CLASS_FIELD_NUMBER: _ClassVar[int]
    SLABS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    hsn_prefix: str
    tax_class: str
    slabs: _containers.RepeatedCompositeFieldContainer[TaxSlab]
    effective_from: _timestamp_pb2.Timestamp
    description: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., hsn_prefix: _Optional[str] = ..., tax_class: _Optional[str] = ..., slabs: _Optional[_Iterable[_Union[TaxSlab, _Mapping]]] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ("name", "display_name", "provider", "enabled", "display_order", "min_order_value", "max_order_value", "fee", "description", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ORDER_FIELD_NUMBER: _ClassVar[int]
    MIN_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    provider: PaymentProvider
    enabled: bool
    display_order: int
    min_order_value: _money_pb2.Money
    max_order_value: _money_pb2.Money
    fee: _money_pb2.Money
    description: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., provider: _Optional[_Union[PaymentProvider, str]] = ..., enabled: _Optional[bool] = ..., display_order: _Optional[int] = ..., min_order_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_order_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SegmentRules(_message.Message):
    __slots__ = ("min_total_spend", "max_total_spend", "min_order_count", "max_order_count", "state_codes", "cities", "signed_up_within_days", "signed_up_after", "signed_up_before", "any_tags", "all_tags")
    MIN_TOTAL_SPEND_FIELD_NUMBER: _ClassVar[int]
    MAX_TOTAL_SPEND_FIELD_NUMBER: _ClassVar[int]
    MIN_ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_CODES_FIELD_NUMBER: _ClassVar[int]
    CITIES_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_WITHIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_AFTER_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ANY_TAGS_FIELD_NUMBER: _ClassVar[int]
    ALL_TAGS_FIELD_NUMBER: _ClassVar[int]
    min_total_spend: _money_pb2.Money
    max_total_spend: _money_pb2.Money
    min_order_count: int
    max_order_count: int
    state_codes: _containers.RepeatedScalarFieldContainer[str]
    cities: _containers.RepeatedScalarFieldContainer[str]
    signed_up_within_days: int
    signed_up_after: _timestamp_pb2.Timestamp
    signed_up_before: _timestamp_pb2.Timestamp
    any_tags: _containers.RepeatedScalarFieldContainer[str]
    all_tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, min_total_spend: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_total_spend: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., min_order_count: _Optional[int] = ..., max_order_count: _Optional[int] = ..., state_codes: _Optional[_Iterable[str]] = ..., cities: _Optional[_Iterable[str]] = ..., signed_up_within_days: _Optional[int] = ..., signed_up_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signed_up_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., any_tags: _Optional[_Iterable[str]] = ..., all_tags: _Optional[_Iterable[str]] = ...) -> None: ...

class CustomerSegment(_message.Message):
    __slots__ = ("name", "display_name", "description", "rules", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    description: str
    rules: SegmentRules
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., rules: _Optional[_Union[SegmentRules, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CustomerProfile(_message.Message):
    __slots__ = ("name", "user", "total_spend", "order_count", "state_code", "city", "tags", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SPEND_FIELD_NUMBER: _ClassVar[int]
    ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    user: str
    total_spend: _money_pb2.Money
    order_count: int
    state_code: str
    city: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., user: _Optional[str] = ..., total_spend: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., order_count: _Optional[int] = ..., state_code: _Optional[str] = ..., city: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
