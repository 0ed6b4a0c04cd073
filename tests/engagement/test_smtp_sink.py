"""The local SMTP sink: the standalone process (`make run`, the benches) keeps
nothing in memory and writes every message as an .eml file; the tests' sink keeps
the messages and parses them only when read."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from services.engagement.channels.email import OutgoingEmail, SmtpConfig, SmtpEmailSender
from services.engagement.smtp_sink import SmtpSink, standalone
from tests.conftest import free_address


async def _send(sink: SmtpSink, *emails: OutgoingEmail) -> None:
    addr = sink.address
    sender = SmtpEmailSender(SmtpConfig(addr.host, addr.port, "Cleanse <orders@cleanse.test>"))
    try:
        for email in emails:
            await sender.send(email)
    finally:
        await sender.close()


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


MAILS = (
    OutgoingEmail(to="asha@example.in", subject="Order 1 is confirmed", text="one"),
    OutgoingEmail(
        to="ravi@example.in", subject="Order 2 is confirmed", text="two", html="<b>2</b>"
    ),
)


async def test_the_standalone_sink_keeps_nothing_in_memory_and_writes_the_files(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mail"
    sink = standalone(folder)
    sink.start("127.0.0.1", free_address().port)
    try:
        await _send(sink, *MAILS)
    finally:
        sink.stop()
    assert sink.stored == 2
    assert sink.messages == [] and sink.recipients == [] and sink._raw == []
    assert not sink.arrived.is_set()
    files = _files(folder)
    assert len(files) == 2
    got = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert [str(m["To"]) for m in got] == ["asha@example.in", "ravi@example.in"]
    assert [str(m["Subject"]) for m in got] == [e.subject for e in MAILS]
    html = got[1].get_body(("html",))
    assert html is not None and html.get_content().strip() == "<b>2</b>"


async def test_a_sink_that_keeps_nothing_needs_a_folder() -> None:
    with pytest.raises(ValueError):
        SmtpSink(keep=False)


async def test_the_tests_sink_keeps_the_messages_and_parses_them_when_read(
    tmp_path: Path,
) -> None:
    async with SmtpSink.running(free_address(), tmp_path) as sink:
        await _send(sink, *MAILS)
        await asyncio.wait_for(sink.arrived.wait(), 5)
        assert sink._parsed == []  # nothing parsed until read
        assert [str(m["Subject"]) for m in sink.messages] == [e.subject for e in MAILS]
        assert sink.recipients == [["asha@example.in"], ["ravi@example.in"]]
        [ravi] = sink.to("ravi@example.in")
        assert ravi is sink.messages[1]  # parsed once
        assert len(_files(tmp_path)) == 2
