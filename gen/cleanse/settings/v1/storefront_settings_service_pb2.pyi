from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.settings.v1 import resources_pb2 as _resources_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetPublicStoreSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAvailablePaymentMethodsRequest(_message.Message):
    __slots__ = ("order_value",)
    ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    order_value: _money_pb2.Money
    def __init__(self, order_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class AvailablePaymentMethod(_message.Message):
    __slots__ = ("code", "display_name", "provider", "fee", "description")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    code: str
    display_name: str
    provider: _resources_pb2.PaymentProvider
    fee: _money_pb2.Money
    description: str
    def __init__(self, code: _Optional[str] = ..., display_name: _Optional[str] = ..., provider: _Optional[_Union[_resources_pb2.PaymentProvider, str]] = ..., fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class ListAvailablePaymentMethodsResponse(_message.Message):
    __slots__ = ("payment_methods",)
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    payment_methods: _containers.RepeatedCompositeFieldContainer[AvailablePaymentMethod]
    def __init__(self, payment_methods: _Optional[_Iterable[_Union[AvailablePaymentMethod, _Mapping]]] = ...) -> None: ...
