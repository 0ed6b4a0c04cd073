"""E-mail over SMTP, to the server the registry's "smtp" entry names.

    sender = SmtpEmailSender(SmtpConfig.from_registry(settings))
    message_id = await sender.send(OutgoingEmail(to=..., subject=..., text=..., html=...))
    await sender.close()                     # at shutdown: the kept-open connections

Each message gets its own Message-ID (returned: the notification's provider message
id). Any SMTP or connection error raises `SendError`; the dispatcher retries. A
recipient the server refuses is a permanent failure.

Connections are kept open and reused (a small pool: connect, EHLO, STARTTLS and AUTH
once, not per message). A kept-open connection that turns out to be dead (the
server closed it while idle, or answers MAIL FROM with an error) is replaced by a
fresh one and the message sent on that, once: only when the failure came before
the message was handed over, so this retry never sends a message twice. Idle
connections are dropped after `idle_seconds`.

The client (`SmtpConnection`) is a small ESMTP client of its own: STARTTLS, AUTH
(CRAM-MD5, PLAIN, LOGIN), 8BITMIME, SMTPUTF8, and PIPELINING (RFC 2920) when the
server offers it: MAIL, RCPT and DATA go out in one write, the message in a second,
two round trips per message instead of four.

Messages are written straight to MIME bytes (`render_message`): the email package's
policy machinery costs milliseconds per message. Recipients it cannot write as a
plain ASCII address go through `email.message.EmailMessage` instead.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import io
import logging
import re
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

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


def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "cleanse.local"


def build_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    """The message as an EmailMessage (the general path; see `render_message`)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    if email.reference:
        msg["X-Cleanse-Notification"] = email.reference
    msg.set_content(email.text or "")
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    return msg


# A bare address the fast path writes as is: printable ASCII, one "@", nothing that
# makes it a list, a display name or a comment.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")
_MAX_LINE = 998  # RFC 5322: octets per line, CRLF excluded
_WORD_BYTES = 45  # UTF-8 bytes per encoded word: "=?utf-8?b?" + 60 + "?=" <= 75


def _encoded_words(value: str) -> str:
    """RFC 2047 base64 encoded words, folded: a header value in plain ASCII."""
    words: list[str] = []
    chunk = bytearray()
    for ch in value:
        b = ch.encode("utf-8")
        if len(chunk) + len(b) > _WORD_BYTES:
            words.append(f"=?utf-8?b?{base64.b64encode(chunk).decode()}?=")
            chunk = bytearray()
        chunk += b
    if chunk or not words:
        words.append(f"=?utf-8?b?{base64.b64encode(chunk).decode()}?=")
    return "\r\n ".join(words)


def _header_text(value: str) -> str:
    """An unstructured header value (Subject): as is when plain ASCII, else encoded."""
    if value.isascii() and value.isprintable() and "=?" not in value and len(value) < 900:
        return value
    return _encoded_words(" ".join(value.split()))


def _part(subtype: str, text: str, eight_bit: bool) -> tuple[bytes, bytes]:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"  # as EmailMessage.set_content does
    data = body.encode("utf-8")
    short = all(len(line) <= _MAX_LINE for line in data.split(b"\n"))
    if short and data.isascii():
        cte, payload = "7bit", data
    elif short and eight_bit:
        cte, payload = "8bit", data
    else:
        cte, payload = "base64", base64.encodebytes(data)
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n'
    return head.encode("ascii"), payload


def can_render(email: OutgoingEmail) -> bool:
    """Whether `render_message` can write this message (a plain ASCII recipient)."""
    return bool(_PLAIN_ADDRESS.match(email.to))


