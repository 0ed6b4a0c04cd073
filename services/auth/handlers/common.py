"""What every handler shares: who is calling, the audit log, the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from mesh import context as call_context
from mesh.db import utcnow
from mesh.identity import Identity
from services.auth.models import AuditLog
from services.auth.repository import Repos

Clock = Callable[[], datetime]

SUCCESS = "success"
FAILURE = "failure"


@dataclass(frozen=True)
class Caller:
    """The verified caller of one RPC plus where the request came from."""

    identity: Identity
    ip: str = ""
    request_id: str = ""
    user_agent: str = ""

    @classmethod
    def current(cls) -> Caller:
        ctx = call_context.current()
        return cls(
            identity=ctx.identity,
            ip=ctx.client_ip,
            request_id=ctx.request_id,
            user_agent=ctx.user_agent,
        )

    @property
    def actor_type(self) -> str:
        return self.identity.kind

    @property
    def actor(self) -> str:
        return self.identity.subject


def audit(
    repos: Repos,
    caller: Caller,
    action: str,
    *,
    target: str = "",
    outcome: str = SUCCESS,
    details: Mapping[str, object] | None = None,
    actor_type: str | None = None,
    actor: str | None = None,
    now: datetime | None = None,
) -> None:
    """Append one entry to the audit log, in the unit of work of `repos`."""
    repos.audit.add(
        AuditLog(
            actor_type=actor_type or caller.actor_type,
            actor=caller.actor if actor is None else actor,
            action=action,
            target=target,
            outcome=outcome,
            ip_address=caller.ip[:64],
            request_id=caller.request_id[:128],
            details={k: str(v) for k, v in (details or {}).items()},
            create_time=now or utcnow(),
        )
    )
