"""PIN serviceability: real-PIN checks and the CSV import (line errors, dry run)."""

from __future__ import annotations

import grpc
import pytest

from cleanse.shipping.v1 import resources_pb2 as pb
from cleanse.shipping.v1 import shipping_admin_service_pb2 as admin_pb2
from tests.support.rpc import reason


async def test_set_pincode_checks_it_is_real(shipping) -> None:
    row = await shipping.admin.SetPincodeServiceability(
        admin_pb2.SetPincodeServiceabilityRequest(
            serviceability=pb.PincodeServiceability(
                name="pincodes/682001", serviceable=True, cod_available=False, estimated_days=4
            )
        ),
        metadata=shipping.md(),
    )
    assert (row.state_code, row.cod_available) == ("KL", False)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await shipping.admin.SetPincodeServiceability(
            admin_pb2.SetPincodeServiceabilityRequest(
                serviceability=pb.PincodeServiceability(name="pincodes/123457", serviceable=True)
            ),
            metadata=shipping.md(),
        )
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and reason(e.value) == "PINCODE_NOT_FOUND"


CSV = (
    "pincode,serviceable,cod_available,estimated_days,carrier_id,state_code\n"
    "600001,yes,yes,3,,TN\n"  # line 2: fine
    "411001,true,no,4,shipfast,\n"  # line 3: fine
    "123457,yes,yes,3,,\n"  # line 4: not a real PIN
    "400050,maybe,yes,3,,MH\n"  # line 5: bad boolean
    "641004,yes,yes,3,,KA\n"  # line 6: wrong state
    "600001,yes,yes,2,,\n"  # line 7: duplicate
    "560034,yes,yes,x,nobody,\n"  # line 8: bad days, unknown carrier
)


async def test_csv_import_reports_line_errors_and_applies_nothing(shipping) -> None:
    r = await shipping.admin.ImportPincodeCsv(
        admin_pb2.ImportPincodeCsvRequest(csv=CSV.encode()), metadata=shipping.md()
    )
    errs = {(e.line, e.column) for e in r.errors}
    assert errs == {
        (4, "pincode"),
        (5, "serviceable"),
        (6, "state_code"),
        (7, "pincode"),
        (8, "estimated_days"),
        (8, "carrier_id"),
    }
    assert (r.rows, r.applied, r.created) == (7, False, 0)
    with pytest.raises(grpc.aio.AioRpcError):
        await shipping.admin.GetPincodeServiceability(
            admin_pb2.GetPincodeServiceabilityRequest(name="pincodes/411001"),
            metadata=shipping.md(),
        )


async def test_csv_dry_run_then_apply(shipping) -> None:
    good = "pincode,serviceable,cod_available,estimated_days\n600001,yes,no,3\n411001,no,no,0\n"
    dry = await shipping.admin.ImportPincodeCsv(
        admin_pb2.ImportPincodeCsvRequest(csv=good.encode(), dry_run=True), metadata=shipping.md()
    )
    assert (dry.rows, dry.applied, list(dry.errors)) == (2, False, [])
    listed = await shipping.admin.ListPincodeServiceability(
        admin_pb2.ListPincodeServiceabilityRequest(pincode_prefix="411"), metadata=shipping.md()
    )
    assert not listed.pincodes
    done = await shipping.admin.ImportPincodeCsv(
        admin_pb2.ImportPincodeCsvRequest(csv=good.encode()), metadata=shipping.md()
    )
    assert (done.applied, done.created + done.updated) == (True, 2)
    row = await shipping.admin.GetPincodeServiceability(
        admin_pb2.GetPincodeServiceabilityRequest(name="pincodes/411001"), metadata=shipping.md()
    )
    assert (row.serviceable, row.state_code) == (False, "MH")
