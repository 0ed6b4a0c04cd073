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

class ProductStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRODUCT_STATUS_UNSPECIFIED: _ClassVar[ProductStatus]
    PRODUCT_STATUS_DRAFT: _ClassVar[ProductStatus]
    PRODUCT_STATUS_ACTIVE: _ClassVar[ProductStatus]
    PRODUCT_STATUS_ARCHIVED: _ClassVar[ProductStatus]

class VariantStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VARIANT_STATUS_UNSPECIFIED: _ClassVar[VariantStatus]
    VARIANT_STATUS_ACTIVE: _ClassVar[VariantStatus]
    VARIANT_STATUS_INACTIVE: _ClassVar[VariantStatus]
    VARIANT_STATUS_ARCHIVED: _ClassVar[VariantStatus]

class BundleStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUNDLE_STATUS_UNSPECIFIED: _ClassVar[BundleStatus]
    BUNDLE_STATUS_DRAFT: _ClassVar[BundleStatus]
    BUNDLE_STATUS_ACTIVE: _ClassVar[BundleStatus]
    BUNDLE_STATUS_ARCHIVED: _ClassVar[BundleStatus]

class MediaKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_KIND_UNSPECIFIED: _ClassVar[MediaKind]
    MEDIA_KIND_IMAGE: _ClassVar[MediaKind]
    MEDIA_KIND_VIDEO: _ClassVar[MediaKind]

class RelationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELATION_KIND_UNSPECIFIED: _ClassVar[RelationKind]
    RELATION_KIND_CROSS_SELL: _ClassVar[RelationKind]
    RELATION_KIND_UP_SELL: _ClassVar[RelationKind]
    RELATION_KIND_FREQUENTLY_BOUGHT_TOGETHER: _ClassVar[RelationKind]

class CollectionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLLECTION_KIND_UNSPECIFIED: _ClassVar[CollectionKind]
    COLLECTION_KIND_MANUAL: _ClassVar[CollectionKind]
    COLLECTION_KIND_SMART: _ClassVar[CollectionKind]
PRODUCT_STATUS_UNSPECIFIED: ProductStatus
PRODUCT_STATUS_DRAFT: ProductStatus
PRODUCT_STATUS_ACTIVE: ProductStatus
PRODUCT_STATUS_ARCHIVED: ProductStatus
VARIANT_STATUS_UNSPECIFIED: VariantStatus
VARIANT_STATUS_ACTIVE: VariantStatus
VARIANT_STATUS_INACTIVE: VariantStatus
VARIANT_STATUS_ARCHIVED: VariantStatus
BUNDLE_STATUS_UNSPECIFIED: BundleStatus
BUNDLE_STATUS_DRAFT: BundleStatus
BUNDLE_STATUS_ACTIVE: BundleStatus
BUNDLE_STATUS_ARCHIVED: BundleStatus
MEDIA_KIND_UNSPECIFIED: MediaKind
MEDIA_KIND_IMAGE: MediaKind
MEDIA_KIND_VIDEO: MediaKind
RELATION_KIND_UNSPECIFIED: RelationKind
RELATION_KIND_CROSS_SELL: RelationKind
RELATION_KIND_UP_SELL: RelationKind
RELATION_KIND_FREQUENTLY_BOUGHT_TOGETHER: RelationKind
COLLECTION_KIND_UNSPECIFIED: CollectionKind
COLLECTION_KIND_MANUAL: CollectionKind
COLLECTION_KIND_SMART: CollectionKind