def render_message(
    email: OutgoingEmail, from_header: str, domain: str, *, eight_bit: bool
) -> tuple[bytes, str]:
    """The message as MIME bytes and its Message-ID: what `build_message` makes, for
    a plain ASCII recipient (`can_render`), written directly. `from_header` is the
    From value already encoded; `eight_bit`: the server takes 8BITMIME bodies."""
    message_id = make_msgid(domain=domain)
    head = [
        f"From: {from_header}",
        f"To: {email.to}",
        f"Subject: {_header_text(email.subject)}",
        f"Date: {formatdate(localtime=False)}",
        f"Message-ID: {message_id}",
    ]
    if email.reference:
        head.append(f"X-Cleanse-Notification: {_header_text(email.reference)}")
    head.append("MIME-Version: 1.0")
    text_head, text_body = _part("plain", email.text or "", eight_bit)
    if not email.html:
        out = "\r\n".join(head).encode("ascii") + b"\r\n" + text_head + b"\r\n" + text_body
        return out, message_id
    html_head, html_body = _part("html", email.html, eight_bit)
    boundary = f"=_cleanse_{secrets.token_hex(12)}"
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    sep = f"\r\n--{boundary}\r\n".encode("ascii")
    out = b"".join(
        (
            "\r\n".join(head).encode("ascii"),
            b"\r\n",
            sep,
            text_head,
            b"\r\n",
            text_body,
            sep,
            html_head,
            b"\r\n",
            html_body,
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        )
    )
    return out, message_id


# --- the SMTP client ---------------------------------------------------------------------

_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_UNSAFE_ADDRESS = re.compile(r"[\x00-\x1f\x7f<>]")
_MAX_REPLY_LINES = 100


class SmtpReplyError(Exception):
    """The server answered `command` with an unexpected reply."""

    def __init__(self, command: str, code: int, message: str) -> None:
        super().__init__(f"{command}: {code} {message}".strip())
        self.command = command
        self.code = code


