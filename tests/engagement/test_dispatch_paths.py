"""The cheap paths of delivery: kept-open SMTP connections (and what happens when the
server drops one), the local hand-off of new notifications to the dispatcher, the
template cache, events that make nothing, and the MIME the sender writes itself."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from google.protobuf import field_mask_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select

from cleanse.common.v1 import events_pb2, money_pb2
from cleanse.engagement.v1 import notification_admin_service_pb2 as admin_pb2
from cleanse.engagement.v1 import resources_pb2 as pb
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.shipping.v1 import events_pb2 as shipping_events
from cleanse.shipping.v1 import resources_pb2 as shipping_pb
from mesh.db import new_id, utcnow
from services.engagement import catalogue as cat
from services.engagement.channels.email import (
    OutgoingEmail,
    SendError,
    SmtpConfig,
    SmtpEmailSender,
    can_render,
    render_message,
)
from services.engagement.models import PROCESSED_EVENTS, Notification, PlacedOrder
from services.engagement.notifier import Recipient, Trigger
from services.engagement.sink import order_placed_writes
from tests.conftest import free_address
from tests.engagement.conftest import Engagement, unique


def placed(email: str) -> order_events.OrderPlacedEvent:
    return order_events.OrderPlacedEvent(
        order=f"orders/{new_id()}",
        order_number=unique("CLN-"),
        total=money_pb2.Money(amount_minor=129900, currency_code="INR"),
        email=email,
        item_count=1,
        payment_method="razorpay",
    )


def shipment(
    status: int, previous: int, email: str = "", phone: str = ""
) -> shipping_events.ShipmentStatusChangedEvent:
    return shipping_events.ShipmentStatusChangedEvent(
        shipment=f"shipments/{new_id()}",
        order=f"orders/{new_id()}",
        order_number=unique("CLN-"),
        direction=shipping_pb.SHIPMENT_DIRECTION_FORWARD,
        previous_status=previous,
        status=status,
        carrier="Delhivery",
        awb="AWB1",
        email=email,
        phone=phone,
    )


# --- kept-open SMTP connections --------------------------------------------------------


async def test_one_smtp_connection_carries_many_messages(e: Engagement) -> None:
    sender = e.wired.notifier.email
    assert isinstance(sender, SmtpEmailSender)
    email = f"{unique('keep')}@example.in"
    before = sender.connects
    for _ in range(3):
        await e.deliver("order.placed", placed(email))
        await e.drain()
    assert len(e.smtp.to(email)) == 3
    assert sender.connects - before <= 1  # at most one new connection (none if one was open)


async def test_a_connection_the_sink_dropped_is_replaced_and_the_mail_sent_once(
    e: Engagement,
) -> None:
    email = f"{unique('drop')}@example.in"
    await e.deliver("order.placed", placed(email))
    await e.drain()  # leaves a kept-open connection behind
    address = e.smtp.address
    e.smtp.stop()  # the server goes away: the kept-open connection is dead
    e.smtp.start(address.host, address.port)
    await e.deliver("order.placed", placed(email))
    await e.drain()
    assert len(e.smtp.to(email)) == 2
    rows = await e.notifications(recipient=email)
    assert [(r.status, r.attempts) for r in rows] == [(pb.NOTIFICATION_STATUS_SENT, 1)] * 2


async def test_notifications_sent_together_are_recorded_together_each_with_its_outcome(
    e: Engagement,
) -> None:
    # Three hand-offs in one dispatcher turn: two sent, one with no address to send
    # to (suppressed); recorded with one UPDATE per kind of outcome on PostgreSQL.
    emails = [f"{unique('batch')}@example.in" for _ in range(2)]
    ghost = f"users/{new_id()}"  # not known to auth: no address
    events = [new_id() for _ in range(3)]
    for event_id, email in zip(events, emails, strict=False):
        await e.deliver("order.placed", placed(email), event_id)
    nobody = placed("")
    nobody.customer = ghost
    await e.deliver("order.placed", nobody, events[2])
    assert await e.wired.notifier.dispatch_once() >= 3
    async with e.wired.db.session() as s:
        rows = {
            n.event_id: n
            for n in await s.scalars(select(Notification).where(Notification.event_id.in_(events)))
        }
    for event_id, email in zip(events, emails, strict=False):
        [mail] = e.smtp.to(email)
        row = rows[event_id]
        assert (row.status, row.attempts, row.recipient) == ("SENT", 1, email)
        assert row.provider_message_id == mail["Message-ID"] and row.sent_time is not None
    row = rows[events[2]]
    assert (row.status, row.attempts, row.last_error) == ("SUPPRESSED", 0, "no email address")
    assert row.provider_message_id == "" and row.sent_time is None
    # Recorded only while due: a second record of the same attempt changes nothing.
    assert await e.wired.notifier.dispatch_once() == 0


class _ClosingHandler:
    """Takes one message per connection, then answers the next MAIL with 421 and
    hangs up: a server that dropped an idle client, seen only when it is used."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        # Counted on the session itself: an id() of a finished session's object can
        # come back for a new connection's, which then looked like a used one.
        if getattr(session, "cleanse_delivered", 0) >= 1:
            server.transport.close()
            return "421 closing idle connection"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        session.cleanse_delivered = getattr(session, "cleanse_delivered", 0) + 1
        self.messages.append(envelope.original_content or envelope.content)
        return "250 accepted"


