"""Profile and address book over real gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.auth.v1 import account_service_pb2 as acc
from cleanse.auth.v1 import resources_pb2
from cleanse.common.v1 import address_pb2
from tests.auth.conftest import AuthHarness, bearer, unique_email, unique_phone
from tests.support.rpc import reason, violations

StatusCode = grpc.StatusCode


def postal(**kw: str) -> address_pb2.PostalAddress:
    base = dict(
        recipient_name="Asha Verma",
        phone="9876543210",
        line1="12 MG Road",
        city="Bengaluru",
        state_code="KA",
        pincode="560001",
    )
    base.update(kw)
    return address_pb2.PostalAddress(**base)


async def _create(auth: AuthHarness, md, label: str = "Home", **kw: str) -> resources_pb2.Address:
    return await auth.account.CreateAddress(
        acc.CreateAddressRequest(
            address=resources_pb2.Address(label=label, postal_address=postal(**kw))
        ),
        metadata=md,
    )


async def _list(auth: AuthHarness, md) -> list[resources_pb2.Address]:
    return list(
        (await auth.account.ListAddresses(acc.ListAddressesRequest(), metadata=md)).addresses
    )


async def test_update_profile_with_a_mask(auth: AuthHarness) -> None:
    reg = await auth.register(phone=unique_phone())
    md = bearer(reg.tokens.access_token)
    user = await auth.account.UpdateProfile(
        acc.UpdateProfileRequest(
            user=resources_pb2.User(full_name="New Name", email="ignored@example.com"),
            update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
        ),
        metadata=md,
    )
    assert user.full_name == "New Name" and user.email == reg.user.email
    new_email, new_phone = unique_email(), unique_phone()
    user = await auth.account.UpdateProfile(
        acc.UpdateProfileRequest(user=resources_pb2.User(email=new_email, phone=new_phone)),
        metadata=md,
    )
    assert user.email == new_email and user.phone == "+91" + new_phone
    assert not user.email_verified and not user.phone_verified


async def test_profile_email_must_stay_unique_and_valid(auth: AuthHarness) -> None:
    taken = unique_email()
    await auth.register(email=taken)
    reg = await auth.register()
    md = bearer(reg.tokens.access_token)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.UpdateProfile(
            acc.UpdateProfileRequest(user=resources_pb2.User(email=taken.upper())), metadata=md
        )
    assert err.value.code() == StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.UpdateProfile(
            acc.UpdateProfileRequest(
                user=resources_pb2.User(email="nope", full_name="X"),
                update_mask=field_mask_pb2.FieldMask(paths=["email", "full_name", "has_password"]),
            ),
            metadata=md,
        )
    assert err.value.code() == StatusCode.INVALID_ARGUMENT
    assert "update_mask" in violations(err.value)
    me = await auth.account.GetProfile(acc.GetProfileRequest(), metadata=md)
    assert me.email == reg.user.email and me.full_name == reg.user.full_name


async def test_change_password_revokes_other_sessions(auth: AuthHarness) -> None:
    from cleanse.auth.v1 import auth_service_pb2

    email = unique_email()
    reg = await auth.register(email=email, password="old password!")
    other = await auth.auth.LoginWithPassword(
        auth_service_pb2.LoginWithPasswordRequest(email=email, password="old password!")
    )
    md = bearer(reg.tokens.access_token)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.ChangePassword(
            acc.ChangePasswordRequest(current_password="wrong one!", new_password="new password!"),
            metadata=md,
        )
    assert "current_password" in violations(err.value)
    await auth.account.ChangePassword(
        acc.ChangePasswordRequest(current_password="old password!", new_password="new password!"),
        metadata=md,
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.RefreshTokens(
            auth_service_pb2.RefreshTokensRequest(refresh_token=other.tokens.refresh_token)
        )
    assert reason(err.value) == "SESSION_REVOKED"
    await auth.auth.LoginWithPassword(
        auth_service_pb2.LoginWithPasswordRequest(email=email, password="new password!")
    )


async def test_address_crud_and_default_rules(auth: AuthHarness) -> None:
    md = bearer(await auth.customer_token())
    home = await _create(auth, md, "Home", state_code="ka", phone="+91 98765 43210")
    assert home.is_default and home.postal_address.state_code == "KA"
    assert home.postal_address.phone == "+919876543210"
    assert home.postal_address.country_code == "IN"
    office = await _create(auth, md, "Office", city="Mumbai", state_code="MH", pincode="400001")
    assert not office.is_default
    parents = await _create(auth, md, "Parents", city="Delhi", state_code="DL", pincode="110001")
    # Set default moves the flag; exactly one default at any time.
    made = await auth.account.SetDefaultAddress(
        acc.SetDefaultAddressRequest(name=office.name), metadata=md
    )
    assert made.is_default
    listed = await _list(auth, md)
    assert [a.name for a in listed if a.is_default] == [office.name]
    # Update with a mask on a nested field.
    updated = await auth.account.UpdateAddress(
        acc.UpdateAddressRequest(
            address=resources_pb2.Address(name=home.name, postal_address=postal(pincode="560002")),
            update_mask=field_mask_pb2.FieldMask(paths=["postal_address.pincode"]),
        ),
        metadata=md,
    )
    assert updated.postal_address.pincode == "560002" and updated.label == "Home"
    got = await auth.account.GetAddress(acc.GetAddressRequest(name=home.name), metadata=md)
    assert got.postal_address.pincode == "560002"
    # Deleting the default makes the most recent remaining address the default.
    await auth.account.DeleteAddress(acc.DeleteAddressRequest(name=office.name), metadata=md)
    listed = await _list(auth, md)
    assert {a.name for a in listed} == {home.name, parents.name}
    assert [a.name for a in listed if a.is_default] == [parents.name]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.GetAddress(acc.GetAddressRequest(name=office.name), metadata=md)
    assert err.value.code() == StatusCode.NOT_FOUND


async def test_addresses_page(auth: AuthHarness) -> None:
    md = bearer(await auth.customer_token())
    for i in range(3):
        await _create(auth, md, f"A{i}")
    page = await auth.account.ListAddresses(acc.ListAddressesRequest(page_size=2), metadata=md)
    assert len(page.addresses) == 2 and page.next_page_token
    rest = await auth.account.ListAddresses(
        acc.ListAddressesRequest(page_size=2, page_token=page.next_page_token), metadata=md
    )
    assert len(rest.addresses) == 1 and not rest.next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.ListAddresses(acc.ListAddressesRequest(page_size=-1), metadata=md)
    assert "page_size" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.ListAddresses(
            acc.ListAddressesRequest(page_token="garbage"), metadata=md
        )
    assert "page_token" in violations(err.value)


async def test_another_customers_address_is_not_found(auth: AuthHarness) -> None:
    mine = bearer(await auth.customer_token())
    theirs = bearer(await auth.customer_token())
    address = await _create(auth, mine)
    calls = [
        auth.account.GetAddress(acc.GetAddressRequest(name=address.name), metadata=theirs),
        auth.account.UpdateAddress(
            acc.UpdateAddressRequest(
                address=resources_pb2.Address(name=address.name, label="Mine now")
            ),
            metadata=theirs,
        ),
        auth.account.DeleteAddress(acc.DeleteAddressRequest(name=address.name), metadata=theirs),
        auth.account.SetDefaultAddress(
            acc.SetDefaultAddressRequest(name=address.name), metadata=theirs
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == StatusCode.NOT_FOUND
    assert await _list(auth, theirs) == []
    still = await auth.account.GetAddress(acc.GetAddressRequest(name=address.name), metadata=mine)
    assert still.label == "Home"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pincode", "012345"),
        ("pincode", "56001"),
        ("state_code", "XX"),
        ("phone", "5876543210"),
        ("phone", "98765"),
        ("recipient_name", ""),
        ("line1", ""),
        ("city", ""),
        ("country_code", "US"),
    ],
)
async def test_bad_addresses_are_rejected_and_nothing_changes(
    auth: AuthHarness, field: str, value: str
) -> None:
    md = bearer(await auth.customer_token())
    good = await _create(auth, md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _create(auth, md, **{field: value})
    assert err.value.code() == StatusCode.INVALID_ARGUMENT
    assert f"address.postal_address.{field}" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.UpdateAddress(
            acc.UpdateAddressRequest(
                address=resources_pb2.Address(
                    name=good.name, postal_address=postal(**{field: value})
                )
            ),
            metadata=md,
        )
    assert err.value.code() == StatusCode.INVALID_ARGUMENT
    assert [a.postal_address for a in await _list(auth, md)] == [good.postal_address]


async def test_concurrent_first_addresses_make_exactly_one_default(auth: AuthHarness) -> None:
    import asyncio

    md = bearer(await auth.customer_token())
    made = await asyncio.gather(*(_create(auth, md, f"A{i}") for i in range(8)))
    assert sum(a.is_default for a in made) == 1
    assert sum(a.is_default for a in await _list(auth, md)) == 1