def _data(raw: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, the end
    marker."""
    body = _LINE_ENDINGS.sub(b"\r\n", raw)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return _LEADING_DOT.sub(b"..", body) + b".\r\n"


def _address(value: str, utf8: bool) -> bytes:
    if _UNSAFE_ADDRESS.search(value):
        raise ValueError(f"unsafe address {value!r}")
    return b"<" + value.encode("utf-8" if utf8 else "ascii") + b">"


class SmtpConnection:
    """One ESMTP session: `open()` (greeting, EHLO, STARTTLS, AUTH), then any number
    of `transaction()`s, then `quit()` or `close()`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.extensions: dict[str, str] = {}
        # Whether the current transaction's message went out (from then on a lost
        # connection may have delivered it).
        self.data_sent = False

    @classmethod
    async def open(cls, config: SmtpConfig, local_hostname: str) -> SmtpConnection:
        reader, writer = await asyncio.open_connection(config.host, config.port)
        conn = cls(reader, writer)
        try:
            await conn.expect("connect", (220,))
            await conn.ehlo(local_hostname)
            if config.starttls:
                if "starttls" not in conn.extensions:
                    raise SmtpReplyError("STARTTLS", 0, "the server does not offer STARTTLS")
                await conn.command(b"STARTTLS", "STARTTLS", (220,))
                await writer.start_tls(ssl.create_default_context(), server_hostname=config.host)
                await conn.ehlo(local_hostname)
            if config.username:
                await conn.login(config.username, config.password)
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def usable(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    def supports(self, extension: str) -> bool:
        return extension in self.extensions

    def close(self) -> None:
        self.writer.close()

    async def quit(self) -> None:
        try:
            await self.command(b"QUIT", "QUIT", (221,))
        finally:
            self.close()

    async def reply(self, command: str) -> tuple[int, str]:
        """The next reply (all its lines): (code, text)."""
        lines: list[str] = []
        while len(lines) < _MAX_REPLY_LINES:
            line = await self.reader.readline()
            if not line.endswith(b"\n"):
                raise ConnectionError(f"{command}: the SMTP server closed the connection")
            if not line[:3].isdigit():
                raise SmtpReplyError(command, 0, f"malformed reply {line[:80]!r}")
            lines.append(line[4:].strip().decode("utf-8", "replace"))
            if line[3:4] != b"-":
                return int(line[:3]), "\n".join(lines)
        raise SmtpReplyError(command, 0, "reply too long")

    async def expect(self, command: str, codes: tuple[int, ...]) -> tuple[int, str]:
        code, text = await self.reply(command)
        if code not in codes:
            raise SmtpReplyError(command, code, text)
        return code, text

    async def command(self, line: bytes, name: str, codes: tuple[int, ...]) -> tuple[int, str]:
        self.writer.write(line + b"\r\n")
        return await self.expect(name, codes)

    async def ehlo(self, hostname: str) -> None:
        self.writer.write(b"EHLO " + hostname.encode("ascii") + b"\r\n")
        code, text = await self.reply("EHLO")
        if code != 250:
            await self.command(b"HELO " + hostname.encode("ascii"), "HELO", (250,))
            self.extensions = {}
            return
        extensions: dict[str, str] = {}
        for line in text.split("\n")[1:]:
            keyword, _, params = line.partition(" ")
            extensions[keyword.lower()] = params
        self.extensions = extensions

    async def login(self, username: str, password: str) -> None:
        methods = self.extensions.get("auth", "").upper().split()
        user, secret = username.encode(), password.encode()
        if "CRAM-MD5" in methods:
            _, challenge = await self.command(b"AUTH CRAM-MD5", "AUTH", (334,))
            digest = hmac.new(secret, base64.b64decode(challenge), "md5").hexdigest()
            answer = base64.b64encode(user + b" " + digest.encode())
            await self.command(answer, "AUTH", (235,))
        elif "PLAIN" in methods:
            token = base64.b64encode(b"\0" + user + b"\0" + secret)
            await self.command(b"AUTH PLAIN " + token, "AUTH", (235,))
        elif "LOGIN" in methods:
            await self.command(b"AUTH LOGIN", "AUTH", (334,))
            await self.command(base64.b64encode(user), "AUTH", (334,))
            await self.command(base64.b64encode(secret), "AUTH", (235,))
        else:
            raise SmtpReplyError("AUTH", 0, "no AUTH mechanism in common (CRAM-MD5, PLAIN, LOGIN)")

    async def transaction(
        self, sender: str, recipient: str, message: bytes, *, utf8: bool = False
    ) -> None:
        """MAIL, RCPT, DATA and the message. `data_sent` tells whether a failure came
        after the message went out."""
        options = b""
        if self.supports("8bitmime"):
            options += b" BODY=8BITMIME"
        if utf8:
            if not self.supports("smtputf8"):
                raise SmtpReplyError("MAIL", 0, "a non-ASCII address needs SMTPUTF8")
            options += b" SMTPUTF8"
        self.data_sent = False
        mail = b"MAIL FROM:" + _address(sender, utf8) + options + b"\r\n"
        rcpt = b"RCPT TO:" + _address(recipient, utf8) + b"\r\n"
        data = _data(message)
        if self.supports("pipelining"):
            self.writer.write(mail + rcpt + b"DATA\r\n")
            replies = [await self.reply(c) for c in ("MAIL", "RCPT", "DATA")]
        else:
            self.writer.write(mail)
            replies = [await self.reply("MAIL")]
            if replies[0][0] == 250:
                self.writer.write(rcpt)
                replies.append(await self.reply("RCPT"))
                if replies[1][0] in (250, 251):
                    self.writer.write(b"DATA\r\n")
                    replies.append(await self.reply("DATA"))
        for name, codes, got in zip(
            ("MAIL", "RCPT", "DATA"), ((250,), (250, 251), (354,)), replies, strict=False
        ):
            if got[0] not in codes:
                # (The connection is closed by the caller: no envelope half-open.)
                raise SmtpReplyError(name, *got)
        self.data_sent = True
        self.writer.write(data)
        await self.expect("DATA", (250,))


def _stale(exc: Exception) -> bool:
    """A failure that says the kept-open connection is no good (rather than that
    the server refuses this message): lost, closing (421), or MAIL FROM refused."""
    if isinstance(exc, SmtpReplyError):
        return exc.code == 421 or exc.command == "MAIL"
    return True


class SmtpEmailSender:
    """Sends over a small pool of kept-open SMTP connections."""

    def __init__(
        self, config: SmtpConfig, *, max_idle: int = 4, idle_seconds: float = 30.0
    ) -> None:
        self.config = config
        self.max_idle = max_idle
        self.idle_seconds = idle_seconds
        self.envelope_from = parseaddr(config.sender)[1] or config.sender
        self.domain = _domain(config.sender)
        # The From header, encoded and folded once as the email package writes it.
        probe = EmailMessage()
        probe["From"] = config.sender
        self.from_header = email_policy.SMTP.fold("From", probe["From"]).split(":", 1)[1].strip()
        self._idle: list[tuple[SmtpConnection, float]] = []
        self.connects = 0  # connections opened (tests)

    # --- connections -----------------------------------------------------------------

    async def _connect(self) -> SmtpConnection:
        conn = await SmtpConnection.open(self.config, await _local_hostname())
        self.connects += 1
        return conn

    def _take_idle(self) -> SmtpConnection | None:
        now = time.monotonic()
        while self._idle:
            conn, since = self._idle.pop()
            if conn.usable and now - since < self.idle_seconds:
                return conn
            conn.close()
        return None

    def _release(self, conn: SmtpConnection) -> None:
        if conn.usable and len(self._idle) < self.max_idle:
            self._idle.append((conn, time.monotonic()))
        else:
            conn.close()

    async def close(self) -> None:
        """Say QUIT on the idle connections (at shutdown)."""
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            try:
                await asyncio.wait_for(conn.quit(), 1.0)
            except Exception:
                conn.close()

    # --- sending ---------------------------------------------------------------------

    def _message(self, email: OutgoingEmail, eight_bit: bool, utf8: bool) -> tuple[bytes, str]:
        if can_render(email):
            return render_message(email, self.from_header, self.domain, eight_bit=eight_bit)
        msg = build_message(email, self.config.sender)
        pol = (email_policy.SMTPUTF8 if utf8 else email_policy.SMTP).clone(
            cte_type="8bit" if eight_bit else "7bit"
        )
        out = io.BytesIO()
        BytesGenerator(out, policy=pol).flatten(msg)
        return out.getvalue(), str(msg["Message-ID"])

    async def send(self, email: OutgoingEmail) -> str:
        to = parseaddr(email.to)[1] or email.to
        utf8 = not (email.to.isascii() and self.envelope_from.isascii())
        conn = self._take_idle()
        try:
            async with asyncio.timeout(self.config.timeout):
                if conn is not None:
                    raw, message_id = self._message(email, conn.supports("8bitmime"), utf8)
                    try:
                        await conn.transaction(self.envelope_from, to, raw, utf8=utf8)
                    except (SmtpReplyError, ConnectionError) as exc:
                        if conn.data_sent or not _stale(exc):
                            raise
                        # The kept-open connection is dead or being closed by the
                        # server: nothing was handed over, so once more on a new one.
                        conn.close()
                        conn = None
                if conn is None:
                    conn = await self._connect()
                    raw, message_id = self._message(email, conn.supports("8bitmime"), utf8)
                    await conn.transaction(self.envelope_from, to, raw, utf8=utf8)
        except SmtpReplyError as exc:
            if conn is not None:
                conn.close()
            if exc.command == "RCPT":
                raise SendError(f"recipient refused: {exc}", permanent=True) from None
            raise SendError(f"SMTP {exc}") from None
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
            if conn is not None:
                conn.close()
            raise SendError(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        self._release(conn)
        return message_id


_HOSTNAME: list[str] = []


async def _local_hostname() -> str:
    """The EHLO name: the machine's FQDN, looked up once (not per connection)."""
    if not _HOSTNAME:
        name = await asyncio.to_thread(socket.getfqdn)
        _HOSTNAME[:] = [name if name and name.isascii() else "localhost"]
    return _HOSTNAME[0]
