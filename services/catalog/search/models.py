"""Search tables (migration 0002), on the catalog's declarative Base.

The index is derived data: `reindex_all` rebuilds it from the catalogue at any time.

- search_documents: one row per ACTIVE product, with what results, filters, facets
  and sorting need, so a search never joins the catalogue tables.
- search_postings: (term, product) -> weighted term frequency (title 3, subtitle 1.5,
  brand 2, ingredients 2, description 1).
- search_state: one row ("index", version), bumped by every index write in the same
  transaction; a process reloads its in-memory term dictionary when it changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mesh.db import UTCDateTime, new_id, utcnow
from services.catalog.models import ACTOR, ID, Base

TERM = String(64)


class SearchDocument(Base):
    __tablename__ = "search_documents"

    product_id: Mapped[str] = mapped_column(ID, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    brand_slug: Mapped[str] = mapped_column(String(80), default="")
    brand_name: Mapped[str] = mapped_column(String(120), default="")
    # The product's categories and their ancestors: [[slug, name], ...].
    categories: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # {"skin_type": ["dry", "oily"], "dosha": ["vata"]}
    attributes: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # Over active variants; NULL when the product has none.
    min_price: Mapped[int | None] = mapped_column(BigInteger)
    max_price: Mapped[int | None] = mapped_column(BigInteger)
    mrp: Mapped[int | None] = mapped_column(BigInteger)  # of the cheapest variant
    # Weighted token count (BM25 length normalisation).
    length: Mapped[float] = mapped_column(Float, default=0.0)
    publish_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    index_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchPosting(Base):
    __tablename__ = "search_postings"
    __table_args__ = (Index("ix_search_postings_product_id", "product_id"),)

    term: Mapped[str] = mapped_column(TERM, primary_key=True)
    product_id: Mapped[str] = mapped_column(
        ID, ForeignKey("search_documents.product_id", ondelete="CASCADE"), primary_key=True
    )
    weight: Mapped[float] = mapped_column(Float)


class SearchState(Base):
    __tablename__ = "search_state"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class SearchSynonym(Base):
    __tablename__ = "search_synonyms"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # Normalised equivalent phrases: ["hair fall", "hair loss"].
    terms: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(ACTOR, default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchQuery(Base):
    __tablename__ = "search_queries"
    __table_args__ = (
        Index("ix_search_queries_create_time", "create_time"),
        Index("ix_search_queries_query_create_time", "query", "create_time"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    query: Mapped[str] = mapped_column(String(200))  # normalised
    result_count: Mapped[int] = mapped_column(Integer)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchClick(Base):
    __tablename__ = "search_clicks"
    __table_args__ = (Index("ix_search_clicks_search_id", "search_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    search_id: Mapped[str] = mapped_column(ID, ForeignKey("search_queries.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(ID)
    position: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
