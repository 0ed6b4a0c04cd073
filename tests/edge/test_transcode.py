"""Request building and JSON through the edge against the echo backend."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Keys


def _bearer(keys: Keys, role: str = "customer", perms: tuple[str, ...] = ()) -> dict[str, str]:
    return {"authorization": f"Bearer {keys.mint(role, perms)}"}


def _violated_field(status: dict[str, Any]) -> str:
    bad = [d for d in status["details"] if d["@type"].endswith("/google.rpc.BadRequest")]
    assert bad, status
    return bad[0]["fieldViolations"][0]["field"]


def _received(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    return json.loads(resp.json()["requestJson"])


async def test_path_variable_and_additional_binding(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shelves/s1")
    assert r.json()["method"] == "GetShelf"
    assert _received(r) == {"name": "shelves/s1"}
    r = await client.get("/v1/libraries/main/shelves/s2", params={"view": "GENRE_FICTION"})
    assert r.json()["method"] == "GetShelf"
    assert _received(r) == {"name": "shelves/s2", "library": "main", "view": "GENRE_FICTION"}


async def test_literal_route_wins(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shelves/featured")
    assert r.json()["method"] == "GetFeaturedShelf"


async def test_query_params_nested_repeated_enum_bool_int64_timestamp(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(
        "/v1/shelves",
        params=[
            ("filter.genre", "GENRE_POETRY"),
            ("filter.genres", "GENRE_FICTION"),
            ("filter.genres", "2"),  # by number
            ("filter.labels", "a"),
            ("filter.labels", "b"),
            ("filter.min_books", "12345678901"),  # int64, proto name
            ("filter.since", "2024-01-02T03:04:05Z"),
            ("filter.archived", "true"),
            ("filter.maxAge", "3.5s"),  # Duration, json name
            ("filter.limit", "7"),  # Int32Value wrapper
            ("shard", "3"),
            ("ratio", "0.25"),
            ("pageToken", "tok"),
            ("unknown.param", "ignored"),
        ],
    )
    assert _received(r) == {
        "pageToken": "tok",
        "filter": {
            "genre": "GENRE_POETRY",
            "genres": ["GENRE_FICTION", "GENRE_POETRY"],
            "labels": ["a", "b"],
            "minBooks": "12345678901",
            "since": "2024-01-02T03:04:05Z",
            "archived": True,
            "maxAge": "3.500s",
            "limit": 7,
        },
        "shard": 3,
        "ratio": 0.25,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter.min_books": "many"}, "filter.min_books"),
        ({"filter.archived": "perhaps"}, "filter.archived"),
        ({"filter.genre": "GENRE_NOPE"}, "filter.genre"),
        ({"filter.since": "yesterday"}, "filter.since"),
        ({"shard": "-1"}, "shard"),
        ({"filter": "x"}, "filter"),
        ({"pageToken": ["a", "b"]}, "page_token"),
    ],
)
async def test_bad_query_value_is_400_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    r = await client.get("/v1/shelves", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 3
    assert _violated_field(r.json()) == field


async def test_body_field_plus_query(client: httpx.AsyncClient, keys: Keys) -> None:
    r = await client.post(
        "/v1/shelves",
        params={"requestId": "req-1", "shelf.display_name": "ignored: body field"},
        json={"display_name": "Poems", "bookCount": "12", "genre": "GENRE_POETRY", "nope": 1},
        headers=_bearer(keys),
    )
    assert _received(r) == {
        "shelf": {"displayName": "Poems", "bookCount": "12", "genre": "GENRE_POETRY"},
        "requestId": "req-1",
    }


async def test_patch_nested_path_field_and_field_mask(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    r = await client.patch(
        "/v1/shelves/s9",
        params={"updateMask": "display_name,labels"},
        json={"name": "shelves/other", "displayName": "New", "labels": ["x"]},
        headers=_bearer(keys),
    )
    # The path variable wins over the body's value.
    assert _received(r) == {
        "shelf": {"name": "shelves/s9", "displayName": "New", "labels": ["x"]},
        "updateMask": "displayName,labels",
    }


async def test_put_body_star_ignores_query(client: httpx.AsyncClient, keys: Keys) -> None:
    r = await client.put(
        "/v1/shelves/s3",
        params={"updateMask": "labels"},
        json={"shelf": {"displayName": "D"}, "update_mask": "displayName"},
        headers=_bearer(keys),
    )
    assert _received(r) == {
        "shelf": {"name": "shelves/s3", "displayName": "D"},
        "updateMask": "displayName",
    }


async def test_verb_route_body_star(client: httpx.AsyncClient, keys: Keys) -> None:
    r = await client.post("/v1/shelves/s4:archive", json={"reason": "old"}, headers=_bearer(keys))
    assert r.json()["method"] == "ArchiveShelf"
    assert _received(r) == {"name": "shelves/s4", "reason": "old"}


async def test_deep_wildcard(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/files/docs/2024/a%20b.txt")
    assert _received(r) == {"path": "docs/2024/a b.txt"}


async def test_response_body_and_unpopulated_fields(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shelves/s5:summary")
    assert r.status_code == 200
    # Only the `shelf` field, every field emitted, lowerCamel, int64 as a string.
    assert r.json() == {
        "name": "shelves/s5",
        "displayName": "",
        "bookCount": "0",
        "genre": "GENRE_UNSPECIFIED",
        "labels": [],
        "archived": False,
    }


async def test_delete_returns_empty_object(client: httpx.AsyncClient, keys: Keys) -> None:
    r = await client.delete("/v1/shelves/s6", headers=_bearer(keys, "admin", ("shelves.delete",)))
    assert r.status_code == 200 and r.json() == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        # body: "shelf": the path names the request field, then the key as sent.
        (b'{"bookCount": "lots"}', "shelf.bookCount"),
        (b'{"book_count": 1.5}', "shelf.book_count"),
        (b'{"archived": "yes"}', "shelf.archived"),
        (b'{"labels": "not-a-list"}', "shelf.labels"),
        (b'{"createTime": "not a time"}', "shelf.createTime"),
    ],
)
async def test_bad_json_is_400_with_field(
    client: httpx.AsyncClient, keys: Keys, body: bytes, field: str
) -> None:
    headers = {**_bearer(keys), "content-type": "application/json"}
    r = await client.post("/v1/shelves", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert _violated_field(r.json()) == field


async def test_body_star_must_be_an_object(client: httpx.AsyncClient, keys: Keys) -> None:
    r = await client.post("/v1/shelves/s4:archive", json=[1, 2], headers=_bearer(keys))
    assert r.status_code == 400


async def test_empty_body_is_an_empty_message(client: httpx.AsyncClient, keys: Keys) -> None:
    r = await client.post("/v1/shelves/s7:archive", content=b"", headers=_bearer(keys))
    assert _received(r) == {"name": "shelves/s7"}


async def test_unknown_enum_name_in_body_is_ignored(client: httpx.AsyncClient, keys: Keys) -> None:
    # protojson's DiscardUnknown (grpc-gateway) drops unknown enum names like unknown fields.
    r = await client.post("/v1/shelves", json={"genre": "GENRE_NOPE"}, headers=_bearer(keys))
    assert _received(r) == {"shelf": {}}
