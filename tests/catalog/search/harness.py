"""Test support for search and CSV import/export: a migrated catalog database, a small
known catalogue written through the catalog's models, admin tokens, and a catalog
ServiceApp serving SearchService and CatalogIoService over real gRPC on an ephemeral port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mesh.db import Database, new_id
from mesh.server import ServiceApp
from services.catalog.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductIngredient,
    Variant,
)
from services.catalog.search.indexer import SearchIndexer
from tests.conftest import free_address
from tests.support.rpc import TestKeys


@dataclass
class Keys(TestKeys):
    """The test signing key with the admin-token shorthands these tests use."""

    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    kid: str = "search-test-key"

    def token(self, role: str = "admin", perms: Sequence[str] = ("*",), sub: str = "") -> str:
        sub = sub or ("adminUsers/a1" if role == "admin" else "users/u1")
        return self.mint(role, tuple(perms), sub=sub, ttl=600)

    def md(self, *perms: str, role: str = "admin", sub: str = "") -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(role, perms or ('*',), sub)}"),)


async def migrated(url: str) -> Database:
    db = Database("catalog", url)
    await db.migrate()
    return db


@asynccontextmanager
async def catalog_server(
    db: Database, keys: Keys, *servicers: tuple[Any, Any]
) -> AsyncIterator[grpc.aio.Channel]:
    """A catalog ServiceApp with just `servicers` ((add_fn, servicer) pairs)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_CATALOG_ADDR", str(free_address()))
    mp.setenv("CLEANSE_CATALOG_METRICS_ADDR", str(free_address()))

    app = ServiceApp("catalog", readiness=db.ready, jwks_source=keys.source)
    for add_fn, servicer in servicers:
        app.add(add_fn, servicer)
    await app.start()
    channel = grpc.aio.insecure_channel(str(app.address))
    try:
        yield channel
    finally:
        await channel.close()
        await app.stop()
        mp.undo()


# --- a known catalogue ------------------------------------------------------------


@dataclass
class Fixture:
    products: dict[str, str]  # slug -> product id
    brands: dict[str, str]
    categories: dict[str, str]
    ingredients: dict[str, str]


PRODUCTS: list[dict[str, Any]] = [
    # slug, title, brand, categories, ingredients, price (paise), attributes, status
    dict(
        slug="ashwagandha-capsules",
        title="Ashwagandha Capsules",
        brand="kottakkal",
        cats=["supplements"],
        ings=["ashwagandha"],
        price=45_000,
        attrs={"dosha": ["vata"]},
        desc="<p>Classic <em>rasayana</em> for stress and sleep.</p>",
    ),
    dict(
        slug="kumkumadi-tailam",
        title="Kumkumadi Tailam",
        brand="kama",
        cats=["face-oils"],
        ings=["saffron"],
        price=149_500,
        attrs={"skin_type": ["dry", "normal"]},
        desc="<p>Night <strong>face oil</strong> with saffron for radiance.</p>",
    ),
    dict(
        slug="bhringraj-hair-oil",
        title="Bhringraj Hair Oil",
        brand="kama",
        cats=["hair-oils"],
        ings=["bhringraj", "amla"],
        price=29_500,
        attrs={"hair_type": ["dry"]},
        desc="<div>Reduces <b>hair fall</b> &amp; strengthens roots.</div><script>x()</script>",
    ),
    dict(
        slug="neem-face-wash",
        title="Neem Face Wash",
        brand="himalaya",
        cats=["cleansers"],
        ings=["neem"],
        price=19_900,
        attrs={"skin_type": ["oily"]},
        desc="Purifying gel for oily skin.",
    ),
    dict(
        slug="anti-hair-loss-shampoo",
        title="Anti Hair Loss Shampoo",
        brand="himalaya",
        cats=["shampoos"],
        ings=["bhringraj"],
        price=35_000,
        attrs={"hair_type": ["oily", "dry"]},
        desc="Gentle daily shampoo.",
    ),
    dict(
        slug="ashwagandha-gummies",
        title="Ashwagandha Gummies",
        brand="kottakkal",
        cats=["supplements"],
        ings=["ashwagandha"],
        price=59_900,
        attrs={},
        desc="Not launched yet.",
        status="draft",
    ),
]

