"""Pieces sold as one unit of a variant (`Variant.pieces_per_unit`): GST price slabs
that apply per piece (apparel) compare the value per piece, so a "Pack of 2" sets is
two pieces. Written by the admin API, served to pricing by BatchGetVariants, set by
the demo loader from "Pack of N" titles."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.catalog.v1 import catalog_admin_service_pb2 as adm
from cleanse.catalog.v1 import catalog_internal_service_pb2 as internal
from cleanse.catalog.v1 import resources_pb2 as res
from services.catalog.demo.loader import pieces_per_unit, variant_id
from tests.catalog.conftest import Catalog, product, variant
from tests.support.rpc import violations


async def snapshot(catalog: Catalog, vid: str) -> internal.VariantSnapshot:
    got = await catalog.internal(
        "BatchGetVariants", internal.BatchGetVariantsRequest(variant_ids=[vid])
    )
    return got.variants[0]


async def test_pieces_per_unit_written_read_and_served_to_pricing(catalog: Catalog) -> None:
    p = await catalog.admin(
        "CreateProduct",
        adm.CreateProductRequest(
            product=product(
                hsn_code="62114990",
                tax_class="apparel",
                variants=[variant(), variant(pieces_per_unit=2)],
            )
        ),
    )
    single, pack = p.variants
    # Unset (0) is one piece.
    assert (single.pieces_per_unit, pack.pieces_per_unit) == (1, 2)
    assert (await snapshot(catalog, single.variant_id)).pieces_per_unit == 1
    assert (await snapshot(catalog, pack.variant_id)).pieces_per_unit == 2

    three = await catalog.admin(
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=pack.name, pieces_per_unit=3),
            update_mask=field_mask_pb2.FieldMask(paths=["pieces_per_unit"]),
        ),
    )
    assert three.pieces_per_unit == 3
    # A catalogue write bumps the version: the cached snapshot is not served again.
    assert (await snapshot(catalog, pack.variant_id)).pieces_per_unit == 3
    got = await catalog.admin("GetProduct", adm.GetProductRequest(name=p.name))
    assert [v.pieces_per_unit for v in got.variants] == [1, 3]

    for bad in (-1, 1001):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await catalog.admin(
                "UpdateVariant",
                adm.UpdateVariantRequest(
                    variant=res.Variant(name=pack.name, pieces_per_unit=bad),
                    update_mask=field_mask_pb2.FieldMask(paths=["pieces_per_unit"]),
                ),
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "variant.pieces_per_unit" in violations(err.value)
    # Cleared with the mask: back to one piece.
    one = await catalog.admin(
        "UpdateVariant",
        adm.UpdateVariantRequest(
            variant=res.Variant(name=pack.name),
            update_mask=field_mask_pb2.FieldMask(paths=["pieces_per_unit"]),
        ),
    )
    assert one.pieces_per_unit == 1


async def test_demo_packs_are_several_pieces(catalog: Catalog) -> None:
    assert [pieces_per_unit(t) for t in ("Pack of 2", "Pack of 3", "Single", "Pair", "100 ml")] == [
        2,
        3,
        1,
        1,
        1,
    ]
    combs = await catalog.internal(
        "BatchGetVariants",
        internal.BatchGetVariantsRequest(
            variant_ids=[variant_id(s) for s in ("KAY-NWCB-1", "KAY-NWCB-2", "NEE-NTSP-3")]
        ),
    )
    assert {v.sku: v.pieces_per_unit for v in combs.variants} == {
        "KAY-NWCB-1": 1,
        "KAY-NWCB-2": 2,
        "NEE-NTSP-3": 3,
    }
