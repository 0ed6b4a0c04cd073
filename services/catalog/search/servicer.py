"""The gRPC face of search (cleanse.catalog.v1.SearchService): protos in, engine calls, protos out.

SearchServicer(db)                      # wires its own SearchEngine; writes each search
SearchServicer(db, engine, search_log)  # the catalog app: shared version, batched analytics
app.add(search_service_pb2_grpc.add_SearchServiceServicer_to_server, SearchServicer(db))
"""

from __future__ import annotations

from datetime import UTC, timedelta

import grpc
from google.protobuf import empty_pb2
from sqlalchemy import delete, select

from cleanse.catalog.v1 import search_service_pb2 as pb
from cleanse.catalog.v1 import search_service_pb2_grpc
from cleanse.common.v1 import money_pb2
from mesh import context as call_context
from mesh.db import Database, decode_page_token, encode_page_token, utcnow
from mesh.errors import InvalidArgument, NotFound, Violations
from mesh.timestamps import ts
from services.catalog.search import analytics
from services.catalog.search.engine import BAND_IDS, Filters, Hit, SearchEngine
from services.catalog.search.indexer import bump_version, reindex_all
from services.catalog.search.models import SearchSynonym
from services.catalog.search.text import normalize_query, tokenize

SORTS = {
    pb.SEARCH_SORT_UNSPECIFIED: "relevance",
    pb.SEARCH_SORT_RELEVANCE: "relevance",
    pb.SEARCH_SORT_PRICE_ASC: "price_asc",
    pb.SEARCH_SORT_PRICE_DESC: "price_desc",
    pb.SEARCH_SORT_NEWEST: "newest",
}
MAX_QUERY_LENGTH = 200
SYNONYM_PREFIX = "searchSynonyms/"


def money(paise: int | None) -> money_pb2.Money | None:
    return None if paise is None else money_pb2.Money(amount_minor=paise, currency_code="INR")


def hit_pb(h: Hit) -> pb.SearchHit:
    d = h.doc
    return pb.SearchHit(
        product_id=d.product_id,
        slug=d.slug,
        title=d.title,
        brand_name=d.brand_name,
        min_price=money(d.min_price),
        max_price=money(d.max_price),
        mrp=money(d.mrp),
        score=round(h.score, 6),
        corrected_terms=sorted(h.corrected),
    )


def parse_filters(request: pb.SearchProductsRequest) -> Filters:
    v = Violations()
    attrs: dict[str, set[str]] = {}
    for i, raw in enumerate(request.attributes):
        key, sep, value = raw.partition(":")
        if v.check(bool(sep and key and value), f"attributes[{i}]", "must be 'key:value'"):
            attrs.setdefault(key.strip(), set()).add(value.strip())
    for i, band in enumerate(request.price_bands):
        v.check(band in BAND_IDS, f"price_bands[{i}]", f"must be one of {sorted(BAND_IDS)}")
    v.check(request.sort in SORTS, "sort", "unknown sort")
    v.check(len(request.query) <= MAX_QUERY_LENGTH, "query", "is too long")
    v.raise_if_any()
    return Filters(
        categories=frozenset(request.category_slugs),
        brands=frozenset(request.brand_slugs),
        bands=frozenset(request.price_bands),
        attributes={k: frozenset(vs) for k, vs in attrs.items()},
    )


def synonym_pb(row: SearchSynonym) -> pb.SearchSynonym:
    return pb.SearchSynonym(
        name=SYNONYM_PREFIX + row.id,
        terms=row.terms,
        create_time=ts(row.create_time),
        creator=row.created_by,
    )


