"""Store settings and payment methods over real gRPC: admin get/update with validation
and permissions, the public subset, GetCheckoutConfig, payment method filtering."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.common.v1 import address_pb2, money_pb2
from cleanse.settings.v1 import resources_pb2 as res
from cleanse.settings.v1 import settings_admin_service_pb2 as adm
from cleanse.settings.v1 import settings_internal_service_pb2 as internal
from cleanse.settings.v1 import storefront_settings_service_pb2 as front
from tests.settings.conftest import SettingsHarness, unique
from tests.support.rpc import reason, violations

Code = grpc.StatusCode


def rs(rupees: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=rupees * 100, currency_code="INR")


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


async def test_seeded_store_settings_and_public_subset(settings_svc: SettingsHarness) -> None:
    s = await settings_svc.admin.GetStoreSettings(
        adm.GetStoreSettingsRequest(), metadata=settings_svc.md()
    )
    assert s.registered_state_code == "KA" and s.gstin.startswith("29")
    assert s.currency_code == "INR" and s.prices_include_tax
    public = await settings_svc.storefront.GetPublicStoreSettings(
        front.GetPublicStoreSettingsRequest()
    )
    assert public.store_name == s.store_name
    assert "gstin" not in {f.name for f, _ in public.ListFields()}


async def test_update_validates_everything_and_changes_nothing_on_error(
    settings_svc: SettingsHarness,
) -> None:
    md = settings_svc.md()
    before = await settings_svc.admin.GetStoreSettings(adm.GetStoreSettingsRequest(), metadata=md)
    bad = res.StoreSettings(
        gstin="29AAGCC1234F1ZA",  # wrong checksum
        flat_shipping_rate=money_pb2.Money(amount_minor=-100),
        store_name="Renamed",
        support_email="not-an-email",
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.UpdateStoreSettings(
            adm.UpdateStoreSettingsRequest(
                store_settings=bad,
                update_mask=mask("gstin", "flat_shipping_rate", "store_name", "support_email"),
            ),
            metadata=md,
        )
    assert err.value.code() == Code.INVALID_ARGUMENT
    assert set(violations(err.value)) == {
        "store_settings.gstin",
        "store_settings.flat_shipping_rate",
        "store_settings.support_email",
    }
    after = await settings_svc.admin.GetStoreSettings(adm.GetStoreSettingsRequest(), metadata=md)
    assert after == before  # nothing changed, not even the valid store_name
    # A GSTIN of another state than the registered one is refused too.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.UpdateStoreSettings(
            adm.UpdateStoreSettingsRequest(
                store_settings=res.StoreSettings(gstin="27AAPFU0939F1ZV"), update_mask=mask("gstin")
            ),
            metadata=md,
        )
    assert "another state" in violations(err.value)["store_settings.gstin"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.UpdateStoreSettings(
            adm.UpdateStoreSettingsRequest(
                store_settings=res.StoreSettings(), update_mask=mask("name", "bogus")
            ),
            metadata=md,
        )
    assert set(violations(err.value)) == {"update_mask.paths[0]", "update_mask.paths[1]"}


async def test_update_applies_masked_fields_only(settings_svc: SettingsHarness) -> None:
    md = settings_svc.md(sub="adminUsers/ops")
    updated = await settings_svc.admin.UpdateStoreSettings(
        adm.UpdateStoreSettingsRequest(
            store_settings=res.StoreSettings(
                return_window_days=10, invoice_prefix="cln-26", store_name="IGNORED"
            ),
            update_mask=mask("return_window_days", "invoice_prefix"),
        ),
        metadata=md,
    )
    assert updated.return_window_days == 10 and updated.invoice_prefix == "CLN-26"
    assert updated.store_name != "IGNORED" and updated.update_by == "adminUsers/ops"
    cfg = await settings_svc.internal.GetCheckoutConfig(internal.GetCheckoutConfigRequest())
    assert cfg.return_window_days == 10 and cfg.invoice_prefix == "CLN-26"  # cache invalidated
    assert cfg.registered_state_code == "KA" and cfg.prices_include_tax
    assert {m.code for m in cfg.payment_methods} >= {"razorpay_upi", "cod"}


async def test_admin_permission_enforced(settings_svc: SettingsHarness) -> None:
    req = adm.UpdateStoreSettingsRequest(
        store_settings=res.StoreSettings(return_window_days=3),
        update_mask=mask("return_window_days"),
    )
    for md in (
        settings_svc.md(perms=("settings.read",)),  # admin without settings.write
        settings_svc.md(role="customer", perms=()),  # a customer
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await settings_svc.admin.UpdateStoreSettings(req, metadata=md)
        assert err.value.code() == Code.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.UpdateStoreSettings(req)
    assert err.value.code() == Code.UNAUTHENTICATED
    # Internal RPCs are not for outside callers, even admins.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        from cleanse.settings.v1 import settings_internal_service_pb2_grpc as ig

        await ig.SettingsInternalServiceStub(settings_svc.channel).GetCheckoutConfig(
            internal.GetCheckoutConfigRequest(), metadata=settings_svc.md()
        )
    assert err.value.code() == Code.PERMISSION_DENIED


async def test_payment_methods_filtered_by_order_value(settings_svc: SettingsHarness) -> None:
    async def codes(rupees: int | None) -> list[str]:
        req = front.ListAvailablePaymentMethodsRequest()
        if rupees is not None:
            req.order_value.CopyFrom(rs(rupees))
        resp = await settings_svc.storefront.ListAvailablePaymentMethods(req)
        return [m.code for m in resp.payment_methods]

    everything = await codes(None)
    assert everything[:4] == [
        "razorpay_upi",
        "razorpay_card",
        "razorpay_netbanking",
        "razorpay_wallet",
    ]
    assert "cod" in await codes(1000)  # within Rs 199..5,000
    assert "cod" not in await codes(5001)  # above COD's limit: hidden
    assert "cod" not in await codes(150)  # below its minimum
    cfg = await settings_svc.internal.GetCheckoutConfig(
        internal.GetCheckoutConfigRequest(order_value=rs(6000))
    )
    assert "cod" not in {m.code for m in cfg.payment_methods}
    cod = next(
        m
        for m in (
            await settings_svc.internal.GetCheckoutConfig(internal.GetCheckoutConfigRequest())
        ).payment_methods
        if m.code == "cod"
    )
    assert cod.fee.amount_minor == 4900 and cod.max_order_value.amount_minor == 500000


async def test_payment_method_crud(settings_svc: SettingsHarness) -> None:
    md = settings_svc.md()
    code = unique("emi_")
    created = await settings_svc.admin.CreatePaymentMethod(
        adm.CreatePaymentMethodRequest(
            payment_method_id=code,
            payment_method=res.PaymentMethod(
                display_name="Card EMI",
                provider=res.PAYMENT_PROVIDER_RAZORPAY,
                enabled=True,
                display_order=9,
                min_order_value=rs(3000),
            ),
        ),
        metadata=md,
    )
    assert created.name == f"paymentMethods/{code}"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.CreatePaymentMethod(
            adm.CreatePaymentMethodRequest(payment_method_id=code, payment_method=created),
            metadata=md,
        )
    assert err.value.code() == Code.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.UpdatePaymentMethod(
            adm.UpdatePaymentMethodRequest(
                payment_method=res.PaymentMethod(
                    name=created.name, fee=money_pb2.Money(amount_minor=-1)
                ),
                update_mask=mask("fee"),
            ),
            metadata=md,
        )
    assert violations(err.value) == {"payment_method.fee": "must not be negative"}
    off = await settings_svc.admin.UpdatePaymentMethod(
        adm.UpdatePaymentMethodRequest(
            payment_method=res.PaymentMethod(name=created.name, enabled=False),
            update_mask=mask("enabled"),
        ),
        metadata=md,
    )
    assert not off.enabled and off.display_name == "Card EMI"
    resp = await settings_svc.storefront.ListAvailablePaymentMethods(
        front.ListAvailablePaymentMethodsRequest()
    )
    assert code not in {m.code for m in resp.payment_methods}  # disabled: not offered
    await settings_svc.admin.DeletePaymentMethod(
        adm.DeletePaymentMethodRequest(name=created.name), metadata=md
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.GetPaymentMethod(
            adm.GetPaymentMethodRequest(name=created.name), metadata=md
        )
    assert err.value.code() == Code.NOT_FOUND and reason(err.value) == "NOT_FOUND"


# --- the registered address (tax invoices) ---------------------------------------------


def postal(**kw: str) -> address_pb2.PostalAddress:
    values = {
        "line1": "Plot 7, Peenya Industrial Area",
        "city": "Bengaluru",
        "state_code": "KA",
        "pincode": "560058",
    }
    values.update(kw)
    return address_pb2.PostalAddress(**values)


async def test_seeded_legal_name_and_registered_address_reach_checkout_config(
    settings_svc: SettingsHarness,
) -> None:
    s = await settings_svc.admin.GetStoreSettings(
        adm.GetStoreSettingsRequest(), metadata=settings_svc.md()
    )
    assert s.legal_name == "Cleanse Ayurveda Private Limited"
    a = s.registered_address
    assert (a.city, a.state_code, a.pincode, a.country_code) == ("Bengaluru", "KA", "560038", "IN")
    assert a.line1
    cfg = await settings_svc.internal.GetCheckoutConfig(internal.GetCheckoutConfigRequest())
    assert cfg.legal_name == s.legal_name and cfg.store_name == s.store_name
    assert cfg.registered_address == s.registered_address
    # Not for the storefront: the public subset has neither.
    public = await settings_svc.storefront.GetPublicStoreSettings(
        front.GetPublicStoreSettingsRequest()
    )
    assert not {"legal_name", "registered_address"} & {f.name for f, _ in public.ListFields()}


async def test_registered_address_is_validated_and_nothing_changes_on_error(
    settings_svc: SettingsHarness,
) -> None:
    md = settings_svc.md()
    before = await settings_svc.admin.GetStoreSettings(adm.GetStoreSettingsRequest(), metadata=md)

    async def refused(address: address_pb2.PostalAddress, *paths: str) -> dict[str, str]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await settings_svc.admin.UpdateStoreSettings(
                adm.UpdateStoreSettingsRequest(
                    store_settings=res.StoreSettings(
                        registered_address=address, store_name="Renamed"
                    ),
                    update_mask=mask("registered_address", *paths),
                ),
                metadata=md,
            )
        assert err.value.code() == Code.INVALID_ARGUMENT
        return violations(err.value)

    p = "store_settings.registered_address."
    # A Mumbai PIN code with the state given as Karnataka: the two disagree.
    got = await refused(postal(pincode="400001"), "store_name")
    assert set(got) == {p + "pincode"}
    assert "Maharashtra (MH)" in got[p + "pincode"] and "Karnataka (KA)" in got[p + "pincode"]
    # A consistent Mumbai address, but the store is registered for GST in Karnataka.
    got = await refused(postal(pincode="400001", state_code="MH", city="Mumbai"))
    assert set(got) == {p + "state_code"} and "registered" in got[p + "state_code"]
    # Malformed and missing parts, each named.
    got = await refused(
        address_pb2.PostalAddress(
            line1="", pincode="056003", state_code="XX", country_code="US", phone="12345"
        )
    )
    assert set(got) == {
        p + "line1",
        p + "city",
        p + "pincode",
        p + "state_code",
        p + "country_code",
        p + "phone",
    }
    # An Army Postal Service PIN is in no state.
    got = await refused(postal(pincode="900001"))
    assert set(got) == {p + "pincode"}
    # Nested mask paths are not accepted: the address changes as a whole.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.UpdateStoreSettings(
            adm.UpdateStoreSettingsRequest(
                store_settings=res.StoreSettings(registered_address=postal()),
                update_mask=mask("registered_address.pincode"),
            ),
            metadata=md,
        )
    assert set(violations(err.value)) == {"update_mask.paths[0]"}
    after = await settings_svc.admin.GetStoreSettings(adm.GetStoreSettingsRequest(), metadata=md)
    assert after == before  # nothing changed, not even the valid store_name


async def test_registered_address_update_is_normalized_and_read_by_checkout(
    settings_svc: SettingsHarness,
) -> None:
    md = settings_svc.md()
    before = await settings_svc.admin.GetStoreSettings(adm.GetStoreSettingsRequest(), metadata=md)

    async def update(address: address_pb2.PostalAddress) -> res.StoreSettings:
        return await settings_svc.admin.UpdateStoreSettings(
            adm.UpdateStoreSettingsRequest(
                store_settings=res.StoreSettings(registered_address=address),
                update_mask=mask("registered_address"),
            ),
            metadata=md,
        )

    try:
        updated = await update(
            postal(line1="  Plot 7,   Peenya Industrial Area ", state_code="ka", pincode="560 058")
        )
        a = updated.registered_address
        assert (a.line1, a.state_code, a.pincode, a.country_code) == (
            "Plot 7, Peenya Industrial Area",
            "KA",
            "560058",
            "IN",
        )
        assert updated.legal_name == before.legal_name  # only the masked field changed
        cfg = await settings_svc.internal.GetCheckoutConfig(internal.GetCheckoutConfigRequest())
        assert cfg.registered_address == a  # the read cache was invalidated
        # An empty address clears it: neither resource carries one.
        cleared = await update(address_pb2.PostalAddress())
        assert not cleared.HasField("registered_address")
        cfg = await settings_svc.internal.GetCheckoutConfig(internal.GetCheckoutConfigRequest())
        assert not cfg.HasField("registered_address")
    finally:
        await update(before.registered_address)
    restored = await settings_svc.admin.GetStoreSettings(adm.GetStoreSettingsRequest(), metadata=md)
    assert restored.registered_address == before.registered_address
