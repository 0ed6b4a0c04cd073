"""What every handler shares: the clock, the outbox event for cached readers, helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.settings.v1 import events_pb2
from mesh import context
from mesh.cached import TtlCache
from mesh.events import SUBSCRIBERS
from mesh.outbox import Outbox
from services.settings.models import OUTBOX

Clock = Callable[[], datetime]

CHANGED_TOPIC = "settings.changed"
STORE = "storeSettings"
PAYMENT_METHODS = "paymentMethods"
TAX_RATES = "taxRates"
SEGMENTS = "customerSegments"


def make_outbox() -> Outbox:
    """The settings outbox. "settings.changed" goes to whoever mesh.events lists for
    it; until someone subscribes it has no subscribers (readers then rely on TTLs)."""
    topics = dict(SUBSCRIBERS)
    topics.setdefault(CHANGED_TOPIC, ())
    return Outbox(OUTBOX, "settings", topics=topics)


class Changes:
    """Announces a committed change: the outbox event (same transaction) and the
    local read cache (after the transaction)."""

    def __init__(self, outbox: Outbox, cache: TtlCache) -> None:
        self.outbox = outbox
        self.cache = cache

    async def record(self, session: AsyncSession, *resources: str) -> None:
        await self.outbox.add(
            session, CHANGED_TOPIC, events_pb2.SettingsChangedEvent(resources=list(resources))
        )

    def invalidate(self, *resources: str) -> None:
        self.cache.invalidate(*resources)


def actor() -> str:
    return context.identity().subject
