"""Login codes: generation, keyed hashing, and delivery behind `OtpSender`.

Codes are 6 random digits (`secrets`), stored only as HMAC-SHA256 under a key
derived from the mesh secret, bound to the phone number.
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
        from mesh.db import utcnow

        line = json.dumps({"phone": phone, "code": code, "time": utcnow().isoformat()})
        self.outbox.parent.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        with open(self.outbox, "a", encoding="utf-8") as f:  # type: ignore[arg-type]
            f.write(line + "\n")
