"""Bulk CSV import and export of products with variants (cleanse.catalog.v1.CatalogIoService).

- `columns`: the column specification and per-row parsing/validation (pure, no I/O);
- `reader`: bytes chunks -> CSV records with line numbers, incrementally;
- `importer`: upsert by SKU (product by slug) in batches, dry-run, per-row errors;
- `exporter`: the catalogue back to CSV in chunks, with filters;
- `servicer`: `CatalogIoServicer`; `__main__`: the command-line client.
See README.md in this folder for the column specification.
"""