class Brand(_message.Message):
    __slots__ = ("name", "slug", "display_name", "description", "logo_url", "active", "updated_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LOGO_URL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    display_name: str
    description: str
    logo_url: str
    active: bool
    updated_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., logo_url: _Optional[str] = ..., active: _Optional[bool] = ..., updated_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Ingredient(_message.Message):
    __slots__ = ("name", "slug", "display_name", "scientific_name", "description", "benefits", "updated_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SCIENTIFIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BENEFITS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    display_name: str
    scientific_name: str
    description: str
    benefits: _containers.RepeatedScalarFieldContainer[str]
    updated_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., display_name: _Optional[str] = ..., scientific_name: _Optional[str] = ..., description: _Optional[str] = ..., benefits: _Optional[_Iterable[str]] = ..., updated_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Attribute(_message.Message):
    __slots__ = ("key", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class Media(_message.Message):
    __slots__ = ("kind", "url", "alt_text")
    KIND_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    ALT_TEXT_FIELD_NUMBER: _ClassVar[int]
    kind: MediaKind
    url: str
    alt_text: str
    def __init__(self, kind: _Optional[_Union[MediaKind, str]] = ..., url: _Optional[str] = ..., alt_text: _Optional[str] = ...) -> None: ...

class ProductIngredient(_message.Message):
    __slots__ = ("ingredient", "note", "display_name", "benefits")
    INGREDIENT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    BENEFITS_FIELD_NUMBER: _ClassVar[int]
    ingredient: str
    note: str
    display_name: str
    benefits: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ingredient: _Optional[str] = ..., note: _Optional[str] = ..., display_name: _Optional[str] = ..., benefits: _Optional[_Iterable[str]] = ...) -> None: ...

class RelatedProductLink(_message.Message):
    __slots__ = ("product", "kind")
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    product: str
    kind: RelationKind
    def __init__(self, product: _Optional[str] = ..., kind: _Optional[_Union[RelationKind, str]] = ...) -> None: ...

class Dimensions(_message.Message):
    __slots__ = ("length_mm", "width_mm", "height_mm")
    LENGTH_MM_FIELD_NUMBER: _ClassVar[int]
    WIDTH_MM_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_MM_FIELD_NUMBER: _ClassVar[int]
    length_mm: int
    width_mm: int
    height_mm: int
    def __init__(self, length_mm: _Optional[int] = ..., width_mm: _Optional[int] = ..., height_mm: _Optional[int] = ...) -> None: ...

class Variant(_message.Message):
    __slots__ = ("name", "variant_id", "sku", "title", "option_values", "mrp", "price", "cost_price", "weight_grams", "dimensions", "barcode", "status", "position", "create_time", "update_time", "pieces_per_unit")
    class OptionValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OPTION_VALUES_FIELD_NUMBER: _ClassVar[int]
    MRP_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    COST_PRICE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PIECES_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    variant_id: str
    sku: str
    title: str
    option_values: _containers.ScalarMap[str, str]
    mrp: _money_pb2.Money
    price: _money_pb2.Money
    cost_price: _money_pb2.Money
    weight_grams: int
    dimensions: Dimensions
    barcode: str
    status: VariantStatus
    position: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    pieces_per_unit: int
    def __init__(self, name: _Optional[str] = ..., variant_id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., option_values: _Optional[_Mapping[str, str]] = ..., mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., cost_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., weight_grams: _Optional[int] = ..., dimensions: _Optional[_Union[Dimensions, _Mapping]] = ..., barcode: _Optional[str] = ..., status: _Optional[_Union[VariantStatus, str]] = ..., position: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pieces_per_unit: _Optional[int] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("name", "slug", "title", "subtitle", "description_html", "brand", "status", "hsn_code", "tax_class", "attributes", "tags", "categories", "media", "ingredients", "related_products", "variants", "created_by", "updated_by", "min_price", "max_price", "create_time", "update_time", "publish_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUBTITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_HTML_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    TAX_CLASS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    INGREDIENTS_FIELD_NUMBER: _ClassVar[int]
    RELATED_PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    title: str
    subtitle: str
    description_html: str
    brand: str
    status: ProductStatus
    hsn_code: str
    tax_class: str
    attributes: _containers.RepeatedCompositeFieldContainer[Attribute]
    tags: _containers.RepeatedScalarFieldContainer[str]
    categories: _containers.RepeatedScalarFieldContainer[str]
    media: _containers.RepeatedCompositeFieldContainer[Media]
    ingredients: _containers.RepeatedCompositeFieldContainer[ProductIngredient]
    related_products: _containers.RepeatedCompositeFieldContainer[RelatedProductLink]
    variants: _containers.RepeatedCompositeFieldContainer[Variant]
    created_by: str
    updated_by: str
    min_price: _money_pb2.Money
    max_price: _money_pb2.Money
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    publish_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., subtitle: _Optional[str] = ..., description_html: _Optional[str] = ..., brand: _Optional[str] = ..., status: _Optional[_Union[ProductStatus, str]] = ..., hsn_code: _Optional[str] = ..., tax_class: _Optional[str] = ..., attributes: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., categories: _Optional[_Iterable[str]] = ..., media: _Optional[_Iterable[_Union[Media, _Mapping]]] = ..., ingredients: _Optional[_Iterable[_Union[ProductIngredient, _Mapping]]] = ..., related_products: _Optional[_Iterable[_Union[RelatedProductLink, _Mapping]]] = ..., variants: _Optional[_Iterable[_Union[Variant, _Mapping]]] = ..., created_by: _Optional[str] = ..., updated_by: _Optional[str] = ..., min_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Breadcrumb(_message.Message):
    __slots__ = ("name", "slug", "display_name")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    display_name: str
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Category(_message.Message):
    __slots__ = ("name", "slug", "display_name", "description", "parent", "position", "active", "depth", "breadcrumbs", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    BREADCRUMBS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    display_name: str
    description: str
    parent: str
    position: int
    active: bool
    depth: int
    breadcrumbs: _containers.RepeatedCompositeFieldContainer[Breadcrumb]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., parent: _Optional[str] = ..., position: _Optional[int] = ..., active: _Optional[bool] = ..., depth: _Optional[int] = ..., breadcrumbs: _Optional[_Iterable[_Union[Breadcrumb, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PriceRange(_message.Message):
    __slots__ = ("min_minor", "max_minor")
    MIN_MINOR_FIELD_NUMBER: _ClassVar[int]
    MAX_MINOR_FIELD_NUMBER: _ClassVar[int]
    min_minor: int
    max_minor: int
    def __init__(self, min_minor: _Optional[int] = ..., max_minor: _Optional[int] = ...) -> None: ...

class AttributeMatch(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class CollectionRule(_message.Message):
    __slots__ = ("category", "brand", "tag", "attribute", "price_range", "new_within_days", "in_stock")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    PRICE_RANGE_FIELD_NUMBER: _ClassVar[int]
    NEW_WITHIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    IN_STOCK_FIELD_NUMBER: _ClassVar[int]
    category: str
    brand: str
    tag: str
    attribute: AttributeMatch
    price_range: PriceRange
    new_within_days: int
    in_stock: bool
    def __init__(self, category: _Optional[str] = ..., brand: _Optional[str] = ..., tag: _Optional[str] = ..., attribute: _Optional[_Union[AttributeMatch, _Mapping]] = ..., price_range: _Optional[_Union[PriceRange, _Mapping]] = ..., new_within_days: _Optional[int] = ..., in_stock: _Optional[bool] = ...) -> None: ...

class Collection(_message.Message):
    __slots__ = ("name", "slug", "title", "description", "image_url", "kind", "rules", "active", "position", "product_count", "updated_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    title: str
    description: str
    image_url: str
    kind: CollectionKind
    rules: _containers.RepeatedCompositeFieldContainer[CollectionRule]
    active: bool
    position: int
    product_count: int
    updated_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., image_url: _Optional[str] = ..., kind: _Optional[_Union[CollectionKind, str]] = ..., rules: _Optional[_Iterable[_Union[CollectionRule, _Mapping]]] = ..., active: _Optional[bool] = ..., position: _Optional[int] = ..., product_count: _Optional[int] = ..., updated_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BundleItem(_message.Message):
    __slots__ = ("variant_id", "quantity")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Bundle(_message.Message):
    __slots__ = ("name", "slug", "title", "description", "image_url", "price", "status", "items", "items_mrp_total", "updated_by", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_MRP_TOTAL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    title: str
    description: str
    image_url: str
    price: _money_pb2.Money
    status: BundleStatus
    items: _containers.RepeatedCompositeFieldContainer[BundleItem]
    items_mrp_total: _money_pb2.Money
    updated_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., image_url: _Optional[str] = ..., price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., status: _Optional[_Union[BundleStatus, str]] = ..., items: _Optional[_Iterable[_Union[BundleItem, _Mapping]]] = ..., items_mrp_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., updated_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
