"""Catalog service (cleanse.catalog.v1): products, variants, categories, collections, bundles."""
