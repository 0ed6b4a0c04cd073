"""The admin console: admin users, roles and permissions, customers, the audit log.

Every change is appended to the audit log in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mesh.db import Database, on_conflict
from mesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Violations
from mesh.resources import check_update_mask, parse_name
from services.auth import passwords
from services.auth.domain import accounts, rbac
from services.auth.handlers.common import Caller, Clock, audit
from services.auth.models import AdminUser, AuditLog, Role, User
from services.auth.repository import AuditFilter, Repos, unit_of_work

ADMIN_USER_FIELDS = frozenset({"full_name", "roles", "active"})
ROLE_FIELDS = frozenset({"display_name", "description", "permissions"})
DESCRIPTION_MAX = 1000


def _role_ids(names: Sequence[str], v: Violations, field: str) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(names):
        rid = rbac.role_id_from_name(name)
        if rid is None:
            v.add(f"{field}[{i}]", "must look like roles/{role_id}")
        elif rid not in out:
            out.append(rid)
    return out


async def _roles(r: Repos, ids: list[str], field: str) -> list[Role]:
    found = await r.roles.get_many(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidArgument({field: f"unknown roles: {', '.join('roles/' + m for m in missing)}"})
    return [found[i] for i in ids]


class AdminHandlers:
    def __init__(
        self, db: Database, clock: Clock, known_permissions: Callable[[], list[str]]
    ) -> None:
        self.db = db
        self.clock = clock
        self.known_permissions = known_permissions

    # --- admin users ---------------------------------------------------------------

    async def list_admin_users(self, *, after: str | None, limit: int) -> list[AdminUser]:
        async with unit_of_work(self.db, write=False) as r:
            return await r.admins.list(after, limit)

    async def get_admin_user(self, *, name: str) -> AdminUser:
        aid = parse_name(name, "adminUsers")
        if aid is None:
            raise InvalidArgument({"name": "must look like adminUsers/{admin_user_id}"})
        async with unit_of_work(self.db, write=False) as r:
            admin = await r.admins.get(aid)
        if admin is None:
            raise NotFound(f"{name} not found")
        return admin

    async def create_admin_user(
        self,
        caller: Caller,
        *,
        email: str,
        full_name: str,
        roles: Sequence[str],
        initial_password: str,
    ) -> AdminUser:
        v = Violations()
        email = accounts.validate_email(email, v, "admin_user.email")
        full_name = accounts.validate_full_name(full_name, v, "admin_user.full_name")
        role_ids = _role_ids(roles, v, "admin_user.roles")
        accounts.validate_password(
            initial_password, v, "initial_password", minimum=accounts.ADMIN_PASSWORD_MIN
        )
        v.raise_if_any()
        password_hash = await passwords.hash_password(initial_password)
        now = self.clock()
        key = accounts.normalize_email(email)
        with on_conflict(
            AlreadyExists("an admin user with this email already exists", reason="ACCOUNT_EXISTS")
        ):
            async with unit_of_work(self.db) as r:
                if await r.admins.by_email(key) is not None:
                    raise AlreadyExists(
                        "an admin user with this email already exists", reason="ACCOUNT_EXISTS"
                    )
                admin = AdminUser(
                    email=email,
                    email_key=key,
                    full_name=full_name,
                    password_hash=password_hash,
                    active=True,
                    create_time=now,
                    update_time=now,
                )
                admin.roles = await _roles(r, role_ids, "admin_user.roles")
                r.admins.add(admin)
                await r.flush()
                audit(
                    r,
                    caller,
                    "admin_user.create",
                    target=admin.name,
                    details={"email": key, "roles": ",".join(role_ids)},
                    now=now,
                )
        return admin

    async def update_admin_user(
        self,
        caller: Caller,
        *,
        name: str,
        full_name: str,
        roles: Sequence[str],
        active: bool,
        paths: list[str],
    ) -> AdminUser:
        v = Violations()
        aid = parse_name(name, "adminUsers")
        if aid is None:
            v.add("admin_user.name", "must look like adminUsers/{admin_user_id}")
        if paths:
            check_update_mask(paths, ADMIN_USER_FIELDS, v)
        else:
            # `active` is a bool: only an explicit mask can change it.
            paths = [p for p, val in (("full_name", full_name), ("roles", roles)) if val]
            if not paths:
                v.add("update_mask", "nothing to update")
        fields = set(paths)
        if "full_name" in fields:
            full_name = accounts.validate_full_name(full_name, v, "admin_user.full_name")
        role_ids = _role_ids(roles, v, "admin_user.roles") if "roles" in fields else []
        if "active" in fields and not active and aid == caller.identity.subject_id:
            v.add("admin_user.active", "you cannot deactivate yourself")
        v.raise_if_any()
        assert aid is not None
        now = self.clock()
        async with unit_of_work(self.db) as r:
            admin = await r.admins.get(aid, for_update=True)
            if admin is None:
                raise NotFound(f"{name} not found")
            details: dict[str, object] = {"fields": ",".join(sorted(fields))}
            if "full_name" in fields:
                admin.full_name = full_name
            if "roles" in fields:
                before = sorted(role.id for role in admin.roles)
                admin.roles = await _roles(r, role_ids, "admin_user.roles")
                details["roles_before"] = ",".join(before)
                details["roles_after"] = ",".join(sorted(role_ids))
            if "active" in fields and admin.active != active:
                admin.active = active
                if not active:
                    details["sessions_revoked"] = await r.sessions.revoke_all(
                        admin.name, now, "account_disabled"
                    )
            admin.update_time = now
            audit(r, caller, "admin_user.update", target=admin.name, details=details, now=now)
        return admin

    # --- roles ---------------------------------------------------------------------

    async def list_roles(self, *, after: str | None, limit: int) -> list[Role]:
        async with unit_of_work(self.db, write=False) as r:
            return await r.roles.list(after, limit)

    async def get_role(self, *, name: str) -> Role:
        rid = rbac.role_id_from_name(name)
        if rid is None:
            raise InvalidArgument({"name": "must look like roles/{role_id}"})
        async with unit_of_work(self.db, write=False) as r:
            role = await r.roles.get(rid)
        if role is None:
            raise NotFound(f"{name} not found")
        return role

    def _validate_role_text(
        self, v: Violations, display_name: str, description: str
    ) -> tuple[str, str]:
        display_name = " ".join(display_name.split())
        if len(display_name) > 100:
            v.add("role.display_name", "must be at most 100 characters")
        description = description.strip()
        if len(description) > DESCRIPTION_MAX:
            v.add("role.description", f"must be at most {DESCRIPTION_MAX} characters")
        return display_name, description

    async def create_role(
        self,
        caller: Caller,
        *,
        name: str,
        display_name: str,
        description: str,
        permissions: Sequence[str],
    ) -> Role:
        v = Violations()
        rid = rbac.role_id_from_name(name)
        if rid is None:
            v.add("role.name", "must look like roles/{role_id} with a lower_snake_case id")
        display_name, description = self._validate_role_text(v, display_name, description)
        perms = rbac.validate_permissions(
            permissions, self.known_permissions(), v, "role.permissions"
        )
        v.raise_if_any()
        assert rid is not None
        now = self.clock()
        with on_conflict(AlreadyExists(f"{name} already exists")):
            async with unit_of_work(self.db) as r:
                if await r.roles.get(rid) is not None:
                    raise AlreadyExists(f"{name} already exists")
                role = Role(
                    id=rid,
                    display_name=display_name or rid,
                    description=description,
                    permissions=perms,
                    system=False,
                    create_time=now,
                    update_time=now,
                )
                r.roles.add(role)
                audit(
                    r,
                    caller,
                    "role.create",
                    target=role.name,
                    details={"permissions": ",".join(perms)},
                    now=now,
                )
        return role

    async def update_role(
        self,
        caller: Caller,
        *,
        name: str,
        display_name: str,
        description: str,
        permissions: Sequence[str],
        paths: list[str],
    ) -> Role:
        v = Violations()
        rid = rbac.role_id_from_name(name)
        if rid is None:
            v.add("role.name", "must look like roles/{role_id}")
        if paths:
            check_update_mask(paths, ROLE_FIELDS, v)
        else:
            paths = [
                p
                for p, val in (
                    ("display_name", display_name),
                    ("description", description),
                    ("permissions", permissions),
                )
                if val
            ]
            if not paths:
                v.add("update_mask", "nothing to update")
        fields = set(paths)
        display_name, description = self._validate_role_text(v, display_name, description)
        perms = (
            rbac.validate_permissions(permissions, self.known_permissions(), v, "role.permissions")
            if "permissions" in fields
            else []
        )
        v.raise_if_any()
        assert rid is not None
        now = self.clock()
        async with unit_of_work(self.db) as r:
            role = await r.roles.get(rid, for_update=True)
            if role is None:
                raise NotFound(f"{name} not found")
            if role.system:
                raise FailedPrecondition(
                    f"{name} is a system role and cannot be changed", reason="ROLE_IN_USE"
                )
            details: dict[str, object] = {"fields": ",".join(sorted(fields))}
            if "display_name" in fields:
                role.display_name = display_name or rid
            if "description" in fields:
                role.description = description
            if "permissions" in fields:
                details["permissions_before"] = ",".join(role.permissions)
                details["permissions_after"] = ",".join(perms)
                role.permissions = perms
            role.update_time = now
            audit(r, caller, "role.update", target=role.name, details=details, now=now)
        return role

    async def delete_role(self, caller: Caller, *, name: str) -> None:
        rid = rbac.role_id_from_name(name)
        if rid is None:
            raise InvalidArgument({"name": "must look like roles/{role_id}"})
        # Assigned concurrently: the foreign key refused the delete.
        with on_conflict(
            FailedPrecondition(f"{name} is still assigned to admin users", reason="ROLE_IN_USE")
        ):
            async with unit_of_work(self.db) as r:
                role = await r.roles.get(rid, for_update=True)
                if role is None:
                    raise NotFound(f"{name} not found")
                if role.system:
                    raise FailedPrecondition(
                        f"{name} is a system role and cannot be deleted", reason="ROLE_IN_USE"
                    )
                if await r.roles.in_use(rid):
                    raise FailedPrecondition(
                        f"{name} is still assigned to admin users", reason="ROLE_IN_USE"
                    )
                await r.roles.delete(role)
                audit(r, caller, "role.delete", target=name)

    def list_permissions(self) -> list[str]:
        return sorted({*self.known_permissions(), rbac.ALL_PERMISSIONS})

    # --- customers and audit -------------------------------------------------------

    async def list_customers(self, *, query: str, after: str | None, limit: int) -> list[User]:
        if len(query) > 100:
            raise InvalidArgument({"query": "must be at most 100 characters"})
        async with unit_of_work(self.db, write=False) as r:
            return await r.users.search(query.strip(), after, limit)

    async def list_audit_logs(
        self, *, filters: AuditFilter, after: str | None, limit: int
    ) -> list[AuditLog]:
        async with unit_of_work(self.db, write=False) as r:
            return await r.audit.list(filters, after, limit)
