"""Allocation, stock status and CSV parsing: plain Python, no I/O."""

from __future__ import annotations

import pytest

from cleanse.inventory.v1 import availability_service_pb2
from services.inventory.domain.allocation import (
    Allocated,
    OutOfStock,
    Site,
    Supply,
    allocate,
    distance,
    rank_sites,
)
from services.inventory.domain.returns import ExceedsReservation, plan, split
from services.inventory.domain.stock import (
    CsvError,
    CsvRow,
    available,
    parse_stock_csv,
    stock_status,
)
from services.inventory.seed import demo_variant_id

S = availability_service_pb2.StockStatus
SITES = [
    Site("blr", "560099", "KA"),
    Site("mys", "570001", "KA"),
    Site("bhw", "421302", "MH"),
    Site("ggn", "122004", "HR"),
]


def supplies(table: dict[str, dict[str, int]], room: dict[str, int] | None = None) -> list[Supply]:
    room = room or {}
    return [Supply(w, v, q, room.get(w, 0)) for w, per in table.items() for v, q in per.items()]


def test_distance_is_a_pincode_prefix_heuristic() -> None:
    assert distance("560099", "560034") == 0  # same sorting district
    assert distance("560099", "562110") == 1  # same circle
    assert distance("560099", "570001") == 2  # same region
    assert distance("560099", "122004") == 3
    assert distance("560099", "") == 3


def test_state_breaks_ties_between_equally_near_warehouses() -> None:
    sites = [Site("a", "400001", "MH"), Site("b", "401000", "GA")]
    assert rank_sites(sites, "403001", "GA") == ["b", "a"]
    assert rank_sites(sites, "403001", "") == ["a", "b"]


def test_one_warehouse_ships_everything_when_it_can() -> None:
    table = {"blr": {"x": 1, "y": 1}, "bhw": {"x": 5, "y": 5}, "ggn": {"x": 5, "y": 5}}
    plan = allocate({"x": 2, "y": 1}, supplies(table), SITES, "560034", "KA")
    # Bengaluru is nearest but cannot ship x=2: one other warehouse, no split.
    assert {a.warehouse_id for a in plan} in ({"bhw"}, {"ggn"})
    plan = allocate({"x": 1, "y": 1}, supplies(table), SITES, "560034", "KA")
    assert {a.warehouse_id for a in plan} == {"blr"}


def test_split_uses_as_few_warehouses_as_possible() -> None:
    table = {"blr": {"x": 1}, "mys": {"x": 2}, "bhw": {"x": 4}, "ggn": {"x": 3}}
    plan = allocate({"x": 7}, supplies(table), SITES, "560034")
    assert sorted((a.warehouse_id, a.quantity) for a in plan) == [("bhw", 4), ("ggn", 3)]


def test_backorder_only_for_the_shortfall_and_within_the_limit() -> None:
    table = {"blr": {"x": 2}}
    plan = allocate({"x": 5}, supplies(table, {"blr": 3}), SITES, "560034")
    assert plan == [Allocated("x", "blr", 2, 3)]
    with pytest.raises(OutOfStock) as err:
        allocate({"x": 6, "y": 1}, supplies(table, {"blr": 3}), SITES)
    assert err.value.variant_ids == ["x", "y"]


def test_stock_status_thresholds() -> None:
    assert available(10, 3, 2) == 5
    assert available(3, 3, 2) == 0  # never negative
    assert stock_status(6, 5, 0) == S.STOCK_STATUS_IN_STOCK
    assert stock_status(5, 5, 0) == S.STOCK_STATUS_LOW_STOCK
    assert stock_status(0, 5, 2) == S.STOCK_STATUS_BACKORDER
    assert stock_status(0, 5, 0) == S.STOCK_STATUS_OUT_OF_STOCK


def test_csv_parser_reports_lines_and_columns() -> None:
    data = (
        "\ufeffwarehouse_id,variant_id,on_hand,backorder_allowed\n"
        "blr-1,var_a,10,yes\n"
        "\n"
        "blr-1,,x,\n"
        "blr-1,var_b,3\n"
    ).encode()
    out = list(parse_stock_csv(data))
    assert out[0] == CsvRow(2, "blr-1", "var_a", on_hand=10, backorder_allowed=True)
    assert CsvError(4, "variant_id", "is required") in out
    assert any(isinstance(e, CsvError) and e.line == 4 and e.column == "on_hand" for e in out)
    assert CsvError(5, "", "expected 4 cells, found 3") in out
    assert next(iter(parse_stock_csv(b"sku,qty\n"))).line == 1


def test_demo_variant_ids_follow_the_catalog_convention() -> None:
    assert demo_variant_id("VAN-KUMK-30ML") == "var_van-kumk-30ml"


def test_restock_split_is_proportional_to_what_is_still_out() -> None:
    assert split(5, {"a": 3, "b": 2}) == {"a": 3, "b": 2}
    assert split(5, {"a": 6, "b": 4}) == {"a": 3, "b": 2}
    # Largest remainder: 4 of 3:2 is 2.4 / 1.6 -> 2 / 2; 1 of 6:4 -> a.
    assert split(4, {"a": 3, "b": 2}) == {"b": 2, "a": 2}
    assert split(1, {"a": 6, "b": 4}) == {"a": 1}
    # Ties: more still out first, then the warehouse id.
    assert split(1, {"b": 2, "a": 2}) == {"a": 1}
    assert split(1, {"a": 1, "b": 1, "c": 2}) == {"c": 1}
    assert split(2, {"a": 0, "b": 5}) == {"b": 2}
    assert split(0, {"a": 1}) == {}
    with pytest.raises(ValueError):
        split(3, {"a": 1, "b": 1})


def test_restock_split_never_gives_a_warehouse_more_than_it_has_out() -> None:
    import itertools

    for out_a, out_b, out_c in itertools.product(range(5), repeat=3):
        out = {"a": out_a, "b": out_b, "c": out_c}
        for q in range(sum(out.values()) + 1):
            got = split(q, out)
            assert sum(got.values()) == q
            assert all(0 < n <= out[w] for w, n in got.items())
        # Any sequence of restocks of what is left puts back exactly what was taken.
        left, total = dict(out), {"a": 0, "b": 0, "c": 0}
        while sum(left.values()):
            for w, n in split(min(2, sum(left.values())), left).items():
                left[w] -= n
                total[w] += n
        assert total == out


def test_restock_plan_is_all_or_nothing() -> None:
    out = {"v1": {"a": 3, "b": 2}, "v2": {"a": 1}}
    assert plan({"v1": 5, "v2": 1}, out) == [("v1", "a", 3), ("v1", "b", 2), ("v2", "a", 1)]
    with pytest.raises(ExceedsReservation) as err:
        plan({"v1": 6, "v2": 2, "v3": 1}, out)
    assert err.value.short == {"v1": (6, 5), "v2": (2, 1), "v3": (1, 0)}
