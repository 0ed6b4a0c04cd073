"""A local fake of an Indian SMS gateway (MSG91's flow API shape), over real HTTP.

    with FakeSms.running() as fake:
        env = fake.env()                 # CLEANSE_MSG91_* for the provider
        ... send ...
        fake.sent                        # [{"message_id", "template_id", "mobiles", ...}]

POST /api/v5/flow/ with header `authkey` and JSON {template_id, sender, short_url,
recipients: [{mobiles, VAR...}]}; answers {"type": "success", "message": <id>}, or
401 {"type": "error"} on a wrong authkey, 400 without template_id or recipients.
`fail_next(n, status)` answers the next n calls with that status.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mesh import registry
from services.engagement.channels.sms import AUTHKEY_ENV, BASE_URL_ENV, FLOW_PATH, SENDER_ENV


class FakeSms:
    def __init__(self, authkey: str | None = None) -> None:
        self.authkey = authkey or secrets.token_hex(12)
        self.base_url = ""
        self.sent: list[dict[str, Any]] = []
        self._fail: list[int] = []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route(FLOW_PATH, self._flow, methods=["POST"])])

    def env(self) -> dict[str, str]:
        return {BASE_URL_ENV: self.base_url, AUTHKEY_ENV: self.authkey, SENDER_ENV: "CLNSE"}

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        with self._lock:
            self._fail.extend([status] * count)

    async def _flow(self, request: Request) -> JSONResponse:
        with self._lock:
            fail = self._fail.pop(0) if self._fail else None
        if fail is not None:
            return JSONResponse({"type": "error", "message": "injected failure"}, fail)
        if request.headers.get("authkey") != self.authkey:
            return JSONResponse({"type": "error", "message": "Authentication failure"}, 401)
        body = await request.json()
        recipients = body.get("recipients") or []
        if not body.get("template_id") or not recipients:
            return JSONResponse({"type": "error", "message": "template_id, recipients"}, 400)
        message_id = secrets.token_hex(12)
        with self._lock:
            for r in recipients:
                self.sent.append(
                    {"message_id": message_id, "template_id": body["template_id"], **r}
                )
        return JSONResponse({"type": "success", "message": message_id})

    @classmethod
    @contextmanager
    def running(cls, **kw: Any) -> Iterator[FakeSms]:
        fake = cls(**kw)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((registry.DEFAULT_HOST, 0))
        host, port = sock.getsockname()[:2]
        fake.base_url = f"http://{host}:{port}"
        server = uvicorn.Server(
            uvicorn.Config(fake.app, log_level="warning", lifespan="off", access_log=False)
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-sms", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake SMS gateway did not start")
            time.sleep(0.005)
        try:
            yield fake
        finally:
            server.should_exit = True
            thread.join(5)
            sock.close()
