"""E-mail over SMTP (aiosmtplib), to the server the registry's "smtp" entry names.

    sender = SmtpEmailSender(SmtpConfig.from_registry(settings))
    message_id = await sender.send(OutgoingEmail(to=..., subject=..., text=..., html=...))

Each message gets its own Message-ID (returned: the notification's provider message
id). Any SMTP or connection error raises `SendError`; the dispatcher retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

import aiosmtplib

from mesh import registry
from services.engagement.config import Settings

log = logging.getLogger("cleanse.engagement.email")


class SendError(Exception):
    """A message could not be handed over; worth retrying unless `permanent`."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str = ""
    # Threads a notification's retries into one conversation in mail clients.
    reference: str = ""


class EmailSender(Protocol):
    async def send(self, email: OutgoingEmail) -> str:
        """Hand the message over; returns its Message-ID."""
        ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_registry(cls, settings: Settings) -> SmtpConfig:
        try:
            addr = registry.address("smtp")
        except KeyError:
            raise RuntimeError(
                "the mesh registry has no 'smtp' entry (mesh/registry.py); "
                "set CLEANSE_SMTP_ADDR=host:port or add the entry"
            ) from None
        return cls(
            host=addr.host,
            port=addr.port,
            sender=settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.send_timeout_seconds,
        )


def build_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "cleanse.local"
    msg["Message-ID"] = make_msgid(domain=domain)
    if email.reference:
        msg["X-Cleanse-Notification"] = email.reference
    msg.set_content(email.text or "")
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    return msg


class SmtpEmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, email: OutgoingEmail) -> str:
        c = self.config
        msg = build_message(email, c.sender)
        try:
            await aiosmtplib.send(
                msg,
                hostname=c.host,
                port=c.port,
                username=c.username or None,
                password=c.password or None,
                start_tls=c.starttls,
                use_tls=False,
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"recipient refused: {exc}", permanent=True) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None
        return str(msg["Message-ID"])
