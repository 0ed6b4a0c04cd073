"""An inventory service running in-process on an ephemeral port, called over real gRPC,
with a tiny fake catalog (CatalogInternalService over real gRPC, on its own
ephemeral port) that knows the variant ids a test registers with it.

One inventory server per database back end for the whole session; tests keep out of
each other's way with their own variant ids (`fresh_variant`) and warehouses.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from cleanse.catalog.v1 import catalog_internal_service_pb2 as catalog_pb2
from cleanse.catalog.v1 import catalog_internal_service_pb2_grpc as catalog_grpc
from cleanse.common.v1 import address_pb2
from cleanse.inventory.v1 import (
    availability_service_pb2,
    availability_service_pb2_grpc,
    inventory_admin_service_pb2,
    inventory_admin_service_pb2_grpc,
    reservation_service_pb2,
    reservation_service_pb2_grpc,
    resources_pb2,
)
from mesh import client
from mesh.db import Database
from services.inventory.app import InventoryApp, build
from services.inventory.config import Settings
from services.inventory.models import OUTBOX
from tests.conftest import BACKENDS, free_address, temporary_database
from tests.support.rpc import TestKeys, serve

admin_pb2 = inventory_admin_service_pb2
ADMIN_PERMS = ("inventory.read", "inventory.write", "warehouses.write")


class FakeCatalog(catalog_grpc.CatalogInternalServiceServicer):
    def __init__(self) -> None:
        self.known: set[str] = set()
        self.calls = 0

    async def BatchGetVariants(self, request: Any, context: Any) -> Any:
        self.calls += 1
        out = catalog_pb2.BatchGetVariantsResponse()
        for vid in request.variant_ids:
            if vid in self.known:
                out.variants.append(catalog_pb2.VariantSnapshot(variant_id=vid, sellable=True))
            else:
                out.missing.append(vid)
        return out


def address(pincode: str, state: str, city: str = "City") -> address_pb2.PostalAddress:
    return address_pb2.PostalAddress(
        line1="1 Test Road", city=city, state_code=state, pincode=pincode
    )


@dataclass
class Inventory:
    wired: InventoryApp
    catalog: FakeCatalog
    channel: grpc.aio.Channel
    keys: TestKeys
    backend: str
    admin: inventory_admin_service_pb2_grpc.InventoryAdminServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.admin = inventory_admin_service_pb2_grpc.InventoryAdminServiceStub(self.channel)

    @property
    def db(self) -> Database:
        return self.wired.db

    @property
    def reservations(self) -> reservation_service_pb2_grpc.ReservationServiceStub:
        return client.stub("inventory", reservation_service_pb2_grpc.ReservationServiceStub)

    @property
    def availability(self) -> availability_service_pb2_grpc.AvailabilityServiceStub:
        return client.stub("inventory", availability_service_pb2_grpc.AvailabilityServiceStub)

    def token(self, perms: tuple[str, ...] = ADMIN_PERMS, subject: str = "adminUsers/a1") -> str:
        return self.keys.mint("admin", perms, sub=subject, ttl=600)

    def md(self, **kw: Any) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(**kw)}"),)

    # --- set-up helpers ------------------------------------------------------------

    async def warehouse(self, pincode: str = "560001", state: str = "KA") -> str:
        wid = f"wh-{secrets.token_hex(4)}"
        await self.admin.CreateWarehouse(
            admin_pb2.CreateWarehouseRequest(
                warehouse_id=wid,
                warehouse=resources_pb2.Warehouse(
                    display_name=f"Test {wid}", address=address(pincode, state)
                ),
            ),
            metadata=self.md(),
        )
        return f"warehouses/{wid}"

    def variant(self) -> str:
        vid = f"var_{secrets.token_hex(6)}"
        self.catalog.known.add(vid)
        return vid

    async def stock(self, warehouse: str, variant_id: str, on_hand: int, **kw: Any) -> Any:
        return await self.admin.SetStockLevel(
            admin_pb2.SetStockLevelRequest(
                name=f"{warehouse}/stockLevels/{variant_id}", on_hand=on_hand, **kw
            ),
            metadata=self.md(),
        )

    async def reserve(
        self, lines: list[tuple[str, int]], request_id: str | None = None, **kw: Any
    ) -> resources_pb2.Reservation:
        return await self.reservations.ReserveStock(
            reservation_service_pb2.ReserveStockRequest(
                request_id=request_id or secrets.token_hex(8),
                lines=[
                    reservation_service_pb2.ReserveLine(variant_id=v, quantity=q) for v, q in lines
                ],
                **kw,
            )
        )

    async def avail(self, variant_id: str) -> availability_service_pb2.VariantAvailability:
        resp = await self.availability.BatchGetAvailability(
            availability_service_pb2.BatchGetAvailabilityRequest(variant_ids=[variant_id])
        )
        return resp.availabilities[0]

    async def level(self, warehouse: str, variant_id: str) -> resources_pb2.StockLevel:
        return await self.admin.GetStockLevel(
            admin_pb2.GetStockLevelRequest(name=f"{warehouse}/stockLevels/{variant_id}"),
            metadata=self.md(),
        )

    async def low_stock_events(self, variant_id: str) -> list[Any]:
        from cleanse.common.v1 import events_pb2
        from cleanse.inventory.v1 import events_pb2 as inv_events

        out = []
        async with self.db.session() as s:
            rows = await s.execute(
                select(OUTBOX.c.event).where(OUTBOX.c.topic == "inventory.low_stock")
            )
            for (data,) in rows.all():
                ev = events_pb2.Event.FromString(data)
                payload = inv_events.LowStockEvent()
                ev.payload.Unpack(payload)
                if payload.variant_id == variant_id:
                    out.append(payload)
        return out


@pytest.fixture(scope="session")
async def fake_catalog() -> AsyncIterator[tuple[FakeCatalog, grpc.aio.Server, str]]:
    catalog = FakeCatalog()
    add = catalog_grpc.add_CatalogInternalServiceServicer_to_server
    server, addr = await serve(catalog, add)
    yield catalog, server, addr
    await server.stop(0)


@pytest.fixture(scope="session", params=BACKENDS)
async def inventory_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The inventory's own database per back end (not shared with other services' tests:
    each service's Alembic history lives in its own database)."""
    async with temporary_database(request.param, tmp_path_factory.mktemp("inventory")) as url:
        yield url


