"""A product's tax class must be one settings has GST rules for (ListTaxClasses): an
unknown one would silently take the standard 18%. Admin writes and CSV imports refuse
it; settings down refuses the write (UNAVAILABLE) rather than record it unchecked."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import resources_pb2 as res
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as settings_grpc
from mesh import client
from services.catalog.tax_classes import TaxClasses
from services.settings.seed import DEMO_TAX_RULES
from tests.catalog.conftest import Catalog, FakeSettings, product, uniq
from tests.catalog.io.conftest import StaticTaxClasses
from tests.support.rpc import error_info, reason, serve, violations

Code = grpc.StatusCode


async def _listed(catalog: Catalog, slug: str) -> list[str]:
    got = await catalog.admin("ListProducts", adm.ListProductsRequest(query=slug))
    return [p.slug for p in got.products]


async def test_unknown_tax_class_is_refused_with_the_known_ones(catalog: Catalog) -> None:
    slug = uniq("gst18")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "CreateProduct", adm.CreateProductRequest(product=product(slug, tax_class="gst_18"))
        )
    assert err.value.code() == Code.INVALID_ARGUMENT
    message = violations(err.value)["product.tax_class"]
    assert "'gst_18'" in message and "apparel, standard" in message
    assert await _listed(catalog, slug) == []

    made = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(product=product(slug, tax_class="Apparel", hsn_code="61169990")),
    )
    assert made.tax_class == "apparel"
    mask = field_mask_pb2.FieldMask(paths=["tax_class"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog.admin(
            "UpdateProduct",
            adm.UpdateProductRequest(
                product=res.Product(name=made.name, tax_class="gst_5"),
                update_mask=mask,
            ),
        )
    assert err.value.code() == Code.INVALID_ARGUMENT
    assert set(violations(err.value)) == {"product.tax_class"}
    got = await catalog.admin("GetProduct", adm.GetProductRequest(name=made.name))
    assert got.tax_class == "apparel"


async def test_a_class_settings_just_gained_is_accepted(catalog: Catalog) -> None:
    fake = catalog.settings
    fake.classes.add("ayurvedic_oil")
    try:
        made = await catalog.admin(
            "CreateProduct",
            adm.CreateProductRequest(product=product(uniq("new-class"), tax_class="ayurvedic_oil")),
        )
        assert made.tax_class == "ayurvedic_oil"
    finally:
        fake.classes.discard("ayurvedic_oil")


async def test_settings_down_refuses_a_write_naming_a_class(catalog: Catalog) -> None:
    fake = catalog.settings
    existing = await catalog.admin(
        "CreateProduct", adm.CreateProductRequest(product=product(uniq("before-outage")))
    )
    fake.down = True
    try:
        slug = uniq("outage")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await catalog.admin("CreateProduct", adm.CreateProductRequest(product=product(slug)))
        assert err.value.code() == Code.UNAVAILABLE
        assert reason(err.value) == "DEPENDENCY_UNAVAILABLE"
        info = error_info(err.value)
        assert info is not None and info.metadata["dependency"] == "settings"
        assert await _listed(catalog, slug) == []
        # Refused for its own violations anyway: INVALID_ARGUMENT, not UNAVAILABLE.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await catalog.admin(
                "CreateProduct",
                adm.CreateProductRequest(product=product("Bad Slug", tax_class="standard")),
            )
        assert err.value.code() == Code.INVALID_ARGUMENT
        assert set(violations(err.value)) == {"product.slug"}
        # A write that does not name a class does not need settings.
        renamed = await catalog.admin(
            "UpdateProduct",
            adm.UpdateProductRequest(
                product=res.Product(name=existing.name, title="Renamed in an outage"),
                update_mask=field_mask_pb2.FieldMask(paths=["title"]),
            ),
        )
        assert renamed.title == "Renamed in an outage"
    finally:
        fake.down = False
        client.reset_breakers()


async def test_the_class_list_is_cached_but_a_miss_asks_again() -> None:
    fake = FakeSettings()
    server, addr = await serve(fake, settings_grpc.add_SettingsInternalServiceServicer_to_server)
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_SETTINGS_ADDR", addr)
    await client.close_all()  # a channel to another settings address may be cached
    try:
        classes = TaxClasses(ttl=60)
        assert await classes.unknown(["standard"]) == ([], frozenset({"apparel", "standard"}))
        assert await classes.unknown(["apparel", ""]) == ([], frozenset({"apparel", "standard"}))
        assert fake.calls == 1  # the second answer came from the cache
        missing, _ = await classes.unknown(["gst_18"])
        assert missing == ["gst_18"] and fake.calls == 2  # asked again before refusing
        fake.classes.add("gst_18")
        assert (await classes.unknown(["gst_18"]))[0] == [] and fake.calls == 3
        assert await classes.problems([("f", "nope"), ("g", "standard")]) == [
            (
                "f",
                "settings has no GST rule for tax class 'nope' (known: apparel, gst_18, standard)",
            )
        ]
    finally:
        await server.stop(None)
        await client.close_all()
        mp.undo()


async def test_static_lookup_matches_the_seed() -> None:
    # tests/catalog/io uses StaticTaxClasses: keep it to settings' seeded classes.
    seeded = frozenset(cls for _, cls, *_ in DEMO_TAX_RULES if cls)
    assert await StaticTaxClasses().known() == seeded
