"""search index, synonyms and analytics (services/catalog/search/models.py)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesh.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)


def _time(name: str) -> sa.Column:
    return sa.Column(name, mesh.db.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("product_id", ID, nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("brand_slug", sa.String(length=80), nullable=False),
        sa.Column("brand_name", sa.String(length=120), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("min_price", sa.BigInteger(), nullable=True),
        sa.Column("max_price", sa.BigInteger(), nullable=True),
        sa.Column("mrp", sa.BigInteger(), nullable=True),
        sa.Column("length", sa.Float(), nullable=False),
        _time("publish_time"),
        _time("index_time"),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_documents")),
    )
    op.create_table(
        "search_postings",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["search_documents.product_id"],
            name=op.f("fk_search_postings_product_id_search_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "product_id", name=op.f("pk_search_postings")),
    )
    op.create_index("ix_search_postings_product_id", "search_postings", ["product_id"])
    op.create_table(
        "search_state",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_search_state")),
    )
    op.bulk_insert(
        sa.table(
            "search_state", sa.column("key", sa.String()), sa.column("version", sa.BigInteger())
        ),
        [{"key": "index", "version": 0}],
    )
    op.create_table(
        "search_synonyms",
        sa.Column("id", ID, nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _time("create_time"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_synonyms")),
    )
    op.create_table(
        "search_queries",
        sa.Column("id", ID, nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        _time("create_time"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_queries")),
    )
    op.create_index("ix_search_queries_create_time", "search_queries", ["create_time"])
    op.create_index(
        "ix_search_queries_query_create_time", "search_queries", ["query", "create_time"]
    )
    op.create_table(
        "search_clicks",
        sa.Column("id", ID, nullable=False),
        sa.Column("search_id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _time("create_time"),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["search_queries.id"],
            name=op.f("fk_search_clicks_search_id_search_queries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_clicks")),
    )
    op.create_index("ix_search_clicks_search_id", "search_clicks", ["search_id"])
    # Default synonyms for an Ayurveda catalogue; admins manage the rest.
    synonyms = sa.table(
        "search_synonyms",
        sa.column("id", ID),
        sa.column("terms", sa.JSON()),
        sa.column("created_by", sa.String()),
        sa.column("create_time", mesh.db.UTCDateTime(timezone=True)),
    )
    now = mesh.db.utcnow()
    op.bulk_insert(
        synonyms,
        [
            {"id": mesh.db.new_id(), "terms": t, "created_by": "migration", "create_time": now}
            for t in (
                ["hair fall", "hair loss"],
                ["face wash", "cleanser"],
                ["tailam", "oil", "thailam"],
                ["kesh", "hair"],
            )
        ],
    )


def downgrade() -> None:
    op.drop_table("search_clicks")
    op.drop_table("search_queries")
    op.drop_table("search_synonyms")
    op.drop_table("search_state")
    op.drop_table("search_postings")
    op.drop_table("search_documents")
