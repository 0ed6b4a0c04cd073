"""Text handling for search, pure Python with no I/O: normalise, tokenise, typo distance.

Typo tolerance (the same rules for indexing-time dictionary and query time):

- words of 1-3 characters must match exactly (or as a prefix, for the last word);
- 4-7 characters: Damerau-Levenshtein (optimal string alignment) distance <= 1;
- 8 or more: distance <= 2.

`TermDictionary` holds every indexed term with its document frequency, bucketed by
length so a fuzzy lookup only compares terms whose length is within the allowed
distance, and sorted for prefix lookups.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_TERM_LENGTH = 64
_TAG = re.compile(r"<[^>]*>")
_BLOCK = re.compile(r"<\s*(script|style)[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_WORD = re.compile(r"[a-z0-9]+")

# Words too common to carry meaning in a product query.
STOPWORDS = frozenset("a an and are as at by for from in into is it of on or the to with".split())


def strip_html(text: str) -> str:
    """Visible text of an HTML fragment: tags dropped (script/style with content)."""
    text = _BLOCK.sub(" ", text)
    return html.unescape(_TAG.sub(" ", text))


def normalize(text: str) -> str:
    """Lower-case ASCII folding: "Kumkumādi" -> "kumkumadi"."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Words of `text` in order, normalised; stopwords dropped unless asked."""
    words = _WORD.findall(normalize(text))
    return [w[:MAX_TERM_LENGTH] for w in words if keep_stopwords or w not in STOPWORDS]


def normalize_query(text: str) -> str:
    """How a query is recorded for analytics: its tokens joined by single spaces."""
    return " ".join(tokenize(text, keep_stopwords=True))[:200]


def max_typos(word: str) -> int:
    n = len(word)
    if n >= 8:
        return 2
    if n >= 4:
        return 1
    return 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, or `limit + 1` as soon as it must exceed `limit`."""
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = cur[0]
        ca = a[i - 1]
        for j in range(1, lb + 1):
            cb = b[j - 1]
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            if v < best:
                best = v
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb] if prev[lb] <= limit else limit + 1


@dataclass(frozen=True)
class Candidate:
    term: str
    distance: int  # 0 exact, else typos
    prefix: bool = False  # matched as a completion of the typed word


class TermDictionary:
    """Indexed terms with document frequencies; fuzzy and prefix lookups."""

    def __init__(self, doc_freq: Mapping[str, int]) -> None:
        self.doc_freq = dict(doc_freq)
        self._sorted = sorted(self.doc_freq)
        self._by_length: dict[int, list[str]] = {}
        for t in self._sorted:
            self._by_length.setdefault(len(t), []).append(t)

    def __contains__(self, term: object) -> bool:
        return term in self.doc_freq

    def __len__(self) -> int:
        return len(self.doc_freq)

    def fuzzy(self, word: str, max_distance: int | None = None) -> list[Candidate]:
        """Terms within the word's typo budget (the word itself first when indexed)."""
        limit = max_typos(word) if max_distance is None else max_distance
        out: list[Candidate] = []
        if word in self.doc_freq:
            out.append(Candidate(word, 0))
        if limit == 0:
            return out
        n = len(word)
        for length in range(max(1, n - limit), n + limit + 1):
            for term in self._by_length.get(length, ()):
                if term == word:
                    continue
                d = edit_distance(word, term, limit)
                if d <= limit:
                    out.append(Candidate(term, d))
        return out

    def completions(self, prefix: str, limit: int = 50) -> list[Candidate]:
        """Terms that start with `prefix` (not the prefix itself), most frequent first."""
        if not prefix:
            return []
        i = bisect.bisect_left(self._sorted, prefix)
        found: list[str] = []
        while i < len(self._sorted) and self._sorted[i].startswith(prefix):
            if self._sorted[i] != prefix:
                found.append(self._sorted[i])
            i += 1
        found.sort(key=lambda t: (-self.doc_freq[t], t))
        return [Candidate(t, 0, prefix=True) for t in found[:limit]]

    def correct(self, word: str, max_distance: int | None = None) -> str | None:
        """The most likely intended term for `word`: nearest, then most frequent."""
        if word in self.doc_freq:
            return word
        limit = max_typos(word) + 1 if max_distance is None else max_distance
        best = [c for c in self.fuzzy(word, limit) if c.distance > 0]
        if not best:
            return None
        best.sort(key=lambda c: (c.distance, -self.doc_freq[c.term], c.term))
        return best[0].term


def weighted_terms(fields: Iterable[tuple[str, float]]) -> tuple[dict[str, float], float]:
    """Term -> sum of field weights over occurrences, and the weighted document length."""
    weights: dict[str, float] = {}
    length = 0.0
    for text, weight in fields:
        for term in tokenize(text):
            weights[term] = weights.get(term, 0.0) + weight
            length += weight
    return weights, length
