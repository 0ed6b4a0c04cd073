"""One-time login code policy and sliding-window rate limits. Plain Python, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.auth.config import RateLimit

CODE_LENGTH = 6


class OtpCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # counts as an attempt
    EXHAUSTED = "exhausted"  # too many wrong attempts: a new code is needed
    INVALID = "invalid"  # none sent, expired, superseded or already used


@dataclass(frozen=True)
class OtpState:
    """What the latest code sent to a phone looks like."""

    expire_time: datetime
    attempts: int
    consumed: bool


def check_otp(
    state: OtpState | None, code_matches: bool, now: datetime, max_attempts: int
) -> OtpCheck:
    """Judge one verification attempt against the latest code of a phone.

    Only the latest code counts; once `max_attempts` wrong codes were tried even the
    right code fails until a new one is sent.
    """
    if state is None or state.consumed or now >= state.expire_time:
        return OtpCheck.INVALID
    if state.attempts >= max_attempts:
        return OtpCheck.EXHAUSTED
    return OtpCheck.OK if code_matches else OtpCheck.WRONG


def is_plausible_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit()


def retry_after(hits: Sequence[float], limits: Sequence[RateLimit], now: float) -> float | None:
    """Seconds until one more event is allowed under every limit, or None if allowed now.

    `hits` are the epoch times of earlier events (any order).
    """
    wait = 0.0
    for lim in limits:
        recent = sorted(t for t in hits if t > now - lim.window_seconds)
        if len(recent) >= lim.limit:
            # The oldest event that must leave the window before one more fits.
            oldest = recent[len(recent) - lim.limit]
            wait = max(wait, oldest + lim.window_seconds - now)
    return wait if wait > 0 else None


def prune(hits: Sequence[float], limits: Sequence[RateLimit], now: float) -> list[float]:
    """The hits still inside the longest window."""
    longest = max((lim.window_seconds for lim in limits), default=0)
    return sorted(t for t in hits if t > now - longest)
