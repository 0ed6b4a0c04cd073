"""Admin CRUD over real gRPC: validation (nothing changed), field masks, the acting
admin validated against auth, pagination."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import resources_pb2 as res
from tests.catalog.conftest import (
    DISABLED_ADMIN,
    Catalog,
    money,
    product,
    sku,
    uniq,
    variant,
)
from tests.support.rpc import reason, violations

Code = grpc.StatusCode


async def _brand(catalog: Catalog) -> res.Brand:
    return await catalog.admin(
        "CreateBrand",
        adm.CreateBrandRequest(brand=res.Brand(slug=uniq("brand"), display_name="Test Brand")),
    )


async def test_product_crud_with_mask_and_created_by(catalog: Catalog) -> None:
    brand = await _brand(catalog)
    created = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(
            product=product(
                brand=brand.name,
                description_html='<p onclick="x()">Rich <b>oil</b><script>alert(1)</script></p>',
                tags=["Night-Ritual", "saffron"],
                attributes=[res.Attribute(key="dosha", values=["vata", "pitta"])],
                media=[
                    res.Media(
                        kind=res.MEDIA_KIND_IMAGE,
                        url="https://cdn.cleanse.in/p/1.webp",
                        alt_text="Bottle",
                    )
                ],
                variants=[variant(barcode="4006381333931", option_values={"size": "30 ml"})],
            )
        ),
    )
    assert created.created_by == "adminUsers/a-catalog-manager" == created.updated_by
    assert created.description_html == "<p>Rich <b>oil</b></p>"
    assert sorted(created.tags) == ["night-ritual", "saffron"]
    assert created.variants[0].title == "30 ml" and created.variants[0].cost_price.amount_minor
    assert created.min_price.amount_minor == 45000

    updated = await catalog.admin(
        "UpdateProduct",
        adm.UpdateProductRequest(
            product=res.Product(name=created.name, title="Renamed", subtitle="ignored"),
            update_mask=field_mask_pb2.FieldMask(paths=["title"]),
        ),
    )
    assert updated.title == "Renamed" and updated.subtitle == "" and updated.slug == created.slug
    got = await catalog.admin("GetProduct", adm.GetProductRequest(name=created.name))
    assert got.title == "Renamed" and got.brand == brand.name


async def test_invalid_product_changes_nothing(catalog: Catalog) -> None:
    slug = uniq("bad")
    bad = product(
        slug=slug,
        hsn_code="12",
        tax_class="gst_99",
        media=[res.Media(url="http://evil.example/x.php", alt_text="x")],
        attributes=[res.Attribute(key="colour", values=["red"])],
        variants=[variant(mrp=1000, price=2000, barcode="4006381333932")],
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin("CreateProduct", adm.CreateProductRequest(product=bad))
    assert err.value.code() == Code.INVALID_ARGUMENT
    v = violations(err.value)
    for f in (
        "product.hsn_code",
        "product.tax_class",
        "product.media[0].url",
        "product.attributes[0].key",
        "product.variants[0].price",
        "product.variants[0].barcode",
    ):
        assert f in v, (f, v)
    # Nothing was written.
    listed = await catalog.admin("ListProducts", adm.ListProductsRequest(query=slug))
    assert not listed.products
    # A reference to a missing brand is also INVALID_ARGUMENT, and rolls back.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "CreateProduct",
            adm.CreateProductRequest(product=product(slug=slug, brand="brands/nope")),
        )
    assert err.value.code() == Code.INVALID_ARGUMENT and "product.brand" in violations(err.value)
    assert not (await catalog.admin("ListProducts", adm.ListProductsRequest(query=slug))).products


async def test_duplicate_sku_and_slug(catalog: Catalog) -> None:
    first = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    taken = first.variants[0].sku
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "CreateProduct",
            adm.CreateProductRequest(product=product(variants=[variant(sku=taken)])),
        )
    assert err.value.code() == Code.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "CreateProduct", adm.CreateProductRequest(product=product(slug=first.slug))
        )
    assert err.value.code() == Code.ALREADY_EXISTS


async def test_variant_crud_and_price_rules(catalog: Catalog) -> None:
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    v = await catalog.admin(
        "CreateVariant",
        adm.CreateVariantRequest(parent=p.name, variant=variant(mrp=90000, price=80000)),
    )
    assert v.name.startswith(p.name + "/variants/")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "UpdateVariant",
            adm.UpdateVariantRequest(
                variant=res.Variant(name=v.name, price=money(95000)),
                update_mask=field_mask_pb2.FieldMask(paths=["price"]),
            ),
        )
    assert "variant.price" in violations(err.value)
    v2 = await catalog.admin(
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=v.name, price=money(30000)),
            update_mask=field_mask_pb2.FieldMask(paths=["price"]),
        ),
    )
    assert v2.price.amount_minor == 30000 and v2.mrp.amount_minor == 90000
    got = await catalog.admin("GetProduct", adm.GetProductRequest(name=p.name))
    assert got.min_price.amount_minor == 30000
    await catalog.admin("DeleteVariant", adm.DeleteVariantRequest(name=v.name))
    got = await catalog.admin("GetProduct", adm.GetProductRequest(name=p.name))
    assert len(got.variants) == 1 and got.min_price.amount_minor == 45000


async def test_required_fields_checked_by_contract(catalog: Catalog) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin("CreateBrand", adm.CreateBrandRequest(brand=res.Brand(slug="x-brand")))
    assert err.value.code() == Code.INVALID_ARGUMENT
    assert "brand.display_name" in violations(err.value)


async def test_writes_need_a_known_active_admin(catalog: Catalog) -> None:
    req = adm.CreateBrandRequest(brand=res.Brand(slug=uniq("ghost"), display_name="Ghost"))
    for sub, why in (("adminUsers/ghost", "UNKNOWN_ADMIN"), (DISABLED_ADMIN, "ACCOUNT_DISABLED")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await catalog.admin_stub.CreateBrand(req, metadata=catalog.admin_md(sub=sub))
        assert err.value.code() == Code.PERMISSION_DENIED and reason(err.value) == why
    # Reads do not ask auth; a customer or a missing permission is refused by the contract.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin_stub.CreateBrand(
            req, metadata=catalog.admin_md(perms=("catalog.read",))
        )
    assert err.value.code() == Code.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin_stub.ListBrands(adm.ListBrandsRequest())
    assert err.value.code() == Code.UNAUTHENTICATED
    assert catalog.auth.calls > 0


async def test_brand_update_mask_and_pagination(catalog: Catalog) -> None:
    made = [await _brand(catalog) for _ in range(3)]
    b = await catalog.admin(
        "UpdateBrand",
        adm.UpdateBrandRequest(
            brand=res.Brand(name=made[0].name, display_name="Renamed", active=False),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name", "active"]),
        ),
    )
    assert b.display_name == "Renamed" and not b.active and b.slug == made[0].slug
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "UpdateBrand",
            adm.UpdateBrandRequest(
                brand=res.Brand(name=made[0].name),
                update_mask=field_mask_pb2.FieldMask(paths=["create_time"]),
            ),
        )
    assert "update_mask" in violations(err.value)
    seen: list[str] = []
    token = ""
    while True:
        page = await catalog.admin(
            "ListBrands", adm.ListBrandsRequest(page_size=2, page_token=token)
        )
        seen.extend(x.name for x in page.brands)
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) and {m.name for m in made} <= set(seen)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin("ListBrands", adm.ListBrandsRequest(page_size=-1))
    assert err.value.code() == Code.INVALID_ARGUMENT


async def test_published_product_cannot_be_deleted(catalog: Catalog) -> None:
    p = await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product()))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin("DeleteProduct", adm.DeleteProductRequest(name=p.name))
    assert err.value.code() == Code.FAILED_PRECONDITION
    draft = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(product=product(status=res.PRODUCT_STATUS_DRAFT, hsn_code="")),
    )
    await catalog.admin("DeleteProduct", adm.DeleteProductRequest(name=draft.name))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin("GetProduct", adm.GetProductRequest(name=draft.name))
    assert err.value.code() == Code.NOT_FOUND
    assert sku()
