"""The auth service's tables. The schema changes only through migrations/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mesh.db import UTCDateTime, new_id, utcnow

ID = String(32)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    email: Mapped[str | None] = mapped_column(String(254))
    # Lower-cased email: uniqueness is case-insensitive.
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"users/{self.id}"


class Address(Base):
    __tablename__ = "addresses"
    __table_args__ = (Index("ix_addresses_user_id_id", "user_id", "id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(40), default="")
    recipient_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(16))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    landmark: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    state_code: Mapped[str] = mapped_column(String(2))
    pincode: Mapped[str] = mapped_column(String(6))
    country_code: Mapped[str] = mapped_column(String(2), default="IN")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"addresses/{self.id}"


class Session(Base):
    """A signed-in device: one refresh-token family."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_subject_id", "subject", "id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # "users/{id}" or "adminUsers/{id}".
    subject: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expire_time: Mapped[datetime] = mapped_column(UTCDateTime)
    revoke_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str] = mapped_column(String(64), default="")

    @property
    def name(self) -> str:
        return f"sessions/{self.id}"

    def is_active(self, now: datetime) -> bool:
        return self.revoke_time is None and now < self.expire_time


class RefreshToken(Base):
    """Every refresh token ever issued in a session; only the newest is unused."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ID, ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the token (the token itself is 32 random bytes: no need for a KDF).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expire_time: Mapped[datetime] = mapped_column(UTCDateTime)
    use_time: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[Session] = relationship(lazy="joined", innerjoin=True)


class Otp(Base):
    __tablename__ = "otps"
    __table_args__ = (Index("ix_otps_phone_id", "phone", "id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expire_time: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consume_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_address: Mapped[str] = mapped_column(String(64), default="")


class AdminUser(Base):
    __tablename__ = "admin_users"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_time: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[Role]] = relationship(
        secondary="admin_user_roles", lazy="selectin", order_by="Role.id"
    )

    @property
    def name(self) -> str:
        return f"adminUsers/{self.id}"


class Role(Base):
    __tablename__ = "roles"

    # The role id chosen by its creator: "roles/{id}".
    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"roles/{self.id}"


class AdminUserRole(Base):
    __tablename__ = "admin_user_roles"

    admin_user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("admin_users.id", ondelete="CASCADE"), primary_key=True
    )
    # RESTRICT: a role cannot disappear while an admin holds it.
    role_id: Mapped[str] = mapped_column(
        String(63), ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class AuditLog(Base):
    """Append-only. Ids sort by time: newest first is id descending."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_actor_id", "actor", "id"),
        Index("ix_audit_logs_action_id", "action", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    actor_type: Mapped[str] = mapped_column(String(16))  # anonymous|customer|admin|service
    actor: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # success|failure
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SigningKey(Base):
    """Ed25519 keys that sign access tokens; private keys AES-GCM encrypted at rest."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # nonce (12 bytes) || AES-GCM ciphertext of the raw 32-byte private key.
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    public_key_x: Mapped[str] = mapped_column(String(64))  # base64url, as in the JWK
    create_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a rotation replaced this key; it keeps verifying until verify_until.
    retire_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateLimitBucket(Base):
    """Sliding-window log of recent events per key ("otp:phone:+91...", "otp:ip:...")."""

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    hits: Mapped[list[float]] = mapped_column(JSON, default=list)
    update_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
