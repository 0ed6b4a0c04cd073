"""A local SMTP sink for `make run`: every message is stored as an .eml file.

    python -m services.engagement.smtp_sink      # listens on the registry's "smtp"

Mail goes to <data dir>/mail/<time>-<n>.eml (CLEANSE_DATA_DIR, else ./data). Nothing
is relayed anywhere, and the standalone process keeps nothing in memory: the files
are the record (`keep=False`), so a long `make run` or a benchmark costs it no
growing memory and no parsing.

Tests use `SmtpSink.running()` on an ephemeral port (`keep=True`) and read
`sink.messages` / `sink.to(address)`: the raw bytes are kept as they arrive and
parsed (`email.policy.default`) only when read, once each.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from mesh import registry
from mesh.db import data_dir


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        self.sink.store(data, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpSink:
    """`folder`: where each message is written as an .eml file (None: nowhere).
    `keep`: keep the messages in memory for `messages`, `recipients`, `to()` and
    `arrived` (tests); without it the files are all there is."""

    def __init__(self, folder: Path | None = None, *, keep: bool = True) -> None:
        if not keep and folder is None:
            raise ValueError("an SMTP sink that keeps nothing needs a folder to write to")
        self.folder = folder
        self.keep = keep
        self.recipients: list[list[str]] = []
        self.stored = 0  # messages accepted (kept or not)
        self.arrived = asyncio.Event()
        self.controller: Controller | None = None
        self._raw: list[bytes] = []
        self._parsed: list[EmailMessage] = []
        self._parse_lock = threading.Lock()
        self._seq = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._folder_ready = False

    def store(self, data: bytes, rcpt: list[str]) -> None:
        """One accepted message (called on the SMTP server's thread)."""
        self.stored += 1
        if self.folder is not None:
            if not self._folder_ready:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._folder_ready = True
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._seq):05d}.eml"
            (self.folder / name).write_bytes(data)
        if not self.keep:
            return
        # Recipients first: a reader that sees the message sees its recipients.
        self.recipients.append(rcpt)
        self._raw.append(data)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.arrived.set)

    @property
    def messages(self) -> list[EmailMessage]:
        """The kept messages in arrival order, parsed on first read."""
        with self._parse_lock:
            for data in self._raw[len(self._parsed) :]:
                msg = message_from_bytes(data, policy=policy.default)
                assert isinstance(msg, EmailMessage)
                self._parsed.append(msg)
            return list(self._parsed)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def start(self, host: str, port: int) -> None:
        self._loop = asyncio.get_running_loop()
        self.controller = Controller(_Handler(self), hostname=host, port=port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def address(self) -> registry.Address:
        assert self.controller is not None
        return registry.Address(self.controller.hostname, self.controller.port)

    @classmethod
    @asynccontextmanager
    async def running(
        cls, address: registry.Address, folder: Path | None = None, *, keep: bool = True
    ) -> AsyncIterator[SmtpSink]:
        sink = cls(folder, keep=keep)
        sink.start(address.host, address.port)
        try:
            yield sink
        finally:
            sink.stop()


def standalone(folder: Path) -> SmtpSink:
    """The sink `python -m services.engagement.smtp_sink` runs: .eml files under
    `folder`, nothing kept in memory."""
    return SmtpSink(folder, keep=False)


async def _main() -> None:
    addr = registry.address("smtp")
    folder = data_dir() / "mail"
    sink = standalone(folder)
    sink.start(addr.host, addr.port)
    print(f"SMTP sink on {addr}: mail is stored as .eml files under {folder}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    sink.stop()


if __name__ == "__main__":
    asyncio.run(_main())
