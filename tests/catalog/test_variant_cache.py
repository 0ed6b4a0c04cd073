"""BatchGetVariants answers from a per-process cache of variant facts, and never with
facts older than the last committed admin write: in this process or in another
process sharing the database. Collection rules that depend on the clock are still
evaluated when the call is answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import catalog_internal_service_pb2 as internal
from cleanse.catalog.v1 import catalog_internal_service_pb2_grpc as internal_grpc
from cleanse.catalog.v1 import resources_pb2 as res
from mesh.db import Database, utcnow
from services.catalog.app import CatalogApp, build
from services.catalog.config import Settings
from tests.catalog.conftest import Catalog, money, product, uniq, variant
from tests.conftest import free_address


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


async def snapshot(
    catalog: Catalog, vid: str, stub: internal_grpc.CatalogInternalServiceStub | None = None
) -> internal.VariantSnapshot | None:
    req = internal.BatchGetVariantsRequest(variant_ids=[vid])
    resp = await (stub or catalog.internal_stub).BatchGetVariants(
        req, metadata=catalog.internal_md()
    )
    return resp.variants[0] if resp.variants else None


async def _category(catalog: Catalog, parent: str = "") -> res.Category:
    return await catalog.admin(
        "CreateCategory",
        adm.CreateCategoryRequest(
            category=res.Category(slug=uniq("vc"), display_name="C", parent=parent, active=True)
        ),
    )


async def _collection(catalog: Catalog, *rules: res.CollectionRule) -> res.Collection:
    kind = res.COLLECTION_KIND_SMART if rules else res.COLLECTION_KIND_MANUAL
    return await catalog.admin(
        "CreateCollection",
        adm.CreateCollectionRequest(
            collection=res.Collection(
                slug=uniq("vcol"), title="T", kind=kind, active=True, rules=list(rules)
            )
        ),
    )


async def test_cached_facts_follow_product_and_variant_writes(catalog: Catalog) -> None:
    cache = catalog.wired.variant_facts
    p = await catalog.admin(
        "CreateProduct", adm.CreateProductRequest(product=product(tags=["vc-a"]))
    )
    vid = p.variants[0].variant_id
    first = await snapshot(catalog, vid)
    assert first is not None and first.price.amount_minor == 45000 and first.sellable
    loads = cache.loads
    for _ in range(3):  # unchanged catalogue: answered from the cache
        assert await snapshot(catalog, vid) == first
    assert cache.loads == loads

    await catalog.admin(  # price change
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=p.variants[0].name, price=money(30000), mrp=money(40000)),
            update_mask=mask("price", "mrp"),
        ),
    )
    got = await snapshot(catalog, vid)
    assert got is not None and got.price.amount_minor == 30000 and got.mrp.amount_minor == 40000

    await catalog.admin(  # unpublish the product
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, status=res.PRODUCT_STATUS_ARCHIVED),
            update_mask=mask("status"),
        ),
    )
    got = await snapshot(catalog, vid)
    assert got is not None and not got.sellable
    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, status=res.PRODUCT_STATUS_ACTIVE),
            update_mask=mask("status"),
        ),
    )
    assert (await snapshot(catalog, vid)).sellable  # type: ignore[union-attr]

    await catalog.admin(  # the variant alone is deactivated
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=p.variants[0].name, status=res.VARIANT_STATUS_INACTIVE),
            update_mask=mask("status"),
        ),
    )
    assert not (await snapshot(catalog, vid)).sellable  # type: ignore[union-attr]

    await catalog.admin(  # title, tags, media, tax
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(
                name=p.name,
                title="Renamed",
                tags=["vc-b", "vc-c"],
                hsn_code="330499",
                tax_class="apparel",
                media=[res.Media(url="https://cdn.cleanse.in/vc.jpg", alt_text="vc")],
            ),
            update_mask=mask("title", "tags", "hsn_code", "tax_class", "media"),
        ),
    )
    got = await snapshot(catalog, vid)
    assert got is not None and got.product_title == "Renamed"
    assert list(got.tags) == ["vc-b", "vc-c"] and got.image_url == "https://cdn.cleanse.in/vc.jpg"
    assert got.hsn_code == "330499" and got.tax_class == "apparel"

    other = await catalog.admin(
        "CreateVariant", adm.CreateVariantRequest(parent=p.name, variant=variant())
    )
    assert (await snapshot(catalog, other.variant_id)) is not None
    await catalog.admin("DeleteVariant", adm.DeleteVariantRequest(name=other.name))
    assert await snapshot(catalog, other.variant_id) is None  # gone: listed as missing
    await catalog.admin(  # only a draft can be deleted
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, status=res.PRODUCT_STATUS_DRAFT),
            update_mask=mask("status"),
        ),
    )
    await catalog.admin("DeleteProduct", adm.DeleteProductRequest(name=p.name))
    assert await snapshot(catalog, vid) is None


async def test_cached_facts_follow_category_and_collection_writes(catalog: Catalog) -> None:
    root = await _category(catalog)
    child = await _category(catalog, root.name)
    other_root = await _category(catalog)
    tag = uniq("vctag").replace("-", "_")
    p = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(product=product(tags=[tag], categories=[child.name])),
    )
    vid, pid = p.variants[0].variant_id, p.name.removeprefix("products/")
    cid = lambda c: c.name.removeprefix("categories/")  # noqa: E731
    got = await snapshot(catalog, vid)
    assert got is not None and list(got.category_ids) == [cid(root), cid(child)]

    await catalog.admin(  # the product's category moves to another root
        "MoveCategory", adm.MoveCategoryRequest(name=child.name, new_parent=other_root.name)
    )
    assert list((await snapshot(catalog, vid)).category_ids) == [  # type: ignore[union-attr]
        cid(other_root),
        cid(child),
    ]
    await catalog.admin(  # the product's own categories change
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, categories=[root.name]), update_mask=mask("categories")
        ),
    )
    assert list((await snapshot(catalog, vid)).category_ids) == [cid(root)]  # type: ignore[union-attr]

    # A manual collection: products added and removed, deactivated, deleted.
    manual = await _collection(catalog)
    mid = manual.name.removeprefix("collections/")

    async def collections() -> list[str]:
        got = await snapshot(catalog, vid)
        assert got is not None
        return list(got.collection_ids)

    assert mid not in await collections()
    await catalog.admin(
        "AddCollectionProducts",
        adm.AddCollectionProductsRequest(collection=manual.name, products=[p.name]),
    )
    assert mid in await collections()
    await catalog.admin(
        "RemoveCollectionProducts",
        adm.RemoveCollectionProductsRequest(collection=manual.name, products=[p.name]),
    )
    assert mid not in await collections()
    await catalog.admin(
        "AddCollectionProducts",
        adm.AddCollectionProductsRequest(collection=manual.name, products=[p.name]),
    )
    assert mid in await collections()
    await catalog.admin(
        "UpdateCollection",
        adm.UpdateCollectionRequest(
            collection=res.Collection(name=manual.name, active=False), update_mask=mask("active")
        ),
    )
    assert mid not in await collections()
    await catalog.admin(
        "UpdateCollection",
        adm.UpdateCollectionRequest(
            collection=res.Collection(name=manual.name, active=True), update_mask=mask("active")
        ),
    )
    assert mid in await collections()
    await catalog.admin("DeleteCollection", adm.DeleteCollectionRequest(name=manual.name))
    assert mid not in await collections()

    # A smart collection: created (members computed), its rules changed.
    smart = await _collection(catalog, res.CollectionRule(tag=tag))
    sid = smart.name.removeprefix("collections/")
    assert sid in await collections()
    await catalog.admin(
        "UpdateCollection",
        adm.UpdateCollectionRequest(
            collection=res.Collection(
                name=smart.name, rules=[res.CollectionRule(tag=tag + "_other")]
            ),
            update_mask=mask("rules"),
        ),
    )
    assert sid not in await collections()
    assert pid  # the product is still there; only its memberships changed


async def test_new_within_days_is_evaluated_when_answering(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = uniq("vcnew").replace("-", "_")
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product(tags=[tag])))
    vid = p.variants[0].variant_id
    smart = await _collection(
        catalog, res.CollectionRule(tag=tag), res.CollectionRule(new_within_days=30)
    )
    sid = smart.name.removeprefix("collections/")
    got = await snapshot(catalog, vid)
    assert got is not None and sid in got.collection_ids
    cache = catalog.wired.variant_facts
    loads = cache.loads
    # Forty days later, with no catalogue write at all: no longer new.
    later = utcnow() + timedelta(days=40)
    monkeypatch.setattr(catalog.wired.deps, "clock", lambda: later)
    got = await snapshot(catalog, vid)
    assert got is not None and sid not in got.collection_ids
    assert cache.loads == loads  # the facts came from the cache; the rule ran on read


async def test_concurrent_misses_share_one_load(catalog: Catalog) -> None:
    p = await catalog.admin(
        "CreateProduct", adm.CreateProductRequest(product=product(variants=[variant(), variant()]))
    )
    a, b = (v.variant_id for v in p.variants)
    cache = catalog.wired.variant_facts
    loads = cache.loads
    req = internal.BatchGetVariantsRequest(variant_ids=[a, b, "var_missing-" + uniq("x")])
    got = await asyncio.gather(*(catalog.internal("BatchGetVariants", req) for _ in range(20)))
    assert {tuple(v.variant_id for v in g.variants) for g in got} == {(a, b)}
    assert {tuple(g.missing) for g in got} == {(req.variant_ids[2],)}
    assert cache.loads - loads == 1


@pytest.fixture
async def second_process(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[CatalogApp, internal_grpc.CatalogInternalServiceStub]]:
    """Another catalog (its own Database, engine, pool and caches) on the same database."""
    monkeypatch.setenv("CLEANSE_CATALOG_ADDR", str(free_address()))
    monkeypatch.setenv("CLEANSE_CATALOG_METRICS_ADDR", str(free_address()))
    db = Database("catalog", catalog.wired.db.url.render_as_string(hide_password=False))
    other = build(db, Settings(demo_data=False, stock_cache_seconds=0, admin_cache_seconds=0))
    await other.app.start()
    channel = grpc.aio.insecure_channel(str(other.app.address))
    try:
        yield other, internal_grpc.CatalogInternalServiceStub(channel)
    finally:
        await channel.close()
        await other.app.stop()


async def test_another_process_sees_writes_at_once(
    catalog: Catalog,
    second_process: tuple[CatalogApp, internal_grpc.CatalogInternalServiceStub],
) -> None:
    other, stub = second_process
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    vid = p.variants[0].variant_id
    assert (await snapshot(catalog, vid, stub)).price.amount_minor == 45000  # type: ignore[union-attr]
    loads = other.variant_facts.loads
    assert (await snapshot(catalog, vid, stub)).price.amount_minor == 45000  # type: ignore[union-attr]
    assert other.variant_facts.loads == loads  # cached over there

    await catalog.admin(  # written through the first process
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=p.variants[0].name, price=money(41000)),
            update_mask=mask("price"),
        ),
    )
    assert (await snapshot(catalog, vid, stub)).price.amount_minor == 41000  # type: ignore[union-attr]

    manual = await _collection(catalog)
    await catalog.admin(
        "AddCollectionProducts",
        adm.AddCollectionProductsRequest(collection=manual.name, products=[p.name]),
    )
    got = await snapshot(catalog, vid, stub)
    assert got is not None and manual.name.removeprefix("collections/") in got.collection_ids

    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, status=res.PRODUCT_STATUS_DRAFT),
            update_mask=mask("status"),
        ),
    )
    assert not (await snapshot(catalog, vid, stub)).sellable  # type: ignore[union-attr]