@pytest.fixture(scope="session")
async def inventory(
    inventory_database_url: str, fake_catalog: tuple[FakeCatalog, grpc.aio.Server, str]
) -> AsyncIterator[Inventory]:
    catalog, _, catalog_addr = fake_catalog
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_INVENTORY_ADDR", str(free_address()))
    mp.setenv("CLEANSE_INVENTORY_METRICS_ADDR", str(free_address()))
    mp.setenv("CLEANSE_CATALOG_ADDR", catalog_addr)
    keys = TestKeys.generate("test")
    db = Database("inventory", inventory_database_url)
    wired = build(
        db,
        Settings(seed_demo=False, sweep_interval_seconds=3600),
        jwks_source=keys.source,
    )
    await wired.app.start()
    # Low-stock events stay in the outbox where the tests read them (the relay itself
    # is proven in tests/mesh/test_outbox.py).
    await wired.relay.stop()
    saved = client.settings()
    client.configure("order")  # the test process calls as the order service would
    client.update_settings(breaker_reset_timeout=0.1)
    channel = grpc.aio.insecure_channel(str(wired.app.address))
    backend = "sqlite" if db.is_sqlite else "postgres"
    try:
        yield Inventory(wired, catalog, channel, keys, backend)
    finally:
        await channel.close()
        await wired.app.stop()
        await client.close_all()
        client.update_settings(**saved.__dict__)
        mp.undo()