BRANDS = {
    "kottakkal": "Arya Vaidya Sala Kottakkal",
    "kama": "Kama Ayurveda",
    "himalaya": "Himalaya Herbals",
}
# slug -> (name, parent slug)
CATEGORIES = {
    "skincare": ("Skincare", None),
    "haircare": ("Haircare", None),
    "wellness": ("Wellness", None),
    "face-oils": ("Face Oils", "skincare"),
    "cleansers": ("Cleansers", "skincare"),
    "hair-oils": ("Hair Oils", "haircare"),
    "shampoos": ("Shampoos", "haircare"),
    "supplements": ("Supplements", "wellness"),
}
INGREDIENTS = {
    "ashwagandha": ("Ashwagandha", "Withania somnifera"),
    "saffron": ("Saffron", "Crocus sativus"),
    "bhringraj": ("Bhringraj", "Eclipta alba"),
    "amla": ("Amla", "Phyllanthus emblica"),
    "neem": ("Neem", "Azadirachta indica"),
}


async def load_fixture(db: Database, *, suffix: str = "") -> Fixture:
    """The catalogue above (slugs get `suffix`), indexed through SearchIndexer."""
    indexer = SearchIndexer()
    fx = Fixture({}, {}, {}, {})
    async with db.transaction() as s:
        for slug, name in BRANDS.items():
            b = Brand(id=new_id(), slug=slug + suffix, name=name)
            s.add(b)
            fx.brands[slug] = b.id
        for slug, (name, parent) in CATEGORIES.items():
            cid = new_id()
            parent_path = "/"
            depth = 0
            if parent:
                parent_path = f"/{fx.categories[parent]}/"
                depth = 1
            s.add(
                Category(
                    id=cid,
                    slug=slug + suffix,
                    name=name,
                    parent_id=fx.categories.get(parent) if parent else None,
                    path=f"{parent_path}{cid}/",
                    depth=depth,
                )
            )
            fx.categories[slug] = cid
            await s.flush()
        for slug, (name, sci) in INGREDIENTS.items():
            i = Ingredient(id=new_id(), slug=slug + suffix, name=name, scientific_name=sci)
            s.add(i)
            fx.ingredients[slug] = i.id
        await s.flush()
        for spec in PRODUCTS:
            pid = new_id()
            s.add(
                Product(
                    id=pid,
                    slug=spec["slug"] + suffix,
                    title=spec["title"],
                    description_html=spec["desc"],
                    brand_id=fx.brands[spec["brand"]],
                    status=spec.get("status", "active"),
                    hsn_code="33049990",
                    tax_class="standard",
                    min_price=spec["price"],
                    max_price=spec["price"] + 10_000,
                )
            )
            await s.flush()
            s.add_all(
                [
                    Variant(
                        product_id=pid,
                        sku=f"{spec['slug'][:20]}-{n}{suffix}".upper()[:40],
                        title=size,
                        option_values={"size": size},
                        mrp=price + 5_000,
                        price=price,
                        position=n,
                    )
                    for n, (size, price) in enumerate(
                        [("small", spec["price"]), ("large", spec["price"] + 10_000)]
                    )
                ]
            )
            s.add_all(
                ProductIngredient(product_id=pid, ingredient_id=fx.ingredients[i], position=n)
                for n, i in enumerate(spec["ings"])
            )
            s.add_all(
                ProductCategory(product_id=pid, category_id=fx.categories[c]) for c in spec["cats"]
            )
            s.add_all(
                ProductAttribute(product_id=pid, name=k, value=v)
                for k, vs in spec["attrs"].items()
                for v in vs
            )
            fx.products[spec["slug"]] = pid
        await s.flush()
        for pid in fx.products.values():
            await indexer.product_changed(s, pid)
    return fx
