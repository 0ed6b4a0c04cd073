"""google.api.HttpBody bodies arrive raw, and a contract's `forward_headers` reach its RPC.

What a webhook receiver needs from the edge: the exact bytes the sender signed (no
JSON parsing and re-serialising on the way) and the sender's signature headers,
while every other header is still dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from edge.app import EdgeApp
from edge.forwarding import ForwardHeaderError, forwarded_headers
from mesh.contracts import MethodContract
from tests.edge.conftest import TEST_MAX_BODY, Call, EchoBackend

# Odd spacing, key order, escapes and raw UTF-8: anything a re-serialiser would change.
SIGNED = (
    b'{ "event":"payment.captured" ,\n  "note": "A\\u015bvagandh\\u0101",'
    + ' "name": "Aśvagandhā चूर्ण 🌿"'.encode()
    + b',"amount" : 1.50e3 }\r\n  '
)


def _contract(app: EdgeApp, method: str) -> MethodContract:
    return next(t.contract for t in app.targets if t.contract.method == method)


def _no_new_call(backend: EchoBackend) -> Callable[[], None]:
    start = len(backend.calls)

    def check() -> None:
        assert len(backend.calls) == start, "the backend was called"

    return check


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (SIGNED, "application/json; charset=utf-8"),
        (b"not json at all {", "text/plain"),
        (bytes(range(256)), "application/octet-stream"),
        (b"", "application/json"),
    ],
    ids=["json-as-sent", "not-json", "binary", "empty"],
)
async def test_http_body_request_gets_the_raw_bytes(
    client: httpx.AsyncClient, last_call: Callable[[], Call], body: bytes, ctype: str
) -> None:
    r = await client.post("/v1/hooks:raw", content=body, headers={"content-type": ctype})
    assert r.status_code == 200, r.text
    call = last_call()
    assert call.method == "ReceiveRaw"
    assert call.request.data == body  # byte for byte
    assert call.request.content_type == ctype


async def test_http_body_field_gets_the_raw_bytes_and_the_rest_from_path_and_query(
    client: httpx.AsyncClient, last_call: Callable[[], Call]
) -> None:
    r = await client.post(
        "/v1/hooks/razorpay:receive",
        params={"tag": "t1", "payload.data": "ignored", "payload.contentType": "ignored"},
        content=SIGNED,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    req = last_call().request
    assert (req.source, req.tag) == ("hooks/razorpay", "t1")
    assert req.payload.data == SIGNED
    assert req.payload.content_type == "application/json"


async def test_raw_body_keeps_the_size_cap(client: httpx.AsyncClient, backend: EchoBackend) -> None:
    unchanged = _no_new_call(backend)
    r = await client.post("/v1/hooks:raw", content=b"x" * (TEST_MAX_BODY + 1))
    assert r.status_code == 413
    unchanged()


async def test_named_headers_are_forwarded_and_no_others(
    client: httpx.AsyncClient, last_call: Callable[[], Call]
) -> None:
    r = await client.post(
        "/v1/hooks:raw",
        content=SIGNED,
        headers={
            "X-Test-Signature": "a1b2c3",
            "X-Test-Event-Id": "evt_1",
            "X-Custom": "nope",
            "X-Test-Other": "nope",
            "Cookie": "session=nope",
        },
    )
    assert r.status_code == 200, r.text
    md = last_call().metadata
    assert md["x-test-signature"] == "a1b2c3"
    assert md["x-test-event-id"] == "evt_1"
    assert not {"x-custom", "x-test-other", "cookie"} & md.keys()


async def test_absent_forwarded_headers_are_simply_absent(
    client: httpx.AsyncClient, last_call: Callable[[], Call]
) -> None:
    r = await client.post("/v1/hooks:raw", content=b"{}", headers={"x-test-event-id": "evt_2"})
    assert r.status_code == 200, r.text
    md = last_call().metadata
    assert md["x-test-event-id"] == "evt_2" and "x-test-signature" not in md


async def test_headers_are_forwarded_only_to_the_rpc_that_names_them(
    client: httpx.AsyncClient, last_call: Callable[[], Call]
) -> None:
    hdrs = {"x-test-signature": "a1b2c3", "x-test-event-id": "evt_3"}
    r = await client.post("/v1/hooks/razorpay:receive", content=b"{}", headers=hdrs)
    assert r.status_code == 200, r.text
    assert not {"x-test-signature", "x-test-event-id"} & last_call().metadata.keys()
    r = await client.get("/v1/shelves/s1", headers=hdrs)
    assert r.status_code == 200, r.text
    assert not {"x-test-signature", "x-test-event-id"} & last_call().metadata.keys()


async def test_a_repeated_forwarded_header_arrives_as_one_list(
    client: httpx.AsyncClient, last_call: Callable[[], Call]
) -> None:
    headers = [("x-test-event-id", "evt_a"), ("x-test-event-id", "evt_b")]
    r = await client.post("/v1/hooks:raw", content=b"{}", headers=headers)
    assert r.status_code == 200, r.text
    assert last_call().metadata["x-test-event-id"] == "evt_a, evt_b"


@pytest.mark.parametrize(
    ("value", "why"),
    [("s" * 65, "longer than 64 bytes"), ("caf\u00e9", "printable ASCII"), ("a\tb", "printable")],
)
async def test_bad_forwarded_header_is_400_and_never_reaches_the_service(
    client: httpx.AsyncClient, backend: EchoBackend, value: str, why: str
) -> None:
    unchanged = _no_new_call(backend)
    r = await client.post(
        "/v1/hooks:raw", content=b"{}", headers=[(b"x-test-signature", value.encode("latin-1"))]
    )
    assert r.status_code == 400, r.text
    status: dict[str, Any] = r.json()
    violation = next(d for d in status["details"] if d["@type"].endswith("BadRequest"))
    assert violation["fieldViolations"][0]["field"] == "x-test-signature"
    assert why in violation["fieldViolations"][0]["description"]
    unchanged()


def test_contract_reads_forward_headers_lower_case(app: EdgeApp) -> None:
    c = _contract(app, "ReceiveRaw")
    assert c.forward_headers == ("x-test-signature", "x-test-event-id")
    assert c.forward_header_max_bytes == 64
    assert _contract(app, "ReceiveHook").forward_headers == ()
    assert _contract(app, "GetShelf").forward_header_max_bytes == 1024  # the default


@pytest.mark.parametrize(
    "name",
    [
        "authorization",
        "x-request-id",
        "traceparent",
        "x-cleanse-internal",
        "x-forwarded-for",
        "content-type",
        "connection",
        "grpc-timeout",
        "x-signature-bin",
        "bad header",
        ":authority",
    ],
)
def test_start_up_refuses_headers_the_edge_must_not_forward(app: EdgeApp, name: str) -> None:
    c = dataclasses.replace(_contract(app, "ReceiveRaw"), forward_headers=(name,))
    with pytest.raises(ForwardHeaderError):
        forwarded_headers(c)


def test_start_up_refuses_an_absurd_value_cap(app: EdgeApp) -> None:
    c = dataclasses.replace(_contract(app, "ReceiveRaw"), forward_header_max_bytes=1 << 20)
    with pytest.raises(ForwardHeaderError):
        forwarded_headers(c)


def test_routes_that_forward_nothing_carry_nothing(app: EdgeApp) -> None:
    forwarding = {t.contract.method for t in app.targets if t.forward}
    assert forwarding == {"ReceiveRaw"}


def test_openapi_documents_raw_bodies_and_forwarded_headers(app: EdgeApp) -> None:
    doc = orjson.loads(app.openapi)
    raw = doc["paths"]["/v1/hooks:raw"]["post"]
    headers = {p["name"]: p for p in raw["parameters"] if p["in"] == "header"}
    assert set(headers) == {"x-test-signature", "x-test-event-id"}
    assert headers["x-test-signature"]["schema"] == {"type": "string", "maxLength": 64}
    assert not headers["x-test-event-id"]["required"]
    assert raw["requestBody"]["content"] == {
        "*/*": {"schema": {"type": "string", "format": "binary"}}
    }
    assert not [p for p in raw["parameters"] if p["in"] == "query"]  # body "*": no query

    hook = doc["paths"]["/v1/hooks/{source}:receive"]["post"]
    assert not [p for p in hook["parameters"] if p["in"] == "header"]
    query = {p["name"] for p in hook["parameters"] if p["in"] == "query"}
    assert query == {"tag"}  # the HttpBody field is the body, not query parameters
    assert set(hook["requestBody"]["content"]) == {"*/*"}

    # Ordinary JSON bodies are unchanged.
    create = doc["paths"]["/v1/shelves"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json"}
    assert not [p for p in create["parameters"] if p["in"] == "header"]


async def test_a_signed_webhook_still_verifies_after_crossing_the_edge(
    client: httpx.AsyncClient, last_call: Callable[[], Call]
) -> None:
    """End to end over the edge: the service verifies the sender's HMAC over the bytes it
    received, with the signature from the forwarded header."""
    from services.order.payments.razorpay import hmac_hex
    from tests.support.fake_razorpay import FakeRazorpay

    fake = FakeRazorpay()  # no server needed: only its signing
    raw, signature, event_id = fake.webhook_body("payment.captured")
    # Odd spacing and raw UTF-8 in the signed bytes, signed as the sender would.
    raw = raw.replace(b'"payload":{}', b'"payload": { "note": "\xe0\xa4\x86" }')
    signature = hmac_hex(fake.webhook_secret, raw)
    r = await client.post(
        "/v1/hooks:raw",
        content=raw,
        headers={
            "content-type": "application/json",
            "x-test-signature": signature,
            "x-test-event-id": event_id,
        },
    )
    assert r.status_code == 200, r.text
    call = last_call()
    received = call.request.data
    assert hmac_hex(fake.webhook_secret, received) == call.metadata["x-test-signature"]
    assert call.metadata["x-test-event-id"] == event_id
