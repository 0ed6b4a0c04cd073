"""Models -> protos for the admin views, and the enum <-> stored string tables."""

from __future__ import annotations

from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.common.v1 import money_pb2
from mesh.timestamps import ts
from services.catalog.models import (
    Brand,
    Bundle,
    Category,
    Collection,
    Ingredient,
    Product,
    RelatedProduct,
    Variant,
)

PRODUCT_STATUS = {
    "draft": res.PRODUCT_STATUS_DRAFT,
    "active": res.PRODUCT_STATUS_ACTIVE,
    "archived": res.PRODUCT_STATUS_ARCHIVED,
}
VARIANT_STATUS = {
    "active": res.VARIANT_STATUS_ACTIVE,
    "inactive": res.VARIANT_STATUS_INACTIVE,
    "archived": res.VARIANT_STATUS_ARCHIVED,
}
BUNDLE_STATUS = {
    "draft": res.BUNDLE_STATUS_DRAFT,
    "active": res.BUNDLE_STATUS_ACTIVE,
    "archived": res.BUNDLE_STATUS_ARCHIVED,
}
MEDIA_KIND = {"image": res.MEDIA_KIND_IMAGE, "video": res.MEDIA_KIND_VIDEO}
RELATION_KIND = {
    "cross_sell": res.RELATION_KIND_CROSS_SELL,
    "up_sell": res.RELATION_KIND_UP_SELL,
    "frequently_bought_together": res.RELATION_KIND_FREQUENTLY_BOUGHT_TOGETHER,
}
COLLECTION_KIND = {"manual": res.COLLECTION_KIND_MANUAL, "smart": res.COLLECTION_KIND_SMART}


def reverse(table: dict[str, int]) -> dict[int, str]:
    return {v: k for k, v in table.items()}


def money(amount: int | None, currency: str = "INR") -> money_pb2.Money | None:
    if amount is None:
        return None
    return money_pb2.Money(amount_minor=amount, currency_code=currency or "INR")


def brand_pb(b: Brand) -> res.Brand:
    return res.Brand(
        name=f"brands/{b.id}",
        slug=b.slug,
        display_name=b.name,
        description=b.description,
        logo_url=b.logo_url,
        active=b.active,
        updated_by=b.updated_by,
        create_time=ts(b.create_time),
        update_time=ts(b.update_time),
    )


def ingredient_pb(i: Ingredient) -> res.Ingredient:
    return res.Ingredient(
        name=f"ingredients/{i.id}",
        slug=i.slug,
        display_name=i.name,
        scientific_name=i.scientific_name,
        description=i.description,
        benefits=list(i.benefits or []),
        updated_by=i.updated_by,
        create_time=ts(i.create_time),
        update_time=ts(i.update_time),
    )


def variant_pb(v: Variant) -> res.Variant:
    return res.Variant(
        name=f"products/{v.product_id}/variants/{v.id}",
        variant_id=v.id,
        sku=v.sku,
        title=v.title,
        option_values=dict(v.option_values or {}),
        mrp=money(v.mrp, v.currency_code),
        price=money(v.price, v.currency_code),
        cost_price=money(v.cost_price, v.currency_code),
        weight_grams=v.weight_grams,
        dimensions=res.Dimensions(
            length_mm=v.length_mm, width_mm=v.width_mm, height_mm=v.height_mm
        ),
        barcode=v.barcode or "",
        status=VARIANT_STATUS.get(v.status, res.VARIANT_STATUS_UNSPECIFIED),
        position=v.position,
        create_time=ts(v.create_time),
        update_time=ts(v.update_time),
        pieces_per_unit=v.pieces_per_unit,
    )


def attributes_pb(pairs: list[tuple[str, str]]) -> list[res.Attribute]:
    grouped: dict[str, list[str]] = {}
    for k, v in pairs:
        grouped.setdefault(k, []).append(v)
    return [res.Attribute(key=k, values=sorted(vs)) for k, vs in sorted(grouped.items())]