@pytest.fixture
async def closing_server() -> AsyncIterator[tuple[_ClosingHandler, SmtpConfig]]:
    addr = free_address()
    handler = _ClosingHandler()
    controller = Controller(handler, hostname=addr.host, port=addr.port)
    controller.start()
    try:
        yield handler, SmtpConfig(addr.host, addr.port, "Cleanse <orders@cleanse.local>")
    finally:
        controller.stop()


async def test_a_kept_open_connection_refused_at_mail_from_is_retried_on_a_fresh_one(
    closing_server: tuple[_ClosingHandler, SmtpConfig],
) -> None:
    handler, config = closing_server
    sender = SmtpEmailSender(config)
    try:
        ids = [
            await sender.send(OutgoingEmail(to="a@example.in", subject=f"n{i}", text="hi"))
            for i in range(3)
        ]
    finally:
        await sender.close()
    # Each message once; a new connection whenever the old one refused MAIL FROM.
    assert len(handler.messages) == 3 and len(set(ids)) == 3
    assert sender.connects == 3
    subjects = [message_from_bytes(m, policy=policy.default)["Subject"] for m in handler.messages]
    assert subjects == ["n0", "n1", "n2"]


async def test_a_send_to_a_server_that_is_down_fails_and_the_next_one_reconnects(
    e: Engagement,
) -> None:
    sender = SmtpEmailSender(SmtpConfig(e.smtp.address.host, e.smtp.address.port, "x@y.in"))
    to = f"{unique('re')}@example.in"
    try:
        await sender.send(OutgoingEmail(to=to, subject="one", text="1"))
        address = e.smtp.address
        e.smtp.stop()
        try:
            with pytest.raises(SendError):
                await sender.send(OutgoingEmail(to=to, subject="lost", text="2"))
        finally:
            e.smtp.start(address.host, address.port)
        await sender.send(OutgoingEmail(to=to, subject="three", text="3"))
    finally:
        await sender.close()
    assert [str(m["Subject"]) for m in e.smtp.to(to)] == ["one", "three"]


# --- the local hand-off --------------------------------------------------------------


async def test_a_new_notification_is_leased_to_this_process_and_sent_at_once(
    e: Engagement,
) -> None:
    email = f"{unique('lease')}@example.in"
    await e.deliver("order.placed", placed(email))
    [row] = await e.notifications(recipient=email)
    # Written PENDING with this process's lease: no other dispatcher takes it.
    assert row.status == pb.NOTIFICATION_STATUS_PENDING
    lease = row.next_attempt_time.ToDatetime().replace(tzinfo=utcnow().tzinfo)
    assert lease > utcnow() + timedelta(seconds=30)
    assert await e.wired.notifier.dispatch_once() >= 1
    [sent] = await e.notifications(recipient=email)
    assert sent.status == pb.NOTIFICATION_STATUS_SENT and sent.attempts == 1
    assert len(e.smtp.to(email)) == 1


