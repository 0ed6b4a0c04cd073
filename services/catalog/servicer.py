"""The gRPC face of the catalogue's admin and internal services: protos in,
handler calls, protos out. The contract interceptor has already authenticated
the caller, enforced the access policy, checked REQUIRED fields and page sizes."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2

from cleanse.catalog.v1 import (
    catalog_admin_service_pb2 as adm,
)
from cleanse.catalog.v1 import (
    catalog_admin_service_pb2_grpc as adm_grpc,
)
from cleanse.catalog.v1 import (
    catalog_internal_service_pb2 as internal,
)
from cleanse.catalog.v1 import (
    catalog_internal_service_pb2_grpc as internal_grpc,
)
from mesh.db import next_page_token, page_after
from mesh.errors import InvalidArgument, NotFound
from services.catalog import convert
from services.catalog.handlers.bundles import BundleHandlers
from services.catalog.handlers.categories import CategoryHandlers
from services.catalog.handlers.collections import CollectionHandlers
from services.catalog.handlers.internal import InternalHandlers
from services.catalog.handlers.products import ProductHandlers
from services.catalog.handlers.taxonomy import TaxonomyHandlers

Ctx = grpc.aio.ServicerContext
EMPTY = empty_pb2.Empty()


def _first_id(row: tuple[Any, ...]) -> str:
    return row[0].id


def paths(request: Any) -> list[str]:
    return list(request.update_mask.paths)


class CatalogAdminService(adm_grpc.CatalogAdminServiceServicer):
    def __init__(
        self,
        taxonomy: TaxonomyHandlers,
        products: ProductHandlers,
        categories: CategoryHandlers,
        collections: CollectionHandlers,
        bundles: BundleHandlers,
    ) -> None:
        self.taxonomy = taxonomy
        self.products = products
        self.categories = categories
        self.collections = collections
        self.bundles = bundles

    # --- brands --------------------------------------------------------------------

    async def ListBrands(
        self, request: adm.ListBrandsRequest, context: Ctx
    ) -> adm.ListBrandsResponse:
        rows = await self.taxonomy.list_brands(
            page_after(request.page_token), request.page_size + 1
        )
        return adm.ListBrandsResponse(
            brands=[convert.brand_pb(b) for b in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def GetBrand(self, request: adm.GetBrandRequest, context: Ctx) -> Any:
        return convert.brand_pb(await self.taxonomy.get_brand(request.name))

    async def CreateBrand(self, request: adm.CreateBrandRequest, context: Ctx) -> Any:
        return convert.brand_pb(await self.taxonomy.create_brand(request.brand))

    async def UpdateBrand(self, request: adm.UpdateBrandRequest, context: Ctx) -> Any:
        return convert.brand_pb(await self.taxonomy.update_brand(request.brand, paths(request)))

    async def DeleteBrand(self, request: adm.DeleteBrandRequest, context: Ctx) -> empty_pb2.Empty:
        await self.taxonomy.delete_brand(request.name)
        return EMPTY

    # --- ingredients ---------------------------------------------------------------

    async def ListIngredients(
        self, request: adm.ListIngredientsRequest, context: Ctx
    ) -> adm.ListIngredientsResponse:
        rows = await self.taxonomy.list_ingredients(
            page_after(request.page_token), request.page_size + 1
        )
        return adm.ListIngredientsResponse(
            ingredients=[convert.ingredient_pb(i) for i in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def GetIngredient(self, request: adm.GetIngredientRequest, context: Ctx) -> Any:
        return convert.ingredient_pb(await self.taxonomy.get_ingredient(request.name))

    async def CreateIngredient(self, request: adm.CreateIngredientRequest, context: Ctx) -> Any:
        return convert.ingredient_pb(await self.taxonomy.create_ingredient(request.ingredient))

    async def UpdateIngredient(self, request: adm.UpdateIngredientRequest, context: Ctx) -> Any:
        return convert.ingredient_pb(
            await self.taxonomy.update_ingredient(request.ingredient, paths(request))
        )

    async def DeleteIngredient(
        self, request: adm.DeleteIngredientRequest, context: Ctx
    ) -> empty_pb2.Empty:
        await self.taxonomy.delete_ingredient(request.name)
        return EMPTY

    # --- products and variants -----------------------------------------------------

    async def ListProducts(
        self, request: adm.ListProductsRequest, context: Ctx
    ) -> adm.ListProductsResponse:
        filters = {
            "s": request.status,
            "b": request.brand,
            "c": request.category,
            "k": request.collection,
            "q": request.query,
        }
        rows = await self.products.list_products(
            page_after(request.page_token, filters),
            request.page_size + 1,
            status=request.status,
            brand=request.brand,
            category=request.category,
            collection=request.collection,
            query=request.query,
        )
        return adm.ListProductsResponse(
            products=[convert.product_pb(p, []) for p in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size, filters),
        )

    async def GetProduct(self, request: adm.GetProductRequest, context: Ctx) -> Any:
        return convert.product_pb(*await self.products.get_product(request.name))

    async def CreateProduct(self, request: adm.CreateProductRequest, context: Ctx) -> Any:
        return convert.product_pb(*await self.products.create_product(request.product))

    async def UpdateProduct(self, request: adm.UpdateProductRequest, context: Ctx) -> Any:
        return convert.product_pb(
            *await self.products.update_product(request.product, paths(request))
        )

    async def DeleteProduct(
        self, request: adm.DeleteProductRequest, context: Ctx
    ) -> empty_pb2.Empty:
        await self.products.delete_product(request.name)
        return EMPTY

    async def CreateVariant(self, request: adm.CreateVariantRequest, context: Ctx) -> Any:
        return convert.variant_pb(
            await self.products.create_variant(request.parent, request.variant)
        )

    async def UpdateVariant(self, request: adm.UpdateVariantRequest, context: Ctx) -> Any:
        return convert.variant_pb(
            await self.products.update_variant(request.variant, paths(request))
        )

    async def DeleteVariant(
        self, request: adm.DeleteVariantRequest, context: Ctx
    ) -> empty_pb2.Empty:
        await self.products.delete_variant(request.name)
        return EMPTY

    # --- categories ----------------------------------------------------------------

    async def ListCategories(
        self, request: adm.ListCategoriesRequest, context: Ctx
    ) -> adm.ListCategoriesResponse:
        every = await self.categories.all()
        by_id = {c.id: c for c in every}
        start = page_after(request.page_token)
        ordered = sorted(every, key=lambda c: c.id)
        rows = [c for c in ordered if start is None or c.id > start][: request.page_size + 1]
        return adm.ListCategoriesResponse(
            categories=[convert.category_pb(c, by_id) for c in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def GetCategory(self, request: adm.GetCategoryRequest, context: Ctx) -> Any:
        return convert.category_pb(*await self.categories.get(request.name))

    async def CreateCategory(self, request: adm.CreateCategoryRequest, context: Ctx) -> Any:
        return convert.category_pb(*await self.categories.create(request.category))

    async def UpdateCategory(self, request: adm.UpdateCategoryRequest, context: Ctx) -> Any:
        return convert.category_pb(*await self.categories.update(request.category, paths(request)))

    async def DeleteCategory(
        self, request: adm.DeleteCategoryRequest, context: Ctx
    ) -> empty_pb2.Empty:
        await self.categories.delete(request.name)
        return EMPTY

    async def MoveCategory(self, request: adm.MoveCategoryRequest, context: Ctx) -> Any:
        return convert.category_pb(
            *await self.categories.move(request.name, request.new_parent, request.position)
        )

    # --- collections ---------------------------------------------------------------

    async def ListCollections(
        self, request: adm.ListCollectionsRequest, context: Ctx
    ) -> adm.ListCollectionsResponse:
        rows = await self.collections.list(page_after(request.page_token), request.page_size + 1)
        return adm.ListCollectionsResponse(
            collections=[convert.collection_pb(c, n) for c, n in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size, key=_first_id),
        )

    async def GetCollection(self, request: adm.GetCollectionRequest, context: Ctx) -> Any:
        return convert.collection_pb(*await self.collections.get(request.name))

    async def CreateCollection(self, request: adm.CreateCollectionRequest, context: Ctx) -> Any:
        return convert.collection_pb(*await self.collections.create(request.collection))

    async def UpdateCollection(self, request: adm.UpdateCollectionRequest, context: Ctx) -> Any:
        return convert.collection_pb(
            *await self.collections.update(request.collection, paths(request))
        )

    async def DeleteCollection(
        self, request: adm.DeleteCollectionRequest, context: Ctx
    ) -> empty_pb2.Empty:
        await self.collections.delete(request.name)
        return EMPTY

    async def AddCollectionProducts(
        self, request: adm.AddCollectionProductsRequest, context: Ctx
    ) -> Any:
        return convert.collection_pb(
            *await self.collections.change_members(request.collection, request.products, add=True)
        )

    async def RemoveCollectionProducts(
        self, request: adm.RemoveCollectionProductsRequest, context: Ctx
    ) -> Any:
        return convert.collection_pb(
            *await self.collections.change_members(request.collection, request.products, add=False)
        )

    # --- bundles -------------------------------------------------------------------

    async def ListBundles(
        self, request: adm.ListBundlesRequest, context: Ctx
    ) -> adm.ListBundlesResponse:
        rows = await self.bundles.list(page_after(request.page_token), request.page_size + 1)
        return adm.ListBundlesResponse(
            bundles=[convert.bundle_pb(b, t) for b, t in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size, key=_first_id),
        )

    async def GetBundle(self, request: adm.GetBundleRequest, context: Ctx) -> Any:
        return convert.bundle_pb(*await self.bundles.get(request.name))

    async def CreateBundle(self, request: adm.CreateBundleRequest, context: Ctx) -> Any:
        return convert.bundle_pb(*await self.bundles.create(request.bundle))

    async def UpdateBundle(self, request: adm.UpdateBundleRequest, context: Ctx) -> Any:
        return convert.bundle_pb(*await self.bundles.update(request.bundle, paths(request)))

    async def DeleteBundle(self, request: adm.DeleteBundleRequest, context: Ctx) -> empty_pb2.Empty:
        await self.bundles.delete(request.name)
        return EMPTY


class CatalogInternalService(internal_grpc.CatalogInternalServiceServicer):
    def __init__(self, handlers: InternalHandlers, bundles: BundleHandlers) -> None:
        self.handlers = handlers
        self.bundles = bundles

    async def BatchGetVariants(
        self, request: internal.BatchGetVariantsRequest, context: Ctx
    ) -> internal.BatchGetVariantsResponse:
        found, missing = await self.handlers.variants(request.variant_ids)
        return internal.BatchGetVariantsResponse(
            variants=[
                internal.VariantSnapshot(
                    variant_id=f.variant_id,
                    product_id=f.product_id,
                    sku=f.sku,
                    product_title=f.product_title,
                    variant_title=f.variant_title,
                    product_slug=f.product_slug,
                    image_url=f.image_url,
                    mrp=convert.money(f.mrp, f.currency_code),
                    price=convert.money(f.price, f.currency_code),
                    hsn_code=f.hsn_code,
                    tax_class=f.tax_class,
                    weight_grams=f.weight_grams,
                    pieces_per_unit=f.pieces_per_unit,
                    sellable=f.sellable,
                    category_ids=f.category_ids,
                    brand_id=f.brand_id,
                    collection_ids=collection_ids,
                    tags=f.tags,
                )
                for f, collection_ids in found
            ],
            missing=missing,
        )

    async def BatchGetProductSummaries(
        self, request: internal.BatchGetProductSummariesRequest, context: Ctx
    ) -> internal.BatchGetProductSummariesResponse:
        found, missing = await self.handlers.products(request.product_ids)
        return internal.BatchGetProductSummariesResponse(
            products=[
                internal.ProductSummary(
                    product_id=p.id,
                    slug=p.slug,
                    title=p.title,
                    brand_name=brand,
                    image_url=next((m.url for m in p.media if m.kind == "image"), ""),
                    hsn_code=p.hsn_code,
                    status=p.status,
                )
                for p, brand in found
            ],
            missing=missing,
        )

    async def CheckReferences(
        self, request: internal.CheckReferencesRequest, context: Ctx
    ) -> internal.CheckReferencesResponse:
        missing = await self.handlers.missing_references(
            {
                "product_ids": request.product_ids,
                "category_ids": request.category_ids,
                "collection_ids": request.collection_ids,
                "brand_ids": request.brand_ids,
            }
        )
        return internal.CheckReferencesResponse(
            missing_product_ids=missing["product_ids"],
            missing_category_ids=missing["category_ids"],
            missing_collection_ids=missing["collection_ids"],
            missing_brand_ids=missing["brand_ids"],
        )

    async def ValidateBundle(
        self, request: internal.ValidateBundleRequest, context: Ctx
    ) -> internal.ValidateBundleResponse:
        if not request.bundle_id:
            raise InvalidArgument({"bundle_id": "is required"})
        check = await self.bundles.validate(request.bundle_id.removeprefix("bundles/"))
        if check is None:
            raise NotFound(f"bundle {request.bundle_id} not found")
        b = check.bundle
        return internal.ValidateBundleResponse(
            valid=check.valid,
            problems=check.problems,
            bundle_price=convert.money(b.price, b.currency_code),
            lines=[
                internal.BundleLine(variant_id=i.variant_id, quantity=i.quantity) for i in b.items
            ],
        )
