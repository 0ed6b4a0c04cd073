"""Admin login, admin users, roles and permissions, customers, audit log, key rotation."""

from __future__ import annotations

import secrets

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.auth.v1 import admin_service_pb2 as adm
from cleanse.auth.v1 import auth_service_pb2, resources_pb2
from mesh.contracts import admin_permissions
from mesh.identity import decode_access_token
from services.auth.tokens import public_jwk
from tests.auth.conftest import AuthHarness, bearer, unique_email
from tests.support.rpc import reason, violations

StatusCode = grpc.StatusCode
PASSWORD = "a strong admin password"


def role_id() -> str:
    return f"test_role_{secrets.token_hex(4)}"


async def _new_admin(
    auth: AuthHarness, token: str, roles: list[str]
) -> tuple[resources_pb2.AdminUser, str]:
    email = unique_email()
    admin = await auth.admin.CreateAdminUser(
        adm.CreateAdminUserRequest(
            admin_user=resources_pb2.AdminUser(email=email, full_name="Staff Member", roles=roles),
            initial_password=PASSWORD,
        ),
        metadata=bearer(token),
    )
    login = await auth.auth.AdminLogin(
        auth_service_pb2.AdminLoginRequest(email=email, password=PASSWORD)
    )
    return admin, login.tokens.access_token


async def test_seeded_super_admin_logs_in_with_all_permissions(auth: AuthHarness) -> None:
    email, password = auth.admin_credentials()
    resp = await auth.auth.AdminLogin(
        auth_service_pb2.AdminLoginRequest(email=email, password=password)
    )
    assert resp.admin_user.roles == ["roles/super_admin"] and resp.admin_user.permissions == ["*"]
    assert resp.admin_user.last_login_time.seconds > 0
    key = await auth.wired.keys.current()
    claims = decode_access_token(resp.tokens.access_token, key.private_key.public_key())
    assert claims["role"] == "admin" and claims["perms"] == ["*"]
    assert claims["sub"] == resp.admin_user.name
    # A wrong password is the same error as for customers, and is audited.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.AdminLogin(auth_service_pb2.AdminLoginRequest(email=email, password="nope"))
    assert reason(err.value) == "INVALID_CREDENTIALS"
    logs = await auth.admin.ListAuditLogs(
        adm.ListAuditLogsRequest(action="admin.login_failed"),
        metadata=bearer(resp.tokens.access_token),
    )
    assert logs.audit_logs and logs.audit_logs[0].target == resp.admin_user.name


async def test_seeded_roles(auth: AuthHarness) -> None:
    token = await auth.super_admin_token()
    roles = {
        r.name: r
        for r in (await auth.admin.ListRoles(adm.ListRolesRequest(), metadata=bearer(token))).roles
    }
    assert {"roles/super_admin", "roles/catalog_manager", "roles/support"} <= set(roles)
    assert roles["roles/super_admin"].system and list(roles["roles/super_admin"].permissions) == [
        "*"
    ]
    assert set(roles["roles/support"].permissions) == {"customers.read", "audit_logs.read"}


async def test_customer_token_on_admin_rpc_is_denied(auth: AuthHarness) -> None:
    md = bearer(await auth.customer_token())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.ListRoles(adm.ListRolesRequest(), metadata=md)
    assert err.value.code() == StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.RotateSigningKey(auth_service_pb2.RotateSigningKeyRequest(), metadata=md)
    assert err.value.code() == StatusCode.PERMISSION_DENIED