async def test_stopping_the_dispatcher_leaves_handed_over_rows_due_for_the_next_one(
    e: Engagement,
) -> None:
    email = f"{unique('stop')}@example.in"
    await e.deliver("order.placed", placed(email))
    await e.wired.notifier.stop()  # (not running in tests: releases the hand-off only)
    [row] = await e.notifications(recipient=email)
    assert row.status == pb.NOTIFICATION_STATUS_PENDING
    assert row.next_attempt_time.ToDatetime().replace(tzinfo=utcnow().tzinfo) <= utcnow()
    e.wired.notifier.poke()
    await e.drain()  # from the table this time
    assert len(e.smtp.to(email)) == 1


async def test_a_rolled_back_enqueue_hands_nothing_over(e: Engagement) -> None:
    notifier = e.wired.notifier
    before = len(notifier._handoff)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with e.wired.db.transaction() as s:
            await notifier.enqueue(
                s,
                Trigger(
                    new_id(),
                    cat.LOW_STOCK,
                    {"variant_id": "v", "warehouse": "w", "available": 1, "on_hand": 1,
                     "reorder_point": 5},
                    [Recipient(email="ops@cleanse.test")],
                    channels=(cat.EMAIL,),
                ),
            )  # fmt: skip
            raise Boom
    assert len(notifier._handoff) == before


# --- events that make nothing ----------------------------------------------------------


async def test_a_shipment_created_event_touches_no_table_and_a_real_change_is_deduplicated(
    e: Engagement,
) -> None:
    created = shipment(shipping_pb.SHIPMENT_STATUS_CREATED, shipping_pb.SHIPMENT_STATUS_UNSPECIFIED)
    event_id = new_id()
    first = await e.deliver("shipment.status_changed", created, event_id, source="shipping")
    again = await e.deliver("shipment.status_changed", created, event_id, source="shipping")
    assert (first.duplicate, again.duplicate) == (False, False)
    async with e.wired.db.session() as s:
        seen = await s.scalar(
            select(PROCESSED_EVENTS.c.event_id).where(PROCESSED_EVENTS.c.event_id == event_id)
        )
    assert seen is None
    email = f"{unique('pick')}@example.in"
    picked = shipment(
        shipping_pb.SHIPMENT_STATUS_PICKED_UP, shipping_pb.SHIPMENT_STATUS_CREATED, email=email
    )
    event_id = new_id()
    first = await e.deliver("shipment.status_changed", picked, event_id, source="shipping")
    again = await e.deliver("shipment.status_changed", picked, event_id, source="shipping")
    assert (first.duplicate, again.duplicate) == (False, True)
    await e.drain()
    assert len(e.smtp.to(email)) == 1


# --- the template cache ----------------------------------------------------------------


