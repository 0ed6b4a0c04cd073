"""What shoppers see: the product page in one call (stock from a real gRPC
inventory peer, or degraded when it is down), no cost price, nothing unpublished,
listings with filters, sort and stable pagination."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.catalog.v1 import storefront_service_pb2 as sf
from cleanse.inventory.v1 import availability_service_pb2 as av
from mesh import client
from tests.catalog.conftest import Catalog, product, uniq, variant
from tests.conftest import free_address

Code = grpc.StatusCode


async def _category(catalog: Catalog, parent: str = "") -> res.Category:
    return await catalog.admin(
        "CreateCategory",
        adm.CreateCategoryRequest(
            category=res.Category(slug=uniq("cat"), display_name="Cat", parent=parent, active=True)
        ),
    )


async def test_product_page_in_one_call_with_stock(catalog: Catalog) -> None:
    ing = await catalog.admin(
        "CreateIngredient",
        adm.CreateIngredientRequest(
            ingredient=res.Ingredient(
                slug=uniq("ing"), display_name="Saffron", benefits=["Brightens"]
            )
        ),
    )
    root = await _category(catalog)
    leaf = await _category(catalog, root.name)
    variants = [variant(mrp=100000, price=80000 - i, cost=12345) for i in range(4)]
    variants.append(variant(status=res.VARIANT_STATUS_INACTIVE))
    p = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(
            product=product(
                categories=[leaf.name],
                ingredients=[res.ProductIngredient(ingredient=ing.name, note="10%")],
                media=[
                    res.Media(url="https://cdn.cleanse.in/a.jpg", alt_text="front"),
                    res.Media(
                        kind=res.MEDIA_KIND_VIDEO, url="https://cdn.cleanse.in/a.mp4", alt_text=""
                    ),
                ],
                variants=variants,
            )
        ),
    )
    ids = [v.variant_id for v in p.variants]
    catalog.inventory.stock.update(
        {
            ids[0]: (av.STOCK_STATUS_IN_STOCK, 40),
            ids[1]: (av.STOCK_STATUS_LOW_STOCK, 3),
            ids[2]: (av.STOCK_STATUS_OUT_OF_STOCK, 0),
            ids[3]: (av.STOCK_STATUS_BACKORDER, 0),
        }
    )
    page = await catalog.store.GetProductBySlug(sf.GetProductBySlugRequest(slug=p.slug))
    assert [v.id for v in page.variants] == ids[:4]  # the inactive variant is not shown
    statuses = [(v.stock.status, v.stock.label) for v in page.variants]
    assert statuses == [
        (sf.STOCK_STATUS_IN_STOCK, "In stock"),
        (sf.STOCK_STATUS_LOW_STOCK, "Only 3 left"),
        (sf.STOCK_STATUS_OUT_OF_STOCK, "Out of stock"),
        (sf.STOCK_STATUS_BACKORDER, "Available on backorder"),
    ]
    assert page.variants[1].stock.available == 3 and page.variants[0].stock.available == 0
    assert page.variants[0].discount_percent == 20 and not page.stock_unknown
    assert [b.slug for b in page.breadcrumbs] == [root.slug, leaf.slug]
    assert page.ingredients[0].benefits == ["Brightens"] and page.ingredients[0].note == "10%"
    assert [m.kind for m in page.media] == [res.MEDIA_KIND_IMAGE, res.MEDIA_KIND_VIDEO]
    # No cost price anywhere in the storefront's messages, not even as a field.
    assert "cost_price" not in sf.StorefrontVariant.DESCRIPTOR.fields_by_name
    assert b"12345" not in page.SerializeToString()
    # ...while the admin view has it.
    admin_view = await catalog.admin("GetProduct", adm.GetProductRequest(name=p.name))
    assert admin_view.variants[0].cost_price.amount_minor == 12345


async def test_product_page_answers_when_inventory_is_down(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    monkeypatch.setenv("CLEANSE_INVENTORY_ADDR", str(free_address()))  # nobody listens
    try:
        page = await catalog.store.GetProductBySlug(sf.GetProductBySlugRequest(slug=p.slug))
        assert page.stock_unknown and page.variants[0].stock.status == sf.STOCK_STATUS_UNSPECIFIED
        assert page.variants[0].price.amount_minor == 45000
        listing = await catalog.store.ListPublishedProducts(
            sf.ListPublishedProductsRequest(in_stock_only=True, page_size=5)
        )
        assert listing.stock_unknown and len(listing.products) == 5
    finally:
        monkeypatch.setenv("CLEANSE_INVENTORY_ADDR", catalog.inventory_address)
        client.reset_breakers()


async def test_unpublished_is_invisible(catalog: Catalog) -> None:
    draft = await catalog.admin(
        "CreateProduct", adm.CreateProductRequest(product=product(status=res.PRODUCT_STATUS_DRAFT))
    )
    live = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    only_inactive = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(
            product=product(variants=[variant(status=res.VARIANT_STATUS_INACTIVE)])
        ),
    )
    await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=live.name, status=res.PRODUCT_STATUS_ARCHIVED),
            update_mask=field_mask_pb2.FieldMask(paths=["status"]),
        ),
    )
    for slug in (draft.slug, live.slug, only_inactive.slug, "no-such-product"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await catalog.store.GetProductBySlug(sf.GetProductBySlugRequest(slug=slug))
        assert err.value.code() == Code.NOT_FOUND
    # Demo data: the draft serum and the archived soap are not listed either.
    listed: set[str] = set()
    token = ""
    while True:
        resp = await catalog.store.ListPublishedProducts(
            sf.ListPublishedProductsRequest(page_size=100, page_token=token)
        )
        listed |= {c.slug for c in resp.products}
        token = resp.next_page_token
        if not token:
            break
    assert "kumkumadi-tailam" in listed
    assert not listed & {"licorice-brightening-serum", "rose-glycerin-soap", draft.slug, live.slug}


async def test_listing_filters_sort_and_pages(catalog: Catalog) -> None:
    cat = await _category(catalog)
    sub = await _category(catalog, cat.name)
    prices = [30000, 10000, 50000, 20000, 40000]
    made = []
    for i, price in enumerate(prices):
        p = await catalog.admin(
            "CreateProduct",
            adm.CreateProductRequest(
                product=product(
                    title=f"Item {'EDCBA'[i]}",
                    categories=[sub.name if i % 2 else cat.name],
                    attributes=[
                        res.Attribute(key="skin_type", values=["oily" if i < 3 else "dry"])
                    ],
                    variants=[variant(mrp=60000, price=price)],
                )
            ),
        )
        made.append(p)
    req = sf.ListPublishedProductsRequest(category=cat.slug, page_size=2)

    async def all_pages(r: sf.ListPublishedProductsRequest) -> list[sf.ProductCard]:
        out: list[sf.ProductCard] = []
        while True:
            resp = await catalog.store.ListPublishedProducts(r)
            out.extend(resp.products)
            if not resp.next_page_token:
                return out
            r.page_token = resp.next_page_token

    # Category includes descendants; newest first by default.
    cards = await all_pages(sf.ListPublishedProductsRequest(category=cat.slug, page_size=2))
    assert [c.slug for c in cards] == [p.slug for p in reversed(made)]
    req = sf.ListPublishedProductsRequest(
        category=cat.slug, page_size=2, order_by=sf.PRODUCT_SORT_PRICE_ASC
    )
    assert [c.min_price.amount_minor for c in await all_pages(req)] == sorted(prices)
    req = sf.ListPublishedProductsRequest(
        category=cat.slug, page_size=3, order_by=sf.PRODUCT_SORT_PRICE_DESC
    )
    assert [c.min_price.amount_minor for c in await all_pages(req)] == sorted(prices, reverse=True)
    req = sf.ListPublishedProductsRequest(category=cat.slug, order_by=sf.PRODUCT_SORT_TITLE)
    assert [c.title for c in await all_pages(req)] == [f"Item {x}" for x in "ABCDE"]
    sub_only = await all_pages(sf.ListPublishedProductsRequest(category=sub.slug))
    assert {c.slug for c in sub_only} == {made[1].slug, made[3].slug}
    req = sf.ListPublishedProductsRequest(
        category=cat.slug,
        min_price_minor=20000,
        max_price_minor=40000,
        attributes=["skin_type:oily"],
    )
    assert {c.slug for c in await all_pages(req)} == {made[0].slug}
    # In stock only: the out-of-stock product disappears.
    catalog.inventory.stock[made[2].variants[0].variant_id] = (av.STOCK_STATUS_OUT_OF_STOCK, 0)
    req = sf.ListPublishedProductsRequest(category=cat.slug, in_stock_only=True, page_size=2)
    assert made[2].slug not in {c.slug for c in await all_pages(req)}
    # A token from another filter is refused.
    first = await catalog.store.ListPublishedProducts(
        sf.ListPublishedProductsRequest(category=cat.slug, page_size=1)
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.store.ListPublishedProducts(
            sf.ListPublishedProductsRequest(
                category=sub.slug, page_size=1, page_token=first.next_page_token
            )
        )
    assert err.value.code() == Code.INVALID_ARGUMENT


async def test_related_products_and_brands(catalog: Catalog) -> None:
    resp = await catalog.store.ListRelatedProducts(
        sf.ListRelatedProductsRequest(slug="kumkumadi-tailam")
    )
    kinds = {(r.kind, r.product.slug) for r in resp.related}
    assert (res.RELATION_KIND_UP_SELL, "saffron-night-serum") in kinds
    assert (res.RELATION_KIND_CROSS_SELL, "ubtan-face-pack") in kinds
    up = await catalog.store.ListRelatedProducts(
        sf.ListRelatedProductsRequest(slug="kumkumadi-tailam", kind=res.RELATION_KIND_UP_SELL)
    )
    assert [r.product.slug for r in up.related] == ["saffron-night-serum"]
    brands = await catalog.store.ListPublishedBrands(sf.ListPublishedBrandsRequest())
    assert "vanya" in {b.slug for b in brands.brands}
