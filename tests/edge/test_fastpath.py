"""The edge's cheap per-request paths: trace context without the SDK, inline client
observability (no grpc.aio interceptors), one socket write per response."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from edge import app as edge_app
from edge.backends import Backends
from edge.config import EdgeConfig
from edge.http import CoalescingTransport
from observability import tracecontext
from tests.edge.conftest import EchoBackend, Keys, make_app

TRACE = "4bf92f3577b34da6a3ce929b0e0e4736"
PARENT = "00f067aa0ba902b7"


# --- W3C trace context without the SDK ----------------------------------------------


def test_continues_a_valid_traceparent() -> None:
    span = tracecontext.start(f"00-{TRACE}-{PARENT}-01", None)
    assert (span.trace_id, span.parent_span_id, span.sampled) == (TRACE, PARENT, True)
    assert len(span.span_id) == 16 and span.span_id not in (PARENT, "0" * 16)
    assert span.traceparent() == f"00-{TRACE}-{span.span_id}-01"


def test_keeps_the_unsampled_flag_and_tracestate() -> None:
    span = tracecontext.start(f"00-{TRACE}-{PARENT}-00", "vendor=abc,other=1")
    assert not span.sampled and span.traceparent().endswith("-00")
    assert span.tracestate == "vendor=abc,other=1"
    ctx = span.span_context()
    assert format(ctx.trace_id, "032x") == TRACE and ctx.trace_state["vendor"] == "abc"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        f"00-{'0' * 32}-{PARENT}-01",  # zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # zero parent id
        f"ff-{TRACE}-{PARENT}-01",  # forbidden version
        f"00-{TRACE}-{PARENT}-01-extra",  # version 00 has exactly four parts
        f"00-{TRACE.upper()}-{PARENT}-01",  # upper-case hex
        f"00-{TRACE}-{PARENT}-01" + " " * 600,  # over the length limit
    ],
)
def test_an_invalid_traceparent_starts_a_new_trace(bad: str) -> None:
    span = tracecontext.start(bad, "vendor=abc")
    assert span.trace_id != TRACE and len(span.trace_id) == 32 and span.trace_id != "0" * 32
    assert span.sampled and span.parent_span_id == "" and span.tracestate == ""


def test_a_future_version_with_more_parts_is_accepted() -> None:
    span = tracecontext.start(f"01-{TRACE}-{PARENT}-01-more", None)
    assert span.trace_id == TRACE


def test_new_ids_differ() -> None:
    spans = [tracecontext.start(None, None) for _ in range(50)]
    assert len({s.trace_id for s in spans}) == 50 and len({s.span_id for s in spans}) == 50


# --- the request path with and without span export ----------------------------------


@pytest.fixture
def no_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge_app, "_spans_exported", lambda: False)


async def test_fast_path_propagates_a_child_of_the_incoming_trace(
    no_export: None, protos: Any, backend: EchoBackend, keys: Keys
) -> None:
    app = make_app(protos, backend, keys, interceptors=None)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://edge.test"
        ) as c:
            r = await c.get(
                "/v1/shelves/t1",
                headers={"traceparent": f"00-{TRACE}-{PARENT}-01", "tracestate": "k=v"},
            )
            assert r.status_code == 200
            md = backend.calls[-1].metadata
            version, trace_id, parent, flags = md["traceparent"].split("-")
            assert (version, trace_id, flags) == ("00", TRACE, "01") and parent != PARENT
            r = await c.get("/v1/shelves/t2")  # no incoming trace: a new one
            fresh = backend.calls[-1].metadata["traceparent"].split("-")
            assert fresh[1] != TRACE and len(fresh[1]) == 32
    finally:
        await app.aclose()


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_backend_calls_count_client_metrics_inline(
    no_export: None, protos: Any, backend: EchoBackend, keys: Keys
) -> None:
    app = make_app(protos, backend, keys, interceptors=None)
    service = "testing.edge.v1.TranscodeTestService"
    ok = {"grpc_service": service, "grpc_method": "GetShelf", "grpc_type": "unary"}
    failed = {**ok, "grpc_method": "Fail"}
    before = (
        _sample("grpc_client_started_total", ok),
        _sample("grpc_client_handled_total", {**ok, "grpc_code": "OK"}),
        _sample("grpc_client_handled_total", {**failed, "grpc_code": "NOT_FOUND"}),
        _sample("grpc_client_handling_seconds_count", ok),
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://edge.test"
        ) as c:
            assert (await c.get("/v1/shelves/m1")).status_code == 200
            r = await c.post("/v1/test:fail", json={"code": 5, "message": "gone"})
            assert r.status_code == 404
    finally:
        await app.aclose()
    after = (
        _sample("grpc_client_started_total", ok),
        _sample("grpc_client_handled_total", {**ok, "grpc_code": "OK"}),
        _sample("grpc_client_handled_total", {**failed, "grpc_code": "NOT_FOUND"}),
        _sample("grpc_client_handling_seconds_count", ok),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1]


async def test_default_channels_have_no_interceptor_objects(
    protos: Any, backend: EchoBackend, keys: Keys
) -> None:
    app = make_app(protos, backend, keys, interceptors=None)
    try:
        target = app.targets[0]
        assert target.call.observed
        channel = app.backends.channel(target.backend)
        assert not getattr(channel, "_unary_unary_interceptors", None)
    finally:
        await app.aclose()


def test_the_grpc_client_is_configurable() -> None:
    assert EdgeConfig.from_env({}).grpc_client == "lean"
    assert EdgeConfig.from_env({"CLEANSE_GRPC_CLIENT": "grpcio"}).grpc_client == "grpcio"
    with pytest.raises(RuntimeError):
        EdgeConfig.from_env({"CLEANSE_GRPC_CLIENT": "curl"})
    assert Backends({}).lean and not Backends({}, lean=False).lean
    assert not Backends({}, [object()]).lean  # type: ignore[list-item]  # interceptors: grpc.aio


# --- one write per response -----------------------------------------------------------


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


async def test_head_and_body_go_out_in_one_write() -> None:
    raw = _Transport()
    t = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    t.write(HEAD)
    assert raw.writes == []
    t.write(b"{}")
    assert raw.writes == [HEAD + b"{}"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing left
    assert raw.writes == [HEAD + b"{}"]
    assert t.get_extra_info("peername") == "info:peername"


async def test_a_lone_head_is_flushed_by_the_end_of_the_loop_iteration() -> None:
    raw = _Transport()
    t = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    t.write(HEAD)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert raw.writes == [HEAD]


async def test_interim_responses_and_other_writes_are_not_held() -> None:
    raw = _Transport()
    t = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    t.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    t.write(b"5\r\nhello\r\n")
    assert raw.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", b"5\r\nhello\r\n"]


async def test_close_flushes_a_held_head() -> None:
    raw = _Transport()
    t = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    t.write(HEAD)
    t.close()
    assert raw.writes == [HEAD] and raw.closed
