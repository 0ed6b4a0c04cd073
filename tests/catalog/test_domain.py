"""Plain-Python rules: no server, no database."""

from __future__ import annotations

from datetime import UTC, datetime

from mesh.errors import Violations
from services.catalog.domain import rules, validation
from services.catalog.domain.categories import child_path, is_within, moved_path
from services.catalog.domain.richtext import sanitize_html
from services.catalog.domain.stock import LOW_STOCK, StockInfo, discount_percent


def test_ean13_and_hsn() -> None:
    assert validation.ean13_valid("4006381333931")
    assert not validation.ean13_valid("4006381333930") and not validation.ean13_valid("123")
    v = Violations()
    for good in ("3304", "330499", "33049910"):
        validation.check_hsn(good, v, "h")
    assert not v
    for bad in ("330", "33049", "3304991011", "33a4"):
        validation.check_hsn(bad, v, "h")
    assert len(v.items) == 4


def test_media_urls_are_allow_listed() -> None:
    v = Violations()
    ok = [
        ("https://cdn.cleanse.in/p/1.webp", "image"),
        ("https://www.youtube.com/embed/abc", "video"),
        ("https://cdn.cleanse.in/p/1.mp4", "video"),
    ]
    for url, kind in ok:
        validation.check_media_url(url, kind, v, "u")
    assert not v.items
    bad = [
        ("http://cdn.cleanse.in/p/1.webp", "image"),
        ("https://evil.example/p/1.webp", "image"),
        ("https://cdn.cleanse.in/p/1.svg", "image"),
        ("https://user:pw@cdn.cleanse.in/p/1.png", "image"),
        ("https://cdn.cleanse.in:8443/p/1.png", "image"),
        ("javascript:alert(1)", "image"),
    ]
    for url, kind in bad:
        validation.check_media_url(url, kind, v, "u")
    assert len(v.items) == len(bad)


def test_sanitizer_keeps_formatting_drops_scripts() -> None:
    out = sanitize_html('<h2>Use</h2><p style="x" onclick="y">A <a href="javascript:z">b</a></p>')
    assert out == '<h2>Use</h2><p>A <a rel="noopener noreferrer">b</a></p>'


def test_smart_rules() -> None:
    facts = rules.ProductFacts(
        id="p",
        active=True,
        brand_id="b",
        category_ids=frozenset({"root", "leaf"}),
        tags=frozenset({"saffron"}),
        attributes=frozenset({("dosha", "vata")}),
        prices=(45000, 90000),
    )
    assert rules.static_match([{"category": "root"}, {"tag": "saffron"}], facts)
    assert rules.static_match([{"price_range": {"min": 0, "max": 49900}}], facts)
    assert not rules.static_match([{"price_range": {"min": 50000, "max": 80000}}], facts)
    assert not rules.static_match([{"attribute": {"key": "dosha", "value": "pitta"}}], facts)
    assert not rules.static_match(
        [], rules.ProductFacts("q", False, None, frozenset(), frozenset(), frozenset())
    )
    now = datetime(2026, 1, 31, tzinfo=UTC)
    assert rules.new_since([{"new_within_days": 30}], now) == datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.needs_stock([{"in_stock": True}]) and not rules.needs_stock([{"tag": "x"}])


def test_tree_paths_and_stock_labels() -> None:
    assert child_path(None, "a") == "/a/" and child_path("/a/", "b") == "/a/b/"
    assert is_within("/a/b/", "/a/") and not is_within("/ab/", "/a/")
    assert moved_path("/a/b/c/", "/a/b/", "/x/b/") == "/x/b/c/"
    assert StockInfo(LOW_STOCK, 3).label == "Only 3 left"
    assert discount_percent(100000, 79900) == 20 and discount_percent(100, 100) == 0