class SearchServicer(search_service_pb2_grpc.SearchServiceServicer):
    def __init__(
        self,
        db: Database,
        engine: SearchEngine | None = None,
        search_log: analytics.SearchLog | None = None,
    ) -> None:
        """`search_log`: searches are queued and written in batches (the catalog app
        wires one); None writes each search in its own transaction on the request path."""
        self.db = db
        self.engine = engine or SearchEngine(db)
        self.search_log = search_log

    async def SearchProducts(
        self, request: pb.SearchProductsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchProductsResponse:
        filters = parse_filters(request)
        sort = SORTS[request.sort]
        page_key = {"q": normalize_query(request.query), "s": sort, **filters.as_dict()}
        offset = decode_page_token(request.page_token, page_key) or 0
        async with self.db.session() as s:
            result = await self.engine.search(
                s, request.query, filters, sort=sort, offset=offset, limit=request.page_size
            )
            popular: list[str] = []
            if result.total == 0 and result.normalized_query:
                popular = await analytics.popular_queries(s)
        search_id = ""
        if result.normalized_query and not request.page_token:
            if self.search_log is not None:
                search_id = self.search_log.record(result.normalized_query, result.total)
            else:
                search_id = await analytics.record_search(
                    self.db, result.normalized_query, result.total
                )
        end = offset + len(result.hits)
        return pb.SearchProductsResponse(
            results=[hit_pb(h) for h in result.hits],
            total_size=result.total,
            facets=[
                pb.Facet(
                    name=name,
                    values=[pb.FacetValue(value=f.value, label=f.label, count=f.count) for f in fs],
                )
                for name, fs in result.facets.items()
            ],
            next_page_token=encode_page_token(end, page_key) if end < result.total else "",
            search_id=search_id,
            corrected_query=result.corrected_query,
            did_you_mean=result.did_you_mean,
            popular_queries=[q for q in popular if q != result.normalized_query],
        )

    async def SuggestSearch(
        self, request: pb.SuggestSearchRequest, context: grpc.aio.ServicerContext
    ) -> pb.SuggestSearchResponse:
        limit = request.limit or 5
        if limit < 0 or limit > 20:
            raise InvalidArgument({"limit": "must be between 1 and 20"})
        async with self.db.session() as s:
            result = await self.engine.search(
                s, request.query[:MAX_QUERY_LENGTH], Filters(), limit=limit
            )
            snap = await self.engine.snapshot(s)
        words = tokenize(request.query, keep_stopwords=True)
        completions: list[str] = []
        if words and not request.query[-1:].isspace():
            head = " ".join(words[:-1])
            for c in snap.dictionary.completions(words[-1], limit):
                completions.append(f"{head} {c.term}".strip())
        return pb.SuggestSearchResponse(
            products=[hit_pb(h) for h in result.hits], completions=completions
        )

    async def RecordSearchClick(
        self, request: pb.RecordSearchClickRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        position = max(0, request.position)
        if self.search_log is not None:  # the search may still be queued here
            await self.search_log.write_if_queued(request.search_id)
        ok = await analytics.record_click(self.db, request.search_id, request.product_id, position)
        if (
            not ok
            and self.search_log is not None
            and await self.search_log.wait_for_other_process(request.search_id)
        ):  # or in another replica's queue
            ok = await analytics.record_click(
                self.db, request.search_id, request.product_id, position
            )
        if not ok:
            raise NotFound(f"no search {request.search_id!r}", reason="SEARCH_NOT_FOUND")
        return empty_pb2.Empty()

    async def ListSearchSynonyms(
        self, request: pb.ListSearchSynonymsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSearchSynonymsResponse:
        after = decode_page_token(request.page_token) or ""
        async with self.db.session() as s:
            rows = list(
                (
                    await s.scalars(
                        select(SearchSynonym)
                        .where(SearchSynonym.id > after)
                        .order_by(SearchSynonym.id)
                        .limit(request.page_size + 1)
                    )
                ).all()
            )
        more = len(rows) > request.page_size
        rows = rows[: request.page_size]
        return pb.ListSearchSynonymsResponse(
            search_synonyms=[synonym_pb(r) for r in rows],
            next_page_token=encode_page_token(rows[-1].id) if more else "",
        )

    async def CreateSearchSynonym(
        self, request: pb.CreateSearchSynonymRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchSynonym:
        terms: list[str] = []
        v = Violations()
        for i, raw in enumerate(request.search_synonym.terms):
            term = " ".join(tokenize(raw))
            if v.check(bool(term), f"search_synonym.terms[{i}]", "has no searchable words"):
                if term not in terms:
                    terms.append(term)
        v.check(len(terms) >= 2, "search_synonym.terms", "needs at least two different terms")
        v.check(len(terms) <= 20, "search_synonym.terms", "at most 20 terms")
        v.raise_if_any()
        async with self.db.transaction() as s:
            row = SearchSynonym(terms=terms, created_by=call_context.identity().subject)
            s.add(row)
            await bump_version(s)
        return synonym_pb(row)

    async def DeleteSearchSynonym(
        self, request: pb.DeleteSearchSynonymRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        if not request.name.startswith(SYNONYM_PREFIX):
            raise InvalidArgument({"name": f"must be {SYNONYM_PREFIX}{{id}}"})
        async with self.db.transaction() as s:
            gone = await s.execute(
                delete(SearchSynonym).where(
                    SearchSynonym.id == request.name.removeprefix(SYNONYM_PREFIX)
                )
            )
            if gone.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"no {request.name}")
            await bump_version(s)
        return empty_pb2.Empty()

    async def GetSearchReport(
        self, request: pb.GetSearchReportRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchReport:
        end = request.end_time.ToDatetime(UTC) if request.HasField("end_time") else utcnow()
        start = (
            request.start_time.ToDatetime(UTC)
            if request.HasField("start_time")
            else end - timedelta(days=30)
        )
        limit = request.limit or 20
        v = Violations()
        v.check(start < end, "start_time", "must be before end_time")
        v.check(0 < limit <= 200, "limit", "must be between 1 and 200")
        v.raise_if_any()
        if self.search_log is not None:  # this process's queued searches count too
            await self.search_log.flush()
        r = await analytics.report(self.db, start, end, limit)

        def stat(q: analytics.QueryStat) -> pb.QueryStat:
            return pb.QueryStat(
                query=q.query,
                searches=q.searches,
                clicked_searches=q.clicked_searches,
                clicks=q.clicks,
                click_through_rate=round(q.ctr, 6),
                max_result_count=q.max_result_count,
            )

        return pb.SearchReport(
            total_searches=r.total_searches,
            zero_result_searches=r.zero_result_searches,
            clicked_searches=r.clicked_searches,
            click_through_rate=round(r.ctr, 6),
            top_queries=[stat(q) for q in r.top_queries],
            zero_result_queries=[stat(q) for q in r.zero_result_queries],
        )

    async def ReindexProducts(
        self, request: pb.ReindexProductsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReindexProductsResponse:
        return pb.ReindexProductsResponse(indexed_products=await reindex_all(self.db))
