"""The catalog's tables. The schema changes only through migrations/.

Money is integer paise. Products keep two denormalised columns the storefront
sorts and filters on without a join: `min_price` / `max_price` (over active
variants; NULL when none), recomputed by the handlers whenever variants change.
Categories keep a materialised `path` ("/root_id/child_id/") so a subtree is one
prefix query and moving one is one UPDATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mesh.db import UTCDateTime, new_id, utcnow

ID = String(64)
ACTOR = String(64)  # "adminUsers/{id}" or a service name

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    logo_url: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ingredient(Base):
    __tablename__ = "ingredients"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Botanical / INCI name, e.g. "Crocus sativus".
    scientific_name: Mapped[str] = mapped_column(String(160), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Short benefit lines, e.g. ["Brightens skin", "Evens tone"].
    benefits: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_status_min_price_id", "status", "min_price", "id"),
        Index("ix_products_status_title_id", "status", "title", "id"),
        Index("ix_products_brand_id", "brand_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(String(300), default="")
    # Sanitised HTML (allow-list, services/catalog/domain/richtext.py).
    description_html: Mapped[str] = mapped_column(Text, default="")
    brand_id: Mapped[str | None] = mapped_column(ID, ForeignKey("brands.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|active|archived
    hsn_code: Mapped[str] = mapped_column(String(8), default="")
    tax_class: Mapped[str] = mapped_column(String(32), default="")
    min_price: Mapped[int | None] = mapped_column(BigInteger)
    max_price: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(ACTOR, default="")
    updated_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    publish_time: Mapped[datetime | None] = mapped_column(UTCDateTime)

    brand: Mapped[Brand | None] = relationship(lazy="raise")
    variants: Mapped[list[Variant]] = relationship(
        order_by="Variant.position", cascade="all, delete-orphan", lazy="raise"
    )
    media: Mapped[list[Media]] = relationship(
        order_by="Media.position", cascade="all, delete-orphan", lazy="raise"
    )
    attributes: Mapped[list[ProductAttribute]] = relationship(
        cascade="all, delete-orphan", lazy="raise"
    )
    tags: Mapped[list[ProductTag]] = relationship(cascade="all, delete-orphan", lazy="raise")
    ingredient_links: Mapped[list[ProductIngredient]] = relationship(
        order_by="ProductIngredient.position", cascade="all, delete-orphan", lazy="raise"
    )
    category_links: Mapped[list[ProductCategory]] = relationship(
        cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def name(self) -> str:
        return f"products/{self.id}"


class Variant(Base):
    __tablename__ = "product_variants"
    __table_args__ = (Index("ix_product_variants_product_id_position", "product_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ID, ForeignKey("products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    # e.g. {"size": "30 ml"} or {"pack": "Pack of 2"}.
    option_values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    mrp: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    cost_price: Mapped[int | None] = mapped_column(BigInteger)  # admins only
    currency_code: Mapped[str] = mapped_column(String(3), default="INR")
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    barcode: Mapped[str | None] = mapped_column(String(13), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|inactive|archived
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Pieces sold as one unit ("Pack of 2": 2), for per-piece GST slabs (>= 1).
    pieces_per_unit: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Media(Base):
    __tablename__ = "product_media"
    __table_args__ = (Index("ix_product_media_product_id_position", "product_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ID, ForeignKey("products.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(8), default="image")  # image|video
    url: Mapped[str] = mapped_column(String(500))
    alt_text: Mapped[str] = mapped_column(String(250), default="")


class ProductAttribute(Base):
    """One filterable value: (skin_type, oily), (dosha, vata), (concern, acne)..."""

    __tablename__ = "product_attributes"
    __table_args__ = (Index("ix_product_attributes_name_value", "name", "value"),)

    product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class ProductTag(Base):
    __tablename__ = "product_tags"
    __table_args__ = (Index("ix_product_tags_tag", "tag"),)

    product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class ProductIngredient(Base):
    __tablename__ = "product_ingredients"
    __table_args__ = (Index("ix_product_ingredients_ingredient_id", "ingredient_id"),)

    product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    ingredient_id: Mapped[str] = mapped_column(
        ID, ForeignKey("ingredients.id", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # e.g. "10% cold-pressed" or "key ingredient".
    note: Mapped[str] = mapped_column(String(200), default="")

    ingredient: Mapped[Ingredient] = relationship(lazy="raise")


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (
        Index("ix_categories_path", "path"),
        Index("ix_categories_parent_id_position", "parent_id", "position"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("categories.id", ondelete="RESTRICT")
    )
    # "/<root id>/.../<own id>/": ancestors in order; a subtree is a prefix.
    path: Mapped[str] = mapped_column(String(1000))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def ancestor_ids(self) -> list[str]:
        """Root first, own id last."""
        return [p for p in self.path.split("/") if p]


class ProductCategory(Base):
    __tablename__ = "product_categories"
    __table_args__ = (Index("ix_product_categories_category_id", "category_id"),)

    product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[str] = mapped_column(
        ID, ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )


class Collection(Base):
    __tablename__ = "collections"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(8), default="manual")  # manual|smart
    # Smart collections: every rule must match (domain/rules.py documents the shape).
    rules: Mapped[list[dict]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CollectionProduct(Base):
    """Membership: chosen by an admin (manual) or the rules' static part (smart)."""

    __tablename__ = "collection_products"
    __table_args__ = (Index("ix_collection_products_product_id", "product_id"),)

    collection_id: Mapped[str] = mapped_column(
        ID, ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    add_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bundle(Base):
    __tablename__ = "bundles"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    price: Mapped[int] = mapped_column(BigInteger)
    currency_code: Mapped[str] = mapped_column(String(3), default="INR")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|active|archived
    updated_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[BundleItem]] = relationship(
        order_by="BundleItem.position", cascade="all, delete-orphan", lazy="raise"
    )


class BundleItem(Base):
    __tablename__ = "bundle_items"
    __table_args__ = (Index("ix_bundle_items_variant_id", "variant_id"),)

    bundle_id: Mapped[str] = mapped_column(
        ID, ForeignKey("bundles.id", ondelete="CASCADE"), primary_key=True
    )
    variant_id: Mapped[str] = mapped_column(
        ID, ForeignKey("product_variants.id", ondelete="RESTRICT"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)


class RelatedProduct(Base):
    __tablename__ = "related_products"

    product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    related_product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    # cross_sell | up_sell | frequently_bought_together
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
