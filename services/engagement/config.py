"""The engagement service's settings, read once from the environment at start-up.

    CLEANSE_ENGAGEMENT_EMAIL_FROM            "Cleanse <orders@cleanse.local>"
    CLEANSE_ENGAGEMENT_ADMIN_EMAILS          comma list: low-stock alerts go there
    CLEANSE_ENGAGEMENT_STOREFRONT_URL        links in messages (default: the edge)
    CLEANSE_ENGAGEMENT_MAX_ATTEMPTS          attempts before DEAD_LETTER (5)
    CLEANSE_ENGAGEMENT_RETRY_BASE_SECONDS    first retry delay, doubled each time (2)
    CLEANSE_ENGAGEMENT_RETRY_CAP_SECONDS     longest retry delay (600)
    CLEANSE_ENGAGEMENT_DISPATCH_POLL_SECONDS how often the dispatcher reads the table
                                             for due rows when nothing wakes it (5)
    CLEANSE_ENGAGEMENT_TEMPLATE_CACHE_SECONDS  active templates cached this long (5;
                                             0: read them for every event)
    CLEANSE_SMTP_USERNAME / _PASSWORD        SMTP AUTH (optional)
    CLEANSE_SMTP_STARTTLS                    1: STARTTLS after connecting (optional)
    CLEANSE_SMS_PROVIDER                     "log" (default) or "msg91"
    CLEANSE_MSG91_BASE_URL / _AUTHKEY / _SENDER   the HTTP SMS gateway (msg91)
    CLEANSE_ENGAGEMENT_CART_IDLE_MINUTES     a cart idle this long is abandoned (60)
    CLEANSE_ENGAGEMENT_CART_MAX_REMINDERS    reminders per cart at most (2)
    CLEANSE_ENGAGEMENT_CART_REMINDER_GAP_MINUTES  between two reminders (1440)
    CLEANSE_ENGAGEMENT_CART_SCAN_SECONDS     how often the scheduler looks (300)
    CLEANSE_ENGAGEMENT_CART_SOURCE           where abandoned carts come from: "order"
                                             (default; CartInternalService) or "none"

The SMTP server's address is the registry's "smtp" entry (CLEANSE_SMTP_ADDR).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from mesh import registry


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected an integer") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected a number") from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "")
    if not raw:
        return default
    return raw.lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    seed_templates: bool = True
    email_from: str = "Cleanse <orders@cleanse.local>"
    admin_emails: tuple[str, ...] = ("admin@cleanse.local",)
    # Default: the edge's address from the registry (what `make run` serves).
    storefront_url: str = field(default_factory=lambda: registry.address("edge").url)
    # Dispatcher: attempts before DEAD_LETTER and the backoff between them.
    max_attempts: int = 5
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 600.0
    # New rows, retries falling due and admin retries wake the dispatcher; the
    # poll only catches leases of other replicas that ran out.
    dispatch_poll_seconds: float = 5.0
    dispatch_batch: int = 50
    dispatch_concurrency: int = 8
    # A claimed notification is left to its dispatcher this long before another
    # replica may try it (a crashed dispatcher's rows come back).
    dispatch_lease_seconds: float = 60.0
    send_timeout_seconds: float = 10.0
    # Active templates per event type are cached this long (edits made through this
    # process drop the cache at once; another replica's within this time).
    template_cache_seconds: float = 5.0
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    sms_provider: str = "log"
    # Abandoned carts.
    cart_idle_minutes: int = 60
    cart_max_reminders: int = 2
    cart_reminder_gap_minutes: int = 24 * 60
    cart_scan_seconds: float = 300.0
    cart_source: str = "order"  # "order" (ListAbandonedCarts) or "none"

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise RuntimeError("CLEANSE_ENGAGEMENT_MAX_ATTEMPTS must be at least 1")
        if self.sms_provider not in ("log", "msg91"):
            raise RuntimeError("CLEANSE_SMS_PROVIDER must be 'log' or 'msg91'")
        if self.cart_max_reminders < 0:
            raise RuntimeError("CLEANSE_ENGAGEMENT_CART_MAX_REMINDERS must not be negative")
        if self.cart_source not in ("order", "none"):
            raise RuntimeError("CLEANSE_ENGAGEMENT_CART_SOURCE must be 'order' or 'none'")
        # A dispatcher sends only while a send and a tenth of the lease are left of it
        # (notifier.py), and takes hand-offs up to half a lease old.
        if self.send_timeout_seconds + 0.1 * self.dispatch_lease_seconds >= (
            0.5 * self.dispatch_lease_seconds
        ):
            raise RuntimeError("the send timeout must be under 40% of the dispatch lease")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        admins = env.get("CLEANSE_ENGAGEMENT_ADMIN_EMAILS")
        return cls(
            seed_templates=_flag(env, "CLEANSE_ENGAGEMENT_SEED_TEMPLATES", True),
            email_from=env.get("CLEANSE_ENGAGEMENT_EMAIL_FROM") or d.email_from,
            admin_emails=tuple(a.strip() for a in admins.split(",") if a.strip())
            if admins is not None
            else d.admin_emails,
            storefront_url=(
                env.get("CLEANSE_ENGAGEMENT_STOREFRONT_URL") or d.storefront_url
            ).rstrip("/"),
            max_attempts=_int(env, "CLEANSE_ENGAGEMENT_MAX_ATTEMPTS", d.max_attempts),
            retry_base_seconds=_float(
                env, "CLEANSE_ENGAGEMENT_RETRY_BASE_SECONDS", d.retry_base_seconds
            ),
            retry_cap_seconds=_float(
                env, "CLEANSE_ENGAGEMENT_RETRY_CAP_SECONDS", d.retry_cap_seconds
            ),
            dispatch_poll_seconds=_float(
                env, "CLEANSE_ENGAGEMENT_DISPATCH_POLL_SECONDS", d.dispatch_poll_seconds
            ),
            template_cache_seconds=_float(
                env, "CLEANSE_ENGAGEMENT_TEMPLATE_CACHE_SECONDS", d.template_cache_seconds
            ),
            smtp_username=env.get("CLEANSE_SMTP_USERNAME", ""),
            smtp_password=env.get("CLEANSE_SMTP_PASSWORD", ""),
            smtp_starttls=_flag(env, "CLEANSE_SMTP_STARTTLS", False),
            sms_provider=(env.get("CLEANSE_SMS_PROVIDER") or "log").lower(),
            cart_idle_minutes=_int(
                env, "CLEANSE_ENGAGEMENT_CART_IDLE_MINUTES", d.cart_idle_minutes
            ),
            cart_max_reminders=_int(
                env, "CLEANSE_ENGAGEMENT_CART_MAX_REMINDERS", d.cart_max_reminders
            ),
            cart_reminder_gap_minutes=_int(
                env, "CLEANSE_ENGAGEMENT_CART_REMINDER_GAP_MINUTES", d.cart_reminder_gap_minutes
            ),
            cart_scan_seconds=_float(
                env, "CLEANSE_ENGAGEMENT_CART_SCAN_SECONDS", d.cart_scan_seconds
            ),
            cart_source=(env.get("CLEANSE_ENGAGEMENT_CART_SOURCE") or "order").strip().lower(),
        )
