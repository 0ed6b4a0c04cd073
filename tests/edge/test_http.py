"""Edge HTTP behaviour: 404/405/413, headers, deadlines, page size, health, metrics."""

from __future__ import annotations

import socket

import httpx
import pytest
from grpc_health.v1 import health_pb2
from prometheus_client import REGISTRY

from edge.app import EdgeApp, parse_grpc_timeout
from edge.config import EdgeConfig
from mesh import registry
from mesh.errors import InvalidArgument
from tests.edge.conftest import TEST_MAX_BODY, EchoBackend, Keys, make_app


def _customer(keys: Keys) -> dict[str, str]:
    return {"authorization": f"Bearer {keys.mint()}"}


async def test_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/nothing/here")
    assert r.status_code == 404
    assert r.json() == {"code": 5, "message": "Not Found", "details": []}


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/shelves/s1")
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET, PATCH, PUT"
    r = await client.delete("/v1/shelves")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


async def test_body_over_the_cap_is_413_by_content_length(
    client: httpx.AsyncClient, backend: EchoBackend, keys: Keys
) -> None:
    before = len(backend.calls)
    big = b'{"displayName": "' + b"x" * TEST_MAX_BODY + b'"}'
    r = await client.post(
        "/v1/shelves", content=big, headers={**_customer(keys), "content-type": "application/json"}
    )
    assert r.status_code == 413 and len(backend.calls) == before
    assert r.json()["code"] == 8


async def test_streamed_body_over_the_cap_is_413_without_reading_it_all(
    app: EdgeApp, keys: Keys
) -> None:
    received = 0
    chunk = b"x" * 1024

    async def receive() -> dict:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": chunk, "more_body": True}  # never ends

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/shelves",
        "raw_path": b"/v1/shelves",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {keys.mint()}".encode())],
        "client": ("127.0.0.1", 1),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert received == TEST_MAX_BODY // len(chunk) + 1


async def test_request_id_generated_echoed_and_propagated(
    client: httpx.AsyncClient, backend: EchoBackend
) -> None:
    r = await client.get("/v1/shelves/s1")
    rid = r.headers["x-request-id"]
    assert len(rid) == 32 and int(rid, 16) >= 0
    assert backend.calls[-1].metadata["x-request-id"] == rid
    r = await client.get("/v1/shelves/s1", headers={"x-request-id": "client-chosen-1"})
    assert r.headers["x-request-id"] == "client-chosen-1"
    assert backend.calls[-1].metadata["x-request-id"] == "client-chosen-1"
    # Errors carry it too.
    r = await client.get("/v2/none", headers={"x-request-id": "rid-404"})
    assert r.headers["x-request-id"] == "rid-404"


async def test_forwarded_for_and_user_agent(
    client: httpx.AsyncClient, backend: EchoBackend
) -> None:
    await client.get(
        "/v1/shelves/s1", headers={"user-agent": "storefront/2.1", "x-forwarded-for": "6.6.6.6"}
    )
    md = backend.calls[-1].metadata
    # The TCP peer (the test transport's client address); a client cannot forge it.
    assert md["x-forwarded-for"] == "203.0.113.7"
    assert md["x-user-agent"] == "storefront/2.1"


async def test_traceparent_continues_the_incoming_trace(
    client: httpx.AsyncClient, backend: EchoBackend
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929b0e0e4736"
    incoming = f"00-{trace_id}-00f067aa0ba902b7-01"
    await client.get("/v1/shelves/s1", headers={"traceparent": incoming})
    outgoing = backend.calls[-1].metadata["traceparent"]
    assert outgoing.split("-")[1] == trace_id


async def test_edge_span_and_observability_interceptors(
    protos, backend: EchoBackend, keys: Keys
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from observability.tracing import configure_tracing

    exporter = InMemorySpanExporter()
    configure_tracing("edge", exporter=exporter)
    app = make_app(protos, backend, keys, interceptors=None)  # observability's defaults
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://edge.test"
        ) as c:
            r = await c.get(
                "/v1/shelves/t1", headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}
            )
        assert r.status_code == 200
    finally:
        await app.aclose()
    outgoing = backend.calls[-1].metadata["traceparent"].split("-")
    assert outgoing[1] == trace_id
    spans = {s.name: s for s in exporter.get_finished_spans()}
    server = spans["GET /v1/{name=shelves/*}"]
    assert format(server.context.trace_id, "032x") == trace_id
    assert format(server.parent.span_id, "016x") == "b7ad6b7169203331"
    assert server.attributes["http.route"] == "/v1/{name=shelves/*}"
    # The CLIENT span (observability) is the edge span's child and the backend's parent.
    client_span = next(
        s for s in spans.values() if s.parent and s.parent.span_id == server.context.span_id
    )
    assert format(client_span.context.span_id, "016x") == outgoing[2]


