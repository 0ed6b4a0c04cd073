"""Where each proto package is served, and one reused grpc.aio channel per backend.

By default a package maps to its mesh service through the registry
(`cleanse.auth.v1` -> auth -> `registry.address("auth")`). Tests (or a deployment
that routes through Envoy) pass `{package: "host:port"}` overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import grpc

from mesh import registry

CHANNEL_OPTIONS: tuple[tuple[str, object], ...] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
)


@dataclass(frozen=True)
class Backend:
    name: str  # mesh service name ("auth"), or the package when not in the registry
    target: str  # "host:port"


InterceptorFactory = Callable[["Backend"], Sequence[grpc.aio.ClientInterceptor]]


class Backends:
    """interceptors: a fixed list for every channel, or a factory called per backend
    (observability's client interceptors take the backend's name)."""

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        interceptors: Sequence[grpc.aio.ClientInterceptor] | InterceptorFactory = (),
        *,
        injects_trace_context: bool = False,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._interceptors = interceptors
        self._channels: dict[str, grpc.aio.Channel] = {}
        # True when the interceptors put `traceparent` on each call themselves.
        self.injects_trace_context = injects_trace_context

    def for_package(self, package: str) -> Backend:
        try:
            name = registry.service_for_package(package)
        except KeyError:
            name = package
        target = self._overrides.get(package)
        if target is None:
            if name == package:
                raise KeyError(f"no backend serves {package!r}: add it to the registry")
            target = str(registry.address(name))
        return Backend(name, target)

    def channel(self, backend: Backend) -> grpc.aio.Channel:
        """The backend's channel, created on first use (inside the running loop)."""
        ch = self._channels.get(backend.target)
        if ch is None:
            icpt = self._interceptors
            chosen = list(icpt(backend) if callable(icpt) else icpt)
            ch = grpc.aio.insecure_channel(
                backend.target, options=CHANNEL_OPTIONS, interceptors=chosen or None
            )
            self._channels[backend.target] = ch
        return ch

    async def close(self) -> None:
        channels = list(self._channels.values())
        self._channels.clear()
        for ch in channels:
            await ch.close()
