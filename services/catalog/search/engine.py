"""Search over the index: query planning, matching, BM25 ranking, filters, facets.

Per process, `SearchEngine` caches a `Snapshot` of the index (term dictionary with
document frequencies, documents, synonyms, collection statistics) keyed by the
index version in `search_state`. Every index write bumps that version in its own
transaction, so each search costs one tiny version read and the snapshot is reloaded
only after a change (made by this process or any other, and after a restart). The
postings of the query's candidate terms are read per search.

Matching: the query is split into slots. A slot is one word, or a phrase that an
admin synonym set contains (then any phrase of the set satisfies the slot). A word
matches a document through its exact term, its typo candidates (text.max_typos)
or, for the last word of the query, any completion (type-ahead). Every slot must
match. Ranking for relevance: fewer typos first, then BM25 (k1 1.2, b 0.75) over
field-weighted term frequencies, where completions count 0.8, one typo 0.6 and two
typos 0.4 of an exact hit, and synonym alternatives 0.9.

Price bands (lowest active variant price, in paise):
  under_300: < 30000; 300_600: 30000-59999; 600_1000: 60000-99999;
  1000_2000: 100000-199999; 2000_plus: >= 200000.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database
from services.catalog.search.indexer import STATE_KEY
from services.catalog.search.models import (
    SearchDocument,
    SearchPosting,
    SearchState,
    SearchSynonym,
)
from services.catalog.search.text import (
    Candidate,
    TermDictionary,
    max_typos,
    normalize_query,
    tokenize,
)

K1 = 1.2
B = 0.75
PREFIX_FACTOR = 0.8
TYPO_FACTORS = {0: 1.0, 1: 0.6, 2: 0.4}
SYNONYM_FACTOR = 0.9
MAX_COMPLETIONS = 30

PRICE_BANDS: tuple[tuple[str, str, int, int | None], ...] = (
    ("under_300", "Under ₹300", 0, 30_000),
    ("300_600", "₹300 - ₹599", 30_000, 60_000),
    ("600_1000", "₹600 - ₹999", 60_000, 100_000),
    ("1000_2000", "₹1,000 - ₹1,999", 100_000, 200_000),
    ("2000_plus", "₹2,000 and above", 200_000, None),
)
BAND_IDS = frozenset(b[0] for b in PRICE_BANDS)


def price_band(paise: int | None) -> str | None:
    if paise is None:
        return None
    for band_id, _, low, high in PRICE_BANDS:
        if paise >= low and (high is None or paise < high):
            return band_id
    return None


@dataclass(frozen=True)
class Doc:
    product_id: str
    slug: str
    title: str
    brand_slug: str
    brand_name: str
    categories: tuple[tuple[str, str], ...]
    attributes: Mapping[str, tuple[str, ...]]
    min_price: int | None
    max_price: int | None
    mrp: int | None
    length: float
    publish_time: datetime

    @property
    def band(self) -> str | None:
        return price_band(self.min_price)


@dataclass
class Snapshot:
    version: int
    dictionary: TermDictionary
    docs: dict[str, Doc]
    synonyms: list[list[tuple[str, ...]]]  # each set: tokenised phrases
    avg_length: float

    @property
    def n_docs(self) -> int:
        return len(self.docs)


# --- query planning ---------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False  # the last word of the query: completions count


@dataclass(frozen=True)
class Alternative:
    words: tuple[Word, ...]
    factor: float = 1.0


@dataclass(frozen=True)
class Slot:
    alternatives: tuple[Alternative, ...]


def plan(
    query: str, synonyms: Sequence[Sequence[tuple[str, ...]]], *, type_ahead: bool = True
) -> list[Slot]:
    """Slots for `query`: words, with synonym phrases replaced by their alternatives."""
    tokens = tokenize(query)
    index: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for group in synonyms:
        for phrase in group:
            if phrase:
                index.setdefault(phrase, []).extend(p for p in group if p and p != phrase)
    longest = max((len(p) for p in index), default=0)
    slots: list[Slot] = []
    i = 0
    trailing_space = query[-1:].isspace()
    while i < len(tokens):
        match = None
        for k in range(min(longest, len(tokens) - i), 0, -1):
            phrase = tuple(tokens[i : i + k])
            if phrase in index:
                match = phrase
                break
        if match is not None:
            alts = [Alternative(tuple(Word(w) for w in match))]
            seen = {match}
            for other in index[match]:
                if other not in seen:
                    seen.add(other)
                    alts.append(Alternative(tuple(Word(w) for w in other), SYNONYM_FACTOR))
            slots.append(Slot(tuple(alts)))
            i += len(match)
            continue
        last = i == len(tokens) - 1
        prefix = type_ahead and last and not trailing_space
        slots.append(Slot((Alternative((Word(tokens[i], prefix),)),)))
        i += 1
    return slots


def expand(word: Word, dictionary: TermDictionary) -> dict[str, Candidate]:
    """The index terms a query word may stand for."""
    out: dict[str, Candidate] = {}
    for c in dictionary.fuzzy(word.text):
        out[c.term] = c
    if word.prefix:
        for c in dictionary.completions(word.text, MAX_COMPLETIONS):
            out.setdefault(c.term, c)
    return out


def candidate_factor(c: Candidate) -> float:
    if c.prefix:
        return PREFIX_FACTOR
    return TYPO_FACTORS.get(c.distance, 0.3)


# --- matching and ranking ---------------------------------------------------------


@dataclass
class Hit:
    doc: Doc
    score: float = 0.0
    typos: int = 0
    corrected: set[str] = field(default_factory=set)


def bm25(weight: float, df: int, n_docs: int, length: float, avg_length: float) -> float:
    idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    norm = K1 * (1.0 - B + B * (length / avg_length if avg_length else 1.0))
    return idf * weight * (K1 + 1.0) / (weight + norm)


def match(
    slots: Sequence[Slot],
    expansions: Mapping[Word, Mapping[str, Candidate]],
    postings: Mapping[str, Mapping[str, float]],
    snap: Snapshot,
) -> list[Hit]:
    """Documents that satisfy every slot, scored."""
    if not slots:
        return [Hit(d) for d in snap.docs.values()]
    hits: dict[str, Hit] | None = None
    for slot in slots:
        best: dict[str, tuple[float, int, set[str]]] = {}
        for alt in slot.alternatives:
            alt_docs: dict[str, tuple[float, int, set[str]]] | None = None
            for word in alt.words:
                word_docs: dict[str, tuple[float, int, set[str]]] = {}
                for term, cand in expansions.get(word, {}).items():
                    df = snap.dictionary.doc_freq.get(term, 0)
                    factor = candidate_factor(cand) * alt.factor
                    for pid, weight in postings.get(term, {}).items():
                        doc = snap.docs.get(pid)
                        if doc is None:
                            continue
                        s = factor * bm25(weight, df, snap.n_docs, doc.length, snap.avg_length)
                        prev = word_docs.get(pid)
                        key = (cand.distance, -s)
                        if prev is None or key < (prev[1], -prev[0]):
                            corrected = {word.text} if cand.distance else set()
                            word_docs[pid] = (s, cand.distance, corrected)
                if alt_docs is None:
                    alt_docs = word_docs
                else:
                    alt_docs = {
                        pid: (
                            a[0] + word_docs[pid][0],
                            a[1] + word_docs[pid][1],
                            a[2] | word_docs[pid][2],
                        )
                        for pid, a in alt_docs.items()
                        if pid in word_docs
                    }
            for pid, v in (alt_docs or {}).items():
                prev = best.get(pid)
                if prev is None or (v[1], -v[0]) < (prev[1], -prev[0]):
                    best[pid] = v
        if hits is None:
            hits = {}
            for pid, (s, t, c) in best.items():
                hits[pid] = Hit(snap.docs[pid], s, t, set(c))
        else:
            for pid in list(hits):
                if pid not in best:
                    del hits[pid]
                else:
                    s, t, c = best[pid]
                    h = hits[pid]
                    h.score += s
                    h.typos += t
                    h.corrected |= c
        if not hits:
            return []
    return list((hits or {}).values())


# --- filters and facets -----------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    categories: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()
    bands: frozenset[str] = frozenset()
    attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def accepts(self, doc: Doc, *, skip: str = "") -> bool:
        if skip != "category" and self.categories:
            if not any(slug in self.categories for slug, _ in doc.categories):
                return False
        if skip != "brand" and self.brands and doc.brand_slug not in self.brands:
            return False
        if skip != "price_band" and self.bands and doc.band not in self.bands:
            return False
        for key, wanted in self.attributes.items():
            if skip == f"attribute:{key}":
                continue
            if not wanted.intersection(doc.attributes.get(key, ())):
                return False
        return True

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "c": sorted(self.categories),
            "b": sorted(self.brands),
            "p": sorted(self.bands),
            "a": sorted(f"{k}:{v}" for k, vs in self.attributes.items() for v in vs),
        }


@dataclass
class FacetCount:
    value: str
    label: str
    count: int


def facets(hits: Sequence[Hit], filters: Filters) -> dict[str, list[FacetCount]]:
    """Counts per facet value over the matching set; each facet ignores its own filter."""
    out: dict[str, list[FacetCount]] = {}

    def count(name: str, values_of) -> None:  # type: ignore[no-untyped-def]
        counter: Counter[str] = Counter()
        labels: dict[str, str] = {}
        for h in hits:
            if not filters.accepts(h.doc, skip=name):
                continue
            for value, label in values_of(h.doc):
                counter[value] += 1
                labels.setdefault(value, label)
        if counter:
            out[name] = [
                FacetCount(v, labels[v], n)
                for v, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            ]

    count("category", lambda d: d.categories)
    count("brand", lambda d: [(d.brand_slug, d.brand_name)] if d.brand_slug else [])
    band_labels = {b[0]: b[1] for b in PRICE_BANDS}
    count("price_band", lambda d: [(d.band, band_labels[d.band])] if d.band else [])
    if "price_band" in out:  # bands in their natural order
        order = [b[0] for b in PRICE_BANDS]
        out["price_band"].sort(key=lambda f: order.index(f.value))
    keys = sorted({k for h in hits for k in h.doc.attributes})
    for key in keys:
        count(f"attribute:{key}", lambda d, k=key: [(v, v) for v in d.attributes.get(k, ())])
    return out


# --- the engine -------------------------------------------------------------------


@dataclass
class Result:
    hits: list[Hit]  # the requested page
    total: int
    facets: dict[str, list[FacetCount]]
    corrected_query: str
    normalized_query: str
    did_you_mean: str = ""


class VersionSource(Protocol):
    async def current(self) -> int: ...


class SearchEngine:
    """`versions`: where the index version comes from (the catalog wires its shared
    services.catalog.versions.CatalogVersion, which batches concurrent reads); None
    reads it in each search's session."""

    def __init__(self, db: Database, versions: VersionSource | None = None) -> None:
        self.db = db
        self.versions = versions
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()

    async def snapshot(self, session: AsyncSession) -> Snapshot:
        if self.versions is not None:
            version = await self.versions.current()
        else:
            version = await session.scalar(
                select(SearchState.version).where(SearchState.key == STATE_KEY)
            )
        version = int(version or 0)
        snap = self._snapshot
        if snap is not None and snap.version == version:
            return snap
        async with self._lock:
            snap = self._snapshot
            if snap is not None and snap.version >= version:
                return snap
            snap = await load_snapshot(session, version)
            self._snapshot = snap
            return snap

    def invalidate(self) -> None:
        self._snapshot = None

    async def search(
        self,
        session: AsyncSession,
        query: str,
        filters: Filters,
        *,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 24,
        type_ahead: bool = True,
    ) -> Result:
        snap = await self.snapshot(session)
        slots = plan(query, snap.synonyms, type_ahead=type_ahead)
        words = {w for s in slots for a in s.alternatives for w in a.words}
        expansions = {w: expand(w, snap.dictionary) for w in words}
        terms = sorted({t for e in expansions.values() for t in e})
        postings = await load_postings(session, terms)
        matched = match(slots, expansions, postings, snap)
        selected = [h for h in matched if filters.accepts(h.doc)]
        if sort == "price_asc":
            selected.sort(
                key=lambda h: (h.doc.min_price is None, h.doc.min_price or 0, h.doc.title)
            )
        elif sort == "price_desc":
            selected.sort(key=lambda h: (h.doc.min_price is None, -(h.doc.min_price or 0)))
        elif sort == "newest":
            selected.sort(key=lambda h: (h.doc.publish_time, h.doc.product_id), reverse=True)
        else:
            selected.sort(key=lambda h: (h.typos, -h.score, h.doc.title))
        corrected = ""
        corrections = {c for h in selected for c in h.corrected}
        if corrections:
            corrected = correct_query(query, snap.dictionary, only=corrections)
        did_you_mean = ""
        if not selected and slots:
            suggestion = correct_query(query, snap.dictionary, lenient=True)
            if suggestion and suggestion != normalize_query(query):
                did_you_mean = suggestion
        return Result(
            hits=selected[offset : offset + limit],
            total=len(selected),
            facets=facets(matched, filters),
            corrected_query=corrected,
            normalized_query=normalize_query(query),
            did_you_mean=did_you_mean,
        )


