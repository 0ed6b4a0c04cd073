"""Wiring: the auth service's database, keys, handlers and servicers on a ServiceApp."""

from __future__ import annotations

from dataclasses import dataclass

from cleanse.auth.v1 import (
    account_service_pb2_grpc,
    admin_service_pb2_grpc,
    auth_service_pb2_grpc,
)
from mesh.contracts import admin_permissions
from mesh.db import Database, utcnow
from mesh.identity import internal_secret
from mesh.server import ServiceApp
from services.auth.config import Settings
from services.auth.handlers.account import AccountHandlers
from services.auth.handlers.admin import AdminHandlers
from services.auth.handlers.auth import AuthHandlers
from services.auth.handlers.common import Clock
from services.auth.otp import EngagementOtpSender, LogOtpSender, OtpHasher, OtpSender
from services.auth.seed import seed
from services.auth.servicer import AccountService, AdminService, AuthService
from services.auth.tokens import KeyStore


@dataclass
class AuthApp:
    app: ServiceApp
    db: Database
    settings: Settings
    keys: KeyStore
    auth: AuthHandlers
    account: AccountHandlers
    admin: AdminHandlers


def otp_sender_for(settings: Settings) -> OtpSender:
    """CLEANSE_OTP_SENDER: "engagement" delivers by SMS through the engagement
    service (no fallback when it is down); "log" (default) writes codes to the log."""
    if settings.otp_sender == "engagement":
        return EngagementOtpSender(outbox=settings.otp_outbox_file)
    return LogOtpSender(settings.otp_outbox_file)


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    otp_sender: OtpSender | None = None,
    clock: Clock = utcnow,
) -> AuthApp:
    settings = settings or Settings.from_env()
    secret = internal_secret()
    keys = KeyStore(db, secret, settings.access_token_ttl_seconds)
    # Access tokens are verified against our own key store, not by calling ourselves.
    app = ServiceApp("auth", readiness=db.ready, jwks_source=keys.jwks)
    keys.on_change(app.verifier.set_jwks)
    auth = AuthHandlers(
        db,
        settings,
        keys,
        otp_sender or otp_sender_for(settings),
        OtpHasher(secret),
        clock,
    )
    account = AccountHandlers(db, clock)
    admin = AdminHandlers(db, clock, admin_permissions)
    app.add(auth_service_pb2_grpc.add_AuthServiceServicer_to_server, AuthService(auth, account))
    app.add(
        account_service_pb2_grpc.add_AccountServiceServicer_to_server,
        AccountService(auth, account),
    )
    app.add(admin_service_pb2_grpc.add_AdminServiceServicer_to_server, AdminService(auth, admin))

    async def startup() -> None:
        await db.migrate()
        await keys.ensure_key()
        await seed(
            db,
            admin_email=settings.admin_email,
            data_dir=settings.data_dir,
            known_permissions=admin_permissions,
        )

    app.on_startup(startup)
    app.on_shutdown(db.dispose)
    return AuthApp(app, db, settings, keys, auth, account, admin)
