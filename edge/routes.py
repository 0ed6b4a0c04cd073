"""google.api.http path templates, compiled once into matchers (grpc-gateway runtime/mux.go).

Template grammar (google/api/http.proto):

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    Verb     = ":" LITERAL ;

Each template becomes one anchored regular expression over the raw (still
percent-encoded) request path, so `%2F` inside a segment never splits it. A route
whose template has a verb matches only paths whose last segment ends in ":verb";
a template without a verb matches the whole last segment, colon included (the
grpc-gateway rule that lets `{name=**}` capture "a:b").

Routes are tried most specific first: segment by segment a literal beats `*`, which
beats `**`; then a verb beats none; ties break on the template text, so the order
never depends on the order of the descriptor set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

LITERAL = 0
WILDCARD = 1  # "*": exactly one segment
DEEP = 2  # "**": zero or more segments, only last

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


class TemplateError(ValueError):
    """A google.api.http path that does not follow the template grammar."""


@dataclass(frozen=True)
class Variable:
    field_path: tuple[str, ...]  # ("shelf", "name") for {shelf.name=shelves/*}
    start: int  # index of its first segment
    end: int  # one past its last segment
    group: str  # regex group name
    pattern: tuple[tuple[int, str], ...]  # its own segments

    @property
    def dotted(self) -> str:
        return ".".join(self.field_path)

    @property
    def multi_segment(self) -> bool:
        return len(self.pattern) > 1 or self.pattern[0][0] == DEEP


@dataclass(frozen=True)
class Template:
    text: str
    segments: tuple[tuple[int, str], ...]  # (kind, literal text or "")
    variables: tuple[Variable, ...]
    verb: str

    @property
    def specificity(self) -> tuple:
        ranks = tuple(kind for kind, _ in self.segments)
        return (ranks, 0 if self.verb else 1, self.text)

    @property
    def is_literal(self) -> bool:
        return not self.variables and all(k == LITERAL for k, _ in self.segments)

    @property
    def has_deep(self) -> bool:
        return any(k == DEEP for k, _ in self.segments)


def parse_template(text: str) -> Template:
    """Parse one google.api.http path template."""
    if not text.startswith("/"):
        raise TemplateError(f"{text!r}: a template starts with '/'")
    body, verb = text[1:], ""
    # The verb is a ":" after the last "/" that is outside any {...}.
    depth, verb_at = 0, -1
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "/" and depth == 0:
            verb_at = -1
        elif ch == ":" and depth == 0 and verb_at < 0:
            verb_at = i
    if verb_at >= 0:
        body, verb = body[:verb_at], body[verb_at + 1 :]
        if not verb or "/" in verb:
            raise TemplateError(f"{text!r}: bad verb")
    segments: list[tuple[int, str]] = []
    variables: list[Variable] = []
    for part in _split_top(body, text):
        if part.startswith("{"):
            if not part.endswith("}"):
                raise TemplateError(f"{text!r}: unclosed variable")
            name, eq, sub = part[1:-1].partition("=")
            if not _IDENT.match(name):
                raise TemplateError(f"{text!r}: bad field path {name!r}")
            pattern = tuple(_segment(s, text) for s in (sub.split("/") if eq else ["*"]))
            if any(k == DEEP for k, _ in pattern[:-1]):
                raise TemplateError(f"{text!r}: '**' must be last")
            start = len(segments)
            segments.extend(pattern)
            variables.append(
                Variable(
                    tuple(name.split(".")), start, len(segments), f"v{len(variables)}", pattern
                )
            )
        else:
            segments.append(_segment(part, text))
    if any(k == DEEP for k, _ in segments[:-1]):
        raise TemplateError(f"{text!r}: '**' must be the last segment")
    names = [v.dotted for v in variables]
    if len(set(names)) != len(names):
        raise TemplateError(f"{text!r}: a field is bound twice")
    return Template(text, tuple(segments), tuple(variables), verb)


def _split_top(body: str, text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "/" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    if depth != 0 or any(not p for p in parts):
        raise TemplateError(f"{text!r}: empty segment or unbalanced braces")
    return parts


def _segment(s: str, text: str) -> tuple[int, str]:
    if s == "*":
        return (WILDCARD, "")
    if s == "**":
        return (DEEP, "")
    if not s or any(c in s for c in "{}*/"):
        raise TemplateError(f"{text!r}: bad segment {s!r}")
    return (LITERAL, s)


def _segment_regex(kind: int, literal: str) -> str:
    if kind == LITERAL:
        return re.escape(literal)
    if kind == WILDCARD:
        return "[^/]+"
    return ".*"


def template_regex(t: Template) -> re.Pattern[str]:
    pieces: list[str] = []
    starts = {v.start: v for v in t.variables}
    i = 0
    n = len(t.segments)
    while i < n:
        v = starts.get(i)
        if v is not None:
            inner = "/".join(_segment_regex(*s) for s in t.segments[v.start : v.end])
            pieces.append(f"(?P<{v.group}>{inner})")
            i = v.end
        else:
            pieces.append(_segment_regex(*t.segments[i]))
            i += 1
    verb = ":" + re.escape(t.verb) if t.verb else ""
    return re.compile("/" + "/".join(pieces) + verb + r"\Z")


R = TypeVar("R")


@dataclass
class Compiled(Generic[R]):
    template: Template
    regex: re.Pattern[str]
    target: R
    method: str
    decode: tuple[tuple[str, str, bool], ...] = field(default=())  # (group, dotted, multi)


@dataclass(frozen=True)
class Match(Generic[R]):
    target: R
    template: Template
    params: tuple[tuple[str, str], ...]  # (dotted field path, decoded value)


class MethodNotAllowed(Exception):
    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__("method not allowed")
        self.allowed = tuple(allowed)


def _unescape(value: str, multi: bool) -> str:
    if "%" not in value:
        return value
    if multi:  # RFC 6570 reserved expansion: keep an encoded "/" encoded
        return "%2F".join(unquote(p) for p in re.split("%2[fF]", value))
    return unquote(value)


class Router(Generic[R]):
    """Matches (method, raw path) to a target; 405 when another method matches."""

    def __init__(self, routes: Iterable[tuple[str, Template, R]]) -> None:
        by_method: dict[str, list[Compiled[R]]] = {}
        seen: dict[tuple[str, tuple, str], str] = {}
        for method, tmpl, target in routes:
            key = (method, tuple(k if k else s for k, s in tmpl.segments), tmpl.verb)
            if key in seen:
                raise TemplateError(f"{method} {tmpl.text}: same route as {method} {seen[key]}")
            seen[key] = tmpl.text
            decode = tuple((v.group, v.dotted, v.multi_segment) for v in tmpl.variables)
            c = Compiled(tmpl, template_regex(tmpl), target, method, decode)
            by_method.setdefault(method, []).append(c)
        self._literal: dict[tuple[str, str], Compiled[R]] = {}
        self._by_len: dict[str, dict[int, list[Compiled[R]]]] = {}
        self._deep: dict[str, list[Compiled[R]]] = {}
        self.routes: list[Compiled[R]] = []
        for method, items in by_method.items():
            items.sort(key=lambda c: c.template.specificity)
            self.routes.extend(items)
            lengths: dict[int, list[Compiled[R]]] = {}
            deep = [c for c in items if c.template.has_deep]
            for c in items:
                if c.template.is_literal:
                    path = "/" + "/".join(s for _, s in c.template.segments)
                    path += ":" + c.template.verb if c.template.verb else ""
                    self._literal[(method, path)] = c
                if not c.template.has_deep:
                    lengths.setdefault(len(c.template.segments), []).append(c)
            # A "**" route can match any length >= its fixed prefix: merge it into each
            # bucket so one list, in specificity order, serves a given path length.
            max_len = max([len(c.template.segments) for c in items] + [0]) + 1
            for n in range(1, max_len + 1):
                merged = lengths.get(n, []) + [c for c in deep if len(c.template.segments) - 1 <= n]
                merged.sort(key=lambda c: c.template.specificity)
                if merged:
                    lengths[n] = merged
            self._by_len[method] = lengths
            self._deep[method] = deep
        self.methods = tuple(sorted(by_method))

    def _candidates(self, method: str, path: str) -> list[Compiled[R]]:
        lengths = self._by_len.get(method)
        if lengths is None:
            return []
        found = lengths.get(path.count("/"))
        return found if found is not None else self._deep[method]

    def _try(self, method: str, path: str) -> Match[R] | None:
        c = self._literal.get((method, path))
        if c is not None:
            return Match(c.target, c.template, ())
        for c in self._candidates(method, path):
            m = c.regex.match(path)
            if m is not None:
                params = tuple(
                    (dotted, _unescape(m.group(group), multi)) for group, dotted, multi in c.decode
                )
                return Match(c.target, c.template, params)
        return None

    def match(self, method: str, path: str) -> Match[R] | None:
        """The route for a raw path; None for 404; raises MethodNotAllowed for 405."""
        found = self._try(method, path)
        if found is not None:
            return found
        allowed = [m for m in self.methods if m != method and self._try(m, path) is not None]
        if allowed:
            raise MethodNotAllowed(allowed)
        return None
