"""Signup dates from the auth service (cleanse.auth.v1.AuthService/BatchGetUsers).

Auth's User carries no address or tags: segments take state/city from the latest
order's delivery address and tags from this service (see README).
"""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from mesh import client
from mesh.errors import Unavailable


async def signup_time(user: str) -> datetime | None:
    """The account's create time, None when auth knows no such user."""
    auth = client.stub("auth", auth_service_pb2_grpc.AuthServiceStub)
    try:
        resp = await auth.BatchGetUsers(auth_service_pb2.BatchGetUsersRequest(names=[user]))
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise Unavailable("the auth service is unavailable: signup dates unknown") from None
        raise
    for u in resp.users:
        if u.name == user and u.HasField("create_time"):
            return u.create_time.ToDatetime(tzinfo=UTC)
    return None
