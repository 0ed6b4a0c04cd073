"""Path templates: parsing, matching, specificity, verbs, 405 vs 404 (no I/O)."""

from __future__ import annotations

import pytest

from edge.routes import (
    DEEP,
    LITERAL,
    WILDCARD,
    MethodNotAllowed,
    Router,
    TemplateError,
    parse_template,
)


def _router(*routes: tuple[str, str]) -> Router[str]:
    return Router((m, parse_template(t), f"{m} {t}") for m, t in routes)


def test_parse_forms() -> None:
    t = parse_template("/v1/{shelf.name=shelves/*}/books/{book}:archive")
    assert t.verb == "archive"
    assert t.segments == (
        (LITERAL, "v1"),
        (LITERAL, "shelves"),
        (WILDCARD, ""),
        (LITERAL, "books"),
        (WILDCARD, ""),
    )
    assert [(v.field_path, v.start, v.end) for v in t.variables] == [
        (("shelf", "name"), 1, 3),
        (("book",), 4, 5),
    ]
    deep = parse_template("/v1/files/{path=**}")
    assert deep.segments[-1] == (DEEP, "") and deep.variables[0].multi_segment


@pytest.mark.parametrize(
    "bad",
    ["v1/x", "/v1//x", "/v1/{name", "/v1/**/x", "/v1/{a}/{a}", "/v1/x:", "/v1/{1bad}"],
)
def test_bad_templates_rejected(bad: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(bad)


def test_match_captures_and_decodes() -> None:
    r = _router(
        ("GET", "/v1/{name=shelves/*}"),
        ("GET", "/v1/libraries/{library}/{name=shelves/*}"),
        ("GET", "/v1/files/{path=**}"),
        ("PATCH", "/v1/{shelf.name=shelves/*}"),
    )
    m = r.match("GET", "/v1/shelves/s%201")
    assert m is not None and m.params == (("name", "shelves/s 1"),)
    m = r.match("GET", "/v1/libraries/lib/shelves/s1")
    assert m is not None and dict(m.params) == {"library": "lib", "name": "shelves/s1"}
    m = r.match("GET", "/v1/files/a/b/c.txt")
    assert m is not None and m.params == (("path", "a/b/c.txt"),)
    # An encoded "/" stays encoded in a multi-segment variable and never splits a segment.
    m = r.match("GET", "/v1/files/a%2Fb/c")
    assert m is not None and m.params == (("path", "a%2Fb/c"),)
    # http.proto: "{var=foo/*}" is multi-segment, so "%2F" is left unchanged...
    m = r.match("GET", "/v1/shelves/a%2Fb")
    assert m is not None and m.params == (("name", "shelves/a%2Fb"),)
    # ...while a single-segment variable decodes everything.
    m = r.match("GET", "/v1/libraries/a%2Fb/shelves/s1")
    assert m is not None and dict(m.params)["library"] == "a/b"
    m = r.match("PATCH", "/v1/shelves/x")
    assert m is not None and m.params == (("shelf.name", "shelves/x"),)
    assert r.match("GET", "/v1/shelves") is None
    assert r.match("GET", "/v1/shelves/a/b") is None


def test_literal_beats_wildcard_whatever_the_order() -> None:
    routes = [
        ("GET", "/v1/{name=shelves/*}"),
        ("GET", "/v1/shelves/featured"),
        ("GET", "/v1/{rest=**}"),
        ("GET", "/v1/shelves/{id}/books"),
        ("GET", "/v1/{shelf=shelves/*}/{book=*}"),
    ]
    for ordering in (routes, list(reversed(routes))):
        r = _router(*ordering)
        assert r.match("GET", "/v1/shelves/featured").target == "GET /v1/shelves/featured"
        assert r.match("GET", "/v1/shelves/x").target == "GET /v1/{name=shelves/*}"
        # Segment by segment: "books" (literal) beats "{book=*}".
        assert r.match("GET", "/v1/shelves/x/books").target == "GET /v1/shelves/{id}/books"
        assert r.match("GET", "/v1/shelves/x/y").target == "GET /v1/{shelf=shelves/*}/{book=*}"
        assert r.match("GET", "/v1/a/b/c").target == "GET /v1/{rest=**}"


def test_verb_routes() -> None:
    r = _router(
        ("POST", "/v1/{name=orders/*}:cancel"),
        ("POST", "/v1/{name=orders/*}"),
        ("GET", "/v1/{name=**}"),
        ("POST", "/v1/me:changePassword"),
    )
    m = r.match("POST", "/v1/orders/o1:cancel")
    assert m.target == "POST /v1/{name=orders/*}:cancel" and m.params == (("name", "orders/o1"),)
    # An unknown verb is not split off: the whole segment is the id.
    m = r.match("POST", "/v1/orders/o1:explode")
    assert m.target == "POST /v1/{name=orders/*}" and m.params == (("name", "orders/o1:explode"),)
    # "**" keeps colons (grpc-gateway splits a verb only for templates that have one).
    assert r.match("GET", "/v1/a/b:c").params == (("name", "a/b:c"),)
    assert r.match("POST", "/v1/me:changePassword").target == "POST /v1/me:changePassword"
    # An empty id before the verb matches nothing with a verb.
    assert r.match("POST", "/v1/orders/:cancel").target == "POST /v1/{name=orders/*}"


def test_405_lists_allowed_methods_else_404() -> None:
    r = _router(
        ("GET", "/v1/{name=shelves/*}"),
        ("DELETE", "/v1/{name=shelves/*}"),
        ("POST", "/v1/shelves"),
    )
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("PUT", "/v1/shelves/s1")
    assert exc.value.allowed == ("DELETE", "GET")
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("GET", "/v1/shelves")
    assert exc.value.allowed == ("POST",)
    assert r.match("GET", "/v2/nothing") is None


def test_duplicate_routes_fail_at_start_up() -> None:
    with pytest.raises(TemplateError):
        _router(("GET", "/v1/{name=shelves/*}"), ("GET", "/v1/{id=shelves/*}"))
