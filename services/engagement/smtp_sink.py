"""A local SMTP sink for `make run`: every message is stored as an .eml file.

    python -m services.engagement.smtp_sink      # listens on the registry's "smtp"

Mail goes to <data dir>/mail/<time>-<n>.eml (CLEANSE_DATA_DIR, else ./data). Nothing
is relayed anywhere. Tests use `SmtpSink.running()` on an ephemeral port and read
`sink.messages`.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
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
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._seq = itertools.count(1)
        self.arrived = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.controller: Controller | None = None

    def store(self, data: bytes, rcpt: list[str]) -> None:
        msg = message_from_bytes(data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.recipients.append(rcpt)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._seq):05d}.eml"
            (self.folder / name).write_bytes(data)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.arrived.set)

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
        cls, address: registry.Address, folder: Path | None = None
    ) -> AsyncIterator[SmtpSink]:
        sink = cls(folder)
        sink.start(address.host, address.port)
        try:
            yield sink
        finally:
            sink.stop()


async def _main() -> None:
    addr = registry.address("smtp")
    folder = data_dir() / "mail"
    sink = SmtpSink(folder)
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
