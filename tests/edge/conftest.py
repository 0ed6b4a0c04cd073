"""An in-process echo backend (real grpc.aio server) and the edge pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import any_pb2, duration_pb2, empty_pb2, json_format
from google.protobuf.message_factory import GetMessageClass
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from edge.app import EdgeApp, create_app
from edge.config import EdgeConfig
from mesh import registry
from tests.support.protos import CompiledProtos, compile_test_protos
from tests.support.rpc import TestKeys

PACKAGE = "testing.edge.v1"
SERVICE = f"{PACKAGE}.TranscodeTestService"
ECHOED_METADATA = (
    "authorization",
    "x-request-id",
    "traceparent",
    "x-forwarded-for",
    "user-agent",
    "x-user-agent",
    "x-cleanse-internal",
    "connection",
    "x-custom",
)
TEST_MAX_BODY = 4096


@dataclass
class Call:
    method: str
    request: Any
    metadata: dict[str, str]


@dataclass
class EchoBackend:
    address: str
    calls: list[Call] = field(default_factory=list)
    health: health.aio.HealthServicer | None = None


def _echo_handler(name: str, out_cls: type, echo_cls: type, backend: EchoBackend):
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
        md = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        backend.calls.append(Call(name, request, md))
        if name == "Fail":
            await _fail(request, context)
        if out_cls is empty_pb2.Empty or out_cls.DESCRIPTOR.full_name == "google.protobuf.Empty":
            return out_cls()
        resp = echo_cls(
            method=name,
            request_json=json_format.MessageToJson(request, indent=None),
            metadata={k: v for k, v in md.items() if k in ECHOED_METADATA},
            time_remaining=context.time_remaining() or 0.0,
        )
        if "shelf" in request.DESCRIPTOR.fields_by_name:
            resp.shelf.CopyFrom(request.shelf)
        elif "name" in request.DESCRIPTOR.fields_by_name:
            resp.shelf.name = request.name
        return resp

    return handle


async def _fail(request: Any, context: grpc.aio.ServicerContext) -> None:
    details = []
    if request.with_details:
        for d in (
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field="shelf.display_name", description="is required"
                    )
                ]
            ),
            error_details_pb2.ErrorInfo(
                reason="TEST_FAILURE", domain="cleanse.in", metadata={"k": "v"}
            ),
        ):
            a = any_pb2.Any()
            a.Pack(d)
            details.append(a)
    if request.retry_after_seconds:
        secs = int(request.retry_after_seconds)
        a = any_pb2.Any()
        a.Pack(
            error_details_pb2.RetryInfo(
                retry_delay=duration_pb2.Duration(
                    seconds=secs, nanos=int((request.retry_after_seconds - secs) * 1e9)
                )
            )
        )
        details.append(a)
    status = rpc_status.to_status(
        status_pb2.Status(code=request.code, message=request.message, details=details)
    )
    await context.abort(status.code, status.details, status.trailing_metadata)


@pytest.fixture(scope="session")
def protos() -> CompiledProtos:
    return compile_test_protos()


@pytest.fixture(scope="session")
async def backend(protos: CompiledProtos) -> AsyncIterator[EchoBackend]:
    pb2 = protos.module("testing/edge/v1/transcode_test.proto")
    svc = pb2.DESCRIPTOR.services_by_name["TranscodeTestService"]
    server = grpc.aio.server()
    # An ephemeral port: the test backend is not a mesh member.
    port = server.add_insecure_port(f"{registry.DEFAULT_HOST}:0")
    b = EchoBackend(address=f"{registry.DEFAULT_HOST}:{port}")
    handlers = {}
    for m in svc.methods:
        in_cls = GetMessageClass(m.input_type)
        out_cls = GetMessageClass(m.output_type)
        handlers[m.name] = grpc.unary_unary_rpc_method_handler(
            _echo_handler(m.name, out_cls, pb2.EchoResponse, b),
            request_deserializer=in_cls.FromString,
            response_serializer=out_cls.SerializeToString,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(svc.full_name, handlers),)
    )
    b.health = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(b.health, server)
    await b.health.set("", health_pb2.HealthCheckResponse.SERVING)
    await server.start()
    yield b
    await server.stop(None)


# --- tokens ------------------------------------------------------------------------


Keys = TestKeys  # the edge tests' name for the `keys` fixture's type


@pytest.fixture(scope="session")
def keys() -> Keys:
    return TestKeys.generate("test-key-1")


def make_app(
    protos: CompiledProtos,
    backend: EchoBackend,
    keys: Keys,
    *,
    config: EdgeConfig | None = None,
    jwks_calls: list[int] | None = None,
    interceptors: Any = (),
) -> EdgeApp:
    async def jwks() -> list[dict[str, str]]:
        if jwks_calls is not None:
            jwks_calls.append(1)
        return keys.jwks

    return create_app(
        descriptor_set=protos.descriptor_set,
        jwks_source=jwks,
        backends={PACKAGE: backend.address},
        config=config or EdgeConfig(timeout_seconds=10.0, max_body_bytes=TEST_MAX_BODY),
        interceptors=interceptors,
        packages_prefix="testing.edge.",
    )


@pytest.fixture(scope="session")
async def app(protos: CompiledProtos, backend: EchoBackend, keys: Keys) -> AsyncIterator[EdgeApp]:
    a = make_app(protos, backend, keys)
    yield a
    await a.aclose()


@pytest.fixture(scope="session")
async def client(app: EdgeApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://edge.test") as c:
        yield c


@pytest.fixture
def last_call(backend: EchoBackend) -> Callable[[], Call]:
    start = len(backend.calls)

    def get() -> Call:
        assert len(backend.calls) > start, "the backend was not called"
        return backend.calls[-1]

    return get
