"""The checkout bench's per-order work figures: gRPC requests read off /metrics, and
the difference between two snapshots."""

from collections import Counter

from bench.checkout import WorkSnapshot, _served, work_report

INVENTORY = "cleanse.inventory.v1.InventoryInternalService"


def _line(name: str, value: float, **labels: str) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}} {value}"


METRICS = "\n".join(
    [
        "# TYPE grpc_server_handled_total counter",
        _line(
            "grpc_server_handled_total",
            40.0,
            grpc_code="OK",
            grpc_method="ReserveStock",
            grpc_service=INVENTORY,
            grpc_type="UNARY",
        ),
        _line(
            "grpc_server_handled_total",
            2.0,
            grpc_code="ABORTED",
            grpc_method="ReserveStock",
            grpc_service=INVENTORY,
            grpc_type="UNARY",
        ),
        _line(
            "grpc_server_handled_total",
            99.0,
            grpc_code="OK",
            grpc_method="Check",
            grpc_service="grpc.health.v1.Health",
            grpc_type="UNARY",
        ),
        _line(
            "grpc_server_started_total",
            43.0,
            grpc_method="ReserveStock",
            grpc_service=INVENTORY,
            grpc_type="UNARY",
        ),
    ]
)


def test_requests_are_summed_over_codes_and_health_checks_left_out() -> None:
    assert _served(METRICS) == Counter({"InventoryInternalService/ReserveStock": 42})


def test_the_report_is_the_work_done_between_two_snapshots() -> None:
    before = WorkSnapshot(
        Counter({("inventory", "I/ReserveStock"): 10, ("pricing", "P/Hold"): 5}),
        Counter({"inventory": 100, "pricing": 7}),
    )
    after = WorkSnapshot(
        Counter({("inventory", "I/ReserveStock"): 30, ("pricing", "P/Hold"): 5}),
        Counter({"inventory": 160, "pricing": 7, "order": 12}),
    )
    assert work_report(before, after) == {
        "grpc_requests": {"inventory I/ReserveStock": 20},
        "pg_transactions": {"inventory": 60, "order": 12},
    }
