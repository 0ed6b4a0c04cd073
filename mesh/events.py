"""Who hears about what, and the receiving end of events (ARCHITECTURE.md "Events").

`SUBSCRIBERS` is the ONE table of topics: a producer writes an event with
`mesh.outbox.Outbox.add(session, topic, payload)` and the relay delivers it to
every service listed for that topic, through that service's own
`cleanse.common.v1.EventSinkService.Deliver`.

A subscribing service serves an `EventSink` (this module) on its ServiceApp:

    processed = processed_events_table(Base.metadata)      # in models.py
    sink = EventSink(db, processed)

    @sink.handler("inventory.low_stock", inventory_events_pb2.LowStockEvent)
    async def on_low_stock(session, payload, event) -> None:
        session.add(Notification(...))                     # same transaction

    app.add(events_pb2_grpc.add_EventSinkServiceServicer_to_server, sink)

`Deliver` records the event id in the consumer's `processed_events` table and runs
the handler in the SAME transaction: the effects and the "done" mark commit
together, so a redelivered event (the relay delivers at least once) is answered
`duplicate=True` and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message
from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.common.v1 import events_pb2, events_pb2_grpc
from mesh.db import Database, UTCDateTime, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument

log = logging.getLogger("mesh.events")

# topic -> the services that subscribe to it (each serves EventSinkService).
SUBSCRIBERS: Mapping[str, tuple[str, ...]] = {
    # Available stock fell to the reorder point: notify the merchandising team.
    "inventory.low_stock": ("engagement",),
    # An order was confirmed (paid, or COD accepted): customer figures for segments.
    # Engagement: the confirmation email (and closes abandoned-cart reminders).
    # Shipping: the shipment(s), one per warehouse.
    "order.placed": ("settings", "engagement", "shipping"),
    # An admin edited a confirmed order before it was packed: shipping updates the
    # shipment it has not booked yet (or flags a booked one for manual attention).
    "order.updated": ("shipping",),
    # Money went back to a customer (a refund processed): segments subtract it.
    # Engagement: the refund email.
    "order.refunded": ("settings", "engagement"),
    # An online payment attempt failed, or the payment window ended: engagement
    # tells the customer (retry link).
    "order.payment_failed": ("engagement",),
    # A return was requested, approved, rejected, received or completed: engagement.
    "order.return_status_changed": ("engagement",),
    # A shipment (forward or return pickup) was created or changed status: order
    # status and customer notifications.
    "shipment.status_changed": ("order", "engagement"),
    # Store settings, GST rates, payment methods or segments changed: readers drop
    # their cached copies at once instead of waiting for the TTL.
    "settings.changed": ("pricing",),
}


def subscribers(topic: str, table: Mapping[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The services subscribed to `topic`; an unknown topic is a programming error."""
    table = SUBSCRIBERS if table is None else table
    try:
        return table[topic]
    except KeyError:
        raise KeyError(
            f"unknown event topic {topic!r}: add it to mesh.events.SUBSCRIBERS"
        ) from None


def processed_events_table(metadata: MetaData, name: str = "processed_events") -> Table:
    """The consumer's record of handled event ids (created by its own migration)."""
    return Table(
        name,
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("topic", String(100), nullable=False),
        Column("source", String(40), nullable=False),
        Column("processed_at", UTCDateTime(), nullable=False),
    )


Handler = Callable[[AsyncSession, Any, events_pb2.Event], Awaitable[None]]


Applies = Callable[[Any], bool]


@dataclass(frozen=True)
class _Registration:
    payload_type: type[Message]
    handler: Handler
    applies: Applies | None = None


class EventSink(events_pb2_grpc.EventSinkServiceServicer):
    """A base EventSinkService servicer: dedupe on event id, dispatch by topic."""

    def __init__(self, db: Database, processed: Table) -> None:
        self.db = db
        self.processed = processed
        self._handlers: dict[str, _Registration] = {}

    def handler(self, topic: str, payload_type: type[Message]) -> Callable[[Handler], Handler]:
        """Register `fn(session, payload, event)` for `topic` (decorator)."""

        def register(fn: Handler) -> Handler:
            self.register(topic, payload_type, fn)
            return fn

        return register

    def register(
        self,
        topic: str,
        payload_type: type[Message],
        fn: Handler,
        *,
        applies: Applies | None = None,
    ) -> None:
        """`fn` handles `topic`. `applies(payload)`, when given, says whether `fn`
        would change anything: an event it would leave alone is acknowledged without
        a transaction or a processed mark (delivering it again changes nothing
        either), which saves the consumer's database three round trips per event it
        ignores (e.g. a shipment's "created" status, which the order service does
        not act on)."""
        self._handlers[topic] = _Registration(payload_type, fn, applies)

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def _insert_once(self) -> Any:
        dialect = self.db.dialect
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        return ins(self.processed).on_conflict_do_nothing(index_elements=["event_id"])

    async def handle(self, event: events_pb2.Event) -> bool:
        """Run the handler unless the event was handled before; True for a duplicate."""
        if not event.event_id or not event.topic:
            raise InvalidArgument({"event": "event_id and topic are required"})
        reg = self._handlers.get(event.topic)
        if reg is None:
            # Subscribed in mesh.events but not handled here: keep it in the
            # producer's outbox (the relay retries) rather than drop it.
            raise FailedPrecondition(
                f"this service has no handler for topic {event.topic!r}",
                reason="UNKNOWN_TOPIC",
                metadata={"topic": event.topic},
            )
        payload = reg.payload_type()
        if not event.payload.Unpack(payload):
            raise InvalidArgument(
                {"event.payload": f"is not a {reg.payload_type.DESCRIPTOR.full_name}"}
            )
        if reg.applies is not None and not reg.applies(payload):
            return False  # nothing to do, so nothing to remember
        async with self.db.transaction() as s:
            stmt = self._insert_once().values(
                event_id=event.event_id,
                topic=event.topic,
                source=event.source,
                processed_at=utcnow(),
            )
            result = await s.execute(stmt)
            if result.rowcount == 0:  # handled before (or by a concurrent delivery)
                return True
            await reg.handler(s, payload, event)
        return False

    async def Deliver(
        self, request: events_pb2.DeliverRequest, context: grpc.aio.ServicerContext
    ) -> events_pb2.DeliverResponse:
        duplicate = await self.handle(request.event)
        log.info(
            "event delivered",
            extra={
                "event_id": request.event.event_id,
                "topic": request.event.topic,
                "duplicate": duplicate,
            },
        )
        return events_pb2.DeliverResponse(duplicate=duplicate)
