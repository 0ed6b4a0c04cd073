"""Who is writing: the acting admin, validated against the auth service.

Every admin write records `adminUsers/{id}` (mesh.context's identity subject).
The token was already verified; here we also ask auth (internal
BatchGetAdminUsers) that the admin exists and is active, and cache a positive
answer for `ttl` seconds. A disabled or unknown admin is PERMISSION_DENIED. When
auth is down the write fails with UNAVAILABLE (DEPENDENCY_UNAVAILABLE): a write
is never recorded under an actor we could not check.
"""

from __future__ import annotations

import time

import grpc

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from mesh import client
from mesh import context as call_context
from mesh.errors import PermissionDenied, Unavailable


class AdminDirectory:
    def __init__(self, *, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._ok: dict[str, float] = {}

    async def acting_admin(self) -> str:
        """The caller's admin resource name, once auth confirms it is active."""
        identity = call_context.identity()
        name = identity.subject
        if not identity.is_admin or not name.startswith("adminUsers/"):
            raise PermissionDenied("catalogue writes need an admin user")
        if self._ok.get(name, 0.0) > time.monotonic():
            return name
        auth = client.stub("auth", auth_service_pb2_grpc.AuthServiceStub)
        try:
            resp = await auth.BatchGetAdminUsers(
                auth_service_pb2.BatchGetAdminUsersRequest(names=[name])
            )
        except grpc.aio.AioRpcError as exc:
            raise Unavailable(f"cannot verify the acting admin: auth {exc.code().name}") from None
        except Unavailable:
            raise
        found = {a.name: a for a in resp.admin_users}
        admin = found.get(name)
        if admin is None:
            raise PermissionDenied(f"{name} is not a known admin user", reason="UNKNOWN_ADMIN")
        if not admin.active:
            raise PermissionDenied(f"{name} is disabled", reason="ACCOUNT_DISABLED")
        if self.ttl > 0:
            self._ok[name] = time.monotonic() + self.ttl
        return name
