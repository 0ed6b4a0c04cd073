"""Repositories: the queries the handlers need, hiding SQLAlchemy from them.

`unit_of_work(db)` opens one session for one use case and hands out the
repositories bound to it; it commits when the block ends and rolls back on error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database
from services.auth.config import RateLimit
from services.auth.domain.otp import prune, retry_after
from services.auth.models import (
    Address,
    AdminUser,
    AdminUserRole,
    AuditLog,
    Otp,
    RateLimitBucket,
    RefreshToken,
    Role,
    Session,
    User,
)


def _after(stmt: Select, column, after: str | None, *, descending: bool) -> Select:
    if after is not None:
        stmt = stmt.where(column < after if descending else column > after)
    return stmt.order_by(column.desc() if descending else column.asc())


def _like(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Users:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def get(self, user_id: str, *, for_update: bool = False) -> User | None:
        stmt = select(User).where(User.id == user_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.s.scalar(stmt)

    async def by_email(self, email_key: str) -> User | None:
        return await self.s.scalar(select(User).where(User.email_key == email_key))

    async def by_phone(self, phone: str) -> User | None:
        return await self.s.scalar(select(User).where(User.phone == phone))

    async def email_taken(self, email_key: str, *, other_than: str = "") -> bool:
        return bool(
            await self.s.scalar(
                select(exists().where(User.email_key == email_key, User.id != other_than))
            )
        )

    async def phone_taken(self, phone: str, *, other_than: str = "") -> bool:
        return bool(
            await self.s.scalar(select(exists().where(User.phone == phone, User.id != other_than)))
        )

    def add(self, user: User) -> None:
        self.s.add(user)

    async def search(self, query: str, after: str | None, limit: int) -> list[User]:
        stmt = select(User)
        if query:
            pattern = _like(query)
            stmt = stmt.where(
                or_(
                    func.lower(User.email).like(pattern, escape="\\"),
                    func.lower(User.phone).like(pattern, escape="\\"),
                    func.lower(User.full_name).like(pattern, escape="\\"),
                )
            )
        stmt = _after(stmt, User.id, after, descending=True).limit(limit)
        return list(await self.s.scalars(stmt))

    async def get_many(self, ids: Sequence[str]) -> dict[str, User]:
        if not ids:
            return {}
        rows = await self.s.scalars(select(User).where(User.id.in_(set(ids))))
        return {u.id: u for u in rows}


class Addresses:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def list(self, user_id: str, after: str | None, limit: int) -> list[Address]:
        stmt = _after(
            select(Address).where(Address.user_id == user_id), Address.id, after, descending=True
        )
        return list(await self.s.scalars(stmt.limit(limit)))

    async def get(self, user_id: str, address_id: str) -> Address | None:
        return await self.s.scalar(
            select(Address).where(Address.id == address_id, Address.user_id == user_id)
        )

    async def count(self, user_id: str) -> int:
        n = await self.s.scalar(
            select(func.count()).select_from(Address).where(Address.user_id == user_id)
        )
        return int(n or 0)

    async def newest(self, user_id: str) -> Address | None:
        return await self.s.scalar(
            select(Address).where(Address.user_id == user_id).order_by(Address.id.desc()).limit(1)
        )

    async def clear_default(self, user_id: str) -> None:
        await self.s.execute(
            update(Address)
            .where(Address.user_id == user_id, Address.is_default.is_(True))
            .values(is_default=False)
        )

    def add(self, address: Address) -> None:
        self.s.add(address)

    async def delete(self, address: Address) -> None:
        await self.s.delete(address)
        await self.s.flush()


class Sessions:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        stmt = select(Session).where(Session.id == session_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.s.scalar(stmt)

    def add(self, session: Session) -> None:
        self.s.add(session)

    async def list_active(
        self, subject: str, now: datetime, after: str | None, limit: int
    ) -> list[Session]:
        stmt = select(Session).where(
            Session.subject == subject, Session.revoke_time.is_(None), Session.expire_time > now
        )
        stmt = _after(stmt, Session.id, after, descending=True).limit(limit)
        return list(await self.s.scalars(stmt))

    async def revoke_all(self, subject: str, now: datetime, reason: str, *, keep: str = "") -> int:
        result = await self.s.execute(
            update(Session)
            .where(Session.subject == subject, Session.revoke_time.is_(None), Session.id != keep)
            .values(revoke_time=now, revoke_reason=reason)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class RefreshTokens:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        return await self.s.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )

    def add(self, token: RefreshToken) -> None:
        self.s.add(token)


class Otps:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def latest(self, phone: str) -> Otp | None:
        return await self.s.scalar(
            select(Otp).where(Otp.phone == phone).order_by(Otp.id.desc()).limit(1).with_for_update()
        )

    def add(self, otp: Otp) -> None:
        self.s.add(otp)

    async def purge_before(self, phone: str, before: datetime) -> None:
        await self.s.execute(delete(Otp).where(Otp.phone == phone, Otp.expire_time < before))


class AdminUsers:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def get(self, admin_id: str, *, for_update: bool = False) -> AdminUser | None:
        stmt = select(AdminUser).where(AdminUser.id == admin_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.s.scalar(stmt)

    async def by_email(self, email_key: str) -> AdminUser | None:
        return await self.s.scalar(select(AdminUser).where(AdminUser.email_key == email_key))

    async def list(self, after: str | None, limit: int) -> list[AdminUser]:
        stmt = _after(select(AdminUser), AdminUser.id, after, descending=False).limit(limit)
        return list(await self.s.scalars(stmt))

    async def get_many(self, ids: Sequence[str]) -> dict[str, AdminUser]:
        if not ids:
            return {}
        rows = await self.s.scalars(select(AdminUser).where(AdminUser.id.in_(set(ids))))
        return {a.id: a for a in rows}

    async def count(self) -> int:
        return int(await self.s.scalar(select(func.count()).select_from(AdminUser)) or 0)

    def add(self, admin: AdminUser) -> None:
        self.s.add(admin)


class Roles:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def get(self, role_id: str, *, for_update: bool = False) -> Role | None:
        stmt = select(Role).where(Role.id == role_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.s.scalar(stmt)

    async def get_many(self, ids: Sequence[str]) -> dict[str, Role]:
        if not ids:
            return {}
        rows = await self.s.scalars(select(Role).where(Role.id.in_(set(ids))))
        return {r.id: r for r in rows}

    async def list(self, after: str | None, limit: int) -> list[Role]:
        stmt = _after(select(Role), Role.id, after, descending=False).limit(limit)
        return list(await self.s.scalars(stmt))

    async def in_use(self, role_id: str) -> bool:
        return bool(await self.s.scalar(select(exists().where(AdminUserRole.role_id == role_id))))

    def add(self, role: Role) -> None:
        self.s.add(role)

    async def delete(self, role: Role) -> None:
        await self.s.delete(role)
        await self.s.flush()


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    outcome: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None


class AuditLogs:
    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    def add(self, entry: AuditLog) -> None:
        self.s.add(entry)

    async def list(self, f: AuditFilter, after: str | None, limit: int) -> list[AuditLog]:
        stmt = select(AuditLog)
        if f.actor:
            stmt = stmt.where(AuditLog.actor == f.actor)
        if f.action:
            stmt = stmt.where(AuditLog.action == f.action)
        if f.outcome:
            stmt = stmt.where(AuditLog.outcome == f.outcome)
        if f.start_time is not None:
            stmt = stmt.where(AuditLog.create_time >= f.start_time)
        if f.end_time is not None:
            stmt = stmt.where(AuditLog.create_time < f.end_time)
        stmt = _after(stmt, AuditLog.id, after, descending=True).limit(limit)
        return list(await self.s.scalars(stmt))


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float


class RateLimits:
    """Sliding-window limits kept in one row per key, locked while checked."""

    def __init__(self, s: AsyncSession) -> None:
        self.s = s

    async def hit(self, key: str, limits: Sequence[RateLimit], now: datetime) -> RateDecision:
        """Record one event under `key` unless a limit is reached (then record nothing).

        `retry_after` says how long until one more event is allowed.
        """
        dialect = self.s.bind.dialect.name
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.s.execute(
            ins(RateLimitBucket)
            .values(key=key, hits=[], update_time=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        bucket = await self.s.scalar(
            select(RateLimitBucket).where(RateLimitBucket.key == key).with_for_update()
        )
        assert bucket is not None
        t = now.timestamp()
        hits = prune(bucket.hits or [], limits, t)
        wait = retry_after(hits, limits, t)
        if wait is not None:
            return RateDecision(False, wait)
        bucket.hits = [*hits, t]
        bucket.update_time = now
        return RateDecision(True, retry_after(bucket.hits, limits, t) or 0.0)


class Repos:
    """The repositories of one unit of work, sharing its session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = Users(session)
        self.addresses = Addresses(session)
        self.sessions = Sessions(session)
        self.refresh_tokens = RefreshTokens(session)
        self.otps = Otps(session)
        self.admins = AdminUsers(session)
        self.roles = Roles(session)
        self.audit = AuditLogs(session)
        self.rate_limits = RateLimits(session)

    async def flush(self) -> None:
        await self.session.flush()


@asynccontextmanager
async def unit_of_work(db: Database, *, write: bool = True) -> AsyncIterator[Repos]:
    """One use case's transaction: committed at the end, rolled back on an exception."""
    if write:
        async with db.transaction() as s:
            yield Repos(s)
    else:
        async with db.session() as s:
            yield Repos(s)
