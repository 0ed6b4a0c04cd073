"""/openapi.json is generated from the descriptors and lists every HTTP binding."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from edge.app import EdgeApp, create_app
from edge.config import EdgeConfig
from mesh.contracts import load_descriptor_set

_PARAM = re.compile(r"\{[^}]+\}")
_METHODS = ("get", "put", "post", "delete", "patch")


def http_rules(fds: descriptor_pb2.FileDescriptorSet, prefix: str) -> set[tuple[str, str, str]]:
    """(gRPC method path, HTTP method, template) of every google.api.http rule, read raw."""
    out: set[tuple[str, str, str]] = set()
    for f in fds.file:
        if not f.package.startswith(prefix):
            continue
        for s in f.service:
            for m in s.method:
                if not m.options.HasExtension(annotations_pb2.http):
                    continue
                rule = m.options.Extensions[annotations_pb2.http]
                for r in [rule, *rule.additional_bindings]:
                    kind = r.WhichOneof("pattern")
                    if kind in _METHODS:
                        out.add((f"/{f.package}.{s.name}/{m.name}", kind, getattr(r, kind)))
    return out


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): op for path, item in doc["paths"].items() for method, op in item.items()
    }


def assert_every_rule_documented_and_routable(
    app: EdgeApp, rules: set[tuple[str, str, str]]
) -> None:
    doc = orjson.loads(app.openapi)
    assert doc["openapi"].startswith("3.1")
    ops = operations(doc)
    documented = {(op["x-grpc-method"], m, op["x-http-template"]) for (_, m), op in ops.items()}
    assert documented == rules
    # Each documented path, filled in, reaches the same RPC through the edge's router.
    for (path, method), op in ops.items():
        concrete = _PARAM.sub("x1", path)
        match = app.router.match(method.upper(), concrete)
        assert match is not None, (method, path)
        assert match.target.contract.path == op["x-grpc-method"], (method, path)
    assert len(ops) == len(rules)  # no two bindings collapsed into one operation


@pytest.fixture(scope="module")
def doc(app: EdgeApp) -> dict[str, Any]:
    return orjson.loads(app.openapi)


async def test_served_at_openapi_json(client: httpx.AsyncClient, app: EdgeApp) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.content == app.openapi


def test_test_protos_every_binding(app: EdgeApp, protos) -> None:
    rules = {
        r for r in http_rules(protos.descriptor_set, "testing.edge.") if "InternalOnly" not in r[0]
    }
    assert len(rules) == 14  # 12 transcoding forms + 2 raw-body (HttpBody) webhooks
    assert_every_rule_documented_and_routable(app, rules)


def test_real_descriptor_set_every_binding() -> None:
    """Contract: every google.api.http rule in gen/ is a path + method of the document."""
    fds = load_descriptor_set()

    async def no_keys() -> list[dict[str, str]]:
        return []

    app = create_app(descriptor_set=fds, jwks_source=no_keys, config=EdgeConfig(), interceptors=[])
    rules = http_rules(fds, "")
    assert rules, "gen/descriptor_set.binpb has no HTTP bindings"
    assert_every_rule_documented_and_routable(app, rules)


def test_paths_parameters_and_bodies(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    get_shelf = ops[("/v1/shelves/{name}", "get")]
    assert get_shelf["x-http-template"] == "/v1/{name=shelves/*}"
    assert [p["name"] for p in get_shelf["parameters"] if p["in"] == "path"] == ["name"]
    assert {p["name"] for p in get_shelf["parameters"] if p["in"] == "query"} == {
        "library",
        "view",
    }
    assert ("/v1/libraries/{library}/shelves/{name}", "get") in ops
    assert ("/v1/shelves/{name}:archive", "post") in ops
    assert ("/v1/files/{path}", "get") in ops
    update = ops[("/v1/shelves/{shelf.name}", "patch")]
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/testing.edge.v1.Shelf"
    }
    assert [p["name"] for p in update["parameters"] if p["in"] == "query"] == ["updateMask"]
    listing = ops[("/v1/shelves", "get")]
    query = {p["name"]: p for p in listing["parameters"]}
    assert {"pageSize", "pageToken", "filter.minBooks", "filter.since", "filter.limit"} <= set(
        query
    )
    assert query["filter.labels"]["schema"]["type"] == "array"
    assert query["filter.since"]["schema"] == {"type": "string", "format": "date-time"}
    replace = ops[("/v1/shelves/{shelf.name}", "put")]
    assert not [p for p in replace["parameters"] if p["in"] == "query"]  # body "*"
    summary = ops[("/v1/shelves/{name}:summary", "get")]
    schema = summary["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/testing.edge.v1.Shelf"}


def test_schemas_follow_the_json_mapping(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    shelf = schemas["testing.edge.v1.Shelf"]["properties"]
    assert set(shelf) == {
        "name",
        "displayName",
        "bookCount",
        "genre",
        "createTime",
        "labels",
        "archived",
    }
    assert shelf["bookCount"] == {"type": "string", "format": "int64"}
    assert shelf["createTime"] == {"type": "string", "format": "date-time"}
    assert shelf["labels"] == {"type": "array", "items": {"type": "string"}}
    assert shelf["genre"] == {"$ref": "#/components/schemas/testing.edge.v1.Genre"}
    assert schemas["testing.edge.v1.Genre"]["enum"] == [
        "GENRE_UNSPECIFIED",
        "GENRE_FICTION",
        "GENRE_POETRY",
    ]
    echo = schemas["testing.edge.v1.EchoResponse"]["properties"]
    assert echo["metadata"]["additionalProperties"] == {"type": "string"}
    assert "google.rpc.Status" in schemas


def test_descriptions_from_proto_comments(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    assert ops[("/v1/shelves/{name}", "get")]["description"].startswith("Reads one shelf.")
    echo = doc["components"]["schemas"]["testing.edge.v1.EchoResponse"]
    assert echo["properties"]["method"]["description"] == "The RPC that answered."
    name = doc["components"]["schemas"]["testing.edge.v1.Shelf"]["properties"]["name"]
    assert name["description"] == '"shelves/{shelf_id}".'


def test_security_follows_the_access_policy(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    assert "bearerAuth" in doc["components"]["securitySchemes"]
    public = ops[("/v1/shelves/{name}", "get")]
    assert {} in public["security"]  # token optional
    customer = ops[("/v1/shelves", "post")]
    assert customer["security"] == [{"bearerAuth": []}]
    assert customer["x-cleanse-access"] == {"audience": "customer"}
    admin = ops[("/v1/shelves/{name}", "delete")]
    assert admin["security"] == [{"bearerAuth": []}]
    assert admin["x-cleanse-access"] == {"audience": "admin", "permission": "shelves.delete"}
    assert "`shelves.delete`" in admin["description"]
    assert not [op for op in ops.values() if "InternalOnly" in op["x-grpc-method"]]
