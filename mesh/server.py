"""Server bootstrap shared by every service.

    app = ServiceApp("auth", readiness=db.ready)
    app.add(auth_service_pb2_grpc.add_AuthServiceServicer_to_server, AuthServicer(...))
    app.on_startup(db.migrate)
    run(app)            # or: await app.serve() inside an event loop

What every service gets: a gRPC server (mesh/h2server.py's lean one, or grpc.aio's
with CLEANSE_GRPC_SERVER=grpcio) on the address the registry gives it
(replica CLEANSE_REPLICA's, when the service runs as several: each replica has a
port of its own, so SO_REUSEPORT stays off and a stale process can never share a
port with its successor unnoticed),
the contract interceptor (identity, access policy, required fields, page sizes,
error mapping) behind the observability interceptors, the standard health
service reporting NOT_SERVING until start-up hooks (migrations) have run and the
readiness check (database reachable) passes, reflection, Prometheus /metrics,
structured JSON logs, and graceful shutdown on SIGTERM/SIGINT that drains
in-flight RPCs for `grace` seconds.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import grpc
import uvloop
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mesh import h2server, registry
from mesh.contracts import MethodContract, all_contracts, service_descriptor
from mesh.identity import InternalTokens, TokenVerifier, internal_secret
from mesh.interceptors import ContractInterceptor

log = logging.getLogger("mesh.server")

Hook = Callable[[], Awaitable[None]]
Readiness = Callable[[], Awaitable[bool]]

READINESS_INTERVAL = 5.0
DEFAULT_GRACE = 10.0

SERVER_OPTIONS = [
    ("grpc.so_reuseport", 0),
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
]


def jwks_from_auth() -> Callable[[], Awaitable[list[dict[str, str]]]]:
    """A JWKS source that asks the auth service (GetJwks) over the mesh."""
    from google.protobuf.json_format import MessageToDict

    from cleanse.auth.v1 import auth_service_pb2

    async def fetch() -> list[dict[str, str]]:
        from mesh.client import stub  # late import: client imports server-side bits

        auth = stub("auth", "cleanse.auth.v1.AuthService")
        resp = await auth.GetJwks(auth_service_pb2.GetJwksRequest())
        return [MessageToDict(k) for k in resp.keys]

    return fetch


class ServiceApp:
    def __init__(
        self,
        name: str,
        *,
        readiness: Readiness | None = None,
        jwks_source: Callable[[], Awaitable[Sequence[dict[str, str]]]] | None = None,
        grace: float = DEFAULT_GRACE,
        contracts: Mapping[str, MethodContract] | None = None,
    ) -> None:
        self.name = name
        self.replica = registry.replica_index()
        self.address = registry.own_address(name)
        self.metrics_address = registry.own_metrics_address(name)
        self.grace = grace
        self._servicers: list[tuple[Callable[[Any, grpc.aio.Server], None], Any, str]] = []
        self._startup: list[Hook] = []
        self._shutdown: list[Hook] = []
        self._readiness = readiness
        # Tests serve test-only protos: pass their contracts (contracts_from_file_set).
        self.contracts = dict(all_contracts()) | dict(contracts or {})
        self.internal_tokens = InternalTokens(name, internal_secret())
        self.verifier = TokenVerifier(jwks_source or jwks_from_auth())
        self.server: grpc.aio.Server | None = None

    def add(self, add_fn: Callable[[Any, grpc.aio.Server], None], servicer: Any) -> None:
        """Register a servicer with its generated `add_XServicer_to_server` function."""
        full_name = _service_full_name(add_fn)
        self._servicers.append((add_fn, servicer, full_name))

    def on_startup(self, hook: Hook) -> None:
        self._startup.append(hook)

    def on_shutdown(self, hook: Hook) -> None:
        self._shutdown.append(hook)

    def interceptors(self) -> list[grpc.aio.ServerInterceptor]:
        from mesh.deadlines import DeadlineInterceptor
        from observability import server_interceptors

        contract = ContractInterceptor(self.contracts, self.verifier, self.internal_tokens)
        # Tracing, metrics, the deadline, then the contract: in that order, as ONE layer.
        return server_interceptors(self.name, parts=[DeadlineInterceptor()], inner=contract)

    async def _set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *(s[2] for s in self._servicers)]:
            await self._health.set(name, status)

    async def start(self) -> None:
        """Start listening; health stays NOT_SERVING until start-up hooks succeed."""
        from observability import start_metrics_server
        from observability.logs import configure_logging

        configure_logging(self.name)
        from mesh import client

        # Calls this service makes carry its internal token; test contracts count too.
        client.configure(self.name, contracts=self.contracts)
        self._health = health.aio.HealthServicer()
        server = new_server(interceptors=self.interceptors(), options=SERVER_OPTIONS)
        for add_fn, servicer, _ in self._servicers:
            add_fn(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        names = [s[2] for s in self._servicers]
        health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        reflection.enable_server_reflection([*names, health_name, reflection.SERVICE_NAME], server)
        await self._set_serving(False)
        bound = server.add_insecure_port(str(self.address))
        if bound == 0:
            raise RuntimeError(f"{self.name}: cannot listen on {self.address}")
        await server.start()
        self.server = server
        start_metrics_server(self.metrics_address)
        log.info(
            "listening",
            extra={"address": str(self.address), "replica": self.replica, "services": names},
        )
        for hook in self._startup:
            await hook()
        await self._update_readiness()
        self._readiness_task = asyncio.create_task(self._readiness_loop())

    async def _update_readiness(self) -> None:
        ok = True
        if self._readiness is not None:
            try:
                ok = await self._readiness()
            except Exception:
                log.warning("readiness check failed", exc_info=True)
                ok = False
        await self._set_serving(ok)

    async def _readiness_loop(self) -> None:
        while True:
            await asyncio.sleep(READINESS_INTERVAL)
            await self._update_readiness()

    async def stop(self) -> None:
        """Stop taking new RPCs, drain in-flight ones for `grace` seconds, run hooks."""
        if self.server is None:
            return
        log.info("shutting down", extra={"grace_seconds": self.grace})
        self._readiness_task.cancel()
        await self._set_serving(False)
        await self.server.stop(self.grace)
        for hook in self._shutdown:
            await hook()
        self.server = None

    async def serve(self) -> None:
        """Start, then run until SIGTERM or SIGINT, then shut down gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        freeze_startup_objects()
        await stop.wait()
        await self.stop()


