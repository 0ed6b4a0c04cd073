"""Carrier adapters: one interface (base.py), the manual carrier and an aggregator."""
