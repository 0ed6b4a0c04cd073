"""A local fake of a Shiprocket-like shipping aggregator, served over real HTTP on a
loopback port (its base URL is configuration: CLEANSE_SHIPPING_AGGREGATOR_BASE_URL).

It speaks the protocol services/shipping/carriers/aggregator.py documents: login ->
token, create adhoc/return order -> shipment id, assign AWB, generate label, cancel,
track. It signs webhooks the way the real one would: hex HMAC-SHA256 of the raw body
with the webhook secret in X-Carrier-Signature, plus X-Carrier-Event-Id.

    with FakeCarrier.running() as fake:
        env = fake.env()                                      # CLEANSE_SHIPPING_AGGREGATOR_*
        body, headers = fake.webhook(awb, "IN TRANSIT")       # a signed status update
"""

from __future__ import annotations

import asyncio
import json
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
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mesh import registry
from services.shipping.carriers.base import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from services.shipping.config import (
    AGGREGATOR_BASE_URL_ENV,
    AGGREGATOR_EMAIL_ENV,
    AGGREGATOR_PASSWORD_ENV,
    AGGREGATOR_WEBHOOK_SECRET_ENV,
)


class FakeCarrier:
    def __init__(self) -> None:
        self.email = "api@cleanse.test"
        self.password = secrets.token_hex(8)
        self.webhook_secret = secrets.token_hex(16)
        self.base_url = ""
        self.tokens: set[str] = set()
        self.orders: dict[str, dict[str, Any]] = {}  # shipment id -> order body
        self.awbs: dict[str, str] = {}  # shipment id -> awb
        self.requests: list[tuple[str, str]] = []
        self.fail_next = 0
        self.cancelled: list[str] = []  # AWBs cancelled, in order
        self.refuse_cancel = False  # cancellations answer 400 (e.g. already manifested)
        # Test control: while `gate` is a cleared Event, creating an order waits for it
        # (a booking in flight); `waiting` is set once one waits.
        self.gate: threading.Event | None = None
        self.waiting = threading.Event()
        # Only creations for these references (our shipment ids) wait at the gate
        # (None: every creation).
        self.gated: set[str] | None = None
        # Our shipment id of every creation asked for, in order, as it arrives (before
        # the gate): how many times a shipment was sent to the carrier.
        self.started: list[str] = []
        self._seq = 1000
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/external/auth/login", self.login, methods=["POST"]),
                Route("/v1/external/orders/create/adhoc", self.create, methods=["POST"]),
                Route("/v1/external/orders/create/return", self.create, methods=["POST"]),
                Route("/v1/external/courier/assign/awb", self.assign, methods=["POST"]),
                Route("/v1/external/courier/generate/label", self.label, methods=["POST"]),
                Route("/v1/external/orders/cancel/shipment/awbs", self.cancel, methods=["POST"]),
                Route("/v1/external/courier/track/awb/{awb}", self.track, methods=["GET"]),
            ]
        )

    def _auth(self, request: Request) -> Response | None:
        self.requests.append((request.method, request.url.path))
        if self.fail_next > 0:
            self.fail_next -= 1
            return JSONResponse({"message": "upstream down"}, status_code=503)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return JSONResponse({"message": "Token has expired"}, status_code=401)
        return None

    async def login(self, request: Request) -> Response:
        body = await request.json()
        if body.get("email") != self.email or body.get("password") != self.password:
            return JSONResponse({"message": "Invalid credentials"}, status_code=400)
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return JSONResponse({"token": token})

    async def create(self, request: Request) -> Response:
        if (err := self._auth(request)) is not None:
            return err
        body = await request.json()
        for key in ("order_id", "billing_pincode", "order_items", "weight"):
            if not body.get(key):
                return JSONResponse({"message": f"{key} is required"}, status_code=422)
        self.started.append(str(body["order_id"]))
        gate = self.gate
        if (
            gate is not None
            and not gate.is_set()
            and (self.gated is None or str(body["order_id"]) in self.gated)
        ):
            self.waiting.set()
            await asyncio.to_thread(gate.wait, 10)
        with self._lock:
            self._seq += 1
            sid = str(self._seq)
        body["is_return"] = request.url.path.endswith("/return")
        self.orders[sid] = body
        return JSONResponse({"order_id": int(sid) + 5000, "shipment_id": int(sid), "status": "NEW"})

    async def assign(self, request: Request) -> Response:
        if (err := self._auth(request)) is not None:
            return err
        sid = str((await request.json()).get("shipment_id"))
        if sid not in self.orders:
            return JSONResponse({"message": "shipment not found"}, status_code=404)
        awb = self.awbs.setdefault(sid, f"SF{secrets.randbelow(10**10):010d}")
        return JSONResponse(
            {
                "awb_assign_status": 1,
                "response": {"data": {"awb_code": awb, "courier_name": "Fake Express"}},
            }
        )

    async def label(self, request: Request) -> Response:
        if (err := self._auth(request)) is not None:
            return err
        ids = (await request.json()).get("shipment_id") or []
        return JSONResponse(
            {"label_created": 1, "label_url": f"{self.base_url}/labels/{ids[0]}.pdf"}
        )

    async def cancel(self, request: Request) -> Response:
        if (err := self._auth(request)) is not None:
            return err
        if self.refuse_cancel:
            return JSONResponse({"message": "AWB already manifested"}, status_code=400)
        self.cancelled.extend(str(a) for a in (await request.json()).get("awbs") or [])
        return JSONResponse({"message": "cancelled"})

    async def track(self, request: Request) -> Response:
        if (err := self._auth(request)) is not None:
            return err
        return JSONResponse({"tracking_data": {"shipment_track_activities": []}})

    # --- test controls -------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {
            AGGREGATOR_BASE_URL_ENV: self.base_url,
            AGGREGATOR_EMAIL_ENV: self.email,
            AGGREGATOR_PASSWORD_ENV: self.password,
            AGGREGATOR_WEBHOOK_SECRET_ENV: self.webhook_secret,
        }

    def webhook(
        self,
        awb: str,
        status: str,
        *,
        event_id: str | None = None,
        secret: str | None = None,
        location: str = "Bengaluru Hub",
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook body and headers as the aggregator would POST them."""
        body = json.dumps(
            {
                "awb": awb,
                "current_status": status,
                "location": location,
                "current_timestamp": "2026-01-05T10:00:00+05:30",
            }
        ).encode()
        sig = sign(secret or self.webhook_secret, body)
        return body, {SIGNATURE_HEADER: sig, EVENT_ID_HEADER: event_id or secrets.token_hex(8)}

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[FakeCarrier]:
        fake = cls()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((registry.DEFAULT_HOST, 0))
        host, port = sock.getsockname()[:2]
        fake.base_url = f"http://{host}:{port}"
        server = uvicorn.Server(
            uvicorn.Config(
                fake.app,
                log_level="warning",
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=1,
            )
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-carrier", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake carrier did not start")
            time.sleep(0.005)
        try:
            yield fake
        finally:
            server.should_exit = True
            thread.join(5)
            sock.close()
