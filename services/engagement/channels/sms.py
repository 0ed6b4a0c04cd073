"""SMS through a provider interface: a log provider (default) and an HTTP gateway.

`Msg91SmsProvider` speaks the shape of a typical Indian SMS gateway (MSG91's flow
API): `POST {base}/api/v5/flow/` with the `authkey` header and a JSON body naming
the provider's registered (DLT) template and the recipients with their variables;
the response `{"type": "success", "message": "<request id>"}` carries the message
id. 4xx answers are permanent failures, 5xx and connection errors are retried by
the dispatcher.

Configuration (CLEANSE_SMS_PROVIDER=msg91): CLEANSE_MSG91_BASE_URL,
CLEANSE_MSG91_AUTHKEY, CLEANSE_MSG91_SENDER (6-character DLT sender id).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from mesh.db import new_id
from mesh.http import HttpError, JsonHttpClient
from services.engagement.channels.email import SendError

log = logging.getLogger("cleanse.engagement.sms")

BASE_URL_ENV = "CLEANSE_MSG91_BASE_URL"
AUTHKEY_ENV = "CLEANSE_MSG91_AUTHKEY"
SENDER_ENV = "CLEANSE_MSG91_SENDER"
FLOW_PATH = "/api/v5/flow/"


@dataclass(frozen=True)
class OutgoingSms:
    phone: str  # E.164, "+919812345678"
    text: str
    provider_template_id: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)


class SmsProvider(Protocol):
    async def send(self, sms: OutgoingSms) -> str:
        """Hand the message to the provider; returns the provider's message id."""
        ...

    async def close(self) -> None: ...


class LogSmsProvider:
    """Writes the message to the log (development; no SMS leaves the machine)."""

    async def send(self, sms: OutgoingSms) -> str:
        message_id = f"log-{new_id()}"
        log.info(
            "sms to %s: %s",
            sms.phone,
            sms.text,
            extra={"phone": sms.phone, "message_id": message_id},
        )
        return message_id

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Msg91Config:
    base_url: str
    authkey: str
    sender: str = "CLNSE"
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Msg91Config:
        env = os.environ if env is None else env
        missing = [n for n in (BASE_URL_ENV, AUTHKEY_ENV) if not env.get(n)]
        if missing:
            raise RuntimeError(f"CLEANSE_SMS_PROVIDER=msg91 needs {', '.join(missing)}")
        base = env[BASE_URL_ENV].rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise RuntimeError(f"{BASE_URL_ENV} must be an http(s) URL")
        return cls(base, env[AUTHKEY_ENV], env.get(SENDER_ENV) or "CLNSE")


def msisdn(phone: str) -> str:
    """ "+919812345678" -> "919812345678" (the gateway wants digits with country code)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 10:
        digits = "91" + digits
    return digits


class Msg91SmsProvider:
    def __init__(self, config: Msg91Config, *, http: JsonHttpClient | None = None) -> None:
        self.config = config
        self._client = http or JsonHttpClient(
            config.base_url,
            timeout=config.timeout,
            headers={"authkey": config.authkey, "accept": "application/json"},
        )

    async def send(self, sms: OutgoingSms) -> str:
        if not sms.provider_template_id:
            raise SendError("the SMS template has no provider_template_id", permanent=True)
        recipient: dict[str, str] = {"mobiles": msisdn(sms.phone), **dict(sms.variables)}
        body = {
            "template_id": sms.provider_template_id,
            "sender": self.config.sender,
            "short_url": "0",
            "recipients": [recipient],
        }
        try:
            resp = await self._client.request("POST", FLOW_PATH, json_body=body)
        except HttpError as exc:
            raise SendError(str(exc)) from None
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code >= 500:
            raise SendError(f"gateway answered {resp.status_code}")
        if resp.status_code >= 400 or data.get("type") != "success":
            raise SendError(
                f"gateway refused ({resp.status_code}): {data.get('message', '')}"[:300],
                permanent=400 <= resp.status_code < 500 and resp.status_code != 429,
            )
        message_id = str(data.get("message") or "")
        if not message_id:
            raise SendError("gateway answered success without a message id")
        return message_id

    async def close(self) -> None:
        await self._client.aclose()
