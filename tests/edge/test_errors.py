"""gRPC status -> HTTP status and the JSON status body, details included."""

from __future__ import annotations

import grpc
import httpx
import pytest

from edge.errors import HTTP_STATUS

# STYLE.md's table (grpc-gateway runtime/errors.go), written out independently.
EXPECTED = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


def test_table_covers_every_code() -> None:
    assert {c.name for c in HTTP_STATUS} == {c.name for c in grpc.StatusCode}
    assert {c.name: s for c, s in HTTP_STATUS.items() if c.name != "OK"} == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_status_from_the_service(client: httpx.AsyncClient, name: str) -> None:
    code = grpc.StatusCode[name].value[0]
    r = await client.post("/v1/test:fail", json={"code": code, "message": f"boom {name}"})
    assert r.status_code == EXPECTED[name], r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"code": code, "message": f"boom {name}", "details": []}
    assert ("www-authenticate" in r.headers) == (name == "UNAUTHENTICATED")


async def test_rich_details_pass_through(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/test:fail", json={"code": 3, "message": "bad shelf", "withDetails": True}
    )
    assert r.status_code == 400
    assert r.json()["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [
                {"field": "shelf.display_name", "description": "is required", "reason": ""}
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "TEST_FAILURE",
            "domain": "cleanse.in",
            "metadata": {"k": "v"},
        },
    ]


@pytest.mark.parametrize(("code", "status"), [(8, 429), (14, 503)])
async def test_retry_info_becomes_retry_after(
    client: httpx.AsyncClient, code: int, status: int
) -> None:
    r = await client.post(
        "/v1/test:fail", json={"code": code, "message": "slow down", "retryAfterSeconds": 2.2}
    )
    assert r.status_code == status
    assert r.headers["retry-after"] == "3"
    assert r.json()["details"][0] == {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "2.200s",
    }


async def test_no_retry_after_on_other_statuses(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/test:fail", json={"code": 9, "retryAfterSeconds": 1})
    assert r.status_code == 400 and "retry-after" not in r.headers
