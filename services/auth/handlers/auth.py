"""Sign-up, sign-in (password, OTP, admin), token refresh and sessions.

Failures that must leave a trace (a wrong password, a wrong OTP, a reused refresh
token) are recorded in their own committed unit of work before the error is raised:
raising inside the unit of work would roll the record back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mesh.db import Database, on_conflict
from mesh.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Violations,
)
from mesh.identity import Identity
from mesh.resources import parse_name
from services.auth import passwords
from services.auth.config import Settings
from services.auth.domain import accounts, rbac
from services.auth.domain.otp import OtpCheck, OtpState, check_otp, is_plausible_code
from services.auth.handlers.common import FAILURE, Caller, Clock, audit
from services.auth.models import AdminUser, Otp, RefreshToken, Session, User
from services.auth.otp import OtpHasher, OtpSender, generate_code
from services.auth.repository import Repos, unit_of_work
from services.auth.tokens import KeyStore, TokenIssuer

MAX_BATCH = 500


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expire_time: datetime


@dataclass(frozen=True)
class NewRefresh:
    session: Session
    token: str
    expire_time: datetime


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_exists(field: str) -> AlreadyExists:
    return AlreadyExists(
        f"an account with this {field} already exists",
        reason="ACCOUNT_EXISTS",
        metadata={"field": field},
    )


def invalid_credentials() -> Unauthenticated:
    return Unauthenticated("invalid email or password", reason="INVALID_CREDENTIALS")


def session_revoked() -> Unauthenticated:
    return Unauthenticated("the session is expired or revoked", reason="SESSION_REVOKED")


class AuthHandlers:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        keys: KeyStore,
        otp_sender: OtpSender,
        otp_hasher: OtpHasher,
        clock: Clock,
    ) -> None:
        self.db = db
        self.settings = settings
        self.keys = keys
        self.issuer = TokenIssuer(keys, settings.access_token_ttl_seconds)
        self.otp_sender = otp_sender
        self.otp_hasher = otp_hasher
        self.clock = clock

    # --- sessions and tokens -------------------------------------------------------

    def _start_session(self, r: Repos, subject: str, caller: Caller, now: datetime) -> NewRefresh:
        expire = now + timedelta(seconds=self.settings.refresh_token_ttl_seconds)
        session = Session(
            subject=subject,
            user_agent=caller.user_agent[:512],
            ip_address=caller.ip[:64],
            create_time=now,
            last_used_time=now,
            expire_time=expire,
        )
        r.sessions.add(session)
        return self._new_refresh(r, session, now)

    def _new_refresh(self, r: Repos, session: Session, now: datetime) -> NewRefresh:
        token = secrets.token_urlsafe(32)
        expire = now + timedelta(seconds=self.settings.refresh_token_ttl_seconds)
        session.expire_time = expire
        r.refresh_tokens.add(
            RefreshToken(
                session=session,
                token_hash=_hash_refresh(token),
                create_time=now,
                expire_time=expire,
            )
        )
        return NewRefresh(session, token, expire)

    async def _tokens(
        self, refresh: NewRefresh, role: str, permissions: Sequence[str] = ()
    ) -> Tokens:
        access = await self.issuer.access_token(
            subject=refresh.session.subject,
            role=role,
            session=refresh.session.name,
            permissions=permissions,
        )
        return Tokens(
            access, refresh.token, self.settings.access_token_ttl_seconds, refresh.expire_time
        )

    async def require_active_session(self, identity: Identity) -> None:
        """Reject access tokens whose session was revoked (auth's own RPCs only: other
        services rely on the access token's short lifetime)."""
        if identity.kind not in ("customer", "admin"):
            return
        sid = parse_name(identity.session, "sessions")
        if sid is None:
            raise session_revoked()
        async with unit_of_work(self.db, write=False) as r:
            session = await r.sessions.get(sid)
            if (
                session is None
                or session.subject != identity.subject
                or not session.is_active(self.clock())
            ):
                raise session_revoked()
            if identity.is_admin:
                admin = await r.admins.get(identity.subject_id)
                if admin is None or not admin.active:
                    raise Unauthenticated(
                        "the admin account is disabled", reason="ACCOUNT_DISABLED"
                    )

    # --- customers -----------------------------------------------------------------

    async def register(
        self, caller: Caller, *, email: str, password: str, full_name: str, phone: str
    ) -> tuple[User, Tokens]:
        v = Violations()
        email = accounts.validate_email(email, v)
        accounts.validate_password(password, v)
        full_name = accounts.validate_full_name(full_name, v)
        if phone:
            phone = accounts.validate_phone(phone, v)
        v.raise_if_any()
        password_hash = await passwords.hash_password(password)
        now = self.clock()
        email_key = accounts.normalize_email(email)
        # A concurrent registration won the race for the email or phone.
        with on_conflict(account_exists("email or phone")):
            async with unit_of_work(self.db) as r:
                if await r.users.email_taken(email_key):
                    raise account_exists("email")
                if phone and await r.users.phone_taken(phone):
                    raise account_exists("phone")
                user = User(
                    email=email,
                    email_key=email_key,
                    phone=phone or None,
                    full_name=full_name,
                    password_hash=password_hash,
                    create_time=now,
                    update_time=now,
                )
                r.users.add(user)
                await r.flush()
                refresh = self._start_session(r, user.name, caller, now)
                audit(
                    r,
                    caller,
                    "auth.register",
                    target=user.name,
                    actor_type="customer",
                    actor=user.name,
                    now=now,
                )
        return user, await self._tokens(refresh, "customer")

    async def login_with_password(
        self, caller: Caller, *, email: str, password: str
    ) -> tuple[User, Tokens]:
        email_key = accounts.normalize_email(email)
        async with unit_of_work(self.db, write=False) as r:
            user = await r.users.by_email(email_key)
        # Verify against a dummy hash for unknown emails: same answer, same time.
        # Stored passwords are at most PASSWORD_MAX long: cap the work a huge input causes.
        password = password[: accounts.PASSWORD_MAX + 1]
        ok = await passwords.verify_password(user.password_hash if user else None, password)
        now = self.clock()
        async with unit_of_work(self.db) as r:
            if not ok or user is None:
                audit(
                    r,
                    caller,
                    "auth.login_failed",
                    target=user.name if user else "",
                    outcome=FAILURE,
                    details={"email": email_key[:254], "method": "password"},
                    now=now,
                )
            else:
                refresh = self._start_session(r, user.name, caller, now)
                audit(
                    r,
                    caller,
                    "auth.login",
                    target=user.name,
                    actor_type="customer",
                    actor=user.name,
                    details={"method": "password"},
                    now=now,
                )
        if not ok or user is None:
            raise invalid_credentials()
        return user, await self._tokens(refresh, "customer")

    # --- OTP -----------------------------------------------------------------------

    async def send_login_otp(self, caller: Caller, *, phone: str) -> tuple[datetime, int]:
        v = Violations()
        phone = accounts.validate_phone(phone, v)
        v.raise_if_any()
        now = self.clock()
        code = generate_code()
        expire = now + timedelta(seconds=self.settings.otp_ttl_seconds)
        async with unit_of_work(self.db) as r:
            per_phone = await r.rate_limits.hit(
                f"otp:phone:{phone}", self.settings.otp_phone_limits, now
            )
            if not per_phone.allowed:
                raise ResourceExhausted(
                    "too many codes requested for this phone; try again later",
                    retry_after_seconds=per_phone.retry_after,
                    metadata={"limit": "phone"},
                )
            per_ip = await r.rate_limits.hit(
                f"otp:ip:{caller.ip[:64]}", self.settings.otp_ip_limits, now
            )
            if not per_ip.allowed:
                raise ResourceExhausted(
                    "too many codes requested from this address; try again later",
                    retry_after_seconds=per_ip.retry_after,
                    metadata={"limit": "ip"},
                )
            await r.otps.purge_before(phone, now - timedelta(days=1))
            r.otps.add(
                Otp(
                    phone=phone,
                    code_hash=self.otp_hasher.hash(phone, code),
                    create_time=now,
                    expire_time=expire,
                    ip_address=caller.ip[:64],
                )
            )
        await self.otp_sender.send(phone, code, expire)
        return expire, max(1, round(per_phone.retry_after))

    async def verify_login_otp(
        self, caller: Caller, *, phone: str, code: str
    ) -> tuple[User, Tokens, bool]:
        v = Violations()
        phone = accounts.validate_phone(phone, v)
        v.check(is_plausible_code(code), "code", "must be 6 digits")
        v.raise_if_any()
        now = self.clock()
        failure: ServiceError | None = None
        new_account = False
        async with unit_of_work(self.db) as r:
            otp = await r.otps.latest(phone)
            state = (
                OtpState(otp.expire_time, otp.attempts, otp.consume_time is not None)
                if otp
                else None
            )
            matches = otp is not None and self.otp_hasher.matches(otp.code_hash, phone, code)
            result = check_otp(state, matches, now, self.settings.otp_max_attempts)
            if result is OtpCheck.OK:
                assert otp is not None
                otp.consume_time = now
                user = await r.users.by_phone(phone)
                if user is None:
                    new_account = True
                    user = User(
                        phone=phone,
                        phone_verified=True,
                        full_name="",
                        create_time=now,
                        update_time=now,
                    )
                    r.users.add(user)
                    await r.flush()
                elif not user.phone_verified:
                    user.phone_verified = True
                    user.update_time = now
                refresh = self._start_session(r, user.name, caller, now)
                audit(
                    r,
                    caller,
                    "auth.login",
                    target=user.name,
                    actor_type="customer",
                    actor=user.name,
                    details={"method": "otp", "new_account": new_account},
                    now=now,
                )
            elif result is OtpCheck.WRONG:
                assert otp is not None
                otp.attempts += 1
                exhausted = otp.attempts >= self.settings.otp_max_attempts
                audit(
                    r,
                    caller,
                    "auth.otp_exhausted" if exhausted else "auth.otp_failed",
                    target=phone,
                    outcome=FAILURE,
                    details={"attempts": otp.attempts},
                    now=now,
                )
                failure = Unauthenticated("the code is wrong", reason="OTP_INVALID")
            elif result is OtpCheck.EXHAUSTED:
                audit(
                    r,
                    caller,
                    "auth.otp_exhausted",
                    target=phone,
                    outcome=FAILURE,
                    now=now,
                )
                failure = FailedPrecondition(
                    "too many wrong codes: request a new code", reason="OTP_ATTEMPTS_EXHAUSTED"
                )
            else:
                audit(
                    r,
                    caller,
                    "auth.otp_failed",
                    target=phone,
                    outcome=FAILURE,
                    details={"why": "expired, superseded, used or never sent"},
                    now=now,
                )
                failure = Unauthenticated(
                    "the code is expired or was never sent", reason="OTP_INVALID"
                )
        if failure is not None:
            raise failure
        return user, await self._tokens(refresh, "customer"), new_account

    # --- admins --------------------------------------------------------------------

    async def admin_login(
        self, caller: Caller, *, email: str, password: str
    ) -> tuple[AdminUser, Tokens, list[str]]:
        email_key = accounts.normalize_email(email)
        async with unit_of_work(self.db, write=False) as r:
            admin = await r.admins.by_email(email_key)
        password = password[: accounts.PASSWORD_MAX + 1]
        ok = await passwords.verify_password(admin.password_hash if admin else None, password)
        now = self.clock()
        failure: ServiceError | None = None
        async with unit_of_work(self.db) as r:
            if not ok or admin is None:
                audit(
                    r,
                    caller,
                    "admin.login_failed",
                    target=admin.name if admin else "",
                    outcome=FAILURE,
                    details={"email": email_key[:254]},
                    now=now,
                )
                failure = invalid_credentials()
            else:
                admin = await r.admins.get(admin.id)
                assert admin is not None
                if not admin.active:
                    audit(
                        r,
                        caller,
                        "admin.login_failed",
                        target=admin.name,
                        outcome=FAILURE,
                        details={"why": "account disabled"},
                        now=now,
                    )
                    failure = Unauthenticated(
                        "the admin account is disabled", reason="ACCOUNT_DISABLED"
                    )
                else:
                    admin.last_login_time = now
                    refresh = self._start_session(r, admin.name, caller, now)
                    audit(
                        r,
                        caller,
                        "admin.login",
                        target=admin.name,
                        actor_type="admin",
                        actor=admin.name,
                        now=now,
                    )
        if failure is not None:
            raise failure
        assert admin is not None
        perms = rbac.effective_permissions(role.permissions for role in admin.roles)
        return admin, await self._tokens(refresh, "admin", perms), perms

    # --- refresh -------------------------------------------------------------------

    async def refresh(self, caller: Caller, *, refresh_token: str) -> Tokens:
        now = self.clock()
        failure: ServiceError | None = None
        role = "customer"
        perms: list[str] = []
        async with unit_of_work(self.db) as r:
            stored = await r.refresh_tokens.by_hash(_hash_refresh(refresh_token))
            session = stored.session if stored else None
            if stored is None or session is None:
                failure = session_revoked()
            elif stored.use_time is not None:
                # A rotated token came back: someone holds a copy. Kill the family.
                if session.revoke_time is None:
                    session.revoke_time = now
                    session.revoke_reason = "refresh_token_reused"
                audit(
                    r,
                    caller,
                    "auth.refresh_token_reused",
                    target=session.name,
                    outcome=FAILURE,
                    actor_type="anonymous",
                    actor=session.subject,
                    details={"subject": session.subject},
                    now=now,
                )
                failure = Unauthenticated(
                    "refresh token reused: the session is revoked",
                    reason="REFRESH_TOKEN_REUSED",
                )
            elif not session.is_active(now) or stored.expire_time <= now:
                failure = session_revoked()
            else:
                if session.subject.startswith("adminUsers/"):
                    admin = await r.admins.get(session.subject.split("/", 1)[1])
                    if admin is None or not admin.active:
                        session.revoke_time = now
                        session.revoke_reason = "account_disabled"
                        failure = session_revoked()
                    else:
                        role = "admin"
                        perms = rbac.effective_permissions(x.permissions for x in admin.roles)
                if failure is None:
                    stored.use_time = now
                    session.last_used_time = now
                    session.ip_address = caller.ip[:64] or session.ip_address
                    refresh = self._new_refresh(r, session, now)
        if failure is not None:
            raise failure
        return await self._tokens(refresh, role, perms)

    async def logout(self, caller: Caller) -> None:
        sid = parse_name(caller.identity.session, "sessions") or ""
        async with unit_of_work(self.db) as r:
            session = await r.sessions.get(sid, for_update=True)
            if session is not None and session.subject == caller.actor:
                if session.revoke_time is None:
                    session.revoke_time = self.clock()
                    session.revoke_reason = "logout"

    async def list_sessions(
        self, caller: Caller, *, after: str | None, limit: int
    ) -> list[Session]:
        async with unit_of_work(self.db, write=False) as r:
            return await r.sessions.list_active(caller.actor, self.clock(), after, limit)

    async def revoke_session(self, caller: Caller, *, name: str) -> None:
        sid = parse_name(name, "sessions")
        if sid is None:
            raise InvalidArgument({"name": "must look like sessions/{session_id}"})
        async with unit_of_work(self.db) as r:
            session = await r.sessions.get(sid, for_update=True)
            if session is None or session.subject != caller.actor:
                raise NotFound(f"{name} not found")
            if session.revoke_time is None:
                session.revoke_time = self.clock()
                session.revoke_reason = "revoked_by_user"
                audit(r, caller, "auth.session_revoked", target=session.name)

    async def revoke_all_sessions(self, caller: Caller, *, keep_current: bool) -> int:
        keep = (parse_name(caller.identity.session, "sessions") or "") if keep_current else ""
        async with unit_of_work(self.db) as r:
            count = await r.sessions.revoke_all(
                caller.actor, self.clock(), "revoked_all_by_user", keep=keep
            )
            audit(
                r,
                caller,
                "auth.sessions_revoked_all",
                target=caller.actor,
                details={"count": count, "keep_current": keep_current},
            )
        return count

    # --- keys ----------------------------------------------------------------------

    async def rotate_signing_key(self, caller: Caller) -> str:
        async with unit_of_work(self.db) as r:
            kid = await self.keys.rotate(r.session)
            audit(r, caller, "auth.signing_key_rotated", target=f"signingKeys/{kid}")
        await self.keys.changed()
        return kid

    # --- internal lookups ----------------------------------------------------------

    async def batch_get_users(self, names: Sequence[str]) -> tuple[list[User], list[str]]:
        ids = _batch_ids(names, "users")
        async with unit_of_work(self.db, write=False) as r:
            found = await r.users.get_many([i for _, i in ids])
        return [found[i] for _, i in ids if i in found], [n for n, i in ids if i not in found]

    async def batch_get_admin_users(
        self, names: Sequence[str]
    ) -> tuple[list[AdminUser], list[str]]:
        ids = _batch_ids(names, "adminUsers")
        async with unit_of_work(self.db, write=False) as r:
            found = await r.admins.get_many([i for _, i in ids])
        return [found[i] for _, i in ids if i in found], [n for n, i in ids if i not in found]


def _batch_ids(names: Sequence[str], collection: str) -> list[tuple[str, str]]:
    v = Violations()
    if len(names) > MAX_BATCH:
        v.add("names", f"at most {MAX_BATCH} names per call")
        v.raise_if_any()
    out: list[tuple[str, str]] = []
    for i, name in enumerate(names):
        rid = parse_name(name, collection)
        if rid is None:
            v.add(f"names[{i}]", f"must look like {collection}/{{id}}")
        else:
            out.append((name, rid))
    v.raise_if_any()
    return out
