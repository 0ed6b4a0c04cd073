"""A stand-in service process for supervisor tests: health only.

    python -m tests.mesh.fake_service <name>

Serves grpc health SERVING on the registry address of <name> (replica
CLEANSE_REPLICA's), records the environment it got in
$CLEANSE_DATA_DIR/<name>.env.json (<name>-<replica>.env.json for replicas 1, 2, ...),
and exits on SIGTERM
(unless FAKE_IGNORE_SIGTERM=1, to prove the supervisor escalates to SIGKILL).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from mesh import registry


async def main(name: str) -> None:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(str(registry.own_address(name)))
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    keys = (
        "CLEANSE_INTERNAL_SECRET",
        "CLEANSE_DATA_DIR",
        "CLEANSE_SERVICE_NAME",
        "CLEANSE_REPLICA",
    )
    replica = registry.replica_index()
    stem = name if replica == 0 else f"{name}-{replica}"
    out = Path(os.environ["CLEANSE_DATA_DIR"]) / f"{stem}.env.json"
    out.write_text(json.dumps({k: os.environ.get(k, "") for k in keys} | {"pid": os.getpid()}))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if os.environ.get("FAKE_IGNORE_SIGTERM") == "1":
        loop.add_signal_handler(signal.SIGTERM, lambda: None)
    else:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(0.1)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
