"""Internal RPCs (internal token only, batch limits), bundle validation, demo data."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import catalog_internal_service_pb2 as internal
from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.catalog.v1 import storefront_service_pb2 as sf
from services.catalog.demo.loader import SKUS_FILE, demo_skus, variant_id
from tests.catalog.conftest import Catalog, money, product, uniq, variant
from tests.support.rpc import violations

Code = grpc.StatusCode


async def test_internal_rpcs_need_the_internal_token(catalog: Catalog) -> None:
    req = internal.BatchGetVariantsRequest(variant_ids=["var_van-kumk-12ml"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.internal_stub.BatchGetVariants(req)
    assert err.value.code() == Code.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:  # an admin token is not enough
        await catalog.internal_stub.BatchGetVariants(req, metadata=catalog.admin_md())
    assert err.value.code() == Code.PERMISSION_DENIED
    ok = await catalog.internal("BatchGetVariants", req)
    assert ok.variants[0].sku == "VAN-KUMK-12ML"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.internal(
            "BatchGetVariants",
            internal.BatchGetVariantsRequest(variant_ids=[f"v{i}" for i in range(501)]),
        )
    assert err.value.code() == Code.INVALID_ARGUMENT and "variant_ids" in violations(err.value)


async def test_demo_catalogue_and_every_sku(catalog: Catalog) -> None:
    skus = demo_skus()
    assert len(skus) >= 60 and SKUS_FILE.read_text().split() == skus
    resp = await catalog.internal(
        "BatchGetVariants",
        internal.BatchGetVariantsRequest(variant_ids=[variant_id(s) for s in skus] + ["var_nope"]),
    )
    assert sorted(v.sku for v in resp.variants) == sorted(skus)
    assert list(resp.missing) == ["var_nope"]
    by_sku = {v.sku: v for v in resp.variants}
    kumk = by_sku["VAN-KUMK-12ML"]
    assert kumk.sellable and kumk.hsn_code == "33049990" and kumk.tax_class == "standard"
    assert kumk.price.amount_minor == 79900 and kumk.image_url.startswith("https://")
    assert {"cat_face-oils", "cat_face", "cat_skin"} <= set(kumk.category_ids)
    assert "col_bestsellers" in kumk.collection_ids and "saffron" in kumk.tags
    assert not by_sku["SAT-LIBS-30ML"].sellable  # the draft product
    summaries = await catalog.internal(
        "BatchGetProductSummaries",
        internal.BatchGetProductSummariesRequest(product_ids=["prd_chyawanprash", "prd_x"]),
    )
    assert summaries.products[0].brand_name == "Rasa Wellness"
    assert summaries.products[0].status == "active" and list(summaries.missing) == ["prd_x"]
    products = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(brand="vanya", page_size=100)
    )
    assert len(products.products) >= 10
    bundles = await catalog.store.ListPublishedBundles(sf.ListPublishedBundlesRequest())
    assert len(bundles.bundles) >= 3
    kit = await catalog.store.GetBundleBySlug(sf.GetBundleBySlugRequest(slug="glow-ritual-kit"))
    assert kit.price.amount_minor < kit.items_mrp_total.amount_minor and len(kit.items) == 3


async def test_bundle_validation(catalog: Catalog) -> None:
    p = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(product=product(variants=[variant(), variant()])),
    )
    a, b = p.variants
    # Price above the items' MRP total, and a single unit, are refused.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "CreateBundle",
            adm.CreateBundleRequest(
                bundle=res.Bundle(
                    slug=uniq("b"),
                    title="B",
                    price=money(10),
                    items=[res.BundleItem(variant_id=a.variant_id, quantity=1)],
                )
            ),
        )
    assert "bundle.items" in violations(err.value)
    bundle = await catalog.admin(
        "CreateBundle",
        adm.CreateBundleRequest(
            bundle=res.Bundle(
                slug=uniq("b"),
                title="Duo",
                price=money(80000),
                status=res.BUNDLE_STATUS_ACTIVE,
                items=[
                    res.BundleItem(variant_id=a.variant_id, quantity=1),
                    res.BundleItem(variant_id=b.variant_id, quantity=1),
                ],
            )
        ),
    )
    assert bundle.items_mrp_total.amount_minor == 100000
    check = await catalog.internal(
        "ValidateBundle", internal.ValidateBundleRequest(bundle_id=bundle.name)
    )
    assert check.valid and not check.problems and check.bundle_price.amount_minor == 80000
    assert [(x.variant_id, x.quantity) for x in check.lines] == [
        (a.variant_id, 1),
        (b.variant_id, 1),
    ]
    await catalog.admin(
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=b.name, status=res.VARIANT_STATUS_ARCHIVED),
            update_mask=field_mask_pb2.FieldMask(paths=["status"]),
        ),
    )
    check = await catalog.internal(
        "ValidateBundle", internal.ValidateBundleRequest(bundle_id=bundle.name)
    )
    assert not check.valid
    assert check.problems == [f"variant {b.sku} ({b.variant_id}) is archived"]
    # The storefront no longer offers it.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.store.GetBundleBySlug(sf.GetBundleBySlugRequest(slug=bundle.slug))
    assert err.value.code() == Code.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.internal("ValidateBundle", internal.ValidateBundleRequest(bundle_id="nope"))
    assert err.value.code() == Code.NOT_FOUND


async def test_check_references_names_what_the_catalog_does_not_know(catalog: Catalog) -> None:
    """Pricing validates promotion rules with it: every kind of id, any status, in order."""
    draft = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(product=product(status=res.PRODUCT_STATUS_DRAFT)),
    )
    resp = await catalog.internal(
        "CheckReferences",
        internal.CheckReferencesRequest(
            product_ids=["prd_nope", "prd_chyawanprash", draft.name.split("/")[-1], "prd_nope", ""],
            category_ids=["cat_face-oils", "cat_nope"],
            collection_ids=["col_nope", "col_bestsellers"],
            brand_ids=["brd_vanya", "brd_nope", "prd_chyawanprash"],
        ),
    )
    assert list(resp.missing_product_ids) == ["prd_nope"]  # a draft product exists
    assert list(resp.missing_category_ids) == ["cat_nope"]
    assert list(resp.missing_collection_ids) == ["col_nope"]
    # Each list is checked against its own kind: a product id is no brand.
    assert list(resp.missing_brand_ids) == ["brd_nope", "prd_chyawanprash"]
    empty = await catalog.internal("CheckReferences", internal.CheckReferencesRequest())
    assert empty == internal.CheckReferencesResponse()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.internal(
            "CheckReferences",
            internal.CheckReferencesRequest(category_ids=[f"c{i}" for i in range(501)]),
        )
    assert err.value.code() == Code.INVALID_ARGUMENT and "category_ids" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:  # internal token only
        await catalog.internal_stub.CheckReferences(
            internal.CheckReferencesRequest(), metadata=catalog.admin_md()
        )
    assert err.value.code() == Code.PERMISSION_DENIED
