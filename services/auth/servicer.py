"""The gRPC face of the auth service: protos in, handler calls, protos out. Nothing else.

The contract interceptor (mesh.interceptors) has already authenticated the caller,
enforced the RPC's access policy, checked REQUIRED fields and clamped page_size.
Here, for the signed-in RPCs of this service, the access token's session must
also still be active (a revoked session's tokens stop working at once here; other
services rely on the token's 15-minute lifetime).
"""

from __future__ import annotations

from datetime import UTC

import grpc
from google.protobuf import empty_pb2

from cleanse.auth.v1 import (
    account_service_pb2,
    account_service_pb2_grpc,
    admin_service_pb2,
    admin_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
    resources_pb2,
)
from cleanse.common.v1 import address_pb2
from mesh.db import next_page_token, page_after
from mesh.errors import InvalidArgument
from mesh.india import PostalAddress
from mesh.timestamps import ts
from services.auth.handlers.account import AccountHandlers
from services.auth.handlers.admin import AdminHandlers
from services.auth.handlers.auth import AuthHandlers, Tokens
from services.auth.handlers.common import Caller
from services.auth.models import Address, AdminUser, AuditLog, Role, Session, User
from services.auth.repository import AuditFilter

# --- conversions -------------------------------------------------------------------


def user_pb(u: User) -> resources_pb2.User:
    return resources_pb2.User(
        name=u.name,
        email=u.email or "",
        phone=u.phone or "",
        full_name=u.full_name,
        email_verified=u.email_verified,
        phone_verified=u.phone_verified,
        has_password=u.password_hash is not None,
        create_time=ts(u.create_time),
        update_time=ts(u.update_time),
    )


def address_pb(a: Address) -> resources_pb2.Address:
    return resources_pb2.Address(
        name=a.name,
        label=a.label,
        postal_address=address_pb2.PostalAddress(
            recipient_name=a.recipient_name,
            phone=a.phone,
            line1=a.line1,
            line2=a.line2,
            landmark=a.landmark,
            city=a.city,
            state_code=a.state_code,
            pincode=a.pincode,
            country_code=a.country_code,
        ),
        is_default=a.is_default,
        create_time=ts(a.create_time),
        update_time=ts(a.update_time),
    )


def session_pb(s: Session, current: str) -> resources_pb2.Session:
    return resources_pb2.Session(
        name=s.name,
        user_agent=s.user_agent,
        ip_address=s.ip_address,
        create_time=ts(s.create_time),
        last_used_time=ts(s.last_used_time),
        expire_time=ts(s.expire_time),
        current=s.name == current,
    )


def tokens_pb(t: Tokens) -> resources_pb2.TokenPair:
    return resources_pb2.TokenPair(
        access_token=t.access_token,
        refresh_token=t.refresh_token,
        token_type="Bearer",
        expires_in=t.expires_in,
        refresh_expire_time=ts(t.refresh_expire_time),
    )


def permissions_of(admin: AdminUser) -> list[str]:
    return sorted({p for role in admin.roles for p in role.permissions})


def admin_pb(a: AdminUser) -> resources_pb2.AdminUser:
    return resources_pb2.AdminUser(
        name=a.name,
        email=a.email,
        full_name=a.full_name,
        roles=[r.name for r in a.roles],
        active=a.active,
        permissions=permissions_of(a),
        create_time=ts(a.create_time),
        last_login_time=ts(a.last_login_time),
    )


def role_pb(r: Role) -> resources_pb2.Role:
    return resources_pb2.Role(
        name=r.name,
        display_name=r.display_name,
        description=r.description,
        permissions=list(r.permissions),
        system=r.system,
        create_time=ts(r.create_time),
        update_time=ts(r.update_time),
    )


_ACTOR_TYPES = {
    "anonymous": resources_pb2.ACTOR_TYPE_ANONYMOUS,
    "customer": resources_pb2.ACTOR_TYPE_CUSTOMER,
    "admin": resources_pb2.ACTOR_TYPE_ADMIN,
    "service": resources_pb2.ACTOR_TYPE_SERVICE,
}
_OUTCOMES = {
    "success": resources_pb2.AUDIT_OUTCOME_SUCCESS,
    "failure": resources_pb2.AUDIT_OUTCOME_FAILURE,
}
_OUTCOME_NAMES = {v: k for k, v in _OUTCOMES.items()}


