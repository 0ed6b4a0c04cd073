"""The mesh client over real gRPC on loopback: breaker, deadlines, retries, headers."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from mesh import client, registry
from mesh import context as call_context
from mesh.breaker import CircuitOpenError
from mesh.errors import Unavailable
from tests.mesh.conftest import BACK, FRONT, Mesh

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
    from tests.mesh.helpers import free_port

    monkeypatch.setenv("CLEANSE_INVENTORY_ADDR", f"{registry.DEFAULT_HOST}:{free_port()}")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await mesh.stub(BACK).Echo(mesh.pb2.EchoRequest(text="x"), timeout=1.0)
    assert e.value.code() is grpc.StatusCode.UNAVAILABLE
