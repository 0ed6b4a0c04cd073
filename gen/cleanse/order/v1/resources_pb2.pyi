import datetime

from cleanse.common.v1 import address_pb2 as _address_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.inventory.v1 import availability_service_pb2 as _availability_service_pb2
from cleanse.pricing.v1 import breakdown_pb2 as _breakdown_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckoutSessionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECKOUT_SESSION_STATE_UNSPECIFIED: _ClassVar[CheckoutSessionState]
    CHECKOUT_SESSION_STATE_OPEN: _ClassVar[CheckoutSessionState]
    CHECKOUT_SESSION_STATE_COMPLETED: _ClassVar[CheckoutSessionState]
    CHECKOUT_SESSION_STATE_EXPIRED: _ClassVar[CheckoutSessionState]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_PAYMENT: _ClassVar[OrderStatus]
    ORDER_STATUS_CONFIRMED: _ClassVar[OrderStatus]
    ORDER_STATUS_PACKED: _ClassVar[OrderStatus]
    ORDER_STATUS_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_DELIVERED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_RETURN_REQUESTED: _ClassVar[OrderStatus]
    ORDER_STATUS_RETURNED: _ClassVar[OrderStatus]
    ORDER_STATUS_REFUND_PENDING: _ClassVar[OrderStatus]
    ORDER_STATUS_REFUNDED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_REFUNDED: _ClassVar[OrderStatus]
    ORDER_STATUS_PAYMENT_FAILED: _ClassVar[OrderStatus]

class PaymentProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_PROVIDER_UNSPECIFIED: _ClassVar[PaymentProvider]
    PAYMENT_PROVIDER_RAZORPAY: _ClassVar[PaymentProvider]
    PAYMENT_PROVIDER_COD: _ClassVar[PaymentProvider]

class PaymentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_STATE_UNSPECIFIED: _ClassVar[PaymentState]
    PAYMENT_STATE_CREATED: _ClassVar[PaymentState]
    PAYMENT_STATE_AUTHORIZED: _ClassVar[PaymentState]
    PAYMENT_STATE_CAPTURED: _ClassVar[PaymentState]
    PAYMENT_STATE_FAILED: _ClassVar[PaymentState]
    PAYMENT_STATE_PENDING_ON_DELIVERY: _ClassVar[PaymentState]
    PAYMENT_STATE_COLLECTED: _ClassVar[PaymentState]
    PAYMENT_STATE_REFUNDED: _ClassVar[PaymentState]
    PAYMENT_STATE_PARTIALLY_REFUNDED: _ClassVar[PaymentState]
    PAYMENT_STATE_CANCELLED: _ClassVar[PaymentState]

class RefundState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_STATE_UNSPECIFIED: _ClassVar[RefundState]
    REFUND_STATE_PENDING: _ClassVar[RefundState]
    REFUND_STATE_PROCESSED: _ClassVar[RefundState]
    REFUND_STATE_FAILED: _ClassVar[RefundState]

class RefundMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_METHOD_UNSPECIFIED: _ClassVar[RefundMethod]
    REFUND_METHOD_ORIGINAL_PAYMENT: _ClassVar[RefundMethod]
    REFUND_METHOD_STORE_CREDIT: _ClassVar[RefundMethod]
    REFUND_METHOD_BANK_TRANSFER: _ClassVar[RefundMethod]

class ReturnState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_STATE_UNSPECIFIED: _ClassVar[ReturnState]
    RETURN_STATE_REQUESTED: _ClassVar[ReturnState]
    RETURN_STATE_APPROVED: _ClassVar[ReturnState]
    RETURN_STATE_REJECTED: _ClassVar[ReturnState]
    RETURN_STATE_RECEIVED: _ClassVar[ReturnState]
    RETURN_STATE_COMPLETED: _ClassVar[ReturnState]

class InspectionResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSPECTION_RESULT_UNSPECIFIED: _ClassVar[InspectionResult]
    INSPECTION_RESULT_PASSED: _ClassVar[InspectionResult]
    INSPECTION_RESULT_FAILED: _ClassVar[InspectionResult]

class InvoiceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_KIND_UNSPECIFIED: _ClassVar[InvoiceKind]
    INVOICE_KIND_TAX_INVOICE: _ClassVar[InvoiceKind]
    INVOICE_KIND_CREDIT_NOTE: _ClassVar[InvoiceKind]
    INVOICE_KIND_SUPPLEMENTARY_INVOICE: _ClassVar[InvoiceKind]

class InvoiceLineKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_LINE_KIND_UNSPECIFIED: _ClassVar[InvoiceLineKind]
    INVOICE_LINE_KIND_GOODS: _ClassVar[InvoiceLineKind]
    INVOICE_LINE_KIND_SHIPPING: _ClassVar[InvoiceLineKind]
    INVOICE_LINE_KIND_COD_FEE: _ClassVar[InvoiceLineKind]
CHECKOUT_SESSION_STATE_UNSPECIFIED: CheckoutSessionState
CHECKOUT_SESSION_STATE_OPEN: CheckoutSessionState
CHECKOUT_SESSION_STATE_COMPLETED: CheckoutSessionState
CHECKOUT_SESSION_STATE_EXPIRED: CheckoutSessionState
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING_PAYMENT: OrderStatus
ORDER_STATUS_CONFIRMED: OrderStatus
ORDER_STATUS_PACKED: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_DELIVERED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_RETURN_REQUESTED: OrderStatus
ORDER_STATUS_RETURNED: OrderStatus
ORDER_STATUS_REFUND_PENDING: OrderStatus
ORDER_STATUS_REFUNDED: OrderStatus
ORDER_STATUS_PARTIALLY_REFUNDED: OrderStatus
ORDER_STATUS_PAYMENT_FAILED: OrderStatus
PAYMENT_PROVIDER_UNSPECIFIED: PaymentProvider
PAYMENT_PROVIDER_RAZORPAY: PaymentProvider
PAYMENT_PROVIDER_COD: PaymentProvider
PAYMENT_STATE_UNSPECIFIED: PaymentState
PAYMENT_STATE_CREATED: PaymentState
PAYMENT_STATE_AUTHORIZED: PaymentState
PAYMENT_STATE_CAPTURED: PaymentState
PAYMENT_STATE_FAILED: PaymentState
PAYMENT_STATE_PENDING_ON_DELIVERY: PaymentState
PAYMENT_STATE_COLLECTED: PaymentState
PAYMENT_STATE_REFUNDED: PaymentState
PAYMENT_STATE_PARTIALLY_REFUNDED: PaymentState
PAYMENT_STATE_CANCELLED: PaymentState
REFUND_STATE_UNSPECIFIED: RefundState
REFUND_STATE_PENDING: RefundState
REFUND_STATE_PROCESSED: RefundState
REFUND_STATE_FAILED: RefundState
REFUND_METHOD_UNSPECIFIED: RefundMethod
REFUND_METHOD_ORIGINAL_PAYMENT: RefundMethod
REFUND_METHOD_STORE_CREDIT: RefundMethod
REFUND_METHOD_BANK_TRANSFER: RefundMethod
RETURN_STATE_UNSPECIFIED: ReturnState
RETURN_STATE_REQUESTED: ReturnState
RETURN_STATE_APPROVED: ReturnState
RETURN_STATE_REJECTED: ReturnState
RETURN_STATE_RECEIVED: ReturnState
RETURN_STATE_COMPLETED: ReturnState
INSPECTION_RESULT_UNSPECIFIED: InspectionResult
INSPECTION_RESULT_PASSED: InspectionResult
INSPECTION_RESULT_FAILED: InspectionResult
INVOICE_KIND_UNSPECIFIED: InvoiceKind
INVOICE_KIND_TAX_INVOICE: InvoiceKind
INVOICE_KIND_CREDIT_NOTE: InvoiceKind
INVOICE_KIND_SUPPLEMENTARY_INVOICE: InvoiceKind
INVOICE_LINE_KIND_UNSPECIFIED: InvoiceLineKind
INVOICE_LINE_KIND_GOODS: InvoiceLineKind
INVOICE_LINE_KIND_SHIPPING: InvoiceLineKind
INVOICE_LINE_KIND_COD_FEE: InvoiceLineKind