def audit_pb(e: AuditLog) -> resources_pb2.AuditLog:
    return resources_pb2.AuditLog(
        name=f"auditLogs/{e.id}",
        actor_type=_ACTOR_TYPES.get(e.actor_type, resources_pb2.ACTOR_TYPE_UNSPECIFIED),
        actor=e.actor,
        action=e.action,
        target=e.target,
        outcome=_OUTCOMES.get(e.outcome, resources_pb2.AUDIT_OUTCOME_UNSPECIFIED),
        ip_address=e.ip_address,
        request_id=e.request_id,
        details=dict(e.details or {}),
        create_time=ts(e.create_time),
    )


# --- servicers ---------------------------------------------------------------------


class _Base:
    def __init__(self, auth: AuthHandlers) -> None:
        self._auth = auth

    async def _signed_in(self) -> Caller:
        """The caller, after checking that their session is still active."""
        caller = Caller.current()
        await self._auth.require_active_session(caller.identity)
        return caller


class AuthService(_Base, auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self, auth: AuthHandlers, account: AccountHandlers) -> None:
        super().__init__(auth)
        self._account = account

    async def RegisterCustomer(
        self, request: auth_service_pb2.RegisterCustomerRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.RegisterCustomerResponse:
        user, tokens = await self._auth.register(
            Caller.current(),
            email=request.email,
            password=request.password,
            full_name=request.full_name,
            phone=request.phone,
        )
        return auth_service_pb2.RegisterCustomerResponse(
            user=user_pb(user), tokens=tokens_pb(tokens)
        )

    async def SendLoginOtp(
        self, request: auth_service_pb2.SendLoginOtpRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.SendLoginOtpResponse:
        expire, resend_after = await self._auth.send_login_otp(
            Caller.current(), phone=request.phone
        )
        return auth_service_pb2.SendLoginOtpResponse(
            expire_time=ts(expire), resend_after_seconds=resend_after
        )

    async def VerifyLoginOtp(
        self, request: auth_service_pb2.VerifyLoginOtpRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.VerifyLoginOtpResponse:
        user, tokens, new = await self._auth.verify_login_otp(
            Caller.current(), phone=request.phone, code=request.code
        )
        return auth_service_pb2.VerifyLoginOtpResponse(
            user=user_pb(user), tokens=tokens_pb(tokens), new_account=new
        )

    async def LoginWithPassword(
        self, request: auth_service_pb2.LoginWithPasswordRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.LoginWithPasswordResponse:
        user, tokens = await self._auth.login_with_password(
            Caller.current(), email=request.email, password=request.password
        )
        return auth_service_pb2.LoginWithPasswordResponse(
            user=user_pb(user), tokens=tokens_pb(tokens)
        )

    async def AdminLogin(
        self, request: auth_service_pb2.AdminLoginRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.AdminLoginResponse:
        admin, tokens, _ = await self._auth.admin_login(
            Caller.current(), email=request.email, password=request.password
        )
        return auth_service_pb2.AdminLoginResponse(
            admin_user=admin_pb(admin), tokens=tokens_pb(tokens)
        )

    async def RefreshTokens(
        self, request: auth_service_pb2.RefreshTokensRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.RefreshTokensResponse:
        tokens = await self._auth.refresh(Caller.current(), refresh_token=request.refresh_token)
        return auth_service_pb2.RefreshTokensResponse(tokens=tokens_pb(tokens))

    async def Logout(
        self, request: auth_service_pb2.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._auth.logout(await self._signed_in())
        return empty_pb2.Empty()

    async def ListSessions(
        self, request: auth_service_pb2.ListSessionsRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.ListSessionsResponse:
        caller = await self._signed_in()
        rows = await self._auth.list_sessions(
            caller, after=page_after(request.page_token), limit=request.page_size + 1
        )
        return auth_service_pb2.ListSessionsResponse(
            sessions=[session_pb(s, caller.identity.session) for s in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def RevokeSession(
        self, request: auth_service_pb2.RevokeSessionRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._auth.revoke_session(await self._signed_in(), name=request.name)
        return empty_pb2.Empty()

    async def RevokeAllSessions(
        self, request: auth_service_pb2.RevokeAllSessionsRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.RevokeAllSessionsResponse:
        count = await self._auth.revoke_all_sessions(
            await self._signed_in(), keep_current=request.keep_current
        )
        return auth_service_pb2.RevokeAllSessionsResponse(revoked_count=count)

    async def GetJwks(
        self, request: auth_service_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.GetJwksResponse:
        keys = await self._auth.keys.jwks()
        return auth_service_pb2.GetJwksResponse(keys=[resources_pb2.Jwk(**k) for k in keys])

    async def RotateSigningKey(
        self, request: auth_service_pb2.RotateSigningKeyRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.RotateSigningKeyResponse:
        kid = await self._auth.rotate_signing_key(await self._signed_in())
        return auth_service_pb2.RotateSigningKeyResponse(kid=kid)

    async def BatchGetUsers(
        self, request: auth_service_pb2.BatchGetUsersRequest, context: grpc.aio.ServicerContext
    ) -> auth_service_pb2.BatchGetUsersResponse:
        users, missing = await self._auth.batch_get_users(list(request.names))
        return auth_service_pb2.BatchGetUsersResponse(
            users=[user_pb(u) for u in users], missing=missing
        )

    async def GetUserAddress(
        self, request: auth_service_pb2.GetUserAddressRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Address:
        return address_pb(await self._account.get_user_address(name=request.name))

    async def BatchGetAdminUsers(
        self,
        request: auth_service_pb2.BatchGetAdminUsersRequest,
        context: grpc.aio.ServicerContext,
    ) -> auth_service_pb2.BatchGetAdminUsersResponse:
        admins, missing = await self._auth.batch_get_admin_users(list(request.names))
        return auth_service_pb2.BatchGetAdminUsersResponse(
            admin_users=[admin_pb(a) for a in admins], missing=missing
        )


class AccountService(_Base, account_service_pb2_grpc.AccountServiceServicer):
    def __init__(self, auth: AuthHandlers, account: AccountHandlers) -> None:
        super().__init__(auth)
        self._account = account

    async def GetProfile(
        self, request: account_service_pb2.GetProfileRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.User:
        return user_pb(await self._account.get_profile(await self._signed_in()))

    async def UpdateProfile(
        self, request: account_service_pb2.UpdateProfileRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.User:
        u = request.user
        user = await self._account.update_profile(
            await self._signed_in(),
            values={"full_name": u.full_name, "email": u.email, "phone": u.phone},
            paths=list(request.update_mask.paths),
        )
        return user_pb(user)

    async def ChangePassword(
        self, request: account_service_pb2.ChangePasswordRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._account.change_password(
            await self._signed_in(),
            current_password=request.current_password,
            new_password=request.new_password,
        )
        return empty_pb2.Empty()

    async def ListAddresses(
        self, request: account_service_pb2.ListAddressesRequest, context: grpc.aio.ServicerContext
    ) -> account_service_pb2.ListAddressesResponse:
        rows = await self._account.list_addresses(
            await self._signed_in(),
            after=page_after(request.page_token),
            limit=request.page_size + 1,
        )
        return account_service_pb2.ListAddressesResponse(
            addresses=[address_pb(a) for a in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def GetAddress(
        self, request: account_service_pb2.GetAddressRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Address:
        return address_pb(
            await self._account.get_address(await self._signed_in(), name=request.name)
        )

    async def CreateAddress(
        self, request: account_service_pb2.CreateAddressRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Address:
        a = request.address
        if not a.HasField("postal_address"):
            raise InvalidArgument({"address.postal_address": "is required"})
        address = await self._account.create_address(
            await self._signed_in(), label=a.label, postal=PostalAddress.of(a.postal_address)
        )
        return address_pb(address)

    async def UpdateAddress(
        self, request: account_service_pb2.UpdateAddressRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Address:
        a = request.address
        if not a.name:
            raise InvalidArgument({"address.name": "is required"})
        address = await self._account.update_address(
            await self._signed_in(),
            name=a.name,
            label=a.label,
            postal=PostalAddress.of(a.postal_address),
            postal_set=a.HasField("postal_address"),
            paths=list(request.update_mask.paths),
        )
        return address_pb(address)

    async def DeleteAddress(
        self, request: account_service_pb2.DeleteAddressRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._account.delete_address(await self._signed_in(), name=request.name)
        return empty_pb2.Empty()

    async def SetDefaultAddress(
        self,
        request: account_service_pb2.SetDefaultAddressRequest,
        context: grpc.aio.ServicerContext,
    ) -> resources_pb2.Address:
        return address_pb(
            await self._account.set_default_address(await self._signed_in(), name=request.name)
        )


class AdminService(_Base, admin_service_pb2_grpc.AdminServiceServicer):
    def __init__(self, auth: AuthHandlers, admin: AdminHandlers) -> None:
        super().__init__(auth)
        self._admin = admin

    async def ListAdminUsers(
        self, request: admin_service_pb2.ListAdminUsersRequest, context: grpc.aio.ServicerContext
    ) -> admin_service_pb2.ListAdminUsersResponse:
        await self._signed_in()
        rows = await self._admin.list_admin_users(
            after=page_after(request.page_token), limit=request.page_size + 1
        )
        return admin_service_pb2.ListAdminUsersResponse(
            admin_users=[admin_pb(a) for a in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def GetAdminUser(
        self, request: admin_service_pb2.GetAdminUserRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.AdminUser:
        await self._signed_in()
        return admin_pb(await self._admin.get_admin_user(name=request.name))

    async def CreateAdminUser(
        self, request: admin_service_pb2.CreateAdminUserRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.AdminUser:
        a = request.admin_user
        admin = await self._admin.create_admin_user(
            await self._signed_in(),
            email=a.email,
            full_name=a.full_name,
            roles=list(a.roles),
            initial_password=request.initial_password,
        )
        return admin_pb(admin)

    async def UpdateAdminUser(
        self, request: admin_service_pb2.UpdateAdminUserRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.AdminUser:
        a = request.admin_user
        admin = await self._admin.update_admin_user(
            await self._signed_in(),
            name=a.name,
            full_name=a.full_name,
            roles=list(a.roles),
            active=a.active,
            paths=list(request.update_mask.paths),
        )
        return admin_pb(admin)

    async def ListRoles(
        self, request: admin_service_pb2.ListRolesRequest, context: grpc.aio.ServicerContext
    ) -> admin_service_pb2.ListRolesResponse:
        await self._signed_in()
        rows = await self._admin.list_roles(
            after=page_after(request.page_token), limit=request.page_size + 1
        )
        return admin_service_pb2.ListRolesResponse(
            roles=[role_pb(r) for r in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size),
        )

    async def GetRole(
        self, request: admin_service_pb2.GetRoleRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Role:
        await self._signed_in()
        return role_pb(await self._admin.get_role(name=request.name))

    async def CreateRole(
        self, request: admin_service_pb2.CreateRoleRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Role:
        r = request.role
        role = await self._admin.create_role(
            await self._signed_in(),
            name=r.name,
            display_name=r.display_name,
            description=r.description,
            permissions=list(r.permissions),
        )
        return role_pb(role)

    async def UpdateRole(
        self, request: admin_service_pb2.UpdateRoleRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Role:
        r = request.role
        role = await self._admin.update_role(
            await self._signed_in(),
            name=r.name,
            display_name=r.display_name,
            description=r.description,
            permissions=list(r.permissions),
            paths=list(request.update_mask.paths),
        )
        return role_pb(role)

    async def DeleteRole(
        self, request: admin_service_pb2.DeleteRoleRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self._admin.delete_role(await self._signed_in(), name=request.name)
        return empty_pb2.Empty()

    async def ListPermissions(
        self, request: admin_service_pb2.ListPermissionsRequest, context: grpc.aio.ServicerContext
    ) -> admin_service_pb2.ListPermissionsResponse:
        await self._signed_in()
        return admin_service_pb2.ListPermissionsResponse(permissions=self._admin.list_permissions())

    async def ListCustomers(
        self, request: admin_service_pb2.ListCustomersRequest, context: grpc.aio.ServicerContext
    ) -> admin_service_pb2.ListCustomersResponse:
        await self._signed_in()
        filters = {"query": request.query}
        rows = await self._admin.list_customers(
            query=request.query,
            after=page_after(request.page_token, filters),
            limit=request.page_size + 1,
        )
        return admin_service_pb2.ListCustomersResponse(
            users=[user_pb(u) for u in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size, filters),
        )

    async def ListAuditLogs(
        self, request: admin_service_pb2.ListAuditLogsRequest, context: grpc.aio.ServicerContext
    ) -> admin_service_pb2.ListAuditLogsResponse:
        await self._signed_in()
        v_start = request.start_time.ToDatetime(UTC) if request.HasField("start_time") else None
        v_end = request.end_time.ToDatetime(UTC) if request.HasField("end_time") else None
        if v_start and v_end and v_start >= v_end:
            raise InvalidArgument({"end_time": "must be after start_time"})
        outcome = ""
        if request.outcome:
            outcome = _OUTCOME_NAMES.get(request.outcome, "")
            if not outcome:
                raise InvalidArgument({"outcome": "unknown outcome"})
        filters = AuditFilter(
            actor=request.actor,
            action=request.action,
            outcome=outcome,
            start_time=v_start,
            end_time=v_end,
        )
        key = {
            "actor": filters.actor,
            "action": filters.action,
            "outcome": outcome,
            "start": str(v_start),
            "end": str(v_end),
        }
        rows = await self._admin.list_audit_logs(
            filters=filters, after=page_after(request.page_token, key), limit=request.page_size + 1
        )
        return admin_service_pb2.ListAuditLogsResponse(
            audit_logs=[audit_pb(e) for e in rows[: request.page_size]],
            next_page_token=next_page_token(rows, request.page_size, key),
        )
