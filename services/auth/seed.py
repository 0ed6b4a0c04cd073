"""First-start data: the built-in roles and one super admin with a random password.

The super admin's password is generated (secrets) on the first start only, written
to <data dir>/admin-credentials.txt (mode 600) and logged once; it is never in the
code. Later starts change nothing that exists.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from mesh.db import Database, utcnow
from services.auth import passwords
from services.auth.domain import accounts, rbac
from services.auth.models import AdminUser, AuditLog, Role
from services.auth.repository import unit_of_work

log = logging.getLogger("cleanse.auth.seed")

CREDENTIALS_FILE = "admin-credentials.txt"


@dataclass(frozen=True)
class SeedRole:
    id: str
    display_name: str
    description: str
    # Every known permission starting with one of these (at seed time), plus `extra`.
    prefixes: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    system: bool = False


SEED_ROLES = (
    SeedRole(
        rbac.SUPER_ADMIN_ROLE,
        "Super admin",
        "Every permission, now and in future. Built in: cannot be changed or deleted.",
        extra=(rbac.ALL_PERMISSIONS,),
        system=True,
    ),
    SeedRole(
        "catalog_manager",
        "Catalog manager",
        "Manages products, collections, prices and stock.",
        prefixes=("catalog.", "inventory.", "pricing.", "cms."),
    ),
    SeedRole(
        "support",
        "Customer support",
        "Looks up customers and the audit log.",
        extra=("customers.read", "audit_logs.read"),
    ),
)


async def seed(
    db: Database, *, admin_email: str, data_dir: Path, known_permissions: Callable[[], list[str]]
) -> None:
    known = known_permissions()
    now = utcnow()
    async with unit_of_work(db) as r:
        # INSERT ... ON CONFLICT DO NOTHING: a role that exists is left as it is, and
        # replicas seeding an empty database at once do not fail on each other's rows.
        ins = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
        for spec in SEED_ROLES:
            if await r.roles.get(spec.id) is not None:
                continue
            perms = sorted(
                {p for p in known if p.startswith(spec.prefixes)} | set(spec.extra)
                if spec.prefixes
                else set(spec.extra)
            )
            await r.session.execute(
                ins(Role)
                .values(
                    id=spec.id,
                    display_name=spec.display_name,
                    description=spec.description,
                    permissions=perms,
                    system=spec.system,
                    create_time=now,
                    update_time=now,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
    async with unit_of_work(db, write=False) as r:
        if await r.admins.count() > 0:
            return
    password = secrets.token_urlsafe(18)
    password_hash = await passwords.hash_password(password)
    try:
        async with unit_of_work(db) as r:
            if await r.admins.count() > 0:
                return
            role = await r.roles.get(rbac.SUPER_ADMIN_ROLE)
            admin = AdminUser(
                email=admin_email,
                email_key=accounts.normalize_email(admin_email),
                full_name="Super Admin",
                password_hash=password_hash,
                active=True,
                create_time=now,
                update_time=now,
            )
            admin.roles = [role] if role else []
            r.admins.add(admin)
            await r.flush()
            r.audit.add(
                AuditLog(
                    actor_type="service",
                    actor="auth",
                    action="admin_user.create",
                    target=admin.name,
                    outcome="success",
                    details={"email": admin.email_key, "roles": rbac.SUPER_ADMIN_ROLE, "seed": "1"},
                    create_time=now,
                )
            )
    except IntegrityError:  # another replica seeded at the same moment
        return
    path = write_credentials(data_dir, admin_email, password)
    log.warning(
        "seeded super admin %s; password written to %s (shown once): %s",
        admin_email,
        path,
        password,
        extra={"admin_email": admin_email, "credentials_file": str(path)},
    )


def write_credentials(data_dir: Path, email: str, password: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"email: {email}\npassword: {password}\n")
    os.chmod(path, 0o600)
    return path