def correct_query(
    query: str,
    dictionary: TermDictionary,
    *,
    only: Iterable[str] | None = None,
    lenient: bool = False,
) -> str:
    """The query with misspelt words replaced by their likeliest dictionary term."""
    fix = set(only) if only is not None else None
    out: list[str] = []
    for word in tokenize(query, keep_stopwords=True):
        if fix is not None and word not in fix:
            out.append(word)
            continue
        limit = max_typos(word) + (1 if lenient else 0)
        best = dictionary.correct(word, limit) if limit else None
        if best is None and dictionary.completions(word, 1):
            best = word  # a prefix of real words: leave it
        out.append(best or word)
    return " ".join(out)


async def load_snapshot(session: AsyncSession, version: int) -> Snapshot:
    df_rows = await session.execute(
        select(SearchPosting.term, func.count()).group_by(SearchPosting.term)
    )
    dictionary = TermDictionary({t: int(n) for t, n in df_rows})
    docs: dict[str, Doc] = {}
    total_length = 0.0
    for d in await session.scalars(select(SearchDocument)):
        docs[d.product_id] = Doc(
            product_id=d.product_id,
            slug=d.slug,
            title=d.title,
            brand_slug=d.brand_slug,
            brand_name=d.brand_name,
            categories=tuple((c[0], c[1]) for c in d.categories or ()),
            attributes={k: tuple(v) for k, v in (d.attributes or {}).items()},
            min_price=d.min_price,
            max_price=d.max_price,
            mrp=d.mrp,
            length=d.length,
            publish_time=d.publish_time,
        )
        total_length += d.length
    session.expunge_all()
    synonyms = [
        [tuple(tokenize(p)) for p in terms]
        for terms in await session.scalars(select(SearchSynonym.terms))
    ]
    avg = total_length / len(docs) if docs else 0.0
    return Snapshot(version, dictionary, docs, synonyms, avg)


async def load_postings(session: AsyncSession, terms: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for i in range(0, len(terms), 500):
        rows = await session.execute(
            select(SearchPosting.term, SearchPosting.product_id, SearchPosting.weight).where(
                SearchPosting.term.in_(terms[i : i + 500])
            )
        )
        for term, pid, weight in rows:
            out.setdefault(term, {})[pid] = weight
    return out
