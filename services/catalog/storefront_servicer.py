"""The storefront's gRPC face: published catalogue in, shopper-facing messages out.

These messages (storefront_service.proto) have no cost price field at all, so an
admin-only number cannot leak through a forgotten clear().
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.catalog.v1 import storefront_service_pb2 as sf
from cleanse.catalog.v1 import storefront_service_pb2_grpc as sf_grpc
from services.catalog import convert
from services.catalog.domain.stock import StockInfo, discount_percent
from services.catalog.handlers.storefront import (
    BundleView,
    Card,
    ListingQuery,
    StorefrontHandlers,
)
from services.catalog.models import Category, Collection, Product, Variant
from services.catalog.versions import VersionedCache

Ctx = grpc.aio.ServicerContext
RELATION_NAMES = convert.reverse(convert.RELATION_KIND)


def crumbs(cats: list[Category]) -> list[res.Breadcrumb]:
    return [
        res.Breadcrumb(name=f"categories/{c.id}", slug=c.slug, display_name=c.name) for c in cats
    ]


def stock_pb(info: StockInfo | None) -> sf.Stock:
    info = info or StockInfo()
    return sf.Stock(
        status=info.status,  # type: ignore[arg-type]
        available=info.available if info.status == 2 else 0,
        label=info.label,
    )


def variant_pb(v: Variant, stock: StockInfo | None) -> sf.StorefrontVariant:
    return sf.StorefrontVariant(
        id=v.id,
        sku=v.sku,
        title=v.title,
        option_values=dict(v.option_values or {}),
        mrp=convert.money(v.mrp, v.currency_code),
        price=convert.money(v.price, v.currency_code),
        discount_percent=discount_percent(v.mrp, v.price),
        weight_grams=v.weight_grams,
        stock=stock_pb(stock),
    )


def card_pb(c: Card) -> sf.ProductCard:
    p = c.product
    image = next((m for m in p.media if m.kind == "image"), None)
    cheapest = min(c.variants, key=lambda v: (v.price, v.position)) if c.variants else None
    return sf.ProductCard(
        id=p.id,
        slug=p.slug,
        title=p.title,
        brand_name=p.brand.name if p.brand else "",
        image_url=image.url if image else "",
        image_alt_text=image.alt_text if image else "",
        min_price=convert.money(p.min_price),
        max_price=convert.money(p.max_price),
        mrp=convert.money(cheapest.mrp if cheapest else None),
        stock_status=c.stock_status,  # type: ignore[arg-type]
    )


def category_pb(
    c: Category, by_id: dict[str, Category], children: list[Category] | None = None
) -> sf.StorefrontCategory:
    chain = [by_id[a] for a in c.ancestor_ids if a in by_id]
    parent = by_id.get(c.parent_id or "")
    return sf.StorefrontCategory(
        id=c.id,
        slug=c.slug,
        display_name=c.name,
        description=c.description,
        parent_slug=parent.slug if parent else "",
        depth=c.depth,
        breadcrumbs=crumbs(chain),
        children=crumbs(children or []),
    )


def collection_pb(c: Collection) -> sf.StorefrontCollection:
    return sf.StorefrontCollection(
        id=c.id, slug=c.slug, title=c.title, description=c.description, image_url=c.image_url
    )


def bundle_pb(view: BundleView) -> sf.StorefrontBundle:
    b = view.bundle
    items = []
    for item in b.items:
        var = view.variants[item.variant_id]
        product = view.products[var.product_id]
        items.append(
            sf.StorefrontBundleItem(
                variant_id=var.id,
                quantity=item.quantity,
                product_slug=product.slug,
                product_title=product.title,
                variant_title=var.title,
                image_url=view.images.get(product.id, ""),
                mrp=convert.money(var.mrp, var.currency_code),
            )
        )
    return sf.StorefrontBundle(
        id=b.id,
        slug=b.slug,
        title=b.title,
        description=b.description,
        image_url=b.image_url,
        price=convert.money(b.price, b.currency_code),
        items_mrp_total=convert.money(view.mrp_total, b.currency_code),
        items=items,
    )


@dataclass(frozen=True)
class RenderedProduct:
    """A product page without stock (variants' `stock` and `stock_unknown` unset)."""

    message: sf.StorefrontProduct
    variant_ids: tuple[str, ...]


def product_pb(
    p: Product, variants: list[Variant], breadcrumbs: list[Category]
) -> sf.StorefrontProduct:
    return sf.StorefrontProduct(
        id=p.id,
        slug=p.slug,
        title=p.title,
        subtitle=p.subtitle,
        description_html=p.description_html,
        brand=sf.BrandRef(id=p.brand.id, slug=p.brand.slug, display_name=p.brand.name)
        if p.brand
        else None,
        attributes=convert.attributes_pb([(a.name, a.value) for a in p.attributes]),
        tags=sorted(t.tag for t in p.tags),
        media=[
            res.Media(kind=convert.MEDIA_KIND.get(m.kind, 0), url=m.url, alt_text=m.alt_text)
            for m in p.media
        ],
        ingredients=[
            sf.StorefrontIngredient(
                slug=link.ingredient.slug,
                display_name=link.ingredient.name,
                scientific_name=link.ingredient.scientific_name,
                benefits=list(link.ingredient.benefits or []),
                note=link.note,
            )
            for link in p.ingredient_links
        ],
        variants=[variant_pb(v, None) for v in variants],
        breadcrumbs=crumbs(breadcrumbs),
        min_price=convert.money(p.min_price),
        max_price=convert.money(p.max_price),
        hsn_code=p.hsn_code,
    )


class StorefrontService(sf_grpc.StorefrontServiceServicer):
    """`pages`: product pages (without stock) cached per catalogue version (versions.py);
    None renders every request from the database."""

    def __init__(
        self,
        handlers: StorefrontHandlers,
        pages: VersionedCache[RenderedProduct] | None = None,
    ) -> None:
        self.h = handlers
        self.pages = pages

    async def _render(self, slug: str) -> RenderedProduct:
        product, variants, breadcrumbs = await self.h.published_product(slug)
        return RenderedProduct(
            product_pb(product, variants, breadcrumbs), tuple(v.id for v in variants)
        )

    async def GetProductBySlug(
        self, request: sf.GetProductBySlugRequest, context: Ctx
    ) -> sf.StorefrontProduct:
        slug = request.slug
        if self.pages is None:
            page = await self._render(slug)
        else:
            page = await self.pages.get_or_load(slug, lambda: self._render(slug))
        # Stock is per request (the availability cache has its own short TTL and the
        # inventory-down fallback); the cached message is never modified.
        stock, known = await self.h.deps.availability.get(page.variant_ids)
        out = sf.StorefrontProduct()
        out.CopyFrom(page.message)
        for v in out.variants:
            v.stock.CopyFrom(stock_pb(stock.get(v.id)))
        out.stock_unknown = not known
        return out

    async def ListPublishedProducts(
        self, request: sf.ListPublishedProductsRequest, context: Ctx
    ) -> sf.ListPublishedProductsResponse:
        listing = await self.h.list_products(
            ListingQuery(
                page_size=request.page_size,
                page_token=request.page_token,
                category=request.category,
                collection=request.collection,
                brand=request.brand,
                min_price=request.min_price_minor,
                max_price=request.max_price_minor,
                attributes=list(request.attributes),
                in_stock_only=request.in_stock_only,
                order_by=request.order_by,
            )
        )
        return sf.ListPublishedProductsResponse(
            products=[card_pb(c) for c in listing.cards],
            next_page_token=listing.next_page_token,
            stock_unknown=not listing.stock_known,
        )

    async def ListRelatedProducts(
        self, request: sf.ListRelatedProductsRequest, context: Ctx
    ) -> sf.ListRelatedProductsResponse:
        kind = RELATION_NAMES.get(request.kind, "")
        pairs = await self.h.related(request.slug, kind)
        return sf.ListRelatedProductsResponse(
            related=[
                sf.RelatedProductCard(kind=convert.RELATION_KIND[k], product=card_pb(c))
                for k, c in pairs
            ]
        )

    async def ListPublishedCategories(
        self, request: sf.ListPublishedCategoriesRequest, context: Ctx
    ) -> sf.ListPublishedCategoriesResponse:
        visible, by_id = await self.h.categories()
        return sf.ListPublishedCategoriesResponse(
            categories=[category_pb(c, by_id) for c in visible]
        )

    async def GetCategoryBySlug(
        self, request: sf.GetCategoryBySlugRequest, context: Ctx
    ) -> sf.StorefrontCategory:
        cat, chain, children = await self.h.category(request.slug)
        return category_pb(cat, chain, children)

    async def ListPublishedCollections(
        self, request: sf.ListPublishedCollectionsRequest, context: Ctx
    ) -> sf.ListPublishedCollectionsResponse:
        return sf.ListPublishedCollectionsResponse(
            collections=[collection_pb(c) for c in await self.h.collections()]
        )

    async def GetCollectionBySlug(
        self, request: sf.GetCollectionBySlugRequest, context: Ctx
    ) -> sf.StorefrontCollection:
        return collection_pb(await self.h.collection(request.slug))

    async def ListPublishedBundles(
        self, request: sf.ListPublishedBundlesRequest, context: Ctx
    ) -> sf.ListPublishedBundlesResponse:
        return sf.ListPublishedBundlesResponse(
            bundles=[bundle_pb(v) for v in await self.h.bundles()]
        )

    async def GetBundleBySlug(
        self, request: sf.GetBundleBySlugRequest, context: Ctx
    ) -> sf.StorefrontBundle:
        return bundle_pb(await self.h.bundle(request.slug))

    async def ListPublishedBrands(
        self, request: sf.ListPublishedBrandsRequest, context: Ctx
    ) -> sf.ListPublishedBrandsResponse:
        return sf.ListPublishedBrandsResponse(
            brands=[
                sf.BrandRef(id=b.id, slug=b.slug, display_name=b.name)
                for b in await self.h.brands()
            ]
        )
