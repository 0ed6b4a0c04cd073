"""A settings service running in-process on an ephemeral port, called over real gRPC,
with a tiny fake auth service (AuthService.BatchGetUsers over real gRPC) that knows
the users a test registers with it.

One settings server per database back end for the whole session, seeded with the
demo data; tests keep out of each other's way with their own ids, HSN prefixes,
users, session ids and client addresses.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc, resources_pb2
from cleanse.settings.v1 import (
    analytics_service_pb2_grpc,
    settings_admin_service_pb2_grpc,
    settings_internal_service_pb2_grpc,
    storefront_settings_service_pb2_grpc,
)
from mesh import client
from mesh.db import Database
from mesh.outbox import RelaySettings
from services.settings.app import SettingsApp, build
from services.settings.config import RateLimit, Settings
from tests.conftest import free_address, service_database_fixture
from tests.support.rpc import TestKeys, serve

settings_database_url = service_database_fixture("settings")

ADMIN_PERMS = (
    "settings.read",
    "settings.write",
    "segments.read",
    "segments.write",
    "analytics.read",
)


class FakeAuth(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self) -> None:
        self.users: dict[str, datetime] = {}
        self.calls = 0

    async def BatchGetUsers(self, request: Any, context: Any) -> Any:
        self.calls += 1
        out = auth_service_pb2.BatchGetUsersResponse()
        for name in request.names:
            created = self.users.get(name)
            if created is None:
                out.missing.append(name)
                continue
            t = timestamp_pb2.Timestamp()
            t.FromDatetime(created)
            out.users.append(resources_pb2.User(name=name, create_time=t))
        return out


def unique(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_hex(5)}"


@dataclass
class SettingsHarness:
    wired: SettingsApp
    auth: FakeAuth
    channel: grpc.aio.Channel
    keys: TestKeys
    backend: str
    admin: settings_admin_service_pb2_grpc.SettingsAdminServiceStub = field(init=False)
    storefront: storefront_settings_service_pb2_grpc.StorefrontSettingsServiceStub = field(
        init=False
    )
    analytics: analytics_service_pb2_grpc.AnalyticsServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.admin = settings_admin_service_pb2_grpc.SettingsAdminServiceStub(self.channel)
        self.storefront = storefront_settings_service_pb2_grpc.StorefrontSettingsServiceStub(
            self.channel
        )
        self.analytics = analytics_service_pb2_grpc.AnalyticsServiceStub(self.channel)

    @property
    def internal(self) -> settings_internal_service_pb2_grpc.SettingsInternalServiceStub:
        """Called through mesh.client, as the pricing service would (internal token)."""
        return client.stub(
            "settings", settings_internal_service_pb2_grpc.SettingsInternalServiceStub
        )

    def token(
        self, perms: tuple[str, ...] = ADMIN_PERMS, role: str = "admin", sub: str = ""
    ) -> str:
        sub = sub or ("adminUsers/a1" if role == "admin" else "users/u1")
        return self.keys.mint(role, perms, sub=sub, ttl=600)

    def md(self, **kw: Any) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(**kw)}"),)


@pytest.fixture(scope="session")
async def fake_auth() -> AsyncIterator[tuple[FakeAuth, str]]:
    auth = FakeAuth()
    server, addr = await serve(auth, auth_service_pb2_grpc.add_AuthServiceServicer_to_server)
    yield auth, addr
    await server.stop(0)


@pytest.fixture(scope="session")
async def settings_svc(
    settings_database_url: str, fake_auth: tuple[FakeAuth, str]
) -> AsyncIterator[SettingsHarness]:
    auth, auth_addr = fake_auth
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_SETTINGS_ADDR", str(free_address()))
    mp.setenv("CLEANSE_SETTINGS_METRICS_ADDR", str(free_address()))
    mp.setenv("CLEANSE_AUTH_ADDR", auth_addr)
    keys = TestKeys.generate("test")
    db = Database("settings", settings_database_url)
    wired = build(
        db,
        Settings(
            seed_demo=True,
            read_cache_seconds=30.0,
            # Tight limits so the tests reach them (tests use their own IPs / ids).
            ip_limit=RateLimit(per_second=1.0, burst=120.0),
            anonymous_limit=RateLimit(per_second=0.5, burst=60.0),
        ),
        relay_settings=RelaySettings(poll_interval=0.5),
        jwks_source=keys.source,
    )
    await wired.app.start()
    saved = client.settings()
    client.configure("pricing")  # the test process calls as the pricing service would
    channel = grpc.aio.insecure_channel(str(wired.app.address))
    backend = "sqlite" if db.is_sqlite else "postgres"
    try:
        yield SettingsHarness(wired, auth, channel, keys, backend)
    finally:
        await channel.close()
        await wired.app.stop()
        await client.close_all()
        client.update_settings(**saved.__dict__)
        mp.undo()
