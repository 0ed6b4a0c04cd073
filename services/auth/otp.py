"""Login codes: generation, keyed hashing, and delivery behind `OtpSender`.

Codes are 6 random digits (`secrets`), stored only as HMAC-SHA256 under a key
derived from the mesh secret, bound to the phone number.

Senders (CLEANSE_OTP_SENDER, services/auth/config.py):

- "log" (the default, for development): `LogOtpSender` writes the code to the log
  (and the CLEANSE_OTP_OUTBOX_FILE when set).
- "engagement": `EngagementOtpSender` hands the code to the engagement service
  (`NotificationInternalService.SendOtp`), which renders the "auth.otp" template and
  sends the SMS. When engagement does not answer (UNAVAILABLE, DEADLINE_EXCEEDED,
  circuit open) SendLoginOtp fails with UNAVAILABLE (DEPENDENCY_UNAVAILABLE): there
  is deliberately NO fallback to the log sender. A login code the customer never
  receives must not be reported as sent, and a production code must never land in
  a log; the customer retries once the phone rate limit allows.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import Protocol

import grpc
from google.protobuf import timestamp_pb2

from cleanse.engagement.v1 import notification_internal_service_pb2 as notify_pb2
from cleanse.engagement.v1 import notification_internal_service_pb2_grpc as notify_grpc
from mesh import client
from mesh.errors import Internal, ServiceError, Unavailable
from services.auth.domain.otp import CODE_LENGTH
from services.auth.tokens import derive_key

log = logging.getLogger("cleanse.auth.otp")


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


class OtpHasher:
    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, b"cleanse-auth/otp-hmac")

    def hash(self, phone: str, code: str) -> str:
        return hmac.new(self._key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    def matches(self, stored: str, phone: str, code: str) -> bool:
        return hmac.compare_digest(stored, self.hash(phone, code))


class OtpSender(Protocol):
    """Delivers a login code to a phone (SMS gateway, WhatsApp, ...)."""

    async def send(self, phone: str, code: str, expire_time: datetime) -> None: ...


class LogOtpSender:
    """The default sender: writes the code to the structured log.

    With `outbox` set (env CLEANSE_OTP_OUTBOX_FILE) it also appends a JSON line
    {"phone", "code", "time"} to that file: integration tests and curl users read
    codes from there. Never configure either in production.
    """

    def __init__(self, outbox: Path | None = None) -> None:
        self.outbox = outbox

    async def send(self, phone: str, code: str, expire_time: datetime) -> None:
        log.info(
            "login code for %s: %s",
            phone,
            code,
            extra={"phone": phone, "otp_code": code, "expire_time": expire_time.isoformat()},
        )
        if self.outbox is not None:
            await asyncio.to_thread(self._append, phone, code)

    def _append(self, phone: str, code: str) -> None:
        _append_outbox(self.outbox, phone, code)


def _append_outbox(outbox: Path | None, phone: str, code: str) -> None:
    from mesh.db import utcnow

    if outbox is None:
        return
    line = json.dumps({"phone": phone, "code": code, "time": utcnow().isoformat()})
    outbox.parent.mkdir(parents=True, exist_ok=True)
    with open(outbox, "a", encoding="utf-8") as f:
        f.write(line + "\n")


class EngagementOtpSender:
    """Delivers codes through the engagement service (NotificationInternalService.SendOtp).

    One request id per code (`otp_` + 128 random bits): mesh.client retries of the
    same call carry it, so engagement queues the SMS once. Engagement down ->
    `Unavailable` (the caller's SendLoginOtp answers UNAVAILABLE); any other error ->
    `Internal`. Either way nothing says the code was sent. With `outbox` set (dev and
    integration tests only) the code is also appended there, after engagement took it.
    """

    def __init__(self, *, timeout: float | None = None, outbox: Path | None = None) -> None:
        self.timeout = timeout
        self.outbox = outbox

    async def send(self, phone: str, code: str, expire_time: datetime) -> None:
        expire = timestamp_pb2.Timestamp()
        expire.FromDatetime(expire_time)
        req = notify_pb2.SendOtpRequest(
            request_id=f"otp_{secrets.token_hex(16)}", phone=phone, code=code, expire_time=expire
        )
        stub = client.stub("engagement", notify_grpc.NotificationInternalServiceStub)
        try:
            await stub.SendOtp(req, timeout=self.timeout)
        except (grpc.aio.AioRpcError, ServiceError) as exc:
            status = client.error_code(exc)
            log.warning(
                "login code not sent: engagement failed",
                extra={"phone": phone, "code": status.name if status else ""},
            )
            if status in client.DEGRADE_CODES:
                raise Unavailable(
                    "the login code could not be sent right now; try again shortly",
                    metadata={"dependency": "engagement"},
                ) from None
            raise Internal("the login code could not be sent") from None
        log.info("login code handed to engagement", extra={"phone": phone})
        if self.outbox is not None:
            await asyncio.to_thread(_append_outbox, self.outbox, phone, code)
