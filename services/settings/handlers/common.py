"""What every handler shares: the clock, the outbox event for cached readers, helpers."""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.settings.v1 import events_pb2
from mesh import context
from mesh.cached import TtlCache
from mesh.db import Database
from mesh.errors import Violations
from mesh.outbox import Outbox
from services.settings.models import OUTBOX

Clock = Callable[[], datetime]

CHANGED_TOPIC = "settings.changed"
STORE = "storeSettings"
PAYMENT_METHODS = "paymentMethods"
TAX_RATES = "taxRates"
SEGMENTS = "customerSegments"


def make_outbox(db: Database) -> Outbox:
    """The settings outbox: "settings.changed" goes to the services mesh.events lists."""
    return Outbox(OUTBOX, "settings", db)


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


def check_mask(paths: Sequence[str], allowed: Container[str]) -> None:
    """An Update's mask names at least one field, and only fields in `allowed`
    (INVALID_ARGUMENT on each other update_mask.paths[i])."""
    v = Violations()
    for i, p in enumerate(paths):
        v.check(p in allowed, f"update_mask.paths[{i}]", f"{p!r} cannot be updated")
    v.check(bool(paths), "update_mask", "name at least one field")
    v.raise_if_any()


def actor() -> str:
    return context.identity().subject
