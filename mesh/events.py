"""Who hears about what, and the receiving end of events (ARCHITECTURE.md "Events").

`SUBSCRIBERS` is the ONE table of topics: a producer writes an event with
`mesh.outbox.Outbox.add(session, topic, payload)` and the relay delivers it to
every service listed for that topic, through that service's own
`cleanse.common.v1.EventSinkService.Deliver`.

A subscriber listed by name hears every event of the topic. A subscriber that
needs only some of them is listed as `Only(service, payload_type, wants, why)`:
`Outbox.add` asks `wants(payload)` as the event is written and writes no outbox
row for that subscriber when it answers False, so no row, no relay claim and no
Deliver call are spent on an event the subscriber would only acknowledge (e.g.
settings' customer segments and a guest's order, which has no customer). Rules:

- `wants` reads the payload only (no I/O, no clock) and must keep every event
  the subscriber acts on: it may let through more than the subscriber needs,
  never less. The subscriber keeps its own check (`EventSink.register(...,
  applies=...)`) too: rows written before a filter existed, or by a producer
  running older code, still arrive.
- A filter never fails quietly: a payload of another type than `payload_type`,
  a `wants` that raises or answers anything but a bool raises `EventFilterError`
  in `Outbox.add`, which fails the producer's transaction (like an unknown topic)
  instead of dropping or guessing.
- `subscribers(topic)` still names every service that may hear the topic;
  `recipients(topic, payload)` names those that get this event.

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
from cleanse.order.v1 import events_pb2 as order_events_pb2
from cleanse.shipping.v1 import events_pb2 as shipping_events_pb2
from cleanse.shipping.v1 import resources_pb2 as shipping_resources_pb2
from mesh.db import Database, UTCDateTime, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument

log = logging.getLogger("mesh.events")

Wants = Callable[[Any], bool]


class EventFilterError(RuntimeError):
    """A subscription's filter could not judge an event (wrong payload type, an
    exception, a non-bool answer): the event is not written rather than dropped."""


@dataclass(frozen=True)
class Only:
    """A subscription to some of a topic's events: those whose payload (of type
    `payload_type`) `wants` answers True for. `why` says what the subscriber does
    with the others (nothing), for the reader of SUBSCRIBERS."""

    service: str
    payload_type: type[Message]
    wants: Wants
    why: str

    def takes(self, topic: str, payload: Message) -> bool:
        """Whether this subscriber gets `payload`; EventFilterError when that cannot
        be told."""
        expected = self.payload_type.DESCRIPTOR.full_name
        got = payload.DESCRIPTOR.full_name
        if got != expected:
            raise EventFilterError(
                f"{topic!r} for {self.service}: the filter reads {expected}, "
                f"the producer wrote {got}"
            )
        try:
            answer = self.wants(payload)
        except Exception as exc:
            raise EventFilterError(
                f"{topic!r} for {self.service}: the filter failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(answer, bool):
            raise EventFilterError(
                f"{topic!r} for {self.service}: the filter answered {answer!r}, not a bool"
            )
        return answer


Subscription = str | Only
SubscriberTable = Mapping[str, tuple[Subscription, ...]]


def has_customer(payload: Any) -> bool:
    """The event names a customer ("users/{id}"); a guest's order names none."""
    return bool(payload.customer)


_UNSPECIFIED = shipping_resources_pb2.SHIPMENT_STATUS_UNSPECIFIED
_CREATED = shipping_resources_pb2.SHIPMENT_STATUS_CREATED
_RETURN = shipping_resources_pb2.SHIPMENT_DIRECTION_RETURN


def not_forward_created(payload: Any) -> bool:
    """Anything but a forward shipment's creation (nothing -> CREATED; every checkout
    makes one). Its later events (an AWB assigned, picked up, ...) all pass."""
    created = payload.status == _CREATED and payload.previous_status == _UNSPECIFIED
    return not created or payload.direction == _RETURN


# topic -> the services that subscribe to it (each serves EventSinkService): a name
# hears every event of the topic, `Only(...)` the events its filter wants.
SUBSCRIBERS: SubscriberTable = {
    # Available stock fell to the reorder point: notify the merchandising team.
    "inventory.low_stock": ("engagement",),
    # An order was confirmed (paid, or COD accepted): customer figures for segments.
    # Engagement: the confirmation email (and closes abandoned-cart reminders).
    # Shipping: the shipment(s), one per warehouse.
    "order.placed": (
        Only(
            "settings",
            order_events_pb2.OrderPlacedEvent,
            has_customer,
            "segments count customers' orders; a guest's order has no customer",
        ),
        "engagement",
        "shipping",
    ),
    # An admin edited a confirmed order before it was packed: shipping updates the
    # shipment it has not booked yet (or flags a booked one for manual attention).
    "order.updated": ("shipping",),
    # Money went back to a customer (a refund processed): segments subtract it.
    # Engagement: the refund email.
    "order.refunded": (
        Only(
            "settings",
            order_events_pb2.OrderRefundedEvent,
            has_customer,
            "segments count customers' refunds; a guest's order has no customer",
        ),
        "engagement",
    ),
    # An online payment attempt failed, or the payment window ended: engagement
    # tells the customer (retry link).
    "order.payment_failed": ("engagement",),
    # A return was requested, approved, rejected, received or completed: engagement.
    "order.return_status_changed": ("engagement",),
    # A shipment (forward or return pickup) was created or changed status: order
    # status and customer notifications. A forward shipment's creation (once per
    # warehouse of every order) moves no order (order acts on picked up, in transit,
    # out for delivery, delivered) and tells the customer nothing (a return pickup's
    # creation does: "pickup scheduled").
    "shipment.status_changed": (
        Only(
            "order",
            shipping_events_pb2.ShipmentStatusChangedEvent,
            not_forward_created,
            "a forward shipment's creation leaves the order as it is",
        ),
        Only(
            "engagement",
            shipping_events_pb2.ShipmentStatusChangedEvent,
            not_forward_created,
            "a forward shipment's creation is no news for the customer",
        ),
    ),
    # Store settings, GST rates, payment methods or segments changed: readers drop
    # their cached copies at once instead of waiting for the TTL.
    "settings.changed": ("pricing",),
}


def _subscriptions(topic: str, table: SubscriberTable | None) -> tuple[Subscription, ...]:
    table = SUBSCRIBERS if table is None else table
    try:
        return table[topic]
    except KeyError:
        raise KeyError(
            f"unknown event topic {topic!r}: add it to mesh.events.SUBSCRIBERS"
        ) from None


def subscription_service(sub: Subscription) -> str:
    return sub if isinstance(sub, str) else sub.service


def subscribers(topic: str, table: SubscriberTable | None = None) -> tuple[str, ...]:
    """Every service subscribed to `topic` (filtered or not); an unknown topic is a
    programming error."""
    return tuple(subscription_service(sub) for sub in _subscriptions(topic, table))


def recipients(
    topic: str, payload: Message, table: SubscriberTable | None = None
) -> tuple[str, ...]:
    """The services that get this event: every subscriber of `topic` whose filter (if
    any) wants `payload`. EventFilterError when a filter cannot tell."""
    return tuple(
        sub if isinstance(sub, str) else sub.service
        for sub in _subscriptions(topic, table)
        if isinstance(sub, str) or sub.takes(topic, payload)
    )


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
        not act on). Where the producer can tell from the payload alone, the
        subscription in SUBSCRIBERS says so too (`Only`) and such events are not
        sent at all; `applies` stays for those that still arrive (rows written
        before the filter, or events a filter lets through)."""
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
