import datetime

from cleanse.common.v1 import access_pb2 as _access_pb2
from cleanse.common.v1 import money_pb2 as _money_pb2
from cleanse.common.v1 import pagination_pb2 as _pagination_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchSort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_SORT_UNSPECIFIED: _ClassVar[SearchSort]
    SEARCH_SORT_RELEVANCE: _ClassVar[SearchSort]
    SEARCH_SORT_PRICE_ASC: _ClassVar[SearchSort]
    SEARCH_SORT_PRICE_DESC: _ClassVar[SearchSort]
    SEARCH_SORT_NEWEST: _ClassVar[SearchSort]
SEARCH_SORT_UNSPECIFIED: SearchSort
SEARCH_SORT_RELEVANCE: SearchSort
SEARCH_SORT_PRICE_ASC: SearchSort
SEARCH_SORT_PRICE_DESC: SearchSort
SEARCH_SORT_NEWEST: SearchSort

class SearchProductsRequest(_message.Message):
    __slots__ = ("query", "category_slugs", "brand_slugs", "price_bands", "attributes", "sort", "page_size", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_SLUGS_FIELD_NUMBER: _ClassVar[int]
    BRAND_SLUGS_FIELD_NUMBER: _ClassVar[int]
    PRICE_BANDS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    category_slugs: _containers.RepeatedScalarFieldContainer[str]
    brand_slugs: _containers.RepeatedScalarFieldContainer[str]
    price_bands: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.RepeatedScalarFieldContainer[str]
    sort: SearchSort
    page_size: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., category_slugs: _Optional[_Iterable[str]] = ..., brand_slugs: _Optional[_Iterable[str]] = ..., price_bands: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Iterable[str]] = ..., sort: _Optional[_Union[SearchSort, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("product_id", "slug", "title", "brand_name", "min_price", "max_price", "mrp", "score", "corrected_terms")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BRAND_NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    MRP_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_TERMS_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    slug: str
    title: str
    brand_name: str
    min_price: _money_pb2.Money
    max_price: _money_pb2.Money
    mrp: _money_pb2.Money
    score: float
    corrected_terms: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, product_id: _Optional[str] = ..., slug: _Optional[str] = ..., title: _Optional[str] = ..., brand_name: _Optional[str] = ..., min_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., mrp: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., score: _Optional[float] = ..., corrected_terms: _Optional[_Iterable[str]] = ...) -> None: ...

class FacetValue(_message.Message):
    __slots__ = ("value", "label", "count")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    value: str
    label: str
    count: int
    def __init__(self, value: _Optional[str] = ..., label: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class Facet(_message.Message):
    __slots__ = ("name", "values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: _containers.RepeatedCompositeFieldContainer[FacetValue]
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Iterable[_Union[FacetValue, _Mapping]]] = ...) -> None: ...

class SearchProductsResponse(_message.Message):
    __slots__ = ("results", "total_size", "facets", "next_page_token", "search_id", "corrected_query", "did_you_mean", "popular_queries")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_QUERY_FIELD_NUMBER: _ClassVar[int]
    DID_YOU_MEAN_FIELD_NUMBER: _ClassVar[int]
    POPULAR_QUERIES_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchHit]
    total_size: int
    facets: _containers.RepeatedCompositeFieldContainer[Facet]
    next_page_token: str
    search_id: str
    corrected_query: str
    did_you_mean: str
    popular_queries: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, results: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., total_size: _Optional[int] = ..., facets: _Optional[_Iterable[_Union[Facet, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., search_id: _Optional[str] = ..., corrected_query: _Optional[str] = ..., did_you_mean: _Optional[str] = ..., popular_queries: _Optional[_Iterable[str]] = ...) -> None: ...

class SuggestSearchRequest(_message.Message):
    __slots__ = ("query", "limit")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    query: str
    limit: int
    def __init__(self, query: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SuggestSearchResponse(_message.Message):
    __slots__ = ("products", "completions")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[SearchHit]
    completions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, products: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., completions: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordSearchClickRequest(_message.Message):
    __slots__ = ("search_id", "product_id", "position")
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    search_id: str
    product_id: str
    position: int
    def __init__(self, search_id: _Optional[str] = ..., product_id: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class SearchSynonym(_message.Message):
    __slots__ = ("name", "terms", "create_time", "creator")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    terms: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    creator: str
    def __init__(self, name: _Optional[str] = ..., terms: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., creator: _Optional[str] = ...) -> None: ...

class ListSearchSynonymsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSearchSynonymsResponse(_message.Message):
    __slots__ = ("search_synonyms", "next_page_token")
    SEARCH_SYNONYMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    search_synonyms: _containers.RepeatedCompositeFieldContainer[SearchSynonym]
    next_page_token: str
    def __init__(self, search_synonyms: _Optional[_Iterable[_Union[SearchSynonym, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateSearchSynonymRequest(_message.Message):
    __slots__ = ("search_synonym",)
    SEARCH_SYNONYM_FIELD_NUMBER: _ClassVar[int]
    search_synonym: SearchSynonym
    def __init__(self, search_synonym: _Optional[_Union[SearchSynonym, _Mapping]] = ...) -> None: ...

class DeleteSearchSynonymRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetSearchReportRequest(_message.Message):
    __slots__ = ("start_time", "end_time", "limit")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class QueryStat(_message.Message):
    __slots__ = ("query", "searches", "clicked_searches", "clicks", "click_through_rate", "max_result_count")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEARCHES_FIELD_NUMBER: _ClassVar[int]
    CLICKED_SEARCHES_FIELD_NUMBER: _ClassVar[int]
    CLICKS_FIELD_NUMBER: _ClassVar[int]
    CLICK_THROUGH_RATE_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    query: str
    searches: int
    clicked_searches: int
    clicks: int
    click_through_rate: float
    max_result_count: int
    def __init__(self, query: _Optional[str] = ..., searches: _Optional[int] = ..., clicked_searches: _Optional[int] = ..., clicks: _Optional[int] = ..., click_through_rate: _Optional[float] = ..., max_result_count: _Optional[int] = ...) -> None: ...

class SearchReport(_message.Message):
    __slots__ = ("total_searches", "zero_result_searches", "clicked_searches", "click_through_rate", "top_queries", "zero_result_queries")
    TOTAL_SEARCHES_FIELD_NUMBER: _ClassVar[int]
    ZERO_RESULT_SEARCHES_FIELD_NUMBER: _ClassVar[int]
    CLICKED_SEARCHES_FIELD_NUMBER: _ClassVar[int]
    CLICK_THROUGH_RATE_FIELD_NUMBER: _ClassVar[int]
    TOP_QUERIES_FIELD_NUMBER: _ClassVar[int]
    ZERO_RESULT_QUERIES_FIELD_NUMBER: _ClassVar[int]
    total_searches: int
    zero_result_searches: int
    clicked_searches: int
    click_through_rate: float
    top_queries: _containers.RepeatedCompositeFieldContainer[QueryStat]
    zero_result_queries: _containers.RepeatedCompositeFieldContainer[QueryStat]
    def __init__(self, total_searches: _Optional[int] = ..., zero_result_searches: _Optional[int] = ..., clicked_searches: _Optional[int] = ..., click_through_rate: _Optional[float] = ..., top_queries: _Optional[_Iterable[_Union[QueryStat, _Mapping]]] = ..., zero_result_queries: _Optional[_Iterable[_Union[QueryStat, _Mapping]]] = ...) -> None: ...

class ReindexProductsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReindexProductsResponse(_message.Message):
    __slots__ = ("indexed_products",)
    INDEXED_PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    indexed_products: int
    def __init__(self, indexed_products: _Optional[int] = ...) -> None: ...
