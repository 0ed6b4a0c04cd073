"""Roles and permissions. Plain Python, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mesh.errors import Violations

ALL_PERMISSIONS = "*"
SUPER_ADMIN_ROLE = "super_admin"
_ROLE_ID = re.compile(r"[a-z][a-z0-9_]{1,62}")


def role_id_from_name(name: str) -> str | None:
    """ "roles/support" -> "support"; None when `name` is not a role resource name."""
    prefix, sep, rid = name.partition("/")
    if prefix != "roles" or not sep or _ROLE_ID.fullmatch(rid) is None:
        return None
    return rid


def validate_permissions(
    permissions: Iterable[str], known: Iterable[str], v: Violations, field: str
) -> list[str]:
    """Permissions must be declared by some RPC's access policy, or be "*"."""
    allowed = set(known) | {ALL_PERMISSIONS}
    out: list[str] = []
    for i, perm in enumerate(permissions):
        if perm not in allowed:
            v.add(f"{field}[{i}]", f"unknown permission {perm!r}")
        elif perm not in out:
            out.append(perm)
    return sorted(out)


def effective_permissions(role_permissions: Iterable[Iterable[str]]) -> list[str]:
    """The union of the permissions of several roles."""
    out: set[str] = set()
    for perms in role_permissions:
        out.update(perms)
    return sorted(out)
