"""Metrics, traces and logs, observed over real gRPC calls between test services."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
import yaml
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from mesh import client, registry
from mesh import context as call_context
from mesh.breaker import CircuitOpenError
from observability import metrics, tracing
from observability.logs import configure_logging
from tests.mesh.conftest import BACK, FRONT, Mesh

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "testing.mesh.v1.EchoService"


def handled(method: str, code: str, kind: str = "server") -> float:
    value = REGISTRY.get_sample_value(
        f"grpc_{kind}_handled_total",
        {
            "grpc_service": SERVICE,
            "grpc_method": method,
            "grpc_type": "unary",
            "grpc_code": code,
        },
    )
    return value or 0.0


async def settled(read: Callable[[], float], want: float, within: float = 2.0) -> float:
    """`read()` once it equals `want` (or after `within` seconds). grpc.aio sends an
    aborted call's status from `context.abort()`, before the server's interceptors
    have counted it, so a fast client can see the answer before the counter moves."""
    for _ in range(int(within / 0.005)):
        if (value := read()) == want:
            return value
        await asyncio.sleep(0.005)
    return read()


async def test_server_metrics_count_final_codes_including_aborts(
    mesh: Mesh, grpc_client: str
) -> None:
    back = mesh.stub(BACK)
    ok0 = handled("Echo", "OK")
    unauth0 = handled("CustomerOnly", "UNAUTHENTICATED")
    invalid0 = handled("FailMutation", "INVALID_ARGUMENT")
    started0 = REGISTRY.get_sample_value(
        "grpc_server_started_total",
        {"grpc_service": SERVICE, "grpc_method": "Echo", "grpc_type": "unary"},
    )

    await back.Echo(mesh.pb2.EchoRequest(text="a"))
    await back.Echo(mesh.pb2.EchoRequest(text="b"))
    # The contract interceptor aborts: no token at all for a customer-only RPC
    # (a plain channel: the mesh client would attach the internal service token).
    async with grpc.aio.insecure_channel(str(registry.address(BACK))) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await mesh.pb2_grpc.EchoServiceStub(ch).CustomerOnly(mesh.pb2.EchoRequest(text="c"))
    assert e.value.code() is grpc.StatusCode.UNAUTHENTICATED
    # The contract interceptor aborts: a REQUIRED field is missing.
    validated0 = handled("Validate", "INVALID_ARGUMENT")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await back.Validate(mesh.pb2.ValidateRequest())
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert mesh.servicers[BACK].calls["Validate"] == 0
    assert await settled(lambda: handled("Validate", "INVALID_ARGUMENT") - validated0, 1) == 1
    assert handled("Validate", "OK") == 0
    # The servicer aborts with INVALID_ARGUMENT.
    with pytest.raises(grpc.aio.AioRpcError):
        await back.FailMutation(
            mesh.pb2.FailRequest(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], key="m")
        )

    assert handled("Echo", "OK") - ok0 == 2
    assert handled("CustomerOnly", "UNAUTHENTICATED") - unauth0 == 1
    assert handled("CustomerOnly", "OK") == 0
    assert await settled(lambda: handled("FailMutation", "INVALID_ARGUMENT") - invalid0, 1) == 1
    started = REGISTRY.get_sample_value(
        "grpc_server_started_total",
        {"grpc_service": SERVICE, "grpc_method": "Echo", "grpc_type": "unary"},
    )
    assert started is not None and started - (started0 or 0) == 2
    count = REGISTRY.get_sample_value(
        "grpc_server_handling_seconds_count",
        {"grpc_service": SERVICE, "grpc_method": "Echo", "grpc_type": "unary"},
    )
    assert count is not None and count >= 2
    # Client twins, recorded by this process's mesh client.
    assert handled("FailMutation", "INVALID_ARGUMENT", kind="client") >= 1


async def test_metrics_endpoint_serves_the_exposition(mesh: Mesh, grpc_client: str) -> None:
    await mesh.stub(BACK).Echo(mesh.pb2.EchoRequest(text="x"))
    address = metrics.metrics_server_address()
    assert address is not None
    with urllib.request.urlopen(f"{address.url}/metrics", timeout=5) as resp:  # noqa: ASYNC210
        body = resp.read().decode()
    assert re.search(
        r'grpc_server_handled_total\{grpc_code="OK",grpc_method="Echo",'
        r'grpc_service="testing\.mesh\.v1\.EchoService",grpc_type="unary"\} [1-9]',
        body,
    )
    assert "grpc_server_handling_seconds_bucket" in body
    assert "grpc_client_started_total" in body


def test_business_metric_factory_returns_one_collector() -> None:
    a = metrics.counter("test_widgets_total", "Widgets.", ["kind"])
    b = metrics.counter("test_widgets_total", "Widgets.", ["kind"])
    assert a is b
    a.labels("x").inc()
    assert REGISTRY.get_sample_value("test_widgets_total", {"kind": "x"}) == 1
    with pytest.raises(ValueError):
        metrics.counter("test_widgets_total", "Widgets.", ["other"])


@pytest.fixture
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    tracing.configure_tracing("test", exporter=exporter)
    return exporter


async def test_one_trace_runs_client_to_service_to_downstream(
    mesh: Mesh, spans: InMemorySpanExporter, grpc_client: str
) -> None:
    with tracing.tracer().start_as_current_span("edge request") as root:
        resp = await mesh.stub(FRONT).RelayWhoami(mesh.pb2.RelayRequest(downstream=BACK))
    trace_id = format(root.get_span_context().trace_id, "032x")

    finished = spans.get_finished_spans()
    relay = [s for s in finished if s.name == f"/{SERVICE}/RelayWhoami"]
    whoami = [s for s in finished if s.name == f"/{SERVICE}/Whoami"]
    kinds = {(s.name.rsplit("/", 1)[1], s.kind) for s in relay + whoami}
    assert kinds == {
        ("RelayWhoami", SpanKind.CLIENT),
        ("RelayWhoami", SpanKind.SERVER),
        ("Whoami", SpanKind.CLIENT),
        ("Whoami", SpanKind.SERVER),
    }
    for s in relay + whoami:
        assert format(s.context.trace_id, "032x") == trace_id
    by_kind = {(s.name.rsplit("/", 1)[1], s.kind): s for s in relay + whoami}
    # Parent chain: root -> client -> server -> client -> server.
    chain = [
        by_kind[("RelayWhoami", SpanKind.CLIENT)],
        by_kind[("RelayWhoami", SpanKind.SERVER)],
        by_kind[("Whoami", SpanKind.CLIENT)],
        by_kind[("Whoami", SpanKind.SERVER)],
    ]
    assert chain[0].parent is not None
    assert chain[0].parent.span_id == root.get_span_context().span_id
    for parent, child in itertools.pairwise(chain):
        assert child.parent is not None and child.parent.span_id == parent.context.span_id
    server = by_kind[("Whoami", SpanKind.SERVER)]
    assert server.attributes is not None
    assert server.attributes["rpc.system"] == "grpc"
    assert server.attributes["rpc.service"] == SERVICE
    assert server.attributes["rpc.method"] == "Whoami"
    assert server.attributes["rpc.grpc.status_code"] == 0
    # The traceparent the downstream received names the same trace and the client span.
    client_span = by_kind[("Whoami", SpanKind.CLIENT)]
    assert resp.traceparent.startswith(f"00-{trace_id}-{client_span.context.span_id:016x}-")
    assert client_span.attributes is not None
    assert client_span.attributes["peer.service"] == BACK
    assert client_span.attributes["rpc.method"] == "Whoami"
    assert client_span.attributes["rpc.grpc.status_code"] == 0
    assert client_span.status.status_code is StatusCode.UNSET


async def test_client_spans_of_failed_calls(
    mesh: Mesh, spans: InMemorySpanExporter, grpc_client: str
) -> None:
    back = mesh.stub(BACK)
    with pytest.raises(grpc.aio.AioRpcError):
        await back.FailMutation(mesh.pb2.FailRequest(code=grpc.StatusCode.NOT_FOUND.value[0]))
    client.update_settings(breaker_fail_max=1, breaker_reset_timeout=30)
    client.breaker_for(BACK).record(grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(CircuitOpenError):
        await back.Echo(mesh.pb2.EchoRequest(text="x"))
    clients = {
        s.name.rsplit("/", 1)[1]: s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT
    }
    answered = clients["FailMutation"]  # an answer, not an exception
    assert answered.status.status_code is StatusCode.ERROR
    assert answered.attributes is not None
    assert answered.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert not answered.events
    refused = clients["Echo"]  # refused before sending: the exception is recorded
    assert refused.status.status_code is StatusCode.ERROR
    assert refused.attributes is not None
    assert refused.attributes["rpc.grpc.status_code"] == grpc.StatusCode.UNAVAILABLE.value[0]
    assert [e.name for e in refused.events] == ["exception"]


async def test_server_span_status_reflects_the_final_code(
    mesh: Mesh, spans: InMemorySpanExporter, grpc_client: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await mesh.stub(BACK).FailMutation(
            mesh.pb2.FailRequest(code=grpc.StatusCode.INTERNAL.value[0], key="s")
        )
    async with grpc.aio.insecure_channel(str(registry.address(BACK))) as ch:
        with pytest.raises(grpc.aio.AioRpcError):
            await mesh.pb2_grpc.EchoServiceStub(ch).CustomerOnly(mesh.pb2.EchoRequest(text="x"))
    servers = {
        s.name.rsplit("/", 1)[1]: s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER
    }
    failed = servers["FailMutation"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INTERNAL.value[0]
    denied = servers["CustomerOnly"]  # a client mistake: not a server error
    assert denied.status.status_code is StatusCode.UNSET
    assert denied.attributes is not None
    assert denied.attributes["rpc.grpc.status_code"] == (grpc.StatusCode.UNAUTHENTICATED.value[0])


def test_logs_are_one_json_object_per_line_with_trace_and_request_ids(
    spans: InMemorySpanExporter,
) -> None:
    out = io.StringIO()
    handler = configure_logging("catalog", stream=out)
    try:
        token = call_context.set_current(call_context.CallContext(request_id="req-42"))
        try:
            with tracing.tracer().start_as_current_span("work") as span:
                logging.getLogger("services.catalog").warning(
                    "stock low", extra={"variant_id": "v1", "left": 2}
                )
        finally:
            call_context.reset(token)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    record = json.loads(lines[-1])
    ctx = span.get_span_context()
    assert record["message"] == "stock low"
    assert record["level"] == "WARNING"
    assert record["service"] == "catalog"
    assert record["logger"] == "services.catalog"
    assert record["request_id"] == "req-42"
    assert record["trace_id"] == format(ctx.trace_id, "032x")
    assert record["span_id"] == format(ctx.span_id, "016x")
    assert record["variant_id"] == "v1" and record["left"] == 2
    assert record["ts"].endswith("Z")


# --- dashboards and rules ---------------------------------------------------------

PROMQL_WORDS = {
    "sum", "rate", "irate", "increase", "histogram_quantile", "by", "without", "and", "or",
    "unless", "label_values", "avg", "max", "min", "count", "on", "ignoring", "bool",
    "group_left", "group_right",
}  # fmt: skip


def referenced_metrics(expr: str) -> set[str]:
    """Metric (and recording rule) names in a PromQL expression."""
    e = re.sub(r'"[^"]*"', "", expr)  # strings
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range selectors
    e = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", e)  # label lists
    names = set()
    for ident in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if ident in PROMQL_WORDS:
            continue
        base = re.sub(r"_(bucket|count|sum)$", "", ident)
        names.add(base if base in metrics.EXPORTED_METRICS else ident)
    return names


def alert_rule(name: str) -> dict:
    """The alerting rule `name` in observability/prometheus/rules.yml (exactly one)."""
    doc = yaml.safe_load((ROOT / "observability/prometheus/rules.yml").read_text())
    found = [r for g in doc["groups"] for r in g["rules"] if r.get("alert") == name]
    assert len(found) == 1, f"{name} is missing or defined twice"
    return found[0]


def service_metrics() -> set[str]:
    """Business metrics the services and the mesh register themselves with
    observability.metrics' counter / gauge / histogram (e.g. settings'
    tax_rate_fallbacks_total), read from the source: names given as a literal."""
    made = re.compile(r'\b(?:counter|gauge|histogram)\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
    return {
        name
        for folder in ("services", "mesh")
        for path in (ROOT / folder).rglob("*.py")
        for name in made.findall(path.read_text())
    }


def test_dashboard_only_uses_metrics_the_code_exports() -> None:
    dash = json.loads((ROOT / "observability/dashboards/grafana-grpc.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    # label_values(<series>, <label>): only the series names a metric.
    exprs += [
        re.sub(r",\s*\w+\)\s*$", ")", v["query"])
        for v in dash["templating"]["list"]
        if v["type"] == "query"
    ]
    used = set().union(*(referenced_metrics(e) for e in exprs))
    exported = set(metrics.EXPORTED_METRICS) | {"up"}
    assert used, "no metric found in the dashboard"
    assert used <= exported, f"dashboard uses unknown metrics: {used - exported}"
    # The three things an SRE looks at first are there.
    joined = " ".join(exprs)
    assert "grpc_server_handled_total" in joined
    assert "histogram_quantile(0.99" in joined and "histogram_quantile(0.50" in joined
    assert 'grpc_code!="OK"' in joined


def test_prometheus_rules_parse_and_use_exported_metrics() -> None:
    doc = yaml.safe_load((ROOT / "observability/prometheus/rules.yml").read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    recorded = {r["record"] for r in rules if "record" in r}
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    assert {"CleanseServiceDown", "CleanseHighErrorRate", "CleanseHighLatencyP99"} <= set(alerts)
    assert "up" in alerts["CleanseServiceDown"]["expr"]
    known = set(metrics.EXPORTED_METRICS) | {"up"} | recorded | service_metrics()
    for r in rules:
        expr = r["expr"]
        used = referenced_metrics(expr)
        assert used, expr
        assert used <= known, f"{r.get('record') or r.get('alert')}: {used - known}"
    for r in alerts.values():
        assert r["labels"]["severity"] in ("critical", "warning")
        assert r["annotations"]["summary"]
