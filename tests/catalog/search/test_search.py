"""SearchService over real gRPC, on SQLite and PostgreSQL, against the known catalogue
in harness.py (5 active products, 1 draft)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2
from sqlalchemy import delete, update

from cleanse.catalog.v1 import search_service_pb2 as pb
from services.catalog.models import Product
from services.catalog.search.engine import Filters, SearchEngine
from services.catalog.search.indexer import SearchIndexer, reindex_all
from services.catalog.search.models import SearchQuery
from tests.catalog.search.conftest import SearchHarness


async def _slugs(search: SearchHarness, query: str, **kw: object) -> list[str]:
    resp = await search.stub.SearchProducts(pb.SearchProductsRequest(query=query, **kw))
    return [r.slug for r in resp.results]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ashwganda", "ashwagandha-capsules"),
        ("kumkumadi tailum", "kumkumadi-tailam"),
        ("kumkumadi talam", "kumkumadi-tailam"),
        ("bringraj", "bhringraj-hair-oil"),
        ("Withania", "ashwagandha-capsules"),  # ingredient's scientific name
        ("kama ayurveda saffron", "kumkumadi-tailam"),  # brand + ingredient
        ("strengthens roots", "bhringraj-hair-oil"),  # description text (HTML stripped)
    ],
)
async def test_misspellings_and_fields_find_the_product(
    search: SearchHarness, query: str, expected: str
) -> None:
    slugs = await _slugs(search, query)
    assert slugs and slugs[0] == expected, slugs


async def test_typo_hit_reports_the_corrected_query(search: SearchHarness) -> None:
    resp = await search.stub.SearchProducts(pb.SearchProductsRequest(query="kumkumadi tailum"))
    assert resp.corrected_query == "kumkumadi tailam"
    assert list(resp.results[0].corrected_terms) == ["tailum"]
    exact = await search.stub.SearchProducts(pb.SearchProductsRequest(query="kumkumadi tailam"))
    assert exact.corrected_query == "" and exact.results[0].score > resp.results[0].score


async def test_only_active_products_and_no_script_text(search: SearchHarness) -> None:
    slugs = await _slugs(search, "ashwagandha")
    assert slugs == ["ashwagandha-capsules"]  # the draft gummies stay invisible
    assert await _slugs(search, "evil") == [] and await _slugs(search, "script") == []


async def test_title_outranks_ingredient_and_bhringraj_matches_both(search: SearchHarness) -> None:
    slugs = await _slugs(search, "bhringraj")
    assert slugs == ["bhringraj-hair-oil", "anti-hair-loss-shampoo"]


async def test_prefix_of_last_word_types_ahead(search: SearchHarness) -> None:
    assert await _slugs(search, "kumkum") == ["kumkumadi-tailam"]
    resp = await search.stub.SuggestSearch(pb.SuggestSearchRequest(query="hair sh"))
    assert [p.slug for p in resp.products] == ["anti-hair-loss-shampoo"]
    assert "hair shampoo" in resp.completions


async def test_seeded_and_admin_synonyms_expand_the_query(search: SearchHarness) -> None:
    # Seeded by the migration: "face wash" <-> "cleanser", "hair fall" <-> "hair loss".
    assert await _slugs(search, "cleanser") == ["neem-face-wash"]
    assert set(await _slugs(search, "hair fall")) == {
        "bhringraj-hair-oil",
        "anti-hair-loss-shampoo",
    }
    assert await _slugs(search, "baal oil") == []
    with pytest.raises(grpc.aio.AioRpcError) as err:  # admins only
        await search.stub.CreateSearchSynonym(
            pb.CreateSearchSynonymRequest(search_synonym=pb.SearchSynonym(terms=["baal", "hair"]))
        )
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    created = await search.stub.CreateSearchSynonym(
        pb.CreateSearchSynonymRequest(search_synonym=pb.SearchSynonym(terms=["Baal", "hair"])),
        metadata=search.keys.md("catalog.write", sub="adminUsers/merch"),
    )
    assert list(created.terms) == ["baal", "hair"] and created.creator == "adminUsers/merch"
    assert await _slugs(search, "baal oil") == ["bhringraj-hair-oil"]
    listed = await search.stub.ListSearchSynonyms(
        pb.ListSearchSynonymsRequest(), metadata=search.keys.md("catalog.read")
    )
    assert created.name in [s.name for s in listed.search_synonyms]
    await search.stub.DeleteSearchSynonym(
        pb.DeleteSearchSynonymRequest(name=created.name), metadata=search.keys.md("catalog.write")
    )
    assert await _slugs(search, "baal oil") == []


async def test_facets_filters_sort_and_pages(search: SearchHarness) -> None:
    resp = await search.stub.SearchProducts(pb.SearchProductsRequest(query="hair"))
    facets = {f.name: {v.value: v.count for v in f.values} for f in resp.facets}
    assert resp.total_size == 2
    assert facets["brand"] == {"kama": 1, "himalaya": 1}
    assert facets["category"] == {"haircare": 2, "hair-oils": 1, "shampoos": 1}
    assert facets["price_band"] == {"under_300": 1, "300_600": 1}
    assert facets["attribute:hair_type"] == {"dry": 2, "oily": 1}
    # Browse everything: counts over the 5 active products.
    everything = await search.stub.SearchProducts(pb.SearchProductsRequest())
    facets = {f.name: {v.value: v.count for v in f.values} for f in everything.facets}
    assert everything.total_size == 5 and everything.search_id == ""
    assert facets["category"]["skincare"] == 2 and facets["brand"]["himalaya"] == 2
    assert facets["attribute:skin_type"] == {"dry": 1, "normal": 1, "oily": 1}
    # Filters AND together; a facet's counts ignore its own filter.
    resp = await search.stub.SearchProducts(
        pb.SearchProductsRequest(brand_slugs=["himalaya"], attributes=["hair_type:dry"])
    )
    assert [r.slug for r in resp.results] == ["anti-hair-loss-shampoo"]
    facets = {f.name: {v.value: v.count for v in f.values} for f in resp.facets}
    assert facets["brand"] == {"kama": 1, "himalaya": 1}
    resp = await search.stub.SearchProducts(
        pb.SearchProductsRequest(category_slugs=["skincare"], price_bands=["1000_2000"])
    )
    assert [r.slug for r in resp.results] == ["kumkumadi-tailam"]
    assert resp.results[0].min_price.amount_minor == 149_500
    # Sorting and paging.
    by_price = await search.stub.SearchProducts(
        pb.SearchProductsRequest(sort=pb.SEARCH_SORT_PRICE_ASC, page_size=2)
    )
    assert [r.slug for r in by_price.results] == ["neem-face-wash", "bhringraj-hair-oil"]
    page2 = await search.stub.SearchProducts(
        pb.SearchProductsRequest(
            sort=pb.SEARCH_SORT_PRICE_ASC, page_size=2, page_token=by_price.next_page_token
        )
    )
    assert [r.slug for r in page2.results] == ["anti-hair-loss-shampoo", "ashwagandha-capsules"]
    with pytest.raises(grpc.aio.AioRpcError) as err:  # a token from another list
        await search.stub.SearchProducts(
            pb.SearchProductsRequest(page_size=2, page_token=by_price.next_page_token)
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.stub.SearchProducts(pb.SearchProductsRequest(price_bands=["cheap"]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_zero_results_suggest_a_correction_and_popular_queries(
    search: SearchHarness,
) -> None:
    for _ in range(5):
        await search.stub.SearchProducts(pb.SearchProductsRequest(query="neem"))
    # Three typos: beyond the matcher's budget, within the suggestion's.
    resp = await search.stub.SearchProducts(pb.SearchProductsRequest(query="ashwgnda"))
    assert resp.total_size == 0
    assert resp.did_you_mean == "ashwagandha"
    assert resp.popular_queries[0] == "neem"
    retry = await search.stub.SearchProducts(pb.SearchProductsRequest(query=resp.did_you_mean))
    assert retry.total_size == 1


async def test_index_follows_writes_in_process_and_after_restart(search: SearchHarness) -> None:
    pid = search.fx.products["neem-face-wash"]
    indexer = SearchIndexer()
    async with search.db.transaction() as s:
        await s.execute(update(Product).where(Product.id == pid).values(title="Tulsi Neem Wash"))
        await indexer.product_changed(s, pid)
    assert await _slugs(search, "tulsi") == ["neem-face-wash"]
    async with search.db.transaction() as s:  # archived: gone from search
        await s.execute(update(Product).where(Product.id == pid).values(status="archived"))
        await indexer.product_changed(s, pid)
    assert await _slugs(search, "tulsi") == []
    async with search.db.transaction() as s:
        await s.execute(
            update(Product).where(Product.id == pid).values(status="active", title="Neem Face Wash")
        )
    assert await _slugs(search, "neem") == []  # no indexer call: index unchanged...
    assert await reindex_all(search.db) == 5  # ...until a reindex
    fresh = SearchEngine(search.db)  # a restarted process
    async with search.db.session() as s:
        result = await fresh.search(s, "neme fac", Filters())
    assert [h.doc.slug for h in result.hits] == ["neem-face-wash"]


async def test_analytics_report_counts_queries_zero_results_and_clicks(
    search: SearchHarness,
) -> None:
    async with search.db.transaction() as s:  # earlier tests of this module searched too
        await s.execute(delete(SearchQuery))
    start = datetime.now(UTC) - timedelta(minutes=1)
    ids = []
    for q in ("Bhringraj ", "bhringraj", "nothing-here-xyz", "neem"):
        resp = await search.stub.SearchProducts(pb.SearchProductsRequest(query=q))
        ids.append((resp.search_id, [r.product_id for r in resp.results]))
    assert all(i for i, _ in ids)
    await search.stub.RecordSearchClick(
        pb.RecordSearchClickRequest(search_id=ids[0][0], product_id=ids[0][1][0], position=1)
    )
    await search.stub.RecordSearchClick(  # a retry: counted once
        pb.RecordSearchClickRequest(search_id=ids[0][0], product_id=ids[0][1][0], position=1)
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.stub.RecordSearchClick(
            pb.RecordSearchClickRequest(search_id="nope", product_id="x")
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    window = timestamp_pb2.Timestamp()
    window.FromDatetime(start)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.stub.GetSearchReport(
            pb.GetSearchReportRequest(start_time=window), metadata=search.keys.md("catalog.write")
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    report = await search.stub.GetSearchReport(
        pb.GetSearchReportRequest(start_time=window), metadata=search.keys.md("catalog.read")
    )
    assert report.total_searches == 4 and report.zero_result_searches == 1
    assert report.clicked_searches == 1 and report.click_through_rate == pytest.approx(0.25)
    top = {q.query: q for q in report.top_queries}
    assert top["bhringraj"].searches == 2 and top["bhringraj"].clicks == 1
    assert top["bhringraj"].click_through_rate == pytest.approx(0.5)
    assert report.top_queries[0].query == "bhringraj"
    assert [q.query for q in report.zero_result_queries] == ["nothing here xyz"]