async def test_template_edits_apply_to_the_next_event_at_once(e: Engagement) -> None:
    phone = "+9196" + f"{int(new_id()[-8:], 16) % 10**8:08d}"

    # No SMS template for "delivered": nothing for the phone.
    ev = shipment(
        shipping_pb.SHIPMENT_STATUS_DELIVERED, shipping_pb.SHIPMENT_STATUS_OUT_FOR_DELIVERY,
        phone=phone,
    )  # fmt: skip
    await e.deliver("shipment.status_changed", ev, source="shipping")
    assert await e.notifications(recipient=phone) == []
    created = await e.admin.CreateNotificationTemplate(
        admin_pb2.CreateNotificationTemplateRequest(
            notification_template_id=unique("t-"),
            notification_template=pb.NotificationTemplate(
                event_type="shipment.delivered",
                channel=pb.CHANNEL_SMS,
                text_body="Delivered: {{ order_number }}",
                provider_template_id="delivered",
            ),
        ),
        metadata=e.md(),
    )
    try:
        ev = shipment(
            shipping_pb.SHIPMENT_STATUS_DELIVERED, shipping_pb.SHIPMENT_STATUS_OUT_FOR_DELIVERY,
            phone=phone,
        )  # fmt: skip
        await e.deliver("shipment.status_changed", ev, source="shipping")
        [first] = await e.notifications(recipient=phone)
        assert (first.template, first.template_version) == (created.name, 1)
        await e.admin.UpdateNotificationTemplate(
            admin_pb2.UpdateNotificationTemplateRequest(
                notification_template=pb.NotificationTemplate(
                    name=created.name, text_body="Here: {{ order_number }}"
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["text_body"]),
            ),
            metadata=e.md(),
        )
        ev = shipment(
            shipping_pb.SHIPMENT_STATUS_DELIVERED, shipping_pb.SHIPMENT_STATUS_OUT_FOR_DELIVERY,
            phone=phone,
        )  # fmt: skip
        await e.deliver("shipment.status_changed", ev, source="shipping")
        rows = await e.notifications(recipient=phone)
        assert sorted(r.template_version for r in rows) == [1, 2]
    finally:
        await e.admin.DeleteNotificationTemplate(
            admin_pb2.DeleteNotificationTemplateRequest(name=created.name), metadata=e.md()
        )
    ev = shipment(
        shipping_pb.SHIPMENT_STATUS_DELIVERED, shipping_pb.SHIPMENT_STATUS_OUT_FOR_DELIVERY,
        phone=phone,
    )  # fmt: skip
    await e.deliver("shipment.status_changed", ev, source="shipping")
    assert len(await e.notifications(recipient=phone)) == 2  # deleted: no third
    await e.drain()


# --- the MIME the sender writes ------------------------------------------------------------


@pytest.mark.parametrize("eight_bit", [True, False])
@pytest.mark.parametrize(
    "subject",
    [
        "Your order CLN-1 is confirmed",
        "Refund of ₹499.00 for order CLN-55 processed",
        "x" * 255,
        "₹" * 100,
        "literal =?utf-8?q?x?= text",
        "",
    ],
)
def test_written_messages_parse_back_to_what_was_sent(subject: str, eight_bit: bool) -> None:
    html = "<p>Order <b>CLN-2024-777</b>: ₹1,299.00</p>" + "<i>long line</i>" * 80
    email = OutgoingEmail(
        to="asha@example.in",
        subject=subject,
        text="Hi Asha,\r\n\r\n.a line with a dot\n₹1,299.00\nhttps://shop.test/orders/1",
        html=html,
        reference="notifications/abc",
    )
    assert can_render(email)
    raw, message_id = render_message(
        email, "Cleanse <orders@cleanse.local>", "cleanse.local", eight_bit=eight_bit
    )
    if not eight_bit:
        assert raw.isascii()
    assert all(len(line) <= 998 for line in raw.replace(b"\r\n", b"\n").split(b"\n"))
    msg = message_from_bytes(raw, policy=policy.default)
    assert not msg.defects
    assert msg["Subject"] == subject
    assert msg["Message-ID"] == message_id and message_id.endswith("@cleanse.local>")
    assert str(msg["To"]) == "asha@example.in"
    assert str(msg["From"]) == "Cleanse <orders@cleanse.local>"
    assert msg["X-Cleanse-Notification"] == "notifications/abc"
    text = msg.get_body(("plain",)).get_content()
    assert text == "Hi Asha,\n\n.a line with a dot\n₹1,299.00\nhttps://shop.test/orders/1\n"
    assert msg.get_body(("html",)).get_content() == html + "\n"