def product_pb(p: Product, related: list[RelatedProduct]) -> res.Product:
    return res.Product(
        name=p.name,
        slug=p.slug,
        title=p.title,
        subtitle=p.subtitle,
        description_html=p.description_html,
        brand=f"brands/{p.brand_id}" if p.brand_id else "",
        status=PRODUCT_STATUS.get(p.status, res.PRODUCT_STATUS_UNSPECIFIED),
        hsn_code=p.hsn_code,
        tax_class=p.tax_class,
        attributes=attributes_pb([(a.name, a.value) for a in p.attributes]),
        tags=sorted(t.tag for t in p.tags),
        categories=sorted(f"categories/{c.category_id}" for c in p.category_links),
        media=[
            res.Media(kind=MEDIA_KIND.get(m.kind, 0), url=m.url, alt_text=m.alt_text)
            for m in p.media
        ],
        ingredients=[
            res.ProductIngredient(
                ingredient=f"ingredients/{link.ingredient_id}",
                note=link.note,
                display_name=link.ingredient.name,
                benefits=list(link.ingredient.benefits or []),
            )
            for link in p.ingredient_links
        ],
        related_products=[
            res.RelatedProductLink(
                product=f"products/{r.related_product_id}", kind=RELATION_KIND.get(r.kind, 0)
            )
            for r in related
        ],
        variants=[variant_pb(v) for v in p.variants],
        created_by=p.created_by,
        updated_by=p.updated_by,
        min_price=money(p.min_price),
        max_price=money(p.max_price),
        create_time=ts(p.create_time),
        update_time=ts(p.update_time),
        publish_time=ts(p.publish_time),
    )


def breadcrumbs_pb(c: Category, by_id: dict[str, Category]) -> list[res.Breadcrumb]:
    out = []
    for cid in c.ancestor_ids:
        node = by_id.get(cid)
        if node is not None:
            out.append(
                res.Breadcrumb(name=f"categories/{cid}", slug=node.slug, display_name=node.name)
            )
    return out


def category_pb(c: Category, by_id: dict[str, Category]) -> res.Category:
    return res.Category(
        name=f"categories/{c.id}",
        slug=c.slug,
        display_name=c.name,
        description=c.description,
        parent=f"categories/{c.parent_id}" if c.parent_id else "",
        position=c.position,
        active=c.active,
        depth=c.depth,
        breadcrumbs=breadcrumbs_pb(c, by_id),
        create_time=ts(c.create_time),
        update_time=ts(c.update_time),
    )


def rule_pb(rule: dict) -> res.CollectionRule:
    (key, value), *_ = rule.items()
    if key == "category":
        return res.CollectionRule(category=f"categories/{value}")
    if key == "brand":
        return res.CollectionRule(brand=f"brands/{value}")
    if key == "tag":
        return res.CollectionRule(tag=value)
    if key == "attribute":
        return res.CollectionRule(
            attribute=res.AttributeMatch(key=value["key"], value=value["value"])
        )
    if key == "price_range":
        return res.CollectionRule(
            price_range=res.PriceRange(min_minor=value.get("min", 0), max_minor=value.get("max", 0))
        )
    if key == "new_within_days":
        return res.CollectionRule(new_within_days=int(value))
    return res.CollectionRule(in_stock=bool(value))


def collection_pb(c: Collection, size: int) -> res.Collection:
    return res.Collection(
        name=f"collections/{c.id}",
        slug=c.slug,
        title=c.title,
        description=c.description,
        image_url=c.image_url,
        kind=COLLECTION_KIND.get(c.kind, 0),
        rules=[rule_pb(r) for r in c.rules or []],
        active=c.active,
        position=c.position,
        product_count=size,
        updated_by=c.updated_by,
        create_time=ts(c.create_time),
        update_time=ts(c.update_time),
    )


def bundle_pb(b: Bundle, mrp_total: int) -> res.Bundle:
    return res.Bundle(
        name=f"bundles/{b.id}",
        slug=b.slug,
        title=b.title,
        description=b.description,
        image_url=b.image_url,
        price=money(b.price, b.currency_code),
        status=BUNDLE_STATUS.get(b.status, res.BUNDLE_STATUS_UNSPECIFIED),
        items=[res.BundleItem(variant_id=i.variant_id, quantity=i.quantity) for i in b.items],
        items_mrp_total=money(mrp_total, b.currency_code),
        updated_by=b.updated_by,
        create_time=ts(b.create_time),
        update_time=ts(b.update_time),
    )
