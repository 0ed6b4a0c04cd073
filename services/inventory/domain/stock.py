"""Stock arithmetic and the storefront's stock status. Plain Python, no I/O."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from cleanse.inventory.v1 import availability_service_pb2

StockStatus = availability_service_pb2.StockStatus


def available(on_hand: int, reserved: int, safety_stock: int) -> int:
    """What can be sold now; never negative."""
    return max(on_hand - reserved - safety_stock, 0)


def backorder_room(allowed: bool, limit: int, backordered: int) -> int:
    return max(limit - backordered, 0) if allowed else 0


def is_low(avail: int, reorder_point: int) -> bool:
    return reorder_point > 0 and avail <= reorder_point


def stock_status(avail: int, threshold: int, backorder_remaining: int) -> int:
    """IN_STOCK / LOW_STOCK (0 < available <= threshold) / BACKORDER / OUT_OF_STOCK."""
    if avail > 0:
        return (
            StockStatus.STOCK_STATUS_LOW_STOCK
            if avail <= threshold
            else StockStatus.STOCK_STATUS_IN_STOCK
        )
    if backorder_remaining > 0:
        return StockStatus.STOCK_STATUS_BACKORDER
    return StockStatus.STOCK_STATUS_OUT_OF_STOCK


# --- bulk CSV ------------------------------------------------------------------------

CSV_COLUMNS = (
    "warehouse_id",
    "variant_id",
    "on_hand",
    "reorder_point",
    "safety_stock",
    "backorder_allowed",
    "backorder_limit",
)
REQUIRED_COLUMNS = ("warehouse_id", "variant_id")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


@dataclass(frozen=True)
class CsvRow:
    line: int
    warehouse_id: str
    variant_id: str
    on_hand: int | None = None
    reorder_point: int | None = None
    safety_stock: int | None = None
    backorder_allowed: bool | None = None
    backorder_limit: int | None = None


@dataclass(frozen=True)
class CsvError:
    line: int
    column: str
    message: str


def parse_stock_csv(data: bytes) -> Iterator[CsvRow | CsvError]:
    """Rows of a stock CSV, or an error per bad cell, with 1-based line numbers."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        yield CsvError(1, "", "file is not UTF-8")
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        yield CsvError(1, "", "file is empty")
        return
    cols = [h.strip().lower() for h in header]
    unknown = [c for c in cols if c not in CSV_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if unknown or missing:
        msg = "; ".join(
            [f"unknown column {c!r}" for c in unknown] + [f"missing column {c!r}" for c in missing]
        )
        yield CsvError(1, "", msg)
        return
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(cols):
            yield CsvError(line, "", f"expected {len(cols)} cells, found {len(row)}")
            continue
        cells = {c: v.strip() for c, v in zip(cols, row, strict=True)}
        values: dict[str, object] = {}
        bad = False
        for col in ("warehouse_id", "variant_id"):
            if not cells[col]:
                yield CsvError(line, col, "is required")
                bad = True
        for col in ("on_hand", "reorder_point", "safety_stock", "backorder_limit"):
            raw = cells.get(col, "")
            if not raw:
                continue
            if not raw.isdigit():
                yield CsvError(line, col, f"{raw!r} is not a whole number >= 0")
                bad = True
                continue
            values[col] = int(raw)
        raw = cells.get("backorder_allowed", "").lower()
        if raw:
            if raw in _TRUE:
                values["backorder_allowed"] = True
            elif raw in _FALSE:
                values["backorder_allowed"] = False
            else:
                yield CsvError(line, "backorder_allowed", f"{raw!r} is not true/false")
                bad = True
        if not bad:
            yield CsvRow(
                line=line,
                warehouse_id=cells["warehouse_id"],
                variant_id=cells["variant_id"],
                **values,  # type: ignore[arg-type]
            )