def test_addresses_the_writer_does_not_take_go_through_the_email_package() -> None:
    assert not can_render(OutgoingEmail(to="Asha <asha@example.in>", subject="s", text="t"))
    assert not can_render(OutgoingEmail(to="आशा@example.in", subject="s", text="t"))
    assert not can_render(OutgoingEmail(to="a@example.in\r\nBcc: x@y", subject="s", text="t"))


async def test_a_display_name_recipient_is_still_delivered(e: Engagement) -> None:
    sender = SmtpEmailSender(SmtpConfig(e.smtp.address.host, e.smtp.address.port, "x@y.in"))
    box = f"{unique('dn')}@example.in"
    try:
        await sender.send(OutgoingEmail(to=f"Asha <{box}>", subject="named", text="t"))
    finally:
        await sender.close()
    [mail] = e.smtp.to(box)
    assert mail["Subject"] == "named"


# --- the stand-alone sink ----------------------------------------------------------------


# --- the client against other servers: no PIPELINING, AUTH, STARTTLS ------------------------


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[tuple[str, str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return "250 accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        user, password = data.login.decode(), data.password.decode()
        self.logins.append((mechanism, user, password))
        return AuthResult(success=(user, password) == ("mailer", "s3cret"), handled=False)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_auth_without_pipelining(mechanism: str) -> None:
    addr = free_address()
    rec = _Recorder()
    exclude = [m for m in ("PLAIN", "LOGIN") if m != mechanism]
    controller = Controller(
        rec,
        hostname=addr.host,
        port=addr.port,
        auth_require_tls=False,
        auth_exclude_mechanism=exclude,
        authenticator=rec.authenticate,
    )
    controller.start()
    ok = SmtpEmailSender(SmtpConfig(addr.host, addr.port, "x@y.in", "mailer", "s3cret"))
    bad = SmtpEmailSender(SmtpConfig(addr.host, addr.port, "x@y.in", "mailer", "wrong"))
    try:
        for i in range(2):
            await ok.send(OutgoingEmail(to="a@example.in", subject=f"s{i}", text=".dot\nok"))
        with pytest.raises(SendError):
            await bad.send(OutgoingEmail(to="a@example.in", subject="no", text="no"))
    finally:
        await ok.close()
        await bad.close()
        controller.stop()
    assert ok.connects == 1 and len(rec.messages) == 2
    assert [m for m, *_ in rec.logins] == [mechanism, mechanism]
    body = message_from_bytes(rec.messages[0], policy=policy.default).get_content()
    assert (
        body.replace("\r\n", "\n") == ".dot\nok\n"
    )  # the leading dot survived DATA's dot-stuffing


async def test_starttls_then_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    make_default = ssl.create_default_context
    monkeypatch.setattr(
        ssl, "create_default_context", lambda *a, **k: make_default(cafile=str(cert))
    )
    addr = free_address()
    rec = _Recorder()
    controller = Controller(
        rec,
        hostname=addr.host,
        port=addr.port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=rec.authenticate,
    )
    controller.start()
    sender = SmtpEmailSender(
        SmtpConfig(addr.host, addr.port, "x@y.in", "mailer", "s3cret", starttls=True)
    )
    try:
        await sender.send(OutgoingEmail(to="a@example.in", subject="tls", text="secret"))
        await sender.send(OutgoingEmail(to="a@example.in", subject="tls 2", text="again"))
    finally:
        await sender.close()
        controller.stop()
    assert sender.connects == 1 and len(rec.messages) == 2
    assert rec.logins and rec.logins[0][1:] == ("mailer", "s3cret")


async def test_a_refused_recipient_is_a_permanent_failure() -> None:
    class Refusing(_Recorder):
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address.startswith("nobody@"):
                return "550 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    addr = free_address()
    rec = Refusing()
    controller = Controller(rec, hostname=addr.host, port=addr.port)
    controller.start()
    sender = SmtpEmailSender(SmtpConfig(addr.host, addr.port, "x@y.in"))
    try:
        with pytest.raises(SendError) as err:
            await sender.send(OutgoingEmail(to="nobody@example.in", subject="x", text="x"))
        assert err.value.permanent
        await sender.send(OutgoingEmail(to="somebody@example.in", subject="y", text="y"))
    finally:
        await sender.close()
        controller.stop()
    assert len(rec.messages) == 1


# --- an event as one statement -----------------------------------------------------------


async def test_concurrent_redeliveries_make_one_notification(e: Engagement) -> None:
    email = f"{unique('race')}@example.in"
    ev = placed(email)
    event_id = new_id()
    answers = await asyncio.gather(*(e.deliver("order.placed", ev, event_id) for _ in range(5)))
    assert sorted(a.duplicate for a in answers) == [False, True, True, True, True]
    await e.drain()
    assert len(e.smtp.to(email)) == 1
    assert len(await e.notifications(recipient=email)) == 1


def _event(topic: str) -> events_pb2.Event:
    occurred = Timestamp()
    occurred.FromDatetime(utcnow())
    return events_pb2.Event(event_id=new_id(), topic=topic, occurred_at=occurred, source="order")


async def test_one_statement_writes_the_mark_and_the_alongside_writes_even_without_a_row(
    e: Engagement,
) -> None:
    notifier = e.wired.notifier
    ev = _event("order.placed")
    key = f"{unique('k')}@example.in"
    at = utcnow()
    # No recipient address: no notification row, but the event is still done.
    trigger = Trigger(ev.event_id, cat.ORDER_PLACED, {}, [Recipient()], channels=(cat.EMAIL,))
    first = await notifier.enqueue_event(ev, trigger, order_placed_writes("", key, at))
    if e.backend == "sqlite":
        assert first is None  # (a transaction there: EventSink's way)
        return
    again = await notifier.enqueue_event(ev, trigger, order_placed_writes("", key, at))
    assert (first, again) == (False, True)
    async with e.wired.db.session() as s:
        done = await s.scalar(
            select(PROCESSED_EVENTS.c.event_id).where(PROCESSED_EVENTS.c.event_id == ev.event_id)
        )
        last = await s.scalar(
            select(PlacedOrder.last_order_at).where(PlacedOrder.customer_key == key)
        )
    assert done == ev.event_id and last == at


async def test_several_rows_are_not_one_statement_and_nothing_is_written(e: Engagement) -> None:
    ev = _event("inventory.low_stock")
    trigger = Trigger(
        ev.event_id,
        cat.LOW_STOCK,
        {"variant_id": "v", "warehouse": "w", "available": 1, "on_hand": 1, "reorder_point": 5},
        [Recipient(email=f"{unique('a')}@x.in"), Recipient(email=f"{unique('b')}@x.in")],
        channels=(cat.EMAIL,),
    )
    assert await e.wired.notifier.enqueue_event(ev, trigger) is None
    async with e.wired.db.session() as s:
        done = await s.scalar(
            select(PROCESSED_EVENTS.c.event_id).where(PROCESSED_EVENTS.c.event_id == ev.event_id)
        )
        rows = await s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.event_id == ev.event_id)
        )
    assert done is None and rows == 0


# --- the sink as other clients see it ---------------------------------------------------------


async def test_the_sink_as_its_own_process(tmp_path: Path) -> None:
    addr = free_address()
    env = {**os.environ, "CLEANSE_SMTP_ADDR": str(addr), "CLEANSE_DATA_DIR": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.engagement.smtp_sink", env=env,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    sender = SmtpEmailSender(SmtpConfig(addr.host, addr.port, "Cleanse <orders@cleanse.local>"))
    try:
        assert proc.stdout is not None
        assert b"SMTP sink on" in await asyncio.wait_for(proc.stdout.readline(), 30)
        for i in range(3):
            await sender.send(OutgoingEmail(to="a@example.in", subject=f"p{i}", text="x"))
        await sender.close()
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    files = sorted((tmp_path / "mail").glob("*.eml"))
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    assert subjects == ["p0", "p1", "p2"] and sender.connects == 1
