"""Where to reach a customer when an event names only the user: the auth service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from mesh import client


@dataclass(frozen=True)
class Contact:
    email: str = ""
    phone: str = ""
    full_name: str = ""


class ContactDirectory(Protocol):
    async def lookup(self, user: str) -> Contact | None:
        """The contact details of "users/{id}", None when there is no such user."""
        ...


class AuthDirectory:
    """Asks AuthService.BatchGetUsers (internal) through the mesh client."""

    async def lookup(self, user: str) -> Contact | None:
        auth = client.stub("auth", auth_service_pb2_grpc.AuthServiceStub)
        resp = await auth.BatchGetUsers(auth_service_pb2.BatchGetUsersRequest(names=[user]))
        for u in resp.users:
            if u.name == user:
                return Contact(email=u.email, phone=u.phone, full_name=u.full_name)
        return None
