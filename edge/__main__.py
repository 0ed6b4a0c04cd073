"""`python -m edge`: serve the REST/JSON edge on the registry's edge address.

CLEANSE_EDGE_WORKERS (default 1) uvicorn worker processes share the listening
socket; each worker calls `worker_app()`, which sets up logging and tracing for its
process and builds the routes and backend channels once.
"""

from __future__ import annotations

import uvicorn

from edge.app import EdgeApp, create_app
from edge.config import EdgeConfig
from mesh import registry
from mesh.server import freeze_startup_objects
from observability import configure_tracing
from observability.logs import configure_logging


def worker_app() -> EdgeApp:
    configure_logging("edge")
    configure_tracing("edge")
    app = create_app()
    freeze_startup_objects()  # the routes, descriptors and channels live as long
    return app


def main() -> None:
    configure_logging("edge")
    cfg = EdgeConfig.from_env()
    addr = registry.address("edge")
    uvicorn.run(
        "edge.__main__:worker_app",
        factory=True,
        host=addr.host,
        port=addr.port,
        workers=cfg.workers,
        loop="uvloop",
        # httptools, writing each response's head and body in one syscall (edge/http.py).
        http="edge.http:EdgeHttpToolsProtocol",
        access_log=False,
        # The edge is the front door: the client address is the socket's. Behind a
        # trusted proxy, CLEANSE_EDGE_TRUST_FORWARDED_FOR=1 (edge/config.py) says so.
        proxy_headers=False,
        log_config=None,  # observability.logs owns logging
        lifespan="on",
        server_header=False,
        date_header=False,
    )


if __name__ == "__main__":
    main()
