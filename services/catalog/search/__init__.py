"""Product search: an inverted index in ordinary tables, identical on SQLite and PostgreSQL.

- `text`: normalising, HTML stripping, tokenising, Damerau-Levenshtein, the term dictionary.
- `models`: search_documents / search_postings / search_state / search_synonyms /
  search_queries / search_clicks (migration 0002).
- `indexer`: `SearchIndexer`, the catalog's ProductIndexer: rebuilds one product's
  document and postings inside the catalog's write transaction; `reindex_all`.
- `engine`: query planning (synonyms, typos, prefix), BM25 ranking, filters, facets,
  "did you mean", analytics.
- `servicer`: `SearchServicer` (cleanse.catalog.v1.SearchService).
"""
