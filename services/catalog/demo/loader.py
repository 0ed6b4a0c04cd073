"""Load demo/catalog.yaml into an empty catalogue, in one transaction.

Runs on start-up unless CLEANSE_CATALOG_DEMO_DATA=0. It loads only when the
products table is empty, so later starts (and an admin's own catalogue) are left
alone; a second replica starting at the same moment loses the unique-key race
and does nothing. Ids are deterministic (`var_` + lower-cased SKU for variants,
which the inventory's demo stock uses). Barcodes are generated EAN-13 codes in
the GS1 India range (890...).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mesh.db import Database, utcnow
from services.catalog.domain.richtext import sanitize_html
from services.catalog.domain.validation import ean13_valid
from services.catalog.handlers.common import sync_smart_memberships
from services.catalog.indexer import NoopIndexer, ProductIndexer, notify_changed
from services.catalog.models import (
    Brand,
    Bundle,
    BundleItem,
    Category,
    Collection,
    CollectionProduct,
    Ingredient,
    Media,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductIngredient,
    ProductTag,
    RelatedProduct,
    Variant,
)

log = logging.getLogger("cleanse.catalog.demo")

DATA_FILE = Path(__file__).with_name("catalog.yaml")
SKUS_FILE = Path(__file__).with_name("skus.txt")
CDN = "https://cdn.cleanse.in"
ACTOR = "catalog-demo"
RELATION_KINDS = ("cross_sell", "up_sell", "frequently_bought_together")


def variant_id(sku: str) -> str:
    return "var_" + sku.lower()


def pieces_per_unit(title: str) -> int:
    """Pieces in one unit (GST slabs per piece): "Pack of 3" is 3; "Pair", "100 ml": 1."""
    m = re.fullmatch(r"Pack of (\d+)", title.strip())
    return int(m.group(1)) if m else 1


def ean13(seq: int) -> str:
    body = f"890{seq:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    code = body + str((10 - total % 10) % 10)
    assert ean13_valid(code)
    return code


def load_data(path: Path = DATA_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def demo_skus(data: dict[str, Any] | None = None) -> list[str]:
    data = data or load_data()
    return [row[0] for p in data["products"] for row in p["variants"]]


def build(data: dict[str, Any]) -> list[Any]:
    """Every row of the demo catalogue as model objects, parents before children."""
    now = utcnow()
    rows: list[Any] = []
    for b in data["brands"]:
        rows.append(
            Brand(
                id=f"brd_{b['slug']}",
                slug=b["slug"],
                name=b["name"],
                description=b.get("description", ""),
                logo_url=f"{CDN}/brands/{b['slug']}.png",
                updated_by=ACTOR,
                create_time=now,
                update_time=now,
            )
        )
    for i in data["ingredients"]:
        rows.append(
            Ingredient(
                id=f"ing_{i['slug']}",
                slug=i["slug"],
                name=i["name"],
                scientific_name=i.get("scientific") or "",
                benefits=list(i.get("benefits", [])),
                updated_by=ACTOR,
                create_time=now,
                update_time=now,
            )
        )
    cats: dict[str, Category] = {}
    for pos, c in enumerate(data["categories"]):
        parent = cats.get(c.get("parent", ""))
        cid = f"cat_{c['slug']}"
        cat = Category(
            id=cid,
            slug=c["slug"],
            name=c["name"],
            parent_id=parent.id if parent else None,
            path=f"{parent.path if parent else '/'}{cid}/",
            depth=parent.depth + 1 if parent else 0,
            position=pos,
            updated_by=ACTOR,
            create_time=now,
            update_time=now,
        )
        cats[c["slug"]] = cat
        rows.append(cat)
    seq = 0
    for p in data["products"]:
        pid = f"prd_{p['slug']}"
        when = now - timedelta(days=int(p.get("days", 0)), minutes=len(rows))
        status = p.get("status", "active")
        option = p.get("option", "size")
        variants = []
        for pos, (sku, value, mrp, price, cost, grams) in enumerate(p["variants"]):
            seq += 1
            variants.append(
                Variant(
                    id=variant_id(sku),
                    sku=sku,
                    title=value,
                    option_values={option: value},
                    mrp=mrp,
                    price=price,
                    cost_price=cost,
                    weight_grams=grams,
                    pieces_per_unit=pieces_per_unit(value),
                    barcode=ean13(seq),
                    position=pos,
                    updated_by=ACTOR,
                    create_time=when,
                    update_time=when,
                )
            )
        rows.append(
            Product(
                id=pid,
                slug=p["slug"],
                title=p["title"],
                description_html=sanitize_html(f"<p>{p.get('desc', '')}</p>"),
                brand_id=f"brd_{p['brand']}",
                status=status,
                hsn_code=str(p["hsn"]),
                tax_class=p["tax"],
                min_price=min(v.price for v in variants),
                max_price=max(v.price for v in variants),
                created_by=ACTOR,
                updated_by=ACTOR,
                create_time=when,
                update_time=when,
                publish_time=when if status != "draft" else None,
                variants=variants,
                media=[
                    Media(
                        id=f"med_{p['slug'][:50]}_{n}",
                        position=n,
                        kind="image",
                        url=f"{CDN}/products/{p['slug']}/{n + 1}.webp",
                        alt_text=f"{p['title']} {label}",
                    )
                    for n, label in enumerate(("front", "texture"))
                ],
                attributes=[
                    ProductAttribute(name=k, value=v)
                    for k, values in (p.get("attrs") or {}).items()
                    for v in values
                ],
                tags=[ProductTag(tag=t) for t in p.get("tags", [])],
                ingredient_links=[
                    ProductIngredient(ingredient_id=f"ing_{s}", position=n)
                    for n, s in enumerate(p.get("ings", []))
                ],
                category_links=[ProductCategory(category_id=cats[c].id) for c in p["cats"]],
            )
        )
    for pos, c in enumerate(data["collections"]):
        cid = f"col_{c['slug']}"
        rows.append(
            Collection(
                id=cid,
                slug=c["slug"],
                title=c["title"],
                description=c.get("description", ""),
                image_url=f"{CDN}/collections/{c['slug']}.jpg",
                kind=c["kind"],
                rules=c.get("rules", []),
                position=pos,
                updated_by=ACTOR,
                create_time=now,
                update_time=now,
            )
        )
        for n, slug in enumerate(c.get("products", [])):
            rows.append(CollectionProduct(collection_id=cid, product_id=f"prd_{slug}", position=n))
    for b in data["bundles"]:
        rows.append(
            Bundle(
                id=f"bdl_{b['slug']}",
                slug=b["slug"],
                title=b["title"],
                description=b.get("description", ""),
                image_url=f"{CDN}/bundles/{b['slug']}.jpg",
                price=b["price"],
                status="active",
                updated_by=ACTOR,
                create_time=now,
                update_time=now,
                items=[
                    BundleItem(variant_id=variant_id(sku), quantity=q, position=n)
                    for n, (sku, q) in enumerate(b["items"])
                ],
            )
        )
    for r in data["related"]:
        for kind in RELATION_KINDS:
            for n, slug in enumerate(r.get(kind, [])):
                rows.append(
                    RelatedProduct(
                        product_id=f"prd_{r['product']}",
                        related_product_id=f"prd_{slug}",
                        kind=kind,
                        position=n,
                    )
                )
    return rows


async def load_demo(db: Database, indexer: ProductIndexer | None = None) -> bool:
    """Load the demo catalogue into an empty database; True when it did."""
    indexer = indexer or NoopIndexer()
    data = load_data()
    async with db.session() as s:
        if (await s.scalar(select(func.count()).select_from(Product))) or 0:
            return False
    rows = build(data)
    try:
        async with db.transaction() as s:
            if (await s.scalar(select(func.count()).select_from(Product))) or 0:
                return False
            for row in rows:
                s.add(row)
                if isinstance(row, Category | Product):
                    await s.flush()  # parents before children
            await s.flush()
            from services.catalog.repository import Repo

            await sync_smart_memberships(Repo(s), None, utcnow())
            await notify_changed(indexer, s, [r.id for r in rows if isinstance(r, Product)])
    except IntegrityError:  # another replica loaded it at the same moment
        return False
    log.info(
        "loaded demo catalogue",
        extra={"products": len(data["products"]), "skus": len(demo_skus(data))},
    )
    return True


def write_skus_file(path: Path = SKUS_FILE) -> None:
    """demo/skus.txt: one SKU a line, for reconciling with the inventory's demo stock."""
    path.write_text("\n".join(demo_skus()) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_skus_file()