def freeze_startup_objects() -> None:
    """What a process loaded before it serves (modules, descriptors, its schema, the
    statements its start-up hooks built) lives as long as the process: `gc.freeze()`
    moves it out of the collector's generations, so the full collections a busy
    service still makes no longer walk all of it (millisecond stalls otherwise, on
    the request path). Services call it once they serve (`ServiceApp.serve`), the
    edge once its app started."""
    gc.freeze()


def new_server(
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    options: Sequence[tuple[str, Any]] = SERVER_OPTIONS,
) -> grpc.aio.Server:
    """A gRPC server of the kind CLEANSE_GRPC_SERVER chooses (mesh.h2server)."""
    if h2server.server_from_env() == "lean":
        return h2server.server(interceptors=interceptors, options=options)
    return grpc.aio.server(interceptors=interceptors, options=options)


def _service_full_name(add_fn: Callable[..., None]) -> str:
    # add_AuthServiceServicer_to_server lives in cleanse/auth/v1/auth_service_pb2_grpc.py
    module = add_fn.__module__.removesuffix("_grpc")
    short = add_fn.__name__.removeprefix("add_").removesuffix("Servicer_to_server")
    import importlib

    pb2 = importlib.import_module(module)
    full = pb2.DESCRIPTOR.services_by_name[short].full_name
    service_descriptor(full)  # fails loudly if the contract is unknown
    return full


def run(app: ServiceApp) -> None:
    """Entry point for a service process (`python -m services.<name>`).

    The event loop is uvloop's, as the edge's: asyncpg's and aiohttp's socket I/O and
    the loop's own callbacks cost about a tenth less CPU per request than on the
    standard loop. CLEANSE_EVENT_LOOP=asyncio chooses the standard loop.
    """
    if os.environ.get("CLEANSE_EVENT_LOOP", "uvloop") == "asyncio":
        asyncio.run(app.serve())
    else:
        uvloop.run(app.serve())
