from cleanse.catalog.v1 import resources_pb2 as _resources_pb2
from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.common.v1 import pagination_pb2 as _pagination_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StockStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STOCK_STATUS_UNSPECIFIED: _ClassVar[StockStatus]
    STOCK_STATUS_IN_STOCK: _ClassVar[StockStatus]
    STOCK_STATUS_LOW_STOCK: _ClassVar[StockStatus]
    STOCK_STATUS_OUT_OF_STOCK: _ClassVar[StockStatus]
    STOCK_STATUS_BACKORDER: _ClassVar[StockStatus]

class ProductSort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRODUCT_SORT_UNSPECIFIED: _ClassVar[ProductSort]
    PRODUCT_SORT_NEWEST: _ClassVar[ProductSort]
    PRODUCT_SORT_PRICE_ASC: _ClassVar[ProductSort]
    PRODUCT_SORT_PRICE_DESC: _ClassVar[ProductSort]
    PRODUCT_SORT_TITLE: _ClassVar[ProductSort]
STOCK_STATUS_UNSPECIFIED: StockStatus
STOCK_STATUS_IN_STOCK: StockStatus
STOCK_STATUS_LOW_STOCK: StockStatus
STOCK_STATUS_OUT_OF_STOCK: StockStatus
STOCK_STATUS_BACKORDER: StockStatus
PRODUCT_SORT_UNSPECIFIED: ProductSort
PRODUCT_SORT_NEWEST: ProductSort
PRODUCT_SORT_PRICE_ASC: ProductSort
PRODUCT_SORT_PRICE_DESC: ProductSort
PRODUCT_SORT_TITLE: ProductSort

class Stock(_message.Message):
    __slots__ = ("status", "available", "label")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    status: StockStatus
    available: int
    label: str
    def __init__(self, status: _Optional[_Union[StockStatus, str]] = ..., available: _Optional[int] = ..., label: _Optional[str] = ...) -> None: ...

