from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VariantSnapshot(_message.Message):
    __slots__ = ("variant_id", "product_id", "sku", "product_title", "variant_title", "product_slug", "image_url", "mrp", "price", "hsn_code", "tax_class", "weight_grams", "sellable", "category_ids", "brand_id", "collection_ids", "tags", "pieces_per_unit")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TITLE_FIELD_NUMBER: _ClassVar[int]
    VARIANT_TITLE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_SLUG_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    MRP_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    TAX_CLASS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    SELLABLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_IDS_FIELD_NUMBER: _ClassVar[int]
    BRAND_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PIECES_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    product_id: str
    sku: str
    product_title: str
    variant_title: str
    product_slug: str
    image_url: str
    mrp: _money_pb2.Money
    price: _money_pb2.Money
    hsn_code: str
    tax_class: str
    weight_grams: int
    sellable: bool
    category_ids: _containers.RepeatedScalarFieldContainer[str]
    brand_id: str
    collection_ids: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    pieces_per_unit: int
    def __init__(self, variant_id: _Optional[str] = ..., product_id: _Optional[str] = ..., sku: _Optional[str] = ..., product_title: _Optional[str] = ..., variant_title: _Optional[str] = ..., product_slug: _Optional[str] = ..., image_url: _Optional[str] = ..., mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., hsn_code: _Optional[str] = ..., tax_class: _Optional[str] = ..., weight_grams: _Optional[int] = ..., sellable: _Optional[bool] = ..., category_ids: _Optional[_Iterable[str]] = ..., brand_id: _Optional[str] = ..., collection_ids: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., pieces_per_unit: _Optional[int] = ...) -> None: ...

class BatchGetVariantsRequest(_message.Message):
    __slots__ = ("variant_ids",)
    VARIANT_IDS_FIELD_NUMBER: _ClassVar[int]
    variant_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, variant_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetVariantsResponse(_message.Message):
    __slots__ = ("variants", "missing")
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    variants: _containers.RepeatedCompositeFieldContainer[VariantSnapshot]
    missing: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, variants: _Optional[_Iterable[_Union[VariantSnapshot, _Mapping]]] = ..., missing: _Optional[_Iterable[str]] = ...) -> None: ...

class ProductSummary(_message.Message):
    __slots__ = ("product_id", "slug", "title", "brand_name", "image_url", "hsn_code", "status")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BRAND_NAME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    slug: str
    title: str
    brand_name: str
    image_url: str
    hsn_code: str
    status: str
    def __init__(self, product_id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., brand_name: _Optional[str] = ..., image_url: _Optional[str] = ..., hsn_code: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class BatchGetProductSummariesRequest(_message.Message):
    __slots__ = ("product_ids",)
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, product_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetProductSummariesResponse(_message.Message):
    __slots__ = ("products", "missing")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[ProductSummary]
    missing: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, products: _Optional[_Iterable[_Union[ProductSummary, _Mapping]]] = ..., missing: _Optional[_Iterable[str]] = ...) -> None: ...

class ValidateBundleRequest(_message.Message):
    __slots__ = ("bundle_id",)
    BUNDLE_ID_FIELD_NUMBER: _ClassVar[int]
    bundle_id: str
    def __init__(self, bundle_id: _Optional[str] = ...) -> None: ...

class ValidateBundleResponse(_message.Message):
    __slots__ = ("valid", "problems", "bundle_price", "lines")
    VALID_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_PRICE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    problems: _containers.RepeatedScalarFieldContainer[str]
    bundle_price: _money_pb2.Money
    lines: _containers.RepeatedCompositeFieldContainer[BundleLine]
    def __init__(self, valid: _Optional[bool] = ..., problems: _Optional[_Iterable[str]] = ..., bundle_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[BundleLine, _Mapping]]] = ...) -> None: ...

class BundleLine(_message.Message):
    __slots__ = ("variant_id", "quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class CheckReferencesRequest(_message.Message):
    __slots__ = ("product_ids", "category_ids", "collection_ids", "brand_ids")
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_IDS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    BRAND_IDS_FIELD_NUMBER: _ClassVar[int]
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    category_ids: _containers.RepeatedScalarFieldContainer[str]
    collection_ids: _containers.RepeatedScalarFieldContainer[str]
    brand_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, product_ids: _Optional[_Iterable[str]] = ..., category_ids: _Optional[_Iterable[str]] = ..., collection_ids: _Optional[_Iterable[str]] = ..., brand_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CheckReferencesResponse(_message.Message):
    __slots__ = ("missing_product_ids", "missing_category_ids", "missing_collection_ids", "missing_brand_ids")
    MISSING_PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    MISSING_CATEGORY_IDS_FIELD_NUMBER: _ClassVar[int]
    MISSING_COLLECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    MISSING_BRAND_IDS_FIELD_NUMBER: _ClassVar[int]
    missing_product_ids: _containers.RepeatedScalarFieldContainer[str]
    missing_category_ids: _containers.RepeatedScalarFieldContainer[str]
    missing_collection_ids: _containers.RepeatedScalarFieldContainer[str]
    missing_brand_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, missing_product_ids: _Optional[_Iterable[str]] = ..., missing_category_ids: _Optional[_Iterable[str]] = ..., missing_collection_ids: _Optional[_Iterable[str]] = ..., missing_brand_ids: _Optional[_Iterable[str]] = ...) -> None: ...
