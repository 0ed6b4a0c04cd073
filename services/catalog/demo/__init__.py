"""The demo catalogue: catalog.yaml (data) and loader.py (first-start load)."""