@pytest.mark.parametrize(
    ("header", "seconds"), [("2S", 2.0), ("1500m", 1.5), ("1M", 60.0), ("3000000u", 3.0)]
)
async def test_grpc_timeout_becomes_the_deadline(
    client: httpx.AsyncClient, header: str, seconds: float
) -> None:
    r = await client.get("/v1/shelves/s1", headers={"grpc-timeout": header})
    remaining = r.json()["timeRemaining"]
    # gRPC rounds a timeout up to its wire granularity (at most ~0.2%, >= 100 ms here).
    assert seconds - 0.5 < remaining <= seconds * 1.003 + 0.1


async def test_default_deadline(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shelves/s1")
    assert 9.0 < r.json()["timeRemaining"] <= 10.13


async def test_bad_grpc_timeout_is_400(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shelves/s1", headers={"grpc-timeout": "soon"})
    assert r.status_code == 400


def test_parse_grpc_timeout() -> None:
    assert parse_grpc_timeout("5H") == 18000
    assert parse_grpc_timeout("250n") == pytest.approx(250e-9)
    with pytest.raises(InvalidArgument):
        parse_grpc_timeout("123456789S")


@pytest.mark.parametrize(("sent", "seen"), [(5, 5), (25, 25), (26, 25), (10_000, 25)])
async def test_page_size_clamped_to_the_contract_max(
    client: httpx.AsyncClient, backend: EchoBackend, sent: int, seen: int
) -> None:
    r = await client.get("/v1/shelves", params={"pageSize": str(sent)})
    assert r.status_code == 200
    assert backend.calls[-1].request.page_size == seen


async def test_negative_page_size_is_400(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shelves", params={"page_size": "-1"})
    assert r.status_code == 400
    assert "page_size" in r.json()["message"]


async def test_healthz_aggregates_backend_health(
    client: httpx.AsyncClient, backend: EchoBackend
) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "SERVING", "services": {"testing.edge.v1": "SERVING"}}
    assert backend.health is not None
    await backend.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    try:
        r = await client.get("/healthz")
        assert r.status_code == 503
        assert r.json()["services"] == {"testing.edge.v1": "NOT_SERVING"}
    finally:
        await backend.health.set("", health_pb2.HealthCheckResponse.SERVING)


async def test_healthz_reports_an_unreachable_backend(protos, keys: Keys) -> None:
    with socket.socket() as s:  # an ephemeral port, closed again: nothing listens there
        s.bind((registry.DEFAULT_HOST, 0))
        dead = EchoBackend(address=f"{registry.DEFAULT_HOST}:{s.getsockname()[1]}")
    app = make_app(protos, dead, keys, config=EdgeConfig(timeout_seconds=1.0))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://edge.test"
        ) as c:
            r = await c.get("/healthz")
            assert r.status_code == 503
            assert r.json()["services"]["testing.edge.v1"] in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
            r = await c.get("/v1/shelves/s1")
            assert r.status_code == 503
    finally:
        await app.aclose()


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_are_labelled_by_template(client: httpx.AsyncClient) -> None:
    labels = {"method": "GET", "route": "/v1/{name=shelves/*}", "code": "200"}
    before = _sample("http_requests_total", labels)
    hist_before = _sample(
        "http_request_duration_seconds_count", {"method": "GET", "route": labels["route"]}
    )
    await client.get("/v1/shelves/m1")
    await client.get("/v1/shelves/m2")
    assert _sample("http_requests_total", labels) == before + 2
    assert (
        _sample("http_request_duration_seconds_count", {"method": "GET", "route": labels["route"]})
        == hist_before + 2
    )
    r = await client.get("/metrics")
    assert r.status_code == 200
    text = r.text
    assert 'route="/v1/{name=shelves/*}"' in text
    assert "/v1/shelves/m1" not in text
