"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:40:03.520536
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "brands",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("logo_url", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brands")),
        sa.UniqueConstraint("slug", name=op.f("uq_brands_slug")),
    )
    op.create_table(
        "bundles",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundles")),
        sa.UniqueConstraint("slug", name=op.f("uq_bundles_slug")),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["categories.id"],
            name=op.f("fk_categories_parent_id_categories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(
            "ix_categories_parent_id_position", ["parent_id", "position"], unique=False
        )
        batch_op.create_index("ix_categories_path", ["path"], unique=False)

    op.create_table(
        "collections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("slug", name=op.f("uq_collections_slug")),
    )
    op.create_table(
        "ingredients",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("scientific_name", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("benefits", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingredients")),
        sa.UniqueConstraint("slug", name=op.f("uq_ingredients_slug")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("subtitle", sa.String(length=300), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("brand_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hsn_code", sa.String(length=8), nullable=False),
        sa.Column("tax_class", sa.String(length=32), nullable=False),
        sa.Column("min_price", sa.BigInteger(), nullable=True),
        sa.Column("max_price", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("publish_time", mesh.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_products_brand_id_brands"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_products_slug")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_brand_id", ["brand_id"], unique=False)
        batch_op.create_index(
            "ix_products_status_min_price_id", ["status", "min_price", "id"], unique=False
        )
        batch_op.create_index(
            "ix_products_status_title_id", ["status", "title", "id"], unique=False
        )

    op.create_table(
        "collection_products",
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("add_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_products_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_collection_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "product_id", name=op.f("pk_collection_products")),
    )
    with op.batch_alter_table("collection_products", schema=None) as batch_op:
        batch_op.create_index("ix_collection_products_product_id", ["product_id"], unique=False)

    op.create_table(
        "product_attributes",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_attributes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "name", "value", name=op.f("pk_product_attributes")),
    )
    with op.batch_alter_table("product_attributes", schema=None) as batch_op:
        batch_op.create_index("ix_product_attributes_name_value", ["name", "value"], unique=False)

    op.create_table(
        "product_categories",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_product_categories_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_categories_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "category_id", name=op.f("pk_product_categories")),
    )
    with op.batch_alter_table("product_categories", schema=None) as batch_op:
        batch_op.create_index("ix_product_categories_category_id", ["category_id"], unique=False)

    op.create_table(
        "product_ingredients",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("ingredient_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingredient_id"],
            ["ingredients.id"],
            name=op.f("fk_product_ingredients_ingredient_id_ingredients"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_ingredients_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "ingredient_id", name=op.f("pk_product_ingredients")),
    )
    with op.batch_alter_table("product_ingredients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_ingredients_ingredient_id", ["ingredient_id"], unique=False
        )

    op.create_table(
        "product_media",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("alt_text", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_media_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_media")),
    )
    with op.batch_alter_table("product_media", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_media_product_id_position", ["product_id", "position"], unique=False
        )

    op.create_table(
        "product_tags",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_tags_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "tag", name=op.f("pk_product_tags")),
    )
    with op.batch_alter_table("product_tags", schema=None) as batch_op:
        batch_op.create_index("ix_product_tags_tag", ["tag"], unique=False)

    op.create_table(
        "product_variants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("option_values", sa.JSON(), nullable=False),
        sa.Column("mrp", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("cost_price", sa.BigInteger(), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("length_mm", sa.Integer(), nullable=False),
        sa.Column("width_mm", sa.Integer(), nullable=False),
        sa.Column("height_mm", sa.Integer(), nullable=False),
        sa.Column("barcode", sa.String(length=13), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("create_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("update_time", mesh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_variants_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("barcode", name=op.f("uq_product_variants_barcode")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_variants_sku")),
    )
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_variants_product_id_position", ["product_id", "position"], unique=False
        )

    op.create_table(
        "related_products",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("related_product_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_related_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_product_id"],
            ["products.id"],
            name=op.f("fk_related_products_related_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "product_id", "related_product_id", "kind", name=op.f("pk_related_products")
        ),
    )
    op.create_table(
        "bundle_items",
        sa.Column("bundle_id", sa.String(length=64), nullable=False),
        sa.Column("variant_id", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["bundles.id"],
            name=op.f("fk_bundle_items_bundle_id_bundles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_bundle_items_variant_id_product_variants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("bundle_id", "variant_id", name=op.f("pk_bundle_items")),
    )
    with op.batch_alter_table("bundle_items", schema=None) as batch_op:
        batch_op.create_index("ix_bundle_items_variant_id", ["variant_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("bundle_items", schema=None) as batch_op:
        batch_op.drop_index("ix_bundle_items_variant_id")

    op.drop_table("bundle_items")
    op.drop_table("related_products")
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_product_variants_product_id_position")

    op.drop_table("product_variants")
    with op.batch_alter_table("product_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_product_tags_tag")

    op.drop_table("product_tags")
    with op.batch_alter_table("product_media", schema=None) as batch_op:
        batch_op.drop_index("ix_product_media_product_id_position")

    op.drop_table("product_media")
    with op.batch_alter_table("product_ingredients", schema=None) as batch_op:
        batch_op.drop_index("ix_product_ingredients_ingredient_id")

    op.drop_table("product_ingredients")
    with op.batch_alter_table("product_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_product_categories_category_id")

    op.drop_table("product_categories")
    with op.batch_alter_table("product_attributes", schema=None) as batch_op:
        batch_op.drop_index("ix_product_attributes_name_value")

    op.drop_table("product_attributes")
    with op.batch_alter_table("collection_products", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_products_product_id")

    op.drop_table("collection_products")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_status_title_id")
        batch_op.drop_index("ix_products_status_min_price_id")
        batch_op.drop_index("ix_products_brand_id")

    op.drop_table("products")
    op.drop_table("ingredients")
    op.drop_table("collections")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index("ix_categories_path")
        batch_op.drop_index("ix_categories_parent_id_position")

    op.drop_table("categories")
    op.drop_table("bundles")
    op.drop_table("brands")
