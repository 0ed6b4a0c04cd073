"""A catalog service in-process on an ephemeral port, called over real gRPC, with
fake auth (BatchGetAdminUsers), inventory (BatchGetAvailability) and settings
(ListTaxClasses: the classes settings seeds, "apparel" and "standard") peers served
by real grpc.aio servers the registry points at (CLEANSE_<NAME>_ADDR).

One catalog per database back end for the whole session, with the demo
catalogue loaded; tests create their own entities under unique slugs.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc, resources_pb2
from cleanse.catalog.v1 import (
    catalog_admin_service_pb2_grpc,
    catalog_internal_service_pb2_grpc,
    storefront_service_pb2_grpc,
)
from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.common.v1 import money_pb2
from cleanse.inventory.v1 import availability_service_pb2 as av
from cleanse.inventory.v1 import availability_service_pb2_grpc as av_grpc
from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as settings_grpc
from mesh import client
from mesh.db import Database
from mesh.identity import INTERNAL_HEADER, InternalTokens
from services.catalog.app import CatalogApp, build
from services.catalog.config import Settings
from tests.conftest import free_address, service_database_fixture
from tests.support.rpc import TestKeys, serve

ADMIN = "adminUsers/a-catalog-manager"
DISABLED_ADMIN = "adminUsers/a-disabled"
PERMS = ("catalog.read", "catalog.write")


class FakeAuth(auth_service_pb2_grpc.AuthServiceServicer):
    """Knows two admins: one active, one disabled. Counts lookups."""

    def __init__(self) -> None:
        self.calls = 0
        self.admins = {
            ADMIN: resources_pb2.AdminUser(name=ADMIN, email="cm@cleanse.local", active=True),
            DISABLED_ADMIN: resources_pb2.AdminUser(
                name=DISABLED_ADMIN, email="gone@cleanse.local", active=False
            ),
        }

    async def BatchGetAdminUsers(self, request: Any, context: Any) -> Any:
        self.calls += 1
        md = dict(context.invocation_metadata() or ())
        if INTERNAL_HEADER not in md:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "internal only")
        found = [self.admins[n] for n in request.names if n in self.admins]
        missing = [n for n in request.names if n not in self.admins]
        return auth_service_pb2.BatchGetAdminUsersResponse(admin_users=found, missing=missing)


class FakeInventory(av_grpc.AvailabilityServiceServicer):
    """Availability per variant id; unknown ids are OUT_OF_STOCK (as the contract says)."""

    def __init__(self) -> None:
        self.stock: dict[str, tuple[int, int]] = {}
        self.calls = 0
        self.default = (av.STOCK_STATUS_IN_STOCK, 100)

    async def BatchGetAvailability(self, request: Any, context: Any) -> Any:
        self.calls += 1
        return av.BatchGetAvailabilityResponse(
            availabilities=[
                av.VariantAvailability(
                    variant_id=vid,
                    status=self.stock.get(vid, self.default)[0],
                    available=self.stock.get(vid, self.default)[1],
                )
                for vid in request.variant_ids
            ]
        )


class FakeSettings(settings_grpc.SettingsInternalServiceServicer):
    """ListTaxClasses: the classes settings has GST rules for. Counts calls."""

    def __init__(self) -> None:
        self.classes = {"apparel", "standard"}
        self.calls = 0
        self.down = False

    async def ListTaxClasses(self, request: Any, context: Any) -> Any:
        self.calls += 1
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "settings is down")
        return settings_pb2.ListTaxClassesResponse(tax_classes=sorted(self.classes))


@dataclass
class Catalog:
    wired: CatalogApp
    channel: grpc.aio.Channel
    keys: TestKeys
    auth: FakeAuth
    inventory: FakeInventory
    inventory_address: str
    backend: str
    settings: FakeSettings
    admin_stub: catalog_admin_service_pb2_grpc.CatalogAdminServiceStub = field(init=False)
    store: storefront_service_pb2_grpc.StorefrontServiceStub = field(init=False)
    internal_stub: catalog_internal_service_pb2_grpc.CatalogInternalServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.admin_stub = catalog_admin_service_pb2_grpc.CatalogAdminServiceStub(self.channel)
        self.store = storefront_service_pb2_grpc.StorefrontServiceStub(self.channel)
        self.internal_stub = catalog_internal_service_pb2_grpc.CatalogInternalServiceStub(
            self.channel
        )

    def admin_md(self, sub: str = ADMIN, perms: tuple[str, ...] = PERMS) -> tuple:
        token = self.keys.mint("admin", perms, sub=sub, ttl=600)
        return (("authorization", f"Bearer {token}"),)

    def internal_md(self) -> tuple:
        import os

        token = InternalTokens("order", os.environ["CLEANSE_INTERNAL_SECRET"]).mint()
        return ((INTERNAL_HEADER, token),)

    async def admin(self, method: str, request: Any, **kw: Any) -> Any:
        return await getattr(self.admin_stub, method)(request, metadata=self.admin_md(), **kw)

    async def internal(self, method: str, request: Any) -> Any:
        return await getattr(self.internal_stub, method)(request, metadata=self.internal_md())


def money(paise: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=paise, currency_code="INR")


def uniq(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def sku(prefix: str = "T") -> str:
    return f"{prefix}-{secrets.token_hex(4).upper()}"


def variant(
    mrp: int = 50000, price: int = 45000, cost: int | None = 20000, **kw: Any
) -> res.Variant:
    v = res.Variant(sku=kw.pop("sku", sku()), mrp=money(mrp), price=money(price), **kw)
    if cost is not None:
        v.cost_price.CopyFrom(money(cost))
    return v


def product(slug: str | None = None, **kw: Any) -> res.Product:
    kw.setdefault("status", res.PRODUCT_STATUS_ACTIVE)
    kw.setdefault("hsn_code", "3304")
    kw.setdefault("tax_class", "standard")
    if "variants" not in kw:
        kw["variants"] = [variant()]
    return res.Product(slug=slug or uniq("p"), title=kw.pop("title", "Test Oil"), **kw)


catalog_database_url = service_database_fixture("catalog")


@pytest.fixture(scope="session")
async def catalog(catalog_database_url: str) -> AsyncIterator[Catalog]:
    auth = FakeAuth()
    inventory = FakeInventory()
    auth_server, auth_addr = await serve(
        auth, auth_service_pb2_grpc.add_AuthServiceServicer_to_server
    )
    inv_server, inv_addr = await serve(inventory, av_grpc.add_AvailabilityServiceServicer_to_server)
    settings_fake = FakeSettings()
    settings_server, settings_addr = await serve(
        settings_fake, settings_grpc.add_SettingsInternalServiceServicer_to_server
    )
    keys = TestKeys.generate("catalog-test-key")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_CATALOG_ADDR", str(free_address()))
    mp.setenv("CLEANSE_CATALOG_METRICS_ADDR", str(free_address()))
    mp.setenv("CLEANSE_AUTH_ADDR", auth_addr)
    mp.setenv("CLEANSE_INVENTORY_ADDR", inv_addr)
    mp.setenv("CLEANSE_SETTINGS_ADDR", settings_addr)
    db = Database("catalog", catalog_database_url)
    settings = Settings(
        demo_data=True, stock_cache_seconds=0, admin_cache_seconds=0, tax_class_cache_seconds=0
    )
    wired = build(db, settings, jwks_source=keys.source)
    await wired.app.start()
    channel = grpc.aio.insecure_channel(str(wired.app.address))
    backend = "sqlite" if db.is_sqlite else "postgres"
    try:
        yield Catalog(wired, channel, keys, auth, inventory, inv_addr, backend, settings_fake)
    finally:
        await channel.close()
        await wired.app.stop()
        await auth_server.stop(None)
        await inv_server.stop(None)
        await settings_server.stop(None)
        await client.close_all()
        mp.undo()
