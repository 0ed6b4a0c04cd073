from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.settings.v1 import resources_pb2 as _resources_pb2
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

class GetStoreSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateStoreSettingsRequest(_message.Message):
    __slots__ = ("store_settings", "update_mask")
    STORE_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    store_settings: _resources_pb2.StoreSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, store_settings: _Optional[_Union[_resources_pb2.StoreSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class ListTaxRateRulesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "hsn_prefix", "tax_class")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HSN_PREFIX_FIELD_NUMBER: _ClassVar[int]
    TAX_CLASS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    hsn_prefix: str
    tax_class: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., hsn_prefix: _Optional[str] = ..., tax_class: _Optional[str] = ...) -> None: ...

class ListTaxRateRulesResponse(_message.Message):
    __slots__ = ("tax_rate_rules", "next_page_token")
    TAX_RATE_RULES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tax_rate_rules: _containers.RepeatedCompositeFieldContainer[_resources_pb2.TaxRateRule]
    next_page_token: str
    def __init__(self, tax_rate_rules: _Optional[_Iterable[_Union[_resources_pb2.TaxRateRule, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTaxRateRuleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateTaxRateRuleRequest(_message.Message):
    __slots__ = ("tax_rate_rule",)
    TAX_RATE_RULE_FIELD_NUMBER: _ClassVar[int]
    tax_rate_rule: _resources_pb2.TaxRateRule
    def __init__(self, tax_rate_rule: _Optional[_Union[_resources_pb2.TaxRateRule, _Mapping]] = ...) -> None: ...

class DeleteTaxRateRuleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListPaymentMethodsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPaymentMethodsResponse(_message.Message):
    __slots__ = ("payment_methods",)
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    payment_methods: _containers.RepeatedCompositeFieldContainer[_resources_pb2.PaymentMethod]
    def __init__(self, payment_methods: _Optional[_Iterable[_Union[_resources_pb2.PaymentMethod, _Mapping]]] = ...) -> None: ...

class GetPaymentMethodRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreatePaymentMethodRequest(_message.Message):
    __slots__ = ("payment_method_id", "payment_method")
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    payment_method_id: str
    payment_method: _resources_pb2.PaymentMethod
    def __init__(self, payment_method_id: _Optional[str] = ..., payment_method: _Optional[_Union[_resources_pb2.PaymentMethod, _Mapping]] = ...) -> None: ...

class UpdatePaymentMethodRequest(_message.Message):
    __slots__ = ("payment_method", "update_mask")
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    payment_method: _resources_pb2.PaymentMethod
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, payment_method: _Optional[_Union[_resources_pb2.PaymentMethod, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeletePaymentMethodRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListCustomerSegmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCustomerSegmentsResponse(_message.Message):
    __slots__ = ("customer_segments", "next_page_token")
    CUSTOMER_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_segments: _containers.RepeatedCompositeFieldContainer[_resources_pb2.CustomerSegment]
    next_page_token: str
    def __init__(self, customer_segments: _Optional[_Iterable[_Union[_resources_pb2.CustomerSegment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCustomerSegmentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateCustomerSegmentRequest(_message.Message):
    __slots__ = ("customer_segment_id", "customer_segment")
    CUSTOMER_SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    customer_segment_id: str
    customer_segment: _resources_pb2.CustomerSegment
    def __init__(self, customer_segment_id: _Optional[str] = ..., customer_segment: _Optional[_Union[_resources_pb2.CustomerSegment, _Mapping]] = ...) -> None: ...

class UpdateCustomerSegmentRequest(_message.Message):
    __slots__ = ("customer_segment", "update_mask")
    CUSTOMER_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    customer_segment: _resources_pb2.CustomerSegment
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, customer_segment: _Optional[_Union[_resources_pb2.CustomerSegment, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteCustomerSegmentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetCustomerProfileRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SetCustomerTagsRequest(_message.Message):
    __slots__ = ("name", "tags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...