async def test_roles_crud_permissions_and_audit(auth: AuthHarness) -> None:
    token = await auth.super_admin_token()
    md = bearer(token)
    perms = (
        await auth.admin.ListPermissions(adm.ListPermissionsRequest(), metadata=md)
    ).permissions
    assert set(perms) == {*admin_permissions(), "*"}
    rid = role_id()
    role = await auth.admin.CreateRole(
        adm.CreateRoleRequest(
            role=resources_pb2.Role(
                name=f"roles/{rid}", display_name="Auditor", permissions=["audit_logs.read"]
            )
        ),
        metadata=md,
    )
    assert role.name == f"roles/{rid}" and not role.system
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.CreateRole(adm.CreateRoleRequest(role=role), metadata=md)
    assert err.value.code() == StatusCode.ALREADY_EXISTS
    # Unknown permissions and bad ids are rejected with field violations.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.CreateRole(
            adm.CreateRoleRequest(
                role=resources_pb2.Role(name="roles/Bad Id", permissions=["roles.read", "root"])
            ),
            metadata=md,
        )
    assert set(violations(err.value)) == {"role.name", "role.permissions[1]"}
    updated = await auth.admin.UpdateRole(
        adm.UpdateRoleRequest(
            role=resources_pb2.Role(name=role.name, permissions=["audit_logs.read", "roles.read"]),
            update_mask=field_mask_pb2.FieldMask(paths=["permissions"]),
        ),
        metadata=md,
    )
    assert list(updated.permissions) == ["audit_logs.read", "roles.read"]
    assert updated.display_name == "Auditor"
    got = await auth.admin.GetRole(adm.GetRoleRequest(name=role.name), metadata=md)
    assert list(got.permissions) == ["audit_logs.read", "roles.read"]
    # The system role cannot be changed or deleted.
    for call in (
        auth.admin.UpdateRole(
            adm.UpdateRoleRequest(
                role=resources_pb2.Role(name="roles/super_admin", permissions=["roles.read"])
            ),
            metadata=md,
        ),
        auth.admin.DeleteRole(adm.DeleteRoleRequest(name="roles/super_admin"), metadata=md),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == StatusCode.FAILED_PRECONDITION
    # A role held by an admin cannot be deleted.
    staff, _ = await _new_admin(auth, token, [role.name])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.DeleteRole(adm.DeleteRoleRequest(name=role.name), metadata=md)
    assert (err.value.code(), reason(err.value)) == (StatusCode.FAILED_PRECONDITION, "ROLE_IN_USE")
    await auth.admin.UpdateAdminUser(
        adm.UpdateAdminUserRequest(
            admin_user=resources_pb2.AdminUser(name=staff.name, roles=[]),
            update_mask=field_mask_pb2.FieldMask(paths=["roles"]),
        ),
        metadata=md,
    )
    await auth.admin.DeleteRole(adm.DeleteRoleRequest(name=role.name), metadata=md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.GetRole(adm.GetRoleRequest(name=role.name), metadata=md)
    assert err.value.code() == StatusCode.NOT_FOUND
    # Every change is in the audit log, newest first, with actor and target.
    me = (
        await auth.auth.AdminLogin(
            auth_service_pb2.AdminLoginRequest(
                email=auth.admin_credentials()[0], password=auth.admin_credentials()[1]
            )
        )
    ).admin_user.name
    logs = (
        await auth.admin.ListAuditLogs(
            adm.ListAuditLogsRequest(actor=me, page_size=50), metadata=md
        )
    ).audit_logs
    mine = [(e.action, e.target) for e in logs if e.target in (role.name, staff.name)]
    assert mine[:5] == [
        ("role.delete", role.name),
        ("admin_user.update", staff.name),
        ("admin_user.create", staff.name),
        ("role.update", role.name),
        ("role.create", role.name),
    ]
    assert all(e.actor_type == resources_pb2.ACTOR_TYPE_ADMIN for e in logs)


async def test_permissions_follow_roles(auth: AuthHarness) -> None:
    token = await auth.super_admin_token()
    _, support_token = await _new_admin(auth, token, ["roles/support"])
    md = bearer(support_token)
    await auth.admin.ListCustomers(adm.ListCustomersRequest(), metadata=md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.ListRoles(adm.ListRolesRequest(), metadata=md)
    assert err.value.code() == StatusCode.PERMISSION_DENIED


async def test_deactivating_an_admin_revokes_their_sessions(auth: AuthHarness) -> None:
    token = await auth.super_admin_token()
    staff, staff_token = await _new_admin(auth, token, ["roles/support"])
    await auth.admin.ListCustomers(adm.ListCustomersRequest(), metadata=bearer(staff_token))
    out = await auth.admin.UpdateAdminUser(
        adm.UpdateAdminUserRequest(
            admin_user=resources_pb2.AdminUser(name=staff.name, active=False),
            update_mask=field_mask_pb2.FieldMask(paths=["active"]),
        ),
        metadata=bearer(token),
    )
    assert not out.active
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.ListCustomers(adm.ListCustomersRequest(), metadata=bearer(staff_token))
    assert err.value.code() == StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.AdminLogin(
            auth_service_pb2.AdminLoginRequest(email=staff.email, password=PASSWORD)
        )
    assert reason(err.value) == "ACCOUNT_DISABLED"


async def test_admin_user_validation(auth: AuthHarness) -> None:
    md = bearer(await auth.super_admin_token())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.CreateAdminUser(
            adm.CreateAdminUserRequest(
                admin_user=resources_pb2.AdminUser(email="x", full_name="", roles=["nope"]),
                initial_password="short",
            ),
            metadata=md,
        )
    assert set(violations(err.value)) == {
        "admin_user.email",
        "admin_user.full_name",
        "admin_user.roles[0]",
        "initial_password",
    }
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.CreateAdminUser(
            adm.CreateAdminUserRequest(
                admin_user=resources_pb2.AdminUser(
                    email=unique_email(), full_name="X", roles=["roles/does_not_exist"]
                ),
                initial_password=PASSWORD,
            ),
            metadata=md,
        )
    assert "admin_user.roles" in violations(err.value)
    listed = await auth.admin.ListAdminUsers(adm.ListAdminUsersRequest(page_size=200), metadata=md)
    got = await auth.admin.GetAdminUser(
        adm.GetAdminUserRequest(name=listed.admin_users[0].name), metadata=md
    )
    assert got.email == listed.admin_users[0].email


async def test_list_customers_by_query(auth: AuthHarness) -> None:
    tag = secrets.token_hex(4)
    for i in range(3):
        await auth.register(full_name=f"Meera {tag} {i}")
    md = bearer(await auth.super_admin_token())
    page = await auth.admin.ListCustomers(
        adm.ListCustomersRequest(query=tag.upper(), page_size=2), metadata=md
    )
    assert len(page.users) == 2 and page.next_page_token
    rest = await auth.admin.ListCustomers(
        adm.ListCustomersRequest(query=tag.upper(), page_size=2, page_token=page.next_page_token),
        metadata=md,
    )
    assert len(rest.users) == 1 and not rest.next_page_token
    names = [u.full_name for u in [*page.users, *rest.users]]
    assert names == [f"Meera {tag} 2", f"Meera {tag} 1", f"Meera {tag} 0"]
    # A token from one query cannot page another.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.ListCustomers(
            adm.ListCustomersRequest(query="other", page_token=page.next_page_token), metadata=md
        )
    assert "page_token" in violations(err.value)
    # LIKE wildcards are literal.
    none = await auth.admin.ListCustomers(adm.ListCustomersRequest(query="%_%" + tag), metadata=md)
    assert list(none.users) == []


async def test_audit_log_filters_and_pages(auth: AuthHarness) -> None:
    md = bearer(await auth.super_admin_token())
    reg = await auth.register()
    for _ in range(3):
        with pytest.raises(grpc.aio.AioRpcError):
            await auth.auth.LoginWithPassword(
                auth_service_pb2.LoginWithPasswordRequest(email=reg.user.email, password="wrong!!")
            )
    req = adm.ListAuditLogsRequest(
        action="auth.login_failed", outcome=resources_pb2.AUDIT_OUTCOME_FAILURE, page_size=2
    )
    first = await auth.admin.ListAuditLogs(req, metadata=md)
    assert len(first.audit_logs) == 2 and first.next_page_token
    req.page_token = first.next_page_token
    second = await auth.admin.ListAuditLogs(req, metadata=md)
    seen = [e.name for e in [*first.audit_logs, *second.audit_logs]]
    assert len(seen) == len(set(seen))
    assert all(e.action == "auth.login_failed" for e in second.audit_logs)
    created = [e.create_time.ToDatetime() for e in [*first.audit_logs, *second.audit_logs]]
    assert created == sorted(created, reverse=True)
    # Time window: [start_time, end_time).
    from datetime import UTC, datetime, timedelta

    from google.protobuf import timestamp_pb2

    def stamp(when: datetime) -> timestamp_pb2.Timestamp:
        out = timestamp_pb2.Timestamp()
        out.FromDatetime(when)
        return out

    now = datetime.now(UTC)
    later = await auth.admin.ListAuditLogs(
        adm.ListAuditLogsRequest(
            action="auth.login_failed", start_time=stamp(now + timedelta(hours=1))
        ),
        metadata=md,
    )
    assert list(later.audit_logs) == []
    recent = await auth.admin.ListAuditLogs(
        adm.ListAuditLogsRequest(
            action="auth.login_failed",
            start_time=stamp(now - timedelta(minutes=5)),
            end_time=stamp(now + timedelta(minutes=5)),
        ),
        metadata=md,
    )
    assert len(recent.audit_logs) >= 3
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.ListAuditLogs(
            adm.ListAuditLogsRequest(start_time=stamp(now), end_time=stamp(now)), metadata=md
        )
    assert "end_time" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.admin.ListAuditLogs(
            adm.ListAuditLogsRequest(action="role.create", page_token=first.next_page_token),
            metadata=md,
        )
    assert "page_token" in violations(err.value)


async def test_key_rotation_keeps_old_tokens_valid(auth: AuthHarness) -> None:
    admin_token = await auth.super_admin_token()
    before = await auth.customer_token()
    old_kid = (await auth.wired.keys.current()).kid
    resp = await auth.auth.RotateSigningKey(
        auth_service_pb2.RotateSigningKeyRequest(), metadata=bearer(admin_token)
    )
    assert resp.kid and resp.kid != old_kid
    jwks = (await auth.auth.GetJwks(auth_service_pb2.GetJwksRequest())).keys
    kids = [k.kid for k in jwks]
    assert resp.kid in kids and old_kid in kids
    assert all(k.kty == "OKP" and k.crv == "Ed25519" and k.alg == "EdDSA" for k in jwks)
    after_reg = await auth.register()
    import jwt

    assert jwt.get_unverified_header(after_reg.tokens.access_token)["kid"] == resp.kid
    from cleanse.auth.v1 import account_service_pb2 as acc

    for token in (before, after_reg.tokens.access_token):
        await auth.account.GetProfile(acc.GetProfileRequest(), metadata=bearer(token))
    logs = await auth.admin.ListAuditLogs(
        adm.ListAuditLogsRequest(action="auth.signing_key_rotated"), metadata=bearer(admin_token)
    )
    assert logs.audit_logs[0].target == f"signingKeys/{resp.kid}"
    assert public_jwk("k", "x")["use"] == "sig"
