import datetime

from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.settings.v1 import resources_pb2 as _resources_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaxQuery(_message.Message):
    __slots__ = ("key", "hsn_code", "tax_class", "unit_price")
    KEY_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    TAX_CLASS_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    key: str
    hsn_code: str
    tax_class: str
    unit_price: _money_pb2.Money
    def __init__(self, key: _Optional[str] = ..., hsn_code: _Optional[str] = ..., tax_class: _Optional[str] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class ResolveTaxRatesRequest(_message.Message):
    __slots__ = ("queries", "at")
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    queries: _containers.RepeatedCompositeFieldContainer[TaxQuery]
    at: _timestamp_pb2.Timestamp
    def __init__(self, queries: _Optional[_Iterable[_Union[TaxQuery, _Mapping]]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TaxRate(_message.Message):
    __slots__ = ("key", "rate_basis_points", "rule", "slabs", "fallback", "unknown_tax_class")
    KEY_FIELD_NUMBER: _ClassVar[int]
    RATE_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    SLABS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_TAX_CLASS_FIELD_NUMBER: _ClassVar[int]
    key: str
    rate_basis_points: int
    rule: str
    slabs: _containers.RepeatedCompositeFieldContainer[_resources_pb2.TaxSlab]
    fallback: bool
    unknown_tax_class: bool
    def __init__(self, key: _Optional[str] = ..., rate_basis_points: _Optional[int] = ..., rule: _Optional[str] = ..., slabs: _Optional[_Iterable[_Union[_resources_pb2.TaxSlab, _Mapping]]] = ..., fallback: _Optional[bool] = ..., unknown_tax_class: _Optional[bool] = ...) -> None: ...

class ResolveTaxRatesResponse(_message.Message):
    __slots__ = ("rates",)
    RATES_FIELD_NUMBER: _ClassVar[int]
    rates: _containers.RepeatedCompositeFieldContainer[TaxRate]
    def __init__(self, rates: _Optional[_Iterable[_Union[TaxRate, _Mapping]]] = ...) -> None: ...

class ListTaxClassesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTaxClassesResponse(_message.Message):
    __slots__ = ("tax_classes",)
    TAX_CLASSES_FIELD_NUMBER: _ClassVar[int]
    tax_classes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tax_classes: _Optional[_Iterable[str]] = ...) -> None: ...

class ResolvePlaceOfSupplyRequest(_message.Message):
    __slots__ = ("pincode",)
    PINCODE_FIELD_NUMBER: _ClassVar[int]
    pincode: str
    def __init__(self, pincode: _Optional[str] = ...) -> None: ...

class ResolvePlaceOfSupplyResponse(_message.Message):
    __slots__ = ("state_code",)
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    state_code: str
    def __init__(self, state_code: _Optional[str] = ...) -> None: ...

class GetCheckoutConfigRequest(_message.Message):
    __slots__ = ("order_value",)
    ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    order_value: _money_pb2.Money
    def __init__(self, order_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class PaymentMethodConfig(_message.Message):
    __slots__ = ("code", "display_name", "enabled", "display_order", "min_order_value", "max_order_value", "fee")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ORDER_FIELD_NUMBER: _ClassVar[int]
    MIN_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    code: str
    display_name: str
    enabled: bool
    display_order: int
    min_order_value: _money_pb2.Money
    max_order_value: _money_pb2.Money
    fee: _money_pb2.Money
    def __init__(self, code: _Optional[str] = ..., display_name: _Optional[str] = ..., enabled: _Optional[bool] = ..., display_order: _Optional[int] = ..., min_order_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_order_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class CheckoutConfig(_message.Message):
    __slots__ = ("registered_state_code", "gstin", "prices_include_tax", "flat_shipping_rate", "free_shipping_threshold", "payment_methods", "return_window_days", "invoice_prefix", "currency_code", "store_name", "legal_name", "registered_address")
    REGISTERED_STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    GSTIN_FIELD_NUMBER: _ClassVar[int]
    PRICES_INCLUDE_TAX_FIELD_NUMBER: _ClassVar[int]
    FLAT_SHIPPING_RATE_FIELD_NUMBER: _ClassVar[int]
    FREE_SHIPPING_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    RETURN_WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    INVOICE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    STORE_NAME_FIELD_NUMBER: _ClassVar[int]
    LEGAL_NAME_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    registered_state_code: str
    gstin: str
    prices_include_tax: bool
    flat_shipping_rate: _money_pb2.Money
    free_shipping_threshold: _money_pb2.Money
    payment_methods: _containers.RepeatedCompositeFieldContainer[PaymentMethodConfig]
    return_window_days: int
    invoice_prefix: str
    currency_code: str
    store_name: str
    legal_name: str
    registered_address: _address_pb2.PostalAddress
    def __init__(self, registered_state_code: _Optional[str] = ..., gstin: _Optional[str] = ..., prices_include_tax: _Optional[bool] = ..., flat_shipping_rate: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., free_shipping_threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., payment_methods: _Optional[_Iterable[_Union[PaymentMethodConfig, _Mapping]]] = ..., return_window_days: _Optional[int] = ..., invoice_prefix: _Optional[str] = ..., currency_code: _Optional[str] = ..., store_name: _Optional[str] = ..., legal_name: _Optional[str] = ..., registered_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ...) -> None: ...

class EvaluateCustomerSegmentsRequest(_message.Message):
    __slots__ = ("user", "segments")
    USER_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    user: str
    segments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user: _Optional[str] = ..., segments: _Optional[_Iterable[str]] = ...) -> None: ...

class EvaluateCustomerSegmentsResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, segments: _Optional[_Iterable[str]] = ...) -> None: ...