class BrandRef(_message.Message):
    __slots__ = ("id", "slug", "display_name")
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    slug: str
    display_name: str
    def __init__(self, id: _Optional[str] = ..., slug: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class StorefrontVariant(_message.Message):
    __slots__ = ("id", "sku", "title", "option_values", "mrp", "price", "discount_percent", "weight_grams", "stock")
    class OptionValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OPTION_VALUES_FIELD_NUMBER: _ClassVar[int]
    MRP_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    id: str
    sku: str
    title: str
    option_values: _containers.ScalarMap[str, str]
    mrp: _money_pb2.Money
    price: _money_pb2.Money
    discount_percent: int
    weight_grams: int
    stock: Stock
    def __init__(self, id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., option_values: _Optional[_Mapping[str, str]] = ..., mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount_percent: _Optional[int] = ..., weight_grams: _Optional[int] = ..., stock: _Optional[_Union[Stock, _Mapping]] = ...) -> None: ...

class StorefrontIngredient(_message.Message):
    __slots__ = ("slug", "display_name", "scientific_name", "benefits", "note")
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SCIENTIFIC_NAME_FIELD_NUMBER: _ClassVar[int]
    BENEFITS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    slug: str
    display_name: str
    scientific_name: str
    benefits: _containers.RepeatedScalarFieldContainer[str]
    note: str
    def __init__(self, slug: _Optional[str] = ..., display_name: _Optional[str] = ..., scientific_name: _Optional[str] = ..., benefits: _Optional[_Iterable[str]] = ..., note: _Optional[str] = ...) -> None: ...

class StorefrontProduct(_message.Message):
    __slots__ = ("id", "slug", "title", "subtitle", "description_html", "brand", "attributes", "tags", "media", "ingredients", "variants", "breadcrumbs", "min_price", "max_price", "hsn_code", "stock_unknown")
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUBTITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_HTML_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    INGREDIENTS_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    BREADCRUMBS_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    HSN_CODE_FIELD_NUMBER: _ClassVar[int]
    STOCK_UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    id: str
    slug: str
    title: str
    subtitle: str
    description_html: str
    brand: BrandRef
    attributes: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Attribute]
    tags: _containers.RepeatedScalarFieldContainer[str]
    media: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Media]
    ingredients: _containers.RepeatedCompositeFieldContainer[StorefrontIngredient]
    variants: _containers.RepeatedCompositeFieldContainer[StorefrontVariant]
    breadcrumbs: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Breadcrumb]
    min_price: _money_pb2.Money
    max_price: _money_pb2.Money
    hsn_code: str
    stock_unknown: bool
    def __init__(self, id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., subtitle: _Optional[str] = ..., description_html: _Optional[str] = ..., brand: _Optional[_Union[BrandRef, _Mapping]] = ..., attributes: _Optional[_Iterable[_Union[_resources_pb2.Attribute, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., media: _Optional[_Iterable[_Union[_resources_pb2.Media, _Mapping]]] = ..., ingredients: _Optional[_Iterable[_Union[StorefrontIngredient, _Mapping]]] = ..., variants: _Optional[_Iterable[_Union[StorefrontVariant, _Mapping]]] = ..., breadcrumbs: _Optional[_Iterable[_Union[_resources_pb2.Breadcrumb, _Mapping]]] = ..., min_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., hsn_code: _Optional[str] = ..., stock_unknown: _Optional[bool] = ...) -> None: ...

class ProductCard(_message.Message):
    __slots__ = ("id", "slug", "title", "brand_name", "image_url", "image_alt_text", "min_price", "max_price", "mrp", "stock_status")
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BRAND_NAME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ALT_TEXT_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    MRP_FIELD_NUMBER: _ClassVar[int]
    STOCK_STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    slug: str
    title: str
    brand_name: str
    image_url: str
    image_alt_text: str
    min_price: _money_pb2.Money
    max_price: _money_pb2.Money
    mrp: _money_pb2.Money
    stock_status: StockStatus
    def __init__(self, id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., brand_name: _Optional[str] = ..., image_url: _Optional[str] = ..., image_alt_text: _Optional[str] = ..., min_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., stock_status: _Optional[_Union[StockStatus, str]] = ...) -> None: ...

class GetProductBySlugRequest(_message.Message):
    __slots__ = ("slug",)
    SLUG_FIELD_NUMBER: _ClassVar[int]
    slug: str
    def __init__(self, slug: _Optional[str] = ...) -> None: ...

class ListPublishedProductsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "category", "collection", "brand", "min_price_minor", "max_price_minor", "attributes", "in_stock_only", "order_by")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    IN_STOCK_ONLY_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    category: str
    collection: str
    brand: str
    min_price_minor: int
    max_price_minor: int
    attributes: _containers.RepeatedScalarFieldContainer[str]
    in_stock_only: bool
    order_by: ProductSort
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., category: _Optional[str] = ..., collection: _Optional[str] = ..., brand: _Optional[str] = ..., min_price_minor: _Optional[int] = ..., max_price_minor: _Optional[int] = ..., attributes: _Optional[_Iterable[str]] = ..., in_stock_only: _Optional[bool] = ..., order_by: _Optional[_Union[ProductSort, str]] = ...) -> None: ...

class ListPublishedProductsResponse(_message.Message):
    __slots__ = ("products", "next_page_token", "stock_unknown")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STOCK_UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[ProductCard]
    next_page_token: str
    stock_unknown: bool
    def __init__(self, products: _Optional[_Iterable[_Union[ProductCard, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., stock_unknown: _Optional[bool] = ...) -> None: ...

class ListRelatedProductsRequest(_message.Message):
    __slots__ = ("slug", "kind")
    SLUG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    slug: str
    kind: _resources_pb2.RelationKind
    def __init__(self, slug: _Optional[str] = ..., kind: _Optional[_Union[_resources_pb2.RelationKind, str]] = ...) -> None: ...

class RelatedProductCard(_message.Message):
    __slots__ = ("kind", "product")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    kind: _resources_pb2.RelationKind
    product: ProductCard
    def __init__(self, kind: _Optional[_Union[_resources_pb2.RelationKind, str]] = ..., product: _Optional[_Union[ProductCard, _Mapping]] = ...) -> None: ...

class ListRelatedProductsResponse(_message.Message):
    __slots__ = ("related",)
    RELATED_FIELD_NUMBER: _ClassVar[int]
    related: _containers.RepeatedCompositeFieldContainer[RelatedProductCard]
    def __init__(self, related: _Optional[_Iterable[_Union[RelatedProductCard, _Mapping]]] = ...) -> None: ...

class StorefrontCategory(_message.Message):
    __slots__ = ("id", "slug", "display_name", "description", "parent_slug", "depth", "breadcrumbs", "children")
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARENT_SLUG_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    BREADCRUMBS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    id: str
    slug: str
    display_name: str
    description: str
    parent_slug: str
    depth: int
    breadcrumbs: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Breadcrumb]
    children: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Breadcrumb]
    def __init__(self, id: _Optional[str] = ..., slug: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., parent_slug: _Optional[str] = ..., depth: _Optional[int] = ..., breadcrumbs: _Optional[_Iterable[_Union[_resources_pb2.Breadcrumb, _Mapping]]] = ..., children: _Optional[_Iterable[_Union[_resources_pb2.Breadcrumb, _Mapping]]] = ...) -> None: ...

class ListPublishedCategoriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPublishedCategoriesResponse(_message.Message):
    __slots__ = ("categories",)
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[StorefrontCategory]
    def __init__(self, categories: _Optional[_Iterable[_Union[StorefrontCategory, _Mapping]]] = ...) -> None: ...

class GetCategoryBySlugRequest(_message.Message):
    __slots__ = ("slug",)
    SLUG_FIELD_NUMBER: _ClassVar[int]
    slug: str
    def __init__(self, slug: _Optional[str] = ...) -> None: ...

class StorefrontCollection(_message.Message):
    __slots__ = ("id", "slug", "title", "description", "image_url")
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    id: str
    slug: str
    title: str
    description: str
    image_url: str
    def __init__(self, id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., image_url: _Optional[str] = ...) -> None: ...

class ListPublishedCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPublishedCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[StorefrontCollection]
    def __init__(self, collections: _Optional[_Iterable[_Union[StorefrontCollection, _Mapping]]] = ...) -> None: ...

class GetCollectionBySlugRequest(_message.Message):
    __slots__ = ("slug",)
    SLUG_FIELD_NUMBER: _ClassVar[int]
    slug: str
    def __init__(self, slug: _Optional[str] = ...) -> None: ...

class StorefrontBundleItem(_message.Message):
    __slots__ = ("variant_id", "quantity", "product_slug", "product_title", "variant_title", "image_url", "mrp")
    VARIANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_SLUG_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TITLE_FIELD_NUMBER: _ClassVar[int]
    VARIANT_TITLE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    MRP_FIELD_NUMBER: _ClassVar[int]
    variant_id: str
    quantity: int
    product_slug: str
    product_title: str
    variant_title: str
    image_url: str
    mrp: _money_pb2.Money
    def __init__(self, variant_id: _Optional[str] = ..., quantity: _Optional[int] = ..., product_slug: _Optional[str] = ..., product_title: _Optional[str] = ..., variant_title: _Optional[str] = ..., image_url: _Optional[str] = ..., mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class StorefrontBundle(_message.Message):
    __slots__ = ("id", "slug", "title", "description", "image_url", "price", "items_mrp_total", "items")
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_MRP_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    id: str
    slug: str
    title: str
    description: str
    image_url: str
    price: _money_pb2.Money
    items_mrp_total: _money_pb2.Money
    items: _containers.RepeatedCompositeFieldContainer[StorefrontBundleItem]
    def __init__(self, id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., image_url: _Optional[str] = ..., price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., items_mrp_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., items: _Optional[_Iterable[_Union[StorefrontBundleItem, _Mapping]]] = ...) -> None: ...

class ListPublishedBundlesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPublishedBundlesResponse(_message.Message):
    __slots__ = ("bundles",)
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    bundles: _containers.RepeatedCompositeFieldContainer[StorefrontBundle]
    def __init__(self, bundles: _Optional[_Iterable[_Union[StorefrontBundle, _Mapping]]] = ...) -> None: ...

class GetBundleBySlugRequest(_message.Message):
    __slots__ = ("slug",)
    SLUG_FIELD_NUMBER: _ClassVar[int]
    slug: str
    def __init__(self, slug: _Optional[str] = ...) -> None: ...

class ListPublishedBrandsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPublishedBrandsResponse(_message.Message):
    __slots__ = ("brands",)
    BRANDS_FIELD_NUMBER: _ClassVar[int]
    brands: _containers.RepeatedCompositeFieldContainer[BrandRef]
    def __init__(self, brands: _Optional[_Iterable[_Union[BrandRef, _Mapping]]] = ...) -> None: ...
