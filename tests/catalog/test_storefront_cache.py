"""The storefront's per-process product-page cache never serves a page older than the
last committed write (same process, and another process sharing the database), and
search analytics recorded off the request path are still counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import field_mask_pb2
from sqlalchemy import func, select

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.catalog.v1 import search_service_pb2 as spb
from cleanse.catalog.v1 import search_service_pb2_grpc
from cleanse.catalog.v1 import storefront_service_pb2 as sf
from cleanse.catalog.v1 import storefront_service_pb2_grpc as sf_grpc
from cleanse.inventory.v1 import availability_service_pb2 as av
from mesh.db import Database
from services.catalog.app import CatalogApp, build
from services.catalog.config import Settings
from services.catalog.search.analytics import SearchLog
from services.catalog.search.models import SearchQuery
from tests.catalog.conftest import Catalog, money, product, uniq, variant
from tests.conftest import free_address

Code = grpc.StatusCode


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


async def page(store: sf_grpc.StorefrontServiceStub, slug: str) -> sf.StorefrontProduct:
    return await store.GetProductBySlug(sf.GetProductBySlugRequest(slug=slug))


async def _fixture_product(catalog: Catalog) -> tuple[res.Product, res.Category, res.Ingredient]:
    brand = await catalog.admin(
        "CreateBrand",
        adm.CreateBrandRequest(brand=res.Brand(slug=uniq("b"), display_name="Old Brand")),
    )
    cat = await catalog.admin(
        "CreateCategory",
        adm.CreateCategoryRequest(
            category=res.Category(slug=uniq("cat"), display_name="Old Cat", active=True)
        ),
    )
    ing = await catalog.admin(
        "CreateIngredient",
        adm.CreateIngredientRequest(
            ingredient=res.Ingredient(slug=uniq("ing"), display_name="Old Ing")
        ),
    )
    p = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(
            product=product(
                title="Old Title",
                brand=brand.name,
                categories=[cat.name],
                ingredients=[res.ProductIngredient(ingredient=ing.name)],
            )
        ),
    )
    return p, cat, ing


async def test_same_process_cache_follows_every_kind_of_write(catalog: Catalog) -> None:
    pages = catalog.wired.pages
    p, cat, ing = await _fixture_product(catalog)
    first = await page(catalog.store, p.slug)
    assert first.title == "Old Title" and first.brand.display_name == "Old Brand"
    loads = pages.loads
    for _ in range(3):  # served from the cache: no more loads
        assert (await page(catalog.store, p.slug)).title == "Old Title"
    assert pages.loads == loads

    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, title="New"), update_mask=mask("title")
        ),
    )
    assert (await page(catalog.store, p.slug)).title == "New"

    await catalog.admin(
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=p.variants[0].name, price=money(30000)),
            update_mask=mask("price"),
        ),
    )
    got = await page(catalog.store, p.slug)
    assert got.variants[0].price.amount_minor == 30000 and got.min_price.amount_minor == 30000

    new_variant = await catalog.admin(
        "CreateVariant", adm.CreateVariantRequest(parent=p.name, variant=variant())
    )
    assert len((await page(catalog.store, p.slug)).variants) == 2
    await catalog.admin("DeleteVariant", adm.DeleteVariantRequest(name=new_variant.name))
    assert len((await page(catalog.store, p.slug)).variants) == 1

    await catalog.admin(
        "UpdateBrand",
        adm.UpdateBrandRequest(
            brand=res.Brand(name=p.brand, display_name="New Brand"),
            update_mask=mask("display_name"),
        ),
    )
    assert (await page(catalog.store, p.slug)).brand.display_name == "New Brand"

    await catalog.admin(
        "UpdateCategory",
        adm.UpdateCategoryRequest(
            category=res.Category(name=cat.name, display_name="New Cat"),
            update_mask=mask("display_name"),
        ),
    )
    assert [b.display_name for b in (await page(catalog.store, p.slug)).breadcrumbs] == ["New Cat"]

    await catalog.admin(
        "UpdateIngredient",
        adm.UpdateIngredientRequest(
            ingredient=res.Ingredient(name=ing.name, display_name="New Ing"),
            update_mask=mask("display_name"),
        ),
    )
    assert (await page(catalog.store, p.slug)).ingredients[0].display_name == "New Ing"

    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(
                name=p.name, media=[res.Media(url="https://cdn.cleanse.in/n.jpg", alt_text="n")]
            ),
            update_mask=mask("media"),
        ),
    )
    assert [m.url for m in (await page(catalog.store, p.slug)).media] == [
        "https://cdn.cleanse.in/n.jpg"
    ]

    # Unpublished: NOT_FOUND (and that answer is cached too) until it is active again.
    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, status=res.PRODUCT_STATUS_ARCHIVED),
            update_mask=mask("status"),
        ),
    )
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await page(catalog.store, p.slug)
        assert err.value.code() == Code.NOT_FOUND
    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, status=res.PRODUCT_STATUS_ACTIVE),
            update_mask=mask("status"),
        ),
    )
    assert (await page(catalog.store, p.slug)).title == "New"


async def test_stock_is_merged_per_request_not_cached(catalog: Catalog) -> None:
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    vid = p.variants[0].variant_id
    catalog.inventory.stock[vid] = (av.STOCK_STATUS_IN_STOCK, 40)
    assert (await page(catalog.store, p.slug)).variants[0].stock.status == sf.STOCK_STATUS_IN_STOCK
    catalog.inventory.stock[vid] = (av.STOCK_STATUS_LOW_STOCK, 2)  # no catalogue write
    got = await page(catalog.store, p.slug)  # the test catalog's stock TTL is 0
    assert got.variants[0].stock.status == sf.STOCK_STATUS_LOW_STOCK
    assert got.variants[0].stock.available == 2 and not got.stock_unknown


@pytest.fixture
async def second_process(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[CatalogApp, sf_grpc.StorefrontServiceStub]]:
    """Another catalog (its own Database, engine, pool and caches) on the same database."""
    monkeypatch.setenv("CLEANSE_CATALOG_ADDR", str(free_address()))
    monkeypatch.setenv("CLEANSE_CATALOG_METRICS_ADDR", str(free_address()))
    db = Database("catalog", catalog.wired.db.url.render_as_string(hide_password=False))
    other = build(db, Settings(demo_data=False, stock_cache_seconds=0, admin_cache_seconds=0))
    await other.app.start()
    channel = grpc.aio.insecure_channel(str(other.app.address))
    try:
        yield other, sf_grpc.StorefrontServiceStub(channel)
    finally:
        await channel.close()
        await other.app.stop()


async def test_another_process_sees_writes_at_once(
    catalog: Catalog, second_process: tuple[CatalogApp, sf_grpc.StorefrontServiceStub]
) -> None:
    other, store = second_process
    p, cat, _ = await _fixture_product(catalog)
    assert (await page(store, p.slug)).title == "Old Title"  # cached over there now
    loads = other.pages.loads
    assert (await page(store, p.slug)).title == "Old Title"
    assert other.pages.loads == loads

    await catalog.admin(  # written through the first process
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, title="Elsewhere"), update_mask=mask("title")
        ),
    )
    assert (await page(store, p.slug)).title == "Elsewhere"
    await catalog.admin(
        "UpdateCategory",
        adm.UpdateCategoryRequest(
            category=res.Category(name=cat.name, display_name="Moved On"),
            update_mask=mask("display_name"),
        ),
    )
    assert [b.display_name for b in (await page(store, p.slug)).breadcrumbs] == ["Moved On"]
    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, status=res.PRODUCT_STATUS_ARCHIVED),
            update_mask=mask("status"),
        ),
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await page(store, p.slug)
    assert err.value.code() == Code.NOT_FOUND


async def test_concurrent_page_views_share_one_load(
    catalog: Catalog,
) -> None:
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    pages = catalog.wired.pages
    reads, loads = pages.versions.reads, pages.loads
    got = await asyncio.gather(*(page(catalog.store, p.slug) for _ in range(40)))
    assert {g.slug for g in got} == {p.slug}
    assert pages.loads - loads == 1  # one database load for 40 concurrent misses
    assert pages.versions.reads - reads <= 40  # shared while one is in flight


# --- search analytics off the request path ---------------------------------------------


async def _count(db: Database, query: str) -> int:
    async with db.session() as s:
        n = await s.scalar(select(func.count()).where(SearchQuery.query == query))
    return int(n or 0)


async def test_buffered_searches_are_counted_after_the_flush(catalog: Catalog) -> None:
    log = catalog.wired.search_log
    assert log is not None  # the app wires the buffer by default
    stub = search_service_pb2_grpc.SearchServiceStub(catalog.channel)
    word = uniq("zzq").replace("-", "")
    ids = [
        (await stub.SearchProducts(spb.SearchProductsRequest(query=word))).search_id
        for _ in range(3)
    ]
    assert all(ids) and len(set(ids)) == 3
    deadline = time.monotonic() + 10 * log.flush_seconds + 5
    while await _count(catalog.wired.db, word) < 3:  # the background task writes them
        assert time.monotonic() < deadline, "queued searches were never written"
        await asyncio.sleep(0.1)
    assert await _count(catalog.wired.db, word) == 3


async def test_click_on_a_queued_search_and_the_report_count_it(catalog: Catalog) -> None:
    stub = search_service_pb2_grpc.SearchServiceStub(catalog.channel)
    resp = await stub.SearchProducts(spb.SearchProductsRequest(query="kumkumadi"))
    assert resp.search_id and resp.results
    # Straight away, before any flush: the click writes the queue first.
    await stub.RecordSearchClick(
        spb.RecordSearchClickRequest(
            search_id=resp.search_id, product_id=resp.results[0].product_id, position=1
        )
    )
    report = await stub.GetSearchReport(spb.GetSearchReportRequest(), metadata=catalog.admin_md())
    top = {q.query: q for q in report.top_queries}
    assert top["kumkumadi"].searches >= 1 and top["kumkumadi"].clicks >= 1


async def test_click_on_a_search_queued_in_another_process(catalog: Catalog) -> None:
    other_db = Database("catalog", catalog.wired.db.url.render_as_string(hide_password=False))
    other = SearchLog(other_db, flush_seconds=0.2)
    try:
        sid = other.record("another replica", 1)
        stub = search_service_pb2_grpc.SearchServiceStub(catalog.channel)
        # Not in this process's queue nor yet in the database: waits for the other's flush.
        await stub.RecordSearchClick(
            spb.RecordSearchClickRequest(search_id=sid, product_id="prd_x", position=0)
        )
        assert await _count(catalog.wired.db, "another replica") == 1
    finally:
        await other.close()
        await other_db.dispose()


async def test_search_log_is_bounded_and_flushed_on_close(catalog: Catalog) -> None:
    db = catalog.wired.db
    log = SearchLog(db, flush_seconds=60, max_pending=3)
    word = uniq("bounded").replace("-", "")
    ids = [log.record(word, 0) for _ in range(5)]
    assert all(ids[:3]) and ids[3:] == ["", ""] and log.dropped == 2
    assert await _count(db, word) == 0
    await log.close()  # app shutdown
    assert await _count(db, word) == 3 and log.written == 3
