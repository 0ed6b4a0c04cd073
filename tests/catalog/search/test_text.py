"""Unit tests of the tokenizer, the typo matcher, query planning and ranking (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.catalog.search.engine import (
    Doc,
    Filters,
    Hit,
    Snapshot,
    expand,
    facets,
    match,
    plan,
    price_band,
)
from services.catalog.search.text import (
    TermDictionary,
    edit_distance,
    max_typos,
    normalize_query,
    strip_html,
    tokenize,
    weighted_terms,
)


def test_tokenize_folds_case_accents_and_drops_stopwords() -> None:
    assert tokenize("Kumkumādi TAILAM for the Face!") == ["kumkumadi", "tailam", "face"]
    assert normalize_query("  Oil  for HAIR ") == "oil for hair"


def test_strip_html_keeps_text_drops_tags_and_scripts() -> None:
    text = strip_html("<p>Reduces <b>hair fall</b> &amp; more</p><script>evil()</script>")
    assert tokenize(text) == ["reduces", "hair", "fall", "more"]


def test_edit_distance_counts_transpositions_and_stops_early() -> None:
    assert edit_distance("tailum", "tailam", 1) == 1
    assert edit_distance("talam", "tailam", 1) == 1
    assert edit_distance("ashwganda", "ashwagandha", 2) == 2
    assert edit_distance("bringraj", "bhringraj", 2) == 1
    assert edit_distance("nemm", "neem", 1) == 1
    assert edit_distance("amla", "alma", 1) == 1  # "ml" <-> "lm"
    assert edit_distance("neem", "meen", 1) == 2  # capped at limit + 1
    assert edit_distance("abcd", "abdc", 1) == 1  # adjacent transposition
    assert edit_distance("ashwagandha", "neem", 2) == 3


def test_typo_budget_by_length() -> None:
    assert [max_typos(w) for w in ("oil", "neem", "tailam", "ashwganda")] == [0, 1, 1, 2]


def test_dictionary_fuzzy_prefix_and_correct() -> None:
    d = TermDictionary({"ashwagandha": 3, "tailam": 2, "talc": 1, "oil": 9, "oils": 1})
    assert {c.term for c in d.fuzzy("ashwganda")} == {"ashwagandha"}
    assert {c.term for c in d.fuzzy("tailum")} == {"tailam"}
    assert d.fuzzy("oil")[0].term == "oil" and len(d.fuzzy("oil")) == 1  # short: exact only
    assert [c.term for c in d.completions("ta")] == ["tailam", "talc"]
    assert d.correct("tailum") == "tailam"
    assert d.correct("zzzzzz") is None


def _doc(pid: str, length: float, **kw: object) -> Doc:
    base: dict = dict(
        product_id=pid,
        slug=pid,
        title=pid,
        brand_slug="b",
        brand_name="B",
        categories=(("c", "C"),),
        attributes={},
        min_price=10_000,
        max_price=10_000,
        mrp=10_000,
        length=length,
        publish_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    base.update(kw)
    return Doc(**base)


def _snapshot(postings: dict[str, dict[str, float]], docs: list[Doc], synonyms=()) -> Snapshot:
    df = {t: len(p) for t, p in postings.items()}
    avg = sum(d.length for d in docs) / len(docs)
    return Snapshot(1, TermDictionary(df), {d.product_id: d for d in docs}, list(synonyms), avg)


def _search(snap: Snapshot, postings: dict, query: str) -> list[Hit]:
    slots = plan(query, snap.synonyms)
    words = {w for s in slots for a in s.alternatives for w in a.words}
    exp = {w: expand(w, snap.dictionary) for w in words}
    hits = match(slots, exp, postings, snap)
    return sorted(hits, key=lambda h: (h.typos, -h.score))


def test_ranking_title_beats_description_and_exact_beats_fuzzy() -> None:
    title_w, _ = weighted_terms([("Neem Soap", 3.0)])
    desc_w, _ = weighted_terms([("Soap with neem", 1.0)])
    postings = {
        "neem": {"title": title_w["neem"], "desc": desc_w["neem"]},
        "soap": {"title": title_w["soap"], "desc": desc_w["soap"]},
        "nem": {"typo": 3.0},  # a product whose title word is one typo away from "neem"
    }
    docs = [_doc("title", 6.0), _doc("desc", 3.0), _doc("typo", 3.0)]
    snap = _snapshot(postings, docs)
    hits = _search(snap, postings, "neem")
    assert [h.doc.product_id for h in hits] == ["title", "desc", "typo"]
    assert hits[-1].typos == 1 and hits[0].typos == 0


def test_every_word_must_match_and_last_word_is_a_prefix() -> None:
    postings = {"hair": {"p1": 3.0, "p2": 3.0}, "oil": {"p1": 3.0}, "shampoo": {"p2": 3.0}}
    snap = _snapshot(postings, [_doc("p1", 6.0), _doc("p2", 6.0)])
    assert {h.doc.product_id for h in _search(snap, postings, "hair oil")} == {"p1"}
    assert {h.doc.product_id for h in _search(snap, postings, "hair sham")} == {"p2"}
    assert _search(snap, postings, "hair sham ") == []  # a finished word is no prefix


def test_synonym_phrases_expand_the_query() -> None:
    postings = {"hair": {"p1": 3.0, "p2": 3.0}, "loss": {"p1": 3.0}, "fall": {"p2": 3.0}}
    syn = [[("hair", "fall"), ("hair", "loss")]]
    snap = _snapshot(postings, [_doc("p1", 6.0), _doc("p2", 6.0)], syn)
    slots = plan("hair fall", syn)
    assert len(slots) == 1 and len(slots[0].alternatives) == 2
    hits = _search(snap, postings, "hair fall")
    assert [h.doc.product_id for h in hits] == ["p2", "p1"]  # the literal phrase first


def test_facets_ignore_their_own_filter_and_bands() -> None:
    docs = [
        _doc("a", 1.0, brand_slug="x", min_price=20_000, attributes={"skin": ("oily",)}),
        _doc("b", 1.0, brand_slug="y", min_price=45_000, attributes={"skin": ("dry",)}),
        _doc("c", 1.0, brand_slug="y", min_price=250_000),
    ]
    hits = [Hit(d) for d in docs]
    f = facets(hits, Filters(brands=frozenset({"y"})))
    assert {v.value: v.count for v in f["brand"]} == {"x": 1, "y": 2}
    assert {v.value: v.count for v in f["price_band"]} == {"300_600": 1, "2000_plus": 1}
    assert {v.value: v.count for v in f["attribute:skin"]} == {"dry": 1}
    assert price_band(29_999) == "under_300" and price_band(30_000) == "300_600"
