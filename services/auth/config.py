"""The auth service's settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mesh.db import data_dir


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected an integer") from None


OTP_SENDERS = ("log", "engagement")


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` events per `window_seconds` (sliding window)."""

    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Settings:
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    otp_ttl_seconds: int = 5 * 60  # 3..5 minutes
    otp_max_attempts: int = 5
    # Per phone: one code per 30 s and five per hour; per IP: twenty per hour.
    otp_phone_limits: tuple[RateLimit, ...] = (RateLimit(1, 30), RateLimit(5, 3600))
    otp_ip_limits: tuple[RateLimit, ...] = (RateLimit(20, 3600),)
    otp_outbox_file: Path | None = None
    # Who delivers login codes (services/auth/otp.py): "log" (development) or
    # "engagement" (SMS through the engagement service; no fallback when it is down).
    otp_sender: str = "log"
    admin_email: str = "admin@cleanse.local"
    data_dir: Path = field(default_factory=data_dir)

    def __post_init__(self) -> None:
        if not 180 <= self.otp_ttl_seconds <= 300:
            raise RuntimeError("CLEANSE_OTP_TTL_SECONDS must be between 180 and 300")
        if self.otp_max_attempts < 1:
            raise RuntimeError("otp_max_attempts must be positive")
        if self.otp_sender not in OTP_SENDERS:
            raise RuntimeError(
                f"CLEANSE_OTP_SENDER={self.otp_sender!r}: expected one of {', '.join(OTP_SENDERS)}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        outbox = env.get("CLEANSE_OTP_OUTBOX_FILE")
        return cls(
            access_token_ttl_seconds=_int(env, "CLEANSE_ACCESS_TOKEN_TTL_SECONDS", 15 * 60),
            refresh_token_ttl_seconds=_int(
                env, "CLEANSE_REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600
            ),
            otp_ttl_seconds=_int(env, "CLEANSE_OTP_TTL_SECONDS", 5 * 60),
            otp_outbox_file=Path(outbox) if outbox else None,
            otp_sender=(env.get("CLEANSE_OTP_SENDER") or "log").strip().lower(),
            admin_email=env.get("CLEANSE_ADMIN_EMAIL") or "admin@cleanse.local",
            data_dir=data_dir(env),
        )
