"""The mesh client over real gRPC on loopback: breaker, deadlines, retries, headers.

Every test runs over both gRPC clients mesh.client can use (CLEANSE_GRPC_CLIENT):
the lean one (mesh/h2grpc.py) and grpc.aio."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from prometheus_client import REGISTRY

from mesh import client, h2grpc, registry
from mesh import context as call_context
from mesh.breaker import CircuitOpenError
from mesh.errors import Unavailable
from observability import tracing
from tests.mesh.conftest import BACK, FRONT, Mesh

pytestmark = pytest.mark.usefixtures("grpc_client")

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE.value[0]
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]


def key() -> str:
    return uuid.uuid4().hex


# --- circuit breaker ------------------------------------------------------------


async def test_breaker_opens_fails_fast_half_opens_and_closes(mesh: Mesh) -> None:
    client.update_settings(breaker_fail_max=3, breaker_reset_timeout=0.3)
    back = mesh.stub(BACK)
    servicer = mesh.servicers[BACK]
    breaker = client.breaker_for(BACK)
    before = servicer.calls["FailMutation"]
    req = mesh.pb2.FailRequest(code=UNAVAILABLE, key=key())

    for _ in range(3):  # N consecutive UNAVAILABLE failures, each reaching the server
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await back.FailMutation(req)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE
    assert servicer.calls["FailMutation"] == before + 3
    assert breaker.state == "open"

    # Open: fail fast with mesh.errors.Unavailable, nothing reaches the server.
    for _ in range(5):
        with pytest.raises(Unavailable) as opened:
            await back.FailMutation(req)
        assert isinstance(opened.value, CircuitOpenError)
        assert opened.value.reason == "DEPENDENCY_UNAVAILABLE"
    with pytest.raises(CircuitOpenError):
        await back.Echo(mesh.pb2.EchoRequest(text="hi"))
    assert servicer.calls["FailMutation"] == before + 3

    # After the reset timeout one trial goes through; a failed trial opens it again.
    await asyncio.sleep(0.35)
    with pytest.raises(grpc.aio.AioRpcError):
        await back.FailMutation(req)
    assert servicer.calls["FailMutation"] == before + 4
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        await back.FailMutation(req)

    # Next trial succeeds: the circuit closes and calls flow again.
    await asyncio.sleep(0.35)
    echoed = servicer.calls["Echo"]
    assert (await back.Echo(mesh.pb2.EchoRequest(text="back"))).text == "back"
    assert breaker.state == "closed"
    assert (await back.Echo(mesh.pb2.EchoRequest(text="again"))).text == "again"
    assert servicer.calls["Echo"] == echoed + 2


async def test_business_errors_do_not_trip_the_breaker(mesh: Mesh) -> None:
    client.update_settings(breaker_fail_max=2, breaker_reset_timeout=30)
    back = mesh.stub(BACK)
    for _ in range(6):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await back.FailMutation(mesh.pb2.FailRequest(code=INVALID_ARGUMENT, key=key()))
        assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await back.FailMutation(mesh.pb2.FailRequest(code=NOT_FOUND, key=key()))
        assert e.value.code() is grpc.StatusCode.NOT_FOUND
    assert client.breaker_for(BACK).state == "closed"


async def test_open_circuit_becomes_a_rich_unavailable_status_upstream(mesh: Mesh) -> None:
    """A service whose dependency's circuit is open answers UNAVAILABLE with
    ErrorInfo reason DEPENDENCY_UNAVAILABLE (the contract interceptor maps it)."""
    client.update_settings(breaker_fail_max=1, breaker_reset_timeout=30)
    breaker = client.breaker_for(BACK)
    breaker.record(grpc.StatusCode.UNAVAILABLE)  # this process's view of BACK: down
    assert breaker.state == "open"
    front = mesh.stub(FRONT)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await front.Relay(mesh.pb2.RelayRequest(downstream=BACK))
    assert e.value.code() is grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(e.value)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in status.details)
    assert info.reason == "DEPENDENCY_UNAVAILABLE"


async def test_call_with_fallback_degrades_only_when_the_dependency_is_down(mesh: Mesh) -> None:
    client.update_settings(breaker_fail_max=1, breaker_reset_timeout=30)
    back = mesh.stub(BACK)
    down = mesh.pb2.FailRequest(code=UNAVAILABLE, key=key())

    result = await client.call_with_fallback(
        lambda: back.FailMutation(down), lambda exc: "flat-rate", policy="test.flat_rate"
    )
    assert result == "flat-rate"
    calls = mesh.servicers[BACK].calls["FailMutation"]

    async def later(exc: BaseException) -> str:
        assert isinstance(exc, CircuitOpenError)
        return "queued"

    # Circuit now open: the fallback answers without a network call.
    assert (
        await client.call_with_fallback(lambda: back.FailMutation(down), later, policy="test.q")
        == "queued"
    )
    assert mesh.servicers[BACK].calls["FailMutation"] == calls

    client.reset_breakers()
    with pytest.raises(grpc.aio.AioRpcError) as e:  # business error: no degradation
        await client.call_with_fallback(
            lambda: back.FailMutation(mesh.pb2.FailRequest(code=INVALID_ARGUMENT, key=key())),
            lambda exc: "never",
            policy="test.flat_rate",
        )
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT


# --- retries --------------------------------------------------------------------


async def test_idempotent_rpc_is_retried_until_it_succeeds(mesh: Mesh) -> None:
    k = key()
    resp = await mesh.stub(BACK).Fail(mesh.pb2.FailRequest(code=UNAVAILABLE, key=k, fail_times=2))
    assert resp.attempts == 3
    assert mesh.servicers[BACK].attempts[k] == 3


async def test_retries_are_bounded(mesh: Mesh) -> None:
    client.update_settings(max_attempts=4)
    k = key()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(BACK).Fail(mesh.pb2.FailRequest(code=UNAVAILABLE, key=k))
    assert e.value.code() is grpc.StatusCode.UNAVAILABLE
    assert mesh.servicers[BACK].attempts[k] == 4


async def test_non_idempotent_rpc_is_never_retried(mesh: Mesh) -> None:
    k = key()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(BACK).FailMutation(
            mesh.pb2.FailRequest(code=UNAVAILABLE, key=k, fail_times=2)
        )
    assert e.value.code() is grpc.StatusCode.UNAVAILABLE
    assert mesh.servicers[BACK].attempts[k] == 1


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INTERNAL]
)
async def test_idempotent_rpc_is_not_retried_on_other_codes(
    mesh: Mesh, code: grpc.StatusCode
) -> None:
    k = key()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(BACK).Fail(mesh.pb2.FailRequest(code=code.value[0], key=k, fail_times=1))
    assert e.value.code() is code
    assert mesh.servicers[BACK].attempts[k] == 1


async def test_retries_never_go_past_the_overall_deadline(mesh: Mesh) -> None:
    client.update_settings(
        max_attempts=50, backoff_base=0.1, backoff_cap=0.1, breaker_fail_max=1000
    )
    k = key()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(grpc.aio.AioRpcError):
        await mesh.stub(BACK).Fail(mesh.pb2.FailRequest(code=UNAVAILABLE, key=k), timeout=0.3)
    assert loop.time() - started < 0.45
    assert 1 <= mesh.servicers[BACK].attempts[k] < 50


async def test_an_attempts_own_deadline_is_retried(mesh: Mesh) -> None:
    client.update_settings(attempt_timeout=0.1)
    before = mesh.servicers[BACK].calls["Slow"]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(BACK).Slow(mesh.pb2.SlowRequest(sleep_ms=300), timeout=1.0)
    assert e.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert mesh.servicers[BACK].calls["Slow"] - before == 3  # max_attempts


# --- deadlines ------------------------------------------------------------------


async def test_downstream_sees_the_callers_shorter_remaining_deadline(mesh: Mesh) -> None:
    resp = await mesh.stub(FRONT).Relay(
        mesh.pb2.RelayRequest(downstream=BACK, sleep_ms=0), timeout=0.8
    )
    # FRONT got ~0.8 s; its own default (5 s) is longer, so BACK gets FRONT's rest.
    assert 0.5 < resp.my_deadline_remaining <= 0.85
    assert 0.4 < resp.downstream_deadline_remaining <= resp.my_deadline_remaining + 0.01


async def test_default_deadline_applies_when_the_caller_has_none(mesh: Mesh) -> None:
    client.update_settings(timeout=2.0)
    # A plain channel (no mesh interceptors): FRONT's call arrives with no deadline.
    async with grpc.aio.insecure_channel(str(registry.address(FRONT))) as ch:
        resp = await mesh.pb2_grpc.EchoServiceStub(ch).Relay(mesh.pb2.RelayRequest(downstream=BACK))
    assert resp.my_deadline_remaining == -1.0
    assert 1.5 < resp.downstream_deadline_remaining <= 2.05  # grpc rounds deadlines


async def test_expired_upstream_deadline_fails_downstream_call(mesh: Mesh) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(FRONT).Relay(
            mesh.pb2.RelayRequest(downstream=BACK, sleep_ms=400), timeout=0.2
        )
    assert e.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED


# --- identity and forwarded headers ---------------------------------------------


async def test_internal_token_and_request_id_are_forwarded(mesh: Mesh) -> None:
    rid = key()
    resp = await mesh.stub(FRONT).RelayWhoami(
        mesh.pb2.RelayRequest(downstream=BACK), metadata=(("x-request-id", rid),)
    )
    # BACK's Whoami is AUDIENCE_INTERNAL: it answered, so the internal token was valid.
    assert resp.identity_kind == "service"
    assert resp.subject in (FRONT, BACK)
    assert resp.request_id == rid


async def test_callers_authorization_is_forwarded(mesh: Mesh) -> None:
    """A call made on a customer's behalf reaches the next service as that customer,
    relayed by a mesh member: it may still call INTERNAL RPCs (Whoami is one)."""
    bearer = f"Bearer {mesh.customer_token('users/alice')}"
    token = call_context.set_current(
        call_context.CallContext(request_id="req-1", authorization=bearer)
    )
    try:
        resp = await mesh.stub(BACK).Whoami(mesh.pb2.WhoamiRequest())
    finally:
        call_context.reset(token)
    assert resp.identity_kind == "customer"
    assert resp.subject == "users/alice"
    assert resp.authorization == bearer
    assert resp.request_id == "req-1"


async def test_without_a_user_the_callee_sees_the_calling_service(mesh: Mesh) -> None:
    resp = await mesh.stub(BACK).Whoami(mesh.pb2.WhoamiRequest())
    assert resp.identity_kind == "service"
    assert resp.subject == FRONT


async def test_internal_rpc_refused_without_the_mesh_token(mesh: Mesh) -> None:
    async with grpc.aio.insecure_channel(str(registry.address(BACK))) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await mesh.pb2_grpc.EchoServiceStub(ch).Whoami(mesh.pb2.WhoamiRequest())
    assert e.value.code() is grpc.StatusCode.PERMISSION_DENIED


# --- registry -------------------------------------------------------------------


async def test_registry_override_points_the_client_at_the_new_address(
    mesh: Mesh, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_addr = registry.address(BACK)
    assert env_addr.port != registry.spec(BACK).port
    assert registry.address(BACK, env={}).port == registry.spec(BACK).port
    assert (await mesh.stub(BACK).Echo(mesh.pb2.EchoRequest(text="x"))).text == "x"
    # Point BACK somewhere else: the client follows the registry (nothing listens
    # there, so the call fails UNAVAILABLE).
    from mesh.registry import free_port

    monkeypatch.setenv("CLEANSE_INVENTORY_ADDR", f"{registry.DEFAULT_HOST}:{free_port()}")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(BACK).Echo(mesh.pb2.EchoRequest(text="x"), timeout=1.0)
    assert e.value.code() is grpc.StatusCode.UNAVAILABLE


# --- one inline wrapper per method, over the chosen gRPC client ------------------


async def test_unary_methods_are_one_inline_wrapper_over_the_chosen_client(
    mesh: Mesh, grpc_client: str
) -> None:
    back = mesh.stub(BACK)
    assert isinstance(back.Echo, client.UnaryUnary)
    assert mesh.stub(BACK).Echo is back.Echo  # made once per method, not per stub
    assert (await back.Echo(mesh.pb2.EchoRequest(text="hi"))).text == "hi"
    ch = client.channel(BACK)
    await asyncio.wait_for(ch.channel_ready(), 5)
    if grpc_client == "lean":
        assert isinstance(ch._lean, h2grpc.Channel)
    else:
        assert ch._plain is not None
        assert not getattr(ch._plain, "_unary_unary_interceptors", None)


def test_the_grpc_client_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEANSE_GRPC_CLIENT", "grpcio")
    assert client.ClientSettings.from_env().grpc_client == "grpcio"
    monkeypatch.delenv("CLEANSE_GRPC_CLIENT")
    assert client.ClientSettings.from_env().grpc_client == "lean"
    monkeypatch.setenv("CLEANSE_GRPC_CLIENT", "curl")
    with pytest.raises(RuntimeError, match="CLEANSE_GRPC_CLIENT"):
        client.ClientSettings.from_env()
    with pytest.raises(ValueError):
        client.update_settings(grpc_client="curl")


async def test_grpc_aio_only_options_take_grpc_aio(mesh: Mesh) -> None:
    resp = await mesh.stub(BACK).Whoami(mesh.pb2.WhoamiRequest(), wait_for_ready=True)
    assert resp.identity_kind == "service" and resp.subject == FRONT


async def test_cancelling_a_half_open_trial_frees_the_breaker(mesh: Mesh) -> None:
    client.update_settings(breaker_fail_max=1, breaker_reset_timeout=0.2)
    breaker = client.breaker_for(BACK)
    breaker.record(grpc.StatusCode.UNAVAILABLE)
    assert breaker.state == "open"
    await asyncio.sleep(0.25)
    back = mesh.stub(BACK)
    trial = asyncio.create_task(back.Slow(mesh.pb2.SlowRequest(sleep_ms=2000)))
    await asyncio.sleep(0.1)
    with pytest.raises(CircuitOpenError):  # one trial at a time
        await back.Echo(mesh.pb2.EchoRequest(text="x"))
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    # The cancelled trial gave no verdict and freed its slot: the next call is a trial.
    assert (await back.Echo(mesh.pb2.EchoRequest(text="y"))).text == "y"
    assert breaker.state == "closed"


async def test_upstream_dependency_unavailable_is_not_retried_nor_held_against_it(
    mesh: Mesh,
) -> None:
    """FRONT answers UNAVAILABLE + DEPENDENCY_UNAVAILABLE (its own dependency's circuit
    is open): FRONT is healthy, so its breaker stays closed and nothing is retried."""
    client.update_settings(breaker_fail_max=1, breaker_reset_timeout=30)
    client.breaker_for(BACK).record(grpc.StatusCode.UNAVAILABLE)
    relays = mesh.servicers[FRONT].calls["Relay"]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(FRONT).Relay(mesh.pb2.RelayRequest(downstream=BACK))  # idempotent
    assert e.value.code() is grpc.StatusCode.UNAVAILABLE
    assert mesh.servicers[FRONT].calls["Relay"] == relays + 1
    assert client.breaker_for(FRONT).state == "closed"
    assert client.breaker_for(FRONT).fail_counter == 0


async def test_explicit_metadata_wins_but_the_internal_token_is_always_ours(
    mesh: Mesh,
) -> None:
    forged_parent = f"00-{'1' * 32}-{'2' * 16}-01"
    token = call_context.set_current(call_context.CallContext(request_id="from-context"))
    try:
        resp = await mesh.stub(BACK).Whoami(
            mesh.pb2.WhoamiRequest(),
            metadata=(
                ("x-request-id", "explicit"),
                ("x-cleanse-internal", "forged"),
                ("traceparent", forged_parent),
            ),
        )
    finally:
        call_context.reset(token)
    assert resp.request_id == "explicit"
    assert (resp.identity_kind, resp.subject) == ("service", FRONT)  # our token, valid
    assert resp.traceparent and resp.traceparent != forged_parent  # the call's own span


@pytest.fixture
def no_span_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_exporting", False)


@pytest.mark.parametrize("sampled", [True, False])
async def test_without_an_exporter_the_call_carries_a_child_traceparent(
    mesh: Mesh, no_span_export: None, sampled: bool
) -> None:
    trace_id, parent_id = 0x4BF92F3577B34DA6A3CE929B0E0E4736, 0x00F067AA0BA902B7
    parent = NonRecordingSpan(
        SpanContext(trace_id, parent_id, is_remote=False, trace_flags=TraceFlags(int(sampled)))
    )
    token = otel_context.attach(trace.set_span_in_context(parent))
    try:
        resp = await mesh.stub(BACK).Whoami(mesh.pb2.WhoamiRequest())
    finally:
        otel_context.detach(token)
    version, got_trace, got_parent, flags = resp.traceparent.split("-")
    assert (version, got_trace) == ("00", f"{trace_id:032x}")
    assert got_parent not in (f"{parent_id:016x}", "0" * 16) and len(got_parent) == 16
    assert flags == ("01" if sampled else "00")
    # Outside any span: a new sampled trace.
    fresh = (await mesh.stub(BACK).Whoami(mesh.pb2.WhoamiRequest())).traceparent.split("-")
    assert fresh[1] != f"{trace_id:032x}" and fresh[3] == "01"


def _client_sample(name: str, method: str, code: str | None = None, kind: str = "unary") -> float:
    labels = {
        "grpc_service": "testing.mesh.v1.EchoService",
        "grpc_method": method,
        "grpc_type": kind,
    }
    if code is not None:
        labels["grpc_code"] = code
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_client_metrics_count_each_logical_call_once(mesh: Mesh) -> None:
    def counts() -> tuple[float, ...]:
        return (
            _client_sample("grpc_client_started_total", "Fail"),
            _client_sample("grpc_client_handled_total", "Fail", "OK"),
            _client_sample("grpc_client_handled_total", "Fail", "UNAVAILABLE"),
            _client_sample("grpc_client_handling_seconds_count", "Fail"),
        )

    before = counts()
    k = key()
    resp = await mesh.stub(BACK).Fail(mesh.pb2.FailRequest(code=UNAVAILABLE, key=k, fail_times=2))
    assert resp.attempts == 3  # three attempts, one logical call
    assert [a - b for a, b in zip(counts(), before, strict=True)] == [1, 1, 0, 1]
    # Refused by an open circuit: counted as UNAVAILABLE.
    client.update_settings(breaker_fail_max=1, breaker_reset_timeout=30)
    client.breaker_for(BACK).record(grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(CircuitOpenError):
        await mesh.stub(BACK).Fail(mesh.pb2.FailRequest(code=UNAVAILABLE, key=key()))
    assert [a - b for a, b in zip(counts(), before, strict=True)] == [2, 1, 1, 2]


async def test_streams_keep_grpc_aio_with_the_deadline_headers_and_observability(
    mesh: Mesh,
) -> None:
    started = _client_sample("grpc_client_started_total", "StreamWhoami", kind="server_stream")
    token = call_context.set_current(call_context.CallContext(request_id="stream-1"))
    try:
        got = [
            r
            async for r in mesh.stub(BACK).StreamWhoami(
                mesh.pb2.StreamWhoamiRequest(count=2), timeout=5
            )
        ]
    finally:
        call_context.reset(token)
    assert len(got) == 2
    for r in got:  # Internal only: the mesh token reached it, with the request id
        assert (r.identity_kind, r.subject, r.request_id) == ("service", FRONT, "stream-1")
        assert r.traceparent
    after = _client_sample("grpc_client_started_total", "StreamWhoami", kind="server_stream")
    assert after - started == 1
