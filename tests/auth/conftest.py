"""An auth service running in-process on an ephemeral port, called over real gRPC.

One server per database back end for the whole session (`auth`); tests keep out of
each other's way with unique emails, phones and client IPs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from cleanse.auth.v1 import (
    account_service_pb2_grpc,
    admin_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
)
from mesh.db import Database
from services.auth.app import AuthApp, build
from services.auth.config import RateLimit, Settings
from tests.conftest import free_address, service_database_fixture

# Tight limits so the tests can reach them; per-IP limits are per test (own IP).
TEST_SETTINGS = dict(
    otp_phone_limits=(RateLimit(1, 1), RateLimit(5, 3600)),
    otp_ip_limits=(RateLimit(5, 3600),),
)


def unique_email() -> str:
    return f"user.{secrets.token_hex(5)}@Example.com"


def unique_phone() -> str:
    return "9" + "".join(str(secrets.randbelow(10)) for _ in range(9))


def unique_ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@dataclass
class AuthHarness:
    wired: AuthApp
    channel: grpc.aio.Channel
    outbox: Path
    data_dir: Path
    backend: str
    auth: auth_service_pb2_grpc.AuthServiceStub = field(init=False)
    account: account_service_pb2_grpc.AccountServiceStub = field(init=False)
    admin: admin_service_pb2_grpc.AdminServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.auth = auth_service_pb2_grpc.AuthServiceStub(self.channel)
        self.account = account_service_pb2_grpc.AccountServiceStub(self.channel)
        self.admin = admin_service_pb2_grpc.AdminServiceStub(self.channel)

    def latest_code(self, phone: str) -> str:
        """The newest code the log sender wrote to the outbox file for `phone`."""
        want = phone if phone.startswith("+91") else "+91" + phone
        for line in reversed(self.outbox.read_text().splitlines()):
            entry = json.loads(line)
            if entry["phone"] == want:
                return str(entry["code"])
        raise AssertionError(f"no code sent to {phone}")

    def admin_credentials(self) -> tuple[str, str]:
        text = (self.data_dir / "admin-credentials.txt").read_text()
        fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
        return fields["email"], fields["password"]

    async def register(
        self, *, email: str | None = None, password: str = "correct horse battery", **kw: str
    ) -> auth_service_pb2.RegisterCustomerResponse:
        return await self.auth.RegisterCustomer(
            auth_service_pb2.RegisterCustomerRequest(
                email=email or unique_email(),
                password=password,
                full_name=kw.pop("full_name", "Asha Verma"),
                **kw,
            )
        )

    async def customer_token(self) -> str:
        return (await self.register()).tokens.access_token

    async def super_admin_token(self) -> str:
        email, password = self.admin_credentials()
        resp = await self.auth.AdminLogin(
            auth_service_pb2.AdminLoginRequest(email=email, password=password)
        )
        return resp.tokens.access_token


auth_database_url = service_database_fixture("auth")


@pytest.fixture(scope="session")
async def auth(
    auth_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AuthHarness]:
    data_dir = tmp_path_factory.mktemp("auth-data")
    outbox = data_dir / "otp-outbox.jsonl"
    outbox.touch()
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_AUTH_ADDR", str(free_address()))
    mp.setenv("CLEANSE_AUTH_METRICS_ADDR", str(free_address()))
    settings = Settings(otp_outbox_file=outbox, data_dir=data_dir, **TEST_SETTINGS)  # type: ignore[arg-type]
    db = Database("auth", auth_database_url)
    wired = build(db, settings)
    await wired.app.start()
    channel = grpc.aio.insecure_channel(str(wired.app.address))
    backend = "sqlite" if db.is_sqlite else "postgres"
    try:
        yield AuthHarness(wired, channel, outbox, data_dir, backend)
    finally:
        await channel.close()
        await wired.app.stop()
        mp.undo()
