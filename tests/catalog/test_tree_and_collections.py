"""The category tree (move a subtree, cycles refused, breadcrumbs) and smart
collections whose membership follows product writes in the same transaction."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import catalog_internal_service_pb2 as internal
from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.catalog.v1 import storefront_service_pb2 as sf
from tests.catalog.conftest import Catalog, money, product, uniq, variant
from tests.support.rpc import violations

Code = grpc.StatusCode


async def _cat(catalog: Catalog, parent: str = "", name: str = "Cat") -> res.Category:
    return await catalog.admin(
        "CreateCategory",
        adm.CreateCategoryRequest(
            category=res.Category(slug=uniq("c"), display_name=name, parent=parent, active=True)
        ),
    )


async def test_move_subtree_breadcrumbs_and_cycles(catalog: Catalog) -> None:
    skin = await _cat(catalog, name="Skin")
    face = await _cat(catalog, skin.name, "Face")
    serums = await _cat(catalog, face.name, "Serums")
    hair = await _cat(catalog, name="Hair")
    p = await catalog.admin(
        "CreateProduct", adm.CreateProductRequest(product=product(categories=[serums.name]))
    )
    got = await catalog.store.GetCategoryBySlug(sf.GetCategoryBySlugRequest(slug=serums.slug))
    assert [b.slug for b in got.breadcrumbs] == [skin.slug, face.slug, serums.slug]

    # Cycles: under itself, under a descendant.
    for target in (face.name, serums.name):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await catalog.admin(
                "MoveCategory", adm.MoveCategoryRequest(name=face.name, new_parent=target)
            )
        assert err.value.code() == Code.INVALID_ARGUMENT and "new_parent" in violations(err.value)

    moved = await catalog.admin(
        "MoveCategory", adm.MoveCategoryRequest(name=face.name, new_parent=hair.name)
    )
    assert moved.parent == hair.name and moved.depth == 1
    got = await catalog.store.GetCategoryBySlug(sf.GetCategoryBySlugRequest(slug=serums.slug))
    assert [b.slug for b in got.breadcrumbs] == [hair.slug, face.slug, serums.slug]
    assert got.depth == 2
    page = await catalog.store.GetProductBySlug(sf.GetProductBySlugRequest(slug=p.slug))
    assert [b.slug for b in page.breadcrumbs] == [hair.slug, face.slug, serums.slug]
    # Listing by the new ancestor finds the product; the old one no longer does.
    in_hair = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(category=hair.slug)
    )
    assert [c.slug for c in in_hair.products] == [p.slug]
    in_skin = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(category=skin.slug)
    )
    assert not in_skin.products
    # Internal snapshots carry the ancestors (coupon rules match on them).
    snap = await catalog.internal(
        "BatchGetVariants", internal.BatchGetVariantsRequest(variant_ids=[p.variants[0].variant_id])
    )
    assert set(snap.variants[0].category_ids) == {
        n.removeprefix("categories/") for n in (hair.name, face.name, serums.name)
    }
    # Back to the top level; deleting a parent with children is refused.
    top = await catalog.admin("MoveCategory", adm.MoveCategoryRequest(name=face.name))
    assert top.parent == "" and top.depth == 0
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin("DeleteCategory", adm.DeleteCategoryRequest(name=face.name))
    assert err.value.code() == Code.FAILED_PRECONDITION
    # The storefront tree hides an inactive category's whole subtree.
    await catalog.admin(
        "UpdateCategory",
        adm.UpdateCategoryRequest(
            category=res.Category(name=face.name, active=False),
            update_mask=field_mask_pb2.FieldMask(paths=["active"]),
        ),
    )
    tree = await catalog.store.ListPublishedCategories(sf.ListPublishedCategoriesRequest())
    assert not {face.slug, serums.slug} & {c.slug for c in tree.categories}
    assert {"skin", "face-oils"} <= {c.slug for c in tree.categories}


async def test_smart_collection_follows_price_and_tag(catalog: Catalog) -> None:
    tag = uniq("promo").replace("-", "_")
    coll = await catalog.admin(
        "CreateCollection",
        adm.CreateCollectionRequest(
            collection=res.Collection(
                slug=uniq("smart"),
                title="Cheap promo",
                kind=res.COLLECTION_KIND_SMART,
                active=True,
                rules=[
                    res.CollectionRule(tag=tag),
                    res.CollectionRule(price_range=res.PriceRange(max_minor=49900)),
                ],
            )
        ),
    )
    p = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(product=product(tags=[tag], variants=[variant(price=45000)])),
    )

    async def members() -> set[str]:
        r = await catalog.store.ListPublishedProducts(
            sf.ListPublishedProductsRequest(collection=coll.slug)
        )
        return {c.slug for c in r.products}

    assert await members() == {p.slug}
    # Price rises above the range: out. Falls again: in.
    await catalog.admin(
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=p.variants[0].name, price=money(50000)),
            update_mask=field_mask_pb2.FieldMask(paths=["price"]),
        ),
    )
    assert await members() == set()
    await catalog.admin(
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=p.variants[0].name, price=money(40000)),
            update_mask=field_mask_pb2.FieldMask(paths=["price"]),
        ),
    )
    assert await members() == {p.slug}
    got = await catalog.admin("GetCollection", adm.GetCollectionRequest(name=coll.name))
    assert got.product_count == 1
    # The tag is removed: out.
    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=p.name, tags=["other"]),
            update_mask=field_mask_pb2.FieldMask(paths=["tags"]),
        ),
    )
    assert await members() == set()
    # Manual membership is refused on a smart collection.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "AddCollectionProducts",
            adm.AddCollectionProductsRequest(collection=coll.name, products=[p.name]),
        )
    assert err.value.code() == Code.FAILED_PRECONDITION


async def test_manual_collection_and_demo_smart_collections(catalog: Catalog) -> None:
    coll = await catalog.admin(
        "CreateCollection",
        adm.CreateCollectionRequest(
            collection=res.Collection(
                slug=uniq("manual"), title="Picks", kind=res.COLLECTION_KIND_MANUAL, active=True
            )
        ),
    )
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    got = await catalog.admin(
        "AddCollectionProducts",
        adm.AddCollectionProductsRequest(collection=coll.name, products=[p.name, p.name]),
    )
    assert got.product_count == 1
    r = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(collection=coll.slug)
    )
    assert [c.slug for c in r.products] == [p.slug]
    got = await catalog.admin(
        "RemoveCollectionProducts",
        adm.RemoveCollectionProductsRequest(collection=coll.name, products=[p.name]),
    )
    assert got.product_count == 0
    # Demo: "Under Rs 500" holds only products with a variant at or under Rs 499;
    # "New arrivals" only those published in the last 30 days.
    cheap = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(collection="under-rs-500", page_size=100)
    )
    assert cheap.products and all(c.min_price.amount_minor <= 49900 for c in cheap.products)
    assert "kansa-wand" not in {c.slug for c in cheap.products}
    new = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(collection="new-arrivals", page_size=100)
    )
    slugs = {c.slug for c in new.products}
    assert {"saffron-night-serum", "coconut-vetiver-body-oil"} <= slugs
    assert "kumkumadi-tailam" not in slugs
    best = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(collection="bestsellers", page_size=100)
    )
    assert "kumkumadi-tailam" in {c.slug for c in best.products}