class CartLine(_message.Message):
    __slots__ = ("variant_id", "quantity", "price", "stock_status", "available", "add_time")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOCK_STATUS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    ADD_TIME_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    price: _breakdown_pb2.PricedLine
    stock_status: _availability_service_pb2.StockStatus
    available: int
    add_time: _timestamp_pb2.Timestamp
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ..., price: _Optional[_Union[_breakdown_pb2.PricedLine, _Mapping]] = ..., stock_status: _Optional[_Union[_availability_service_pb2.StockStatus, str]] = ..., available: _Optional[int] = ..., add_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Cart(_message.Message):
    __slots__ = ("name", "customer", "lines", "price", "item_count", "all_in_stock", "cart_token", "messages", "degraded", "create_time", "update_time", "last_activity_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    ALL_IN_STOCK_FIELD_NUMBER: _ClassVar[int]
    CART_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    customer: str
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    price: _breakdown_pb2.PriceBreakdown
    item_count: int
    all_in_stock: bool
    cart_token: str
    messages: _containers.RepeatedScalarFieldContainer[str]
    degraded: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    last_activity_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., customer: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ..., price: _Optional[_Union[_breakdown_pb2.PriceBreakdown, _Mapping]] = ..., item_count: _Optional[int] = ..., all_in_stock: _Optional[bool] = ..., cart_token: _Optional[str] = ..., messages: _Optional[_Iterable[str]] = ..., degraded: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_activity_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShippingSelection(_message.Message):
    __slots__ = ("option", "rate", "source")
    OPTION_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    option: str
    rate: _money_pb2.Money
    source: str
    def __init__(self, option: _Optional[str] = ..., rate: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class CheckoutSession(_message.Message):
    __slots__ = ("name", "cart", "customer", "state", "delivery_address", "email", "phone", "shipping", "payment_method", "coupon_codes", "quote", "quote_expire_time", "reservation", "reservation_expire_time", "order", "create_time", "available_payment_methods", "degradations")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CART_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODES_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    DEGRADATIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    cart: str
    customer: str
    state: CheckoutSessionState
    delivery_address: _address_pb2.PostalAddress
    email: str
    phone: str
    shipping: ShippingSelection
    payment_method: str
    coupon_codes: _containers.RepeatedScalarFieldContainer[str]
    quote: _breakdown_pb2.PriceBreakdown
    quote_expire_time: _timestamp_pb2.Timestamp
    reservation: str
    reservation_expire_time: _timestamp_pb2.Timestamp
    order: str
    create_time: _timestamp_pb2.Timestamp
    available_payment_methods: _containers.RepeatedScalarFieldContainer[str]
    degradations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., cart: _Optional[str] = ..., customer: _Optional[str] = ..., state: _Optional[_Union[CheckoutSessionState, str]] = ..., delivery_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., shipping: _Optional[_Union[ShippingSelection, _Mapping]] = ..., payment_method: _Optional[str] = ..., coupon_codes: _Optional[_Iterable[str]] = ..., quote: _Optional[_Union[_breakdown_pb2.PriceBreakdown, _Mapping]] = ..., quote_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reservation: _Optional[str] = ..., reservation_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., order: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., available_payment_methods: _Optional[_Iterable[str]] = ..., degradations: _Optional[_Iterable[str]] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("name", "provider", "method", "state", "amount", "provider_order_id", "provider_payment_id", "key_id", "error_code", "error_description", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    provider: PaymentProvider
    method: str
    state: PaymentState
    amount: _money_pb2.Money
    provider_order_id: str
    provider_payment_id: str
    key_id: str
    error_code: str
    error_description: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., provider: _Optional[_Union[PaymentProvider, str]] = ..., method: _Optional[str] = ..., state: _Optional[_Union[PaymentState, str]] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., provider_order_id: _Optional[str] = ..., provider_payment_id: _Optional[str] = ..., key_id: _Optional[str] = ..., error_code: _Optional[str] = ..., error_description: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderItem(_message.Message):
    __slots__ = ("variant_id", "product_id", "product_name", "variant_title", "sku", "hsn_code", "quantity", "unit_mrp", "unit_price", "discount", "taxable_value", "gst_rate_basis_points", "cgst", "sgst", "igst", "total", "free_gift", "gift_rule")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    VARIANT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_MRP_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    TAXABLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    GST_RATE_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    CGST_FIELD_NUMBER: _ClassVar[int]
    SGST_FIELD_NUMBER: _ClassVar[int]
    IGST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    FREE_GIFT_FIELD_NUMBER: _ClassVar[int]
    GIFT_RULE_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    product_id: str
    product_name: str
    variant_title: str
    sku: str
    hsn_code: str
    quantity: int
    unit_mrp: _money_pb2.Money
    unit_price: _money_pb2.Money
    discount: _money_pb2.Money
    taxable_value: _money_pb2.Money
    gst_rate_basis_points: int
    cgst: _money_pb2.Money
    sgst: _money_pb2.Money
    igst: _money_pb2.Money
    total: _money_pb2.Money
    free_gift: bool
    gift_rule: str
    def __init__(self, variant_id: _Optional[str] = ..., product_id: _Optional[str] = ..., product_name: _Optional[str] = ..., variant_title: _Optional[str] = ..., sku: _Optional[str] = ..., hsn_code: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., taxable_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., gst_rate_basis_points: _Optional[int] = ..., cgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., sgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., igst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., free_gift: _Optional[bool] = ..., gift_rule: _Optional[str] = ...) -> None: ...

class OrderStatusChange(_message.Message):
    __slots__ = ("from_status", "to_status", "actor", "reason", "time")
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    from_status: OrderStatus
    to_status: OrderStatus
    actor: str
    reason: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, from_status: _Optional[_Union[OrderStatus, str]] = ..., to_status: _Optional[_Union[OrderStatus, str]] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("name", "order_number", "customer", "status", "email", "phone", "delivery_address", "items", "subtotal", "discount_total", "shipping_fee", "cod_fee", "tax", "total", "coupon_codes", "payment_method", "payment_provider", "payment", "paid", "place_of_supply_state_code", "inter_state", "status_history", "request_id", "create_time", "update_time", "cancel_reason", "shipping", "balance_due", "balance_due_amount", "edits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FEE_FIELD_NUMBER: _ClassVar[int]
    COD_FEE_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODES_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    PLACE_OF_SUPPLY_STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    INTER_STATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_HISTORY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FIELD_NUMBER: _ClassVar[int]
    BALANCE_DUE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_DUE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EDITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    order_number: str
    customer: str
    status: OrderStatus
    email: str
    phone: str
    delivery_address: _address_pb2.PostalAddress
    items: _containers.RepeatedCompositeFieldContainer[OrderItem]
    subtotal: _money_pb2.Money
    discount_total: _money_pb2.Money
    shipping_fee: _money_pb2.Money
    cod_fee: _money_pb2.Money
    tax: _breakdown_pb2.TaxAmounts
    total: _money_pb2.Money
    coupon_codes: _containers.RepeatedScalarFieldContainer[str]
    payment_method: str
    payment_provider: PaymentProvider
    payment: Payment
    paid: bool
    place_of_supply_state_code: str
    inter_state: bool
    status_history: _containers.RepeatedCompositeFieldContainer[OrderStatusChange]
    request_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    cancel_reason: str
    shipping: ShippingSelection
    balance_due: bool
    balance_due_amount: _money_pb2.Money
    edits: _containers.RepeatedCompositeFieldContainer[OrderEdit]
    def __init__(self, name: _Optional[str] = ..., order_number: _Optional[str] = ..., customer: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., delivery_address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., items: _Optional[_Iterable[_Union[OrderItem, _Mapping]]] = ..., subtotal: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., shipping_fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., cod_fee: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_breakdown_pb2.TaxAmounts, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., coupon_codes: _Optional[_Iterable[str]] = ..., payment_method: _Optional[str] = ..., payment_provider: _Optional[_Union[PaymentProvider, str]] = ..., payment: _Optional[_Union[Payment, _Mapping]] = ..., paid: _Optional[bool] = ..., place_of_supply_state_code: _Optional[str] = ..., inter_state: _Optional[bool] = ..., status_history: _Optional[_Iterable[_Union[OrderStatusChange, _Mapping]]] = ..., request_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_reason: _Optional[str] = ..., shipping: _Optional[_Union[ShippingSelection, _Mapping]] = ..., balance_due: _Optional[bool] = ..., balance_due_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., edits: _Optional[_Iterable[_Union[OrderEdit, _Mapping]]] = ...) -> None: ...

class OrderEdit(_message.Message):
    __slots__ = ("name", "request_id", "actor", "reason", "before_lines", "after_lines", "before_total", "after_total", "difference", "settlement", "settlement_ref", "notes", "address_changed", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BEFORE_LINES_FIELD_NUMBER: _ClassVar[int]
    AFTER_LINES_FIELD_NUMBER: _ClassVar[int]
    BEFORE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    AFTER_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENT_REF_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    actor: str
    reason: str
    before_lines: _containers.RepeatedCompositeFieldContainer[RefundLine]
    after_lines: _containers.RepeatedCompositeFieldContainer[RefundLine]
    before_total: _money_pb2.Money
    after_total: _money_pb2.Money
    difference: _money_pb2.Money
    settlement: str
    settlement_ref: str
    notes: _containers.RepeatedScalarFieldContainer[str]
    address_changed: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., before_lines: _Optional[_Iterable[_Union[RefundLine, _Mapping]]] = ..., after_lines: _Optional[_Iterable[_Union[RefundLine, _Mapping]]] = ..., before_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., after_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., difference: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., settlement: _Optional[str] = ..., settlement_ref: _Optional[str] = ..., notes: _Optional[_Iterable[str]] = ..., address_changed: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RefundLine(_message.Message):
    __slots__ = ("variant_id", "quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("name", "amount", "state", "reason", "provider_refund_id", "create_time", "method", "lines", "request_id", "actor", "error", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    amount: _money_pb2.Money
    state: RefundState
    reason: str
    provider_refund_id: str
    create_time: _timestamp_pb2.Timestamp
    method: RefundMethod
    lines: _containers.RepeatedCompositeFieldContainer[RefundLine]
    request_id: str
    actor: str
    error: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., state: _Optional[_Union[RefundState, str]] = ..., reason: _Optional[str] = ..., provider_refund_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., method: _Optional[_Union[RefundMethod, str]] = ..., lines: _Optional[_Iterable[_Union[RefundLine, _Mapping]]] = ..., request_id: _Optional[str] = ..., actor: _Optional[str] = ..., error: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReturnLine(_message.Message):
    __slots__ = ("variant_id", "quantity", "reason", "inspection", "inspection_note")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    reason: str
    inspection: InspectionResult
    inspection_note: str
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ..., reason: _Optional[str] = ..., inspection: _Optional[_Union[InspectionResult, str]] = ..., inspection_note: _Optional[str] = ...) -> None: ...

class Return(_message.Message):
    __slots__ = ("name", "state", "lines", "create_time", "request_id", "pickup", "reject_reason", "refund", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: ReturnState
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    create_time: _timestamp_pb2.Timestamp
    request_id: str
    pickup: str
    reject_reason: str
    refund: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[ReturnState, str]] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ..., pickup: _Optional[str] = ..., reject_reason: _Optional[str] = ..., refund: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InvoiceParty(_message.Message):
    __slots__ = ("name", "gstin", "address", "state_code", "email")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GSTIN_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    gstin: str
    address: _address_pb2.PostalAddress
    state_code: str
    email: str
    def __init__(self, name: _Optional[str] = ..., gstin: _Optional[str] = ..., address: _Optional[_Union[_address_pb2.PostalAddress, _Mapping]] = ..., state_code: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class InvoiceLine(_message.Message):
    __slots__ = ("description", "sku", "hsn_code", "quantity", "unit_price", "discount", "taxable_value", "gst_rate_basis_points", "cgst", "sgst", "igst", "total", "kind")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    TAXABLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    GST_RATE_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    CGST_FIELD_NUMBER: _ClassVar[int]
    SGST_FIELD_NUMBER: _ClassVar[int]
    IGST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    description: str
    sku: str
    hsn_code: str
    quantity: int
    unit_price: _money_pb2.Money
    discount: _money_pb2.Money
    taxable_value: _money_pb2.Money
    gst_rate_basis_points: int
    cgst: _money_pb2.Money
    sgst: _money_pb2.Money
    igst: _money_pb2.Money
    total: _money_pb2.Money
    kind: InvoiceLineKind
    def __init__(self, description: _Optional[str] = ..., sku: _Optional[str] = ..., hsn_code: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., taxable_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., gst_rate_basis_points: _Optional[int] = ..., cgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., sgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., igst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., kind: _Optional[_Union[InvoiceLineKind, str]] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("name", "invoice_number", "total", "issue_time", "kind", "financial_year", "order_number", "seller", "buyer", "place_of_supply_state_code", "inter_state", "lines", "taxable_value", "cgst", "sgst", "igst", "total_tax", "amount_in_words", "original_invoice_number", "refund", "reverse_charge")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ISSUE_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FINANCIAL_YEAR_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SELLER_FIELD_NUMBER: _ClassVar[int]
    BUYER_FIELD_NUMBER: _ClassVar[int]
    PLACE_OF_SUPPLY_STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    INTER_STATE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TAXABLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    CGST_FIELD_NUMBER: _ClassVar[int]
    SGST_FIELD_NUMBER: _ClassVar[int]
    IGST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TAX_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_IN_WORDS_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    REVERSE_CHARGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    invoice_number: str
    total: _money_pb2.Money
    issue_time: _timestamp_pb2.Timestamp
    kind: InvoiceKind
    financial_year: str
    order_number: str
    seller: InvoiceParty
    buyer: InvoiceParty
    place_of_supply_state_code: str
    inter_state: bool
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    taxable_value: _money_pb2.Money
    cgst: _money_pb2.Money
    sgst: _money_pb2.Money
    igst: _money_pb2.Money
    total_tax: _money_pb2.Money
    amount_in_words: str
    original_invoice_number: str
    refund: str
    reverse_charge: bool
    def __init__(self, name: _Optional[str] = ..., invoice_number: _Optional[str] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., issue_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[InvoiceKind, str]] = ..., financial_year: _Optional[str] = ..., order_number: _Optional[str] = ..., seller: _Optional[_Union[InvoiceParty, _Mapping]] = ..., buyer: _Optional[_Union[InvoiceParty, _Mapping]] = ..., place_of_supply_state_code: _Optional[str] = ..., inter_state: _Optional[bool] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., taxable_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., cgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., sgst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., igst: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total_tax: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., amount_in_words: _Optional[str] = ..., original_invoice_number: _Optional[str] = ..., refund: _Optional[str] = ..., reverse_charge: _Optional[bool] = ...) -> None: ...

class InvoiceDocument(_message.Message):
    __slots__ = ("file_name", "content_type", "data")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    content_type: str
    data: bytes
    def __init__(self, file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...
