"""The edge's settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mesh import h2grpc

TIMEOUT_ENV = "CLEANSE_EDGE_TIMEOUT_SECONDS"
MAX_BODY_ENV = "CLEANSE_EDGE_MAX_BODY_BYTES"
WORKERS_ENV = "CLEANSE_EDGE_WORKERS"
TRUST_FORWARDED_ENV = "CLEANSE_EDGE_TRUST_FORWARDED_FOR"
GRPC_CLIENT_ENV = h2grpc.CLIENT_ENV  # one switch for the edge and mesh.client
GRPC_CLIENTS = h2grpc.CLIENTS


@dataclass(frozen=True)
class EdgeConfig:
    # Deadline of a backend call when the request sends no Grpc-Timeout.
    timeout_seconds: float = 10.0
    # Larger request bodies answer 413 before they are read.
    max_body_bytes: int = 1 << 20
    # uvicorn worker processes (each builds its own routes and channels).
    workers: int = 1
    # Keep an incoming X-Forwarded-For chain (only behind a trusted proxy); otherwise
    # the services see the TCP peer's address alone, which a client cannot forge.
    trust_forwarded_for: bool = False
    # Backend calls: "lean" (mesh/h2grpc.py, HTTP/2 spoken on the event loop, a
    # fraction of grpc.aio's CPU per call) or "grpcio" (grpc.aio channels), from
    # CLEANSE_GRPC_CLIENT, the switch mesh.client reads too.
    grpc_client: str = "lean"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EdgeConfig:
        env = os.environ if env is None else env
        try:
            cfg = cls(
                timeout_seconds=float(env.get(TIMEOUT_ENV, cls.timeout_seconds)),
                max_body_bytes=int(env.get(MAX_BODY_ENV, cls.max_body_bytes)),
                workers=int(env.get(WORKERS_ENV, cls.workers)),
                trust_forwarded_for=env.get(TRUST_FORWARDED_ENV, "").lower()
                in ("1", "true", "yes"),
                grpc_client=h2grpc.client_from_env(env),
            )
        except ValueError as exc:
            raise RuntimeError(f"bad edge configuration: {exc}") from None
        if cfg.timeout_seconds <= 0 or cfg.max_body_bytes <= 0 or cfg.workers < 1:
            raise RuntimeError(f"{TIMEOUT_ENV}, {MAX_BODY_ENV} and {WORKERS_ENV} must be positive")
        return cfg
