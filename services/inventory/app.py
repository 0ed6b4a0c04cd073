"""Wiring: the inventory service's database, outbox relay, sweeper and servicers."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from cleanse.inventory.v1 import (
    availability_service_pb2_grpc,
    inventory_admin_service_pb2_grpc,
    reservation_service_pb2_grpc,
)
from mesh.db import Database, utcnow
from mesh.identity import JwksSource
from mesh.outbox import Outbox, OutboxRelay, RelaySettings
from mesh.server import ServiceApp
from services.inventory.config import Settings
from services.inventory.handlers.admin import AdminHandlers
from services.inventory.handlers.common import Clock
from services.inventory.handlers.reservations import ReservationHandlers
from services.inventory.models import OUTBOX
from services.inventory.seed import seed_demo
from services.inventory.servicer import (
    AvailabilityService,
    InventoryAdminService,
    ReservationService,
)

SERVICE = "inventory"


@dataclass
class InventoryApp:
    app: ServiceApp
    db: Database
    settings: Settings
    outbox: Outbox
    relay: OutboxRelay
    reservations: ReservationHandlers
    admin: AdminHandlers
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    relay_settings: RelaySettings | None = None,
    jwks_source: JwksSource | None = None,
) -> InventoryApp:
    settings = settings or Settings.from_env()
    app = ServiceApp(SERVICE, readiness=db.ready, jwks_source=jwks_source)
    outbox = Outbox(OUTBOX, SERVICE, db)
    relay = OutboxRelay(db, outbox, relay_settings)
    reservations = ReservationHandlers(db, outbox, settings, clock)
    admin = AdminHandlers(db, outbox, settings.low_stock_threshold, clock)
    app.add(
        availability_service_pb2_grpc.add_AvailabilityServiceServicer_to_server,
        AvailabilityService(reservations),
    )
    app.add(
        reservation_service_pb2_grpc.add_ReservationServiceServicer_to_server,
        ReservationService(reservations),
    )
    app.add(
        inventory_admin_service_pb2_grpc.add_InventoryAdminServiceServicer_to_server,
        InventoryAdminService(admin),
    )
    wired = InventoryApp(app, db, settings, outbox, relay, reservations, admin)

    async def startup() -> None:
        await db.migrate()
        if settings.seed_demo:
            await seed_demo(db)
        await relay.start()
        wired._tasks.append(
            asyncio.create_task(reservations.sweep_forever(), name="inventory-sweeper")
        )

    async def shutdown() -> None:
        for task in wired._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        wired._tasks.clear()
        await relay.stop()
        await db.dispose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    return wired
