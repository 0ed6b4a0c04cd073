"""Zones, methods, carriers and PIN serviceability in memory.

Checkout reads them on every quote (add line, checkout session, place order) and for
every shipment it creates; admins change them a few times a day. Reading them from
the database each time cost three or four queries per quote.

Invalidation, with a version row rather than a TTL:

- every admin change (handlers/config.py, seed.py) adds one to the single row of
  `shipping_config_version` in the same transaction as the change;
- the process that made the change drops its copy as soon as the transaction has
  ended, so it sees its own change at once (the admin API reads back what it wrote);
- other processes (shipping can run as several replicas: the outbox relay and the
  booker are written for that) read the version at most once every
  `check_seconds` (1 s) while requests come in, and reload when it moved. A change
  therefore reaches every replica within about a second, for one primary-key read a
  second under load and none at rest.

A bare TTL would have to be short (stale quotes for the whole TTL) and would reload
everything each time it ran out, at least once per TTL under load. PIN rows are
looked up one at a time (a CSV import can hold every PIN in India) and kept for as
long as the version stands, which only a version can invalidate cheaply. The
version is read before the data it stamps: a change committed between the two
reads gives new data under the old number, reloaded once more at the next check,
never old data under the new number.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database
from services.shipping.domain import rules
from services.shipping.models import Carrier, ConfigVersion, Method, Serviceability, Zone

VERSION_ROW = 1
CHECK_SECONDS = 1.0
MAX_PINS = 50_000


@dataclass(frozen=True)
class CarrierInfo:
    """What shipments need of a carrier (the admin API reads the rows themselves)."""

    id: str
    kind: str
    display_name: str
    tracking_url_template: str
    active: bool

    @property
    def name(self) -> str:
        return f"carriers/{self.id}"


@dataclass
class Snapshot:
    """The configuration at one version (active zones and methods, every carrier),
    and the PIN rows looked up since (None: the PIN has no row)."""

    version: int
    zones: tuple[rules.ZoneRule, ...]
    methods: dict[str, tuple[rules.MethodRule, ...]]  # zone id -> active, by id
    carriers: dict[str, CarrierInfo]
    pins: dict[str, rules.PinRule | None] = field(default_factory=dict)


async def bump_version(s: AsyncSession) -> None:
    """Mark the configuration changed, in the caller's transaction (which also
    serializes concurrent admin changes on the row)."""
    t = ConfigVersion.__table__
    result = await s.execute(update(t).where(t.c.id == VERSION_ROW).values(version=t.c.version + 1))
    if result.rowcount == 0:  # the row went missing: start again
        s.add(ConfigVersion(id=VERSION_ROW, version=1))


async def read_version(s: AsyncSession) -> int:
    v = await s.scalar(select(ConfigVersion.version).where(ConfigVersion.id == VERSION_ROW))
    return int(v or 0)


async def load(s: AsyncSession, version: int) -> Snapshot:
    zones = (await s.execute(select(Zone).where(Zone.active.is_(True)).order_by(Zone.id))).scalars()
    zone_rules = tuple(
        rules.ZoneRule(
            z.id,
            tuple(z.state_codes),
            tuple(z.pincode_prefixes),
            tuple((a, b) for a, b in z.pincode_ranges),
        )
        for z in zones
    )
    methods: dict[str, list[rules.MethodRule]] = {}
    rows = await s.scalars(select(Method).where(Method.active.is_(True)).order_by(Method.id))
    for m in rows:
        methods.setdefault(m.zone_id, []).append(
            rules.MethodRule(
                m.id,
                m.kind,
                m.display_name,
                tuple((w, r) for w, r in m.slabs),
                m.extra_per_500g_minor,
                m.free_shipping_threshold_minor,
                m.cod_available,
                m.cod_fee_minor,
                m.cod_max_order_value_minor,
                m.estimated_days,
                m.carrier_id,
            )
        )
    carriers = {
        c.id: CarrierInfo(c.id, c.kind, c.display_name, c.tracking_url_template, c.active)
        for c in await s.scalars(select(Carrier))
    }
    return Snapshot(version, zone_rules, {z: tuple(ms) for z, ms in methods.items()}, carriers)


class ConfigCache:
    def __init__(
        self,
        db: Database,
        *,
        check_seconds: float = CHECK_SECONDS,
        max_pins: int = MAX_PINS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.check_seconds = check_seconds
        self.max_pins = max_pins
        self._clock = clock
        self._snap: Snapshot | None = None
        self._checked_at = 0.0
        # Bumped by invalidate(): a load that was running then is not kept.
        self._generation = 0
        self._lock = asyncio.Lock()
        self.loads = 0  # how many times the configuration was read (tests, metrics)

    def invalidate(self) -> None:
        """Forget the copy (this process changed the configuration)."""
        self._generation += 1
        self._snap = None

    def _fresh(self) -> Snapshot | None:
        snap = self._snap
        if snap is not None and self._clock() - self._checked_at < self.check_seconds:
            return snap
        return None

    async def snapshot(self) -> Snapshot:
        snap = self._fresh()
        if snap is not None:
            return snap
        async with self._lock:  # one check or load at a time; the others wait for it
            snap = self._fresh()
            if snap is not None:
                return snap
            generation, started = self._generation, self._clock()
            current = self._snap
            async with self.db.session() as s:
                version = await read_version(s)
                if current is None or current.version != version:
                    current = await load(s, version)
                    self.loads += 1
            if generation == self._generation:
                self._snap, self._checked_at = current, started
            return current

    async def pin(self, pincode: str, snap: Snapshot | None = None) -> rules.PinRule | None:
        """The PIN's serviceability row (None when it has none)."""
        snap = snap or await self.snapshot()
        try:
            return snap.pins[pincode]
        except KeyError:
            pass
        async with self.db.session() as s:
            row = (
                await s.execute(
                    select(
                        Serviceability.serviceable,
                        Serviceability.cod_available,
                        Serviceability.estimated_days,
                        Serviceability.carrier_id,
                    ).where(Serviceability.pincode == pincode)
                )
            ).first()
        rule = rules.PinRule(row[0], row[1], row[2], row[3] or "") if row is not None else None
        if len(snap.pins) >= self.max_pins:
            snap.pins.clear()
        # Read after the snapshot's version: at least as new as the snapshot.
        snap.pins[pincode] = rule
        return rule

    async def carrier(self, carrier_id: str) -> CarrierInfo | None:
        return (await self.snapshot()).carriers.get(carrier_id)
