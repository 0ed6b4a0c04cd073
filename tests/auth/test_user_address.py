"""AuthService.GetUserAddress: a customer's saved address for an internal caller (order
at checkout), over real gRPC on SQLite and PostgreSQL. Internal only: no customer or
admin token reaches it, and the edge has no route to it (tests/contract)."""

from __future__ import annotations

import grpc
import pytest

from cleanse.auth.v1 import account_service_pb2 as acc
from cleanse.auth.v1 import auth_service_pb2, resources_pb2
from mesh.identity import INTERNAL_HEADER, InternalTokens, internal_secret
from tests.auth.conftest import AuthHarness, bearer
from tests.auth.test_account import _create
from tests.support.rpc import violations

StatusCode = grpc.StatusCode


def internal() -> tuple[tuple[str, str], ...]:
    return ((INTERNAL_HEADER, InternalTokens("order", internal_secret()).mint()),)


async def get(auth: AuthHarness, name: str, md=None) -> resources_pb2.Address:  # type: ignore[no-untyped-def]
    return await auth.auth.GetUserAddress(
        auth_service_pb2.GetUserAddressRequest(name=name),
        metadata=internal() if md is None else md,
    )


async def test_a_customers_address_by_its_full_name(auth: AuthHarness) -> None:
    reg = await auth.register()
    md = bearer(reg.tokens.access_token)
    await _create(auth, md, "Home")
    office = await _create(
        auth, md, "Office", line2="3rd floor", landmark="Near Metro", pincode="560002"
    )
    got = await get(auth, f"{reg.user.name}/{office.name}")
    assert got.name == office.name and got.label == "Office" and not got.is_default
    assert got.postal_address == office.postal_address
    assert got.postal_address.line2 == "3rd floor" and got.postal_address.pincode == "560002"


async def test_missing_or_another_customers_address_is_not_found(auth: AuthHarness) -> None:
    mine, theirs = await auth.register(), await auth.register()
    address = await _create(auth, bearer(mine.tokens.access_token))
    for name in (
        f"{theirs.user.name}/{address.name}",  # exists, but not theirs
        f"{mine.user.name}/addresses/nosuchaddress",
        f"users/nobody/{address.name}",
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await get(auth, name)
        assert err.value.code() == StatusCode.NOT_FOUND, name
    await auth.account.DeleteAddress(
        acc.DeleteAddressRequest(name=address.name), metadata=bearer(mine.tokens.access_token)
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(auth, f"{mine.user.name}/{address.name}")
    assert err.value.code() == StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    "name",
    ["addresses/abc", "users/u1", "users/u1/addresses/", "users//addresses/a", "users/u/x/a"],
)
async def test_malformed_names_are_invalid(auth: AuthHarness, name: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(auth, name)
    assert err.value.code() == StatusCode.INVALID_ARGUMENT
    assert "name" in violations(err.value)


async def test_only_internal_callers_reach_it(auth: AuthHarness) -> None:
    reg = await auth.register()
    md = bearer(reg.tokens.access_token)
    address = await _create(auth, md)
    name = f"{reg.user.name}/{address.name}"
    for who in [(), md, bearer(await auth.super_admin_token())]:  # even the owner's token
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await get(auth, name, who)
        assert err.value.code() == StatusCode.PERMISSION_DENIED
    forged = InternalTokens("order", "not-the-mesh-secret-" + "x" * 20).mint()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(auth, name, ((INTERNAL_HEADER, forged),))
    assert err.value.code() == StatusCode.UNAUTHENTICATED
    assert (await get(auth, name)).name == address.name
