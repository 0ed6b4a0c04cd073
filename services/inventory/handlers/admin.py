"""Admin use cases: warehouses, stock levels, adjustments, transfers, backorders, CSV.

Every write records the acting admin (mesh.context identity subject) and the time.
Creating a stock level checks the variant id with the catalog first (outside any
transaction); the catalog being down fails the call with UNAVAILABLE.

Transfer rule (documented in the README): dispatch removes the units from the
source's on hand (they must be unreserved) and counts them as in transit at the
destination, where they are not sellable; a receipt adds the received units to the
destination's on hand (filling its backorders first); a receipt with `close`
writes off whatever is still in transit as TRANSIT_LOSS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, tuple_

from cleanse.inventory.v1 import inventory_admin_service_pb2 as admin_pb2
from cleanse.inventory.v1 import resources_pb2
from mesh.db import Database, decode_page_token, next_page_token, on_conflict, utcnow
from mesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument, Violations
from mesh.outbox import Outbox
from services.inventory import repository as repo
from services.inventory.domain import stock as rules
from services.inventory.domain.rules import (
    MAX_LINES,
    MAX_QUANTITY,
    WAREHOUSE_ID,
    state_code,
    valid_pincode,
    valid_state_code,
    valid_variant_id,
)
from services.inventory.handlers.common import (
    Clock,
    Ledger,
    actor,
    check_variants_exist,
    id_of,
    missing_variants,
    not_found,
    stock_name_parts,
    warehouse_id_of,
)
from services.inventory.models import (
    Adjustment,
    Backorder,
    Stock,
    Transfer,
    TransferLine,
    Warehouse,
)

Reason = resources_pb2.AdjustmentReason
# Reason -> sign it requires (+1 adds, -1 removes, 0 either).
ADMIN_REASONS = {
    Reason.ADJUSTMENT_REASON_RECEIVED: ("RECEIVED", 1),
    Reason.ADJUSTMENT_REASON_DAMAGED: ("DAMAGED", -1),
    Reason.ADJUSTMENT_REASON_COUNT_CORRECTION: ("COUNT_CORRECTION", 0),
    Reason.ADJUSTMENT_REASON_RETURN_RESTOCK: ("RETURN_RESTOCK", 1),
    Reason.ADJUSTMENT_REASON_LOST: ("LOST", -1),
}
ADDRESS_FIELDS = (
    "recipient_name",
    "phone",
    "line1",
    "line2",
    "landmark",
    "city",
    "state_code",
    "pincode",
    "country_code",
)
WAREHOUSE_FIELDS = frozenset({"display_name", "address", "active"})


def new_stock(variant_id: str, warehouse_id: str, now: Any) -> Stock:
    return Stock(
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        on_hand=0,
        reserved=0,
        safety_stock=0,
        reorder_point=0,
        backorder_allowed=False,
        backorder_limit=0,
        backordered=0,
        in_transit=0,
        low_stock_alerted=False,
        update_time=now,
    )


def check_address(w: Warehouse, v: Violations) -> None:
    v.check(bool(w.display_name.strip()), "warehouse.display_name", "is required")
    v.check(valid_pincode(w.pincode), "warehouse.address.pincode", "6 digits, not starting 0")
    v.check(
        valid_state_code(w.state_code),
        "warehouse.address.state_code",
        "is not an Indian state/UT code",
    )
    v.check(w.country_code in ("", "IN"), "warehouse.address.country_code", "must be IN")


def _apply_address(w: Warehouse, a: Any, fields: Sequence[str] = ADDRESS_FIELDS) -> None:
    for f in fields:
        setattr(w, f, getattr(a, f).strip())
    # Legacy codes (OR, TG, ...) are stored as their current ones; bad ones are kept
    # as given so the validation below can name them.
    w.state_code = state_code(w.state_code) or w.state_code.upper()
    w.country_code = w.country_code.upper() or "IN"


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_page_token: str


@dataclass(frozen=True)
class TransferView:
    transfer: Transfer
    lines: list[TransferLine]


class AdminHandlers:
    def __init__(self, db: Database, outbox: Outbox, low_threshold: int, clock: Clock = utcnow):
        self.db = db
        self.outbox = outbox
        self.low_threshold = low_threshold
        self.clock = clock

    # --- warehouses --------------------------------------------------------------------

    async def create_warehouse(self, warehouse_id: str, w: resources_pb2.Warehouse) -> Warehouse:
        v = Violations()
        v.check(
            bool(WAREHOUSE_ID.fullmatch(warehouse_id)),
            "warehouse_id",
            "2-32 lower-case letters, digits or hyphens",
        )
        now = self.clock()
        row = Warehouse(
            id=warehouse_id,
            display_name=w.display_name.strip(),
            active=True,
            create_time=now,
            update_time=now,
        )
        _apply_address(row, w.address)
        check_address(row, v)
        v.raise_if_any()
        with on_conflict(AlreadyExists(f"warehouses/{warehouse_id} already exists")):
            async with self.db.transaction() as s:
                s.add(row)
        return row

    async def get_warehouse(self, name: str) -> Warehouse:
        wid = warehouse_id_of(name)
        async with self.db.session() as s:
            row = await s.get(Warehouse, wid)
        if row is None:
            raise not_found("warehouse", name)
        return row

    async def list_warehouses(self, size: int, token: str, show_inactive: bool) -> Page:
        filters = {"inactive": show_inactive}
        after = decode_page_token(token, filters)
        q = select(Warehouse).order_by(Warehouse.id).limit(size + 1)
        if not show_inactive:
            q = q.where(Warehouse.active.is_(True))
        if after is not None:
            q = q.where(Warehouse.id > after)
        async with self.db.session() as s:
            rows = list(await s.scalars(q))
        return _page(rows, size, lambda w: w.id, filters)

    async def update_warehouse(self, w: resources_pb2.Warehouse, paths: Sequence[str]) -> Warehouse:
        wid = warehouse_id_of(w.name, "warehouse.name")
        top: set[str] = set()
        addr: set[str] = set()
        bad = []
        for p in paths:
            if p in WAREHOUSE_FIELDS:
                top.add(p)
                if p == "address":
                    addr |= set(ADDRESS_FIELDS)
            elif p.startswith("address.") and p[8:] in ADDRESS_FIELDS:
                addr.add(p[8:])
            else:
                bad.append(p)
        if bad or not paths:
            raise InvalidArgument({"update_mask": f"updatable: {sorted(WAREHOUSE_FIELDS)}"})
        async with self.db.transaction() as s:
            row = await s.get(Warehouse, wid, with_for_update=True)
            if row is None:
                raise not_found("warehouse", w.name)
            if "display_name" in top:
                row.display_name = w.display_name.strip()
            if "active" in top:
                row.active = w.active
            _apply_address(row, w.address, sorted(addr))
            v = Violations()
            check_address(row, v)
            v.raise_if_any()
            row.update_time = self.clock()
        return row

    async def delete_warehouse(self, name: str) -> None:
        wid = warehouse_id_of(name)
        async with self.db.transaction() as s:
            row = await s.get(Warehouse, wid, with_for_update=True)
            if row is None:
                raise not_found("warehouse", name)
            busy = await s.scalar(
                select(func.count())
                .select_from(Stock)
                .where(
                    Stock.warehouse_id == wid,
                    or_(Stock.on_hand > 0, Stock.backordered > 0, Stock.in_transit > 0),
                )
            )
            refs = await s.scalar(
                select(func.count())
                .select_from(Transfer)
                .where(
                    or_(
                        Transfer.source_warehouse_id == wid,
                        Transfer.destination_warehouse_id == wid,
                    )
                )
            )
            refs = (refs or 0) + (
                await s.scalar(
                    select(func.count())
                    .select_from(Adjustment)
                    .where(Adjustment.warehouse_id == wid)
                )
                or 0
            )
            if busy or refs:
                raise FailedPrecondition(
                    "the warehouse holds stock or has history; deactivate it instead",
                    reason="WAREHOUSE_NOT_EMPTY",
                )
            for st in await s.scalars(select(Stock).where(Stock.warehouse_id == wid)):
                await s.delete(st)
            await s.delete(row)

    # --- stock levels ----------------------------------------------------------------------

    async def list_stock(
        self, size: int, token: str, variant_id: str, warehouse: str, low_only: bool
    ) -> Page:
        filters = {"v": variant_id, "w": warehouse, "low": low_only}
        after = decode_page_token(token, filters)
        q = select(Stock).order_by(Stock.variant_id, Stock.warehouse_id).limit(size + 1)
        if variant_id:
            q = q.where(Stock.variant_id == variant_id)
        if warehouse:
            q = q.where(Stock.warehouse_id == warehouse_id_of(warehouse, "warehouse"))
        if low_only:
            q = q.where(
                Stock.reorder_point > 0,
                Stock.on_hand - Stock.reserved - Stock.safety_stock <= Stock.reorder_point,
            )
        if after is not None:
            q = q.where(tuple_(Stock.variant_id, Stock.warehouse_id) > tuple(after))
        async with self.db.session() as s:
            rows = list(await s.scalars(q))
        return _page(rows, size, lambda st: [st.variant_id, st.warehouse_id], filters)

    async def get_stock(self, name: str) -> Stock:
        wid, vid = stock_name_parts(name)
        async with self.db.session() as s:
            st = await repo.get_stock(s, vid, wid)
        if st is None:
            raise not_found("stock level", name)
        return st

    async def set_stock(self, req: admin_pb2.SetStockLevelRequest) -> Stock:
        wid, vid = stock_name_parts(req.name)
        v = Violations()
        for f in ("on_hand", "reorder_point", "safety_stock", "backorder_limit"):
            if req.HasField(f):
                v.check(0 <= getattr(req, f) <= MAX_QUANTITY, f, f"must be 0..{MAX_QUANTITY}")
        v.raise_if_any()
        async with self.db.session() as s:
            if await s.get(Warehouse, wid) is None:
                raise not_found("warehouse", f"warehouses/{wid}")
            exists = await repo.get_stock(s, vid, wid) is not None
        if not exists:
            await check_variants_exist([vid])
        async with self.db.transaction() as s:
            now = self.clock()
            stocks = await repo.lock_stocks(s, [(vid, wid)])
            st = stocks.get((vid, wid))
            if st is None:
                st = new_stock(vid, wid, now)
                s.add(st)
            ledger = Ledger(s, self.outbox, now)
            await self._set_fields(ledger, st, req, req.note)
            await ledger.settle([st])
        return st

    async def _set_fields(self, ledger: Ledger, st: Stock, req: Any, note: str) -> None:
        for f in ("reorder_point", "safety_stock", "backorder_allowed", "backorder_limit"):
            if req.HasField(f) if hasattr(req, "HasField") else getattr(req, f) is not None:
                setattr(st, f, getattr(req, f))
        has_on_hand = (
            req.HasField("on_hand") if hasattr(req, "HasField") else req.on_hand is not None
        )
        if has_on_hand and req.on_hand != st.on_hand:
            delta = req.on_hand - st.on_hand
            if delta > 0:
                await ledger.bring_in(st, delta)
            else:
                ledger.take_out(st, -delta)
            ledger.record(st, delta, "COUNT_CORRECTION", note=note)
        st.update_time = ledger.now

    async def adjust(self, req: admin_pb2.AdjustStockRequest) -> tuple[Stock, Adjustment, int]:
        wid, vid = stock_name_parts(req.name)
        reason = ADMIN_REASONS.get(req.reason)
        v = Violations()
        if reason is None:
            v.add("reason", "is not an admin adjustment reason")
        elif reason[1] and req.delta * reason[1] <= 0:
            v.add("delta", f"{reason[0]} must be {'positive' if reason[1] > 0 else 'negative'}")
        v.check(
            0 < abs(req.delta) <= MAX_QUANTITY, "delta", f"must be non-zero, at most {MAX_QUANTITY}"
        )
        v.raise_if_any()
        assert reason is not None
        async with self.db.transaction() as s:
            now = self.clock()
            st = (await repo.lock_stocks(s, [(vid, wid)])).get((vid, wid))
            if st is None:
                raise not_found("stock level", req.name)
            ledger = Ledger(s, self.outbox, now)
            filled = 0
            if req.delta > 0:
                filled = await ledger.bring_in(st, req.delta)
            else:
                ledger.take_out(st, -req.delta)
            adj = ledger.record(st, req.delta, reason[0], note=req.note)
            await ledger.settle([st])
        return st, adj, filled

    async def list_adjustments(
        self, size: int, token: str, warehouse: str, variant_id: str, reason: int
    ) -> Page:
        filters = {"w": warehouse, "v": variant_id, "r": reason}
        after = decode_page_token(token, filters)
        q = select(Adjustment).order_by(Adjustment.id.desc()).limit(size + 1)
        if warehouse:
            q = q.where(Adjustment.warehouse_id == warehouse_id_of(warehouse, "warehouse"))
        if variant_id:
            q = q.where(Adjustment.variant_id == variant_id)
        if reason:
            q = q.where(Adjustment.reason == Reason.Name(reason).removeprefix("ADJUSTMENT_REASON_"))
        if after is not None:
            q = q.where(Adjustment.id < after)
        async with self.db.session() as s:
            rows = list(await s.scalars(q))
        return _page(rows, size, lambda a: a.id, filters)

    # --- transfers -----------------------------------------------------------------------

    async def create_transfer(self, t: resources_pb2.Transfer) -> TransferView:
        v = Violations()
        src = warehouse_id_of(t.source_warehouse, "transfer.source_warehouse")
        dst = warehouse_id_of(t.destination_warehouse, "transfer.destination_warehouse")
        v.check(src != dst, "transfer.destination_warehouse", "must differ from the source")
        v.check(0 < len(t.lines) <= MAX_LINES, "transfer.lines", f"1..{MAX_LINES} lines")
        qty: dict[str, int] = {}
        for i, ln in enumerate(t.lines):
            v.check(valid_variant_id(ln.variant_id), f"transfer.lines[{i}].variant_id", "invalid")
            v.check(0 < ln.quantity <= MAX_QUANTITY, f"transfer.lines[{i}].quantity", "1..1000000")
            qty[ln.variant_id] = qty.get(ln.variant_id, 0) + ln.quantity
        v.raise_if_any()
        async with self.db.transaction() as s:
            whs = await repo.warehouses_by_id(s, [src, dst])
            for wid in (src, dst):
                if wid not in whs:
                    raise not_found("warehouse", f"warehouses/{wid}")
            missing = [vid for vid in qty if await repo.get_stock(s, vid, src) is None]
            if missing:
                raise InvalidArgument(
                    [("transfer.lines", f"{m} has no stock level at the source") for m in missing]
                )
            now = self.clock()
            tr = Transfer(
                source_warehouse_id=src,
                destination_warehouse_id=dst,
                state="REQUESTED",
                note=t.note[:500],
                requested_by=actor(),
                create_time=now,
            )
            s.add(tr)
            await s.flush()
            lines = [
                TransferLine(transfer_id=tr.id, variant_id=vid, quantity=q)
                for vid, q in sorted(qty.items())
            ]
            s.add_all(lines)
        return TransferView(tr, lines)

    async def get_transfer(self, name: str) -> TransferView:
        tid = id_of(name, "transfers")
        async with self.db.session() as s:
            tr = await s.get(Transfer, tid)
            if tr is None:
                raise not_found("transfer", name)
            return TransferView(tr, await repo.transfer_lines(s, tid))

    async def list_transfers(self, size: int, token: str, state: int) -> Page:
        filters = {"state": state}
        after = decode_page_token(token, filters)
        q = select(Transfer).order_by(Transfer.id.desc()).limit(size + 1)
        if state:
            name = resources_pb2.TransferState.Name(state).removeprefix("TRANSFER_STATE_")
            q = q.where(Transfer.state == name)
        if after is not None:
            q = q.where(Transfer.id < after)
        async with self.db.session() as s:
            rows = list(await s.scalars(q))
            page = _page(rows, size, lambda t: t.id, filters)
            views = [TransferView(t, await repo.transfer_lines(s, t.id)) for t in page.items]
        return Page(views, page.next_page_token)

    async def _transfer_for_update(self, s: Any, name: str) -> Transfer:
        tr = await repo.lock_transfer(s, id_of(name, "transfers"))
        if tr is None:
            raise not_found("transfer", name)
        return tr

    def _state_error(self, tr: Transfer, allowed: str) -> FailedPrecondition:
        return FailedPrecondition(
            f"transfer is {tr.state.lower()}; only a {allowed} transfer can do that",
            reason="TRANSFER_STATE",
            metadata={"state": tr.state},
        )

    async def dispatch_transfer(self, name: str) -> TransferView:
        async with self.db.transaction() as s:
            tr = await self._transfer_for_update(s, name)
            if tr.state != "REQUESTED":
                raise self._state_error(tr, "requested")
            lines = await repo.transfer_lines(s, tr.id)
            src, dst = tr.source_warehouse_id, tr.destination_warehouse_id
            keys = [(ln.variant_id, w) for ln in lines for w in (src, dst)]
            stocks = await repo.lock_stocks(s, keys)
            now = self.clock()
            ledger = Ledger(s, self.outbox, now)
            for ln in lines:
                st = stocks[(ln.variant_id, src)]
                ledger.take_out(st, ln.quantity)
                ledger.record(st, -ln.quantity, "TRANSFER_OUT", reference=tr.name)
                dest = stocks.get((ln.variant_id, dst))
                if dest is None:
                    dest = stocks[(ln.variant_id, dst)] = new_stock(ln.variant_id, dst, now)
                    s.add(dest)
                dest.in_transit += ln.quantity
                dest.update_time = now
            tr.state = "DISPATCHED"
            tr.dispatch_time = now
            await ledger.settle(stocks.values())
        return TransferView(tr, lines)

    async def receive_transfer(self, req: admin_pb2.ReceiveTransferRequest) -> TransferView:
        async with self.db.transaction() as s:
            tr = await self._transfer_for_update(s, req.name)
            if tr.state not in ("DISPATCHED", "PARTIALLY_RECEIVED"):
                raise self._state_error(tr, "dispatched")
            lines = await repo.transfer_lines(s, tr.id)
            by_variant = {ln.variant_id: ln for ln in lines}
            pending = {
                ln.variant_id: ln.quantity - ln.received_quantity - ln.written_off_quantity
                for ln in lines
            }
            if req.lines:
                receipt: dict[str, int] = {}
                v = Violations()
                for i, r in enumerate(req.lines):
                    if r.variant_id not in by_variant:
                        v.add(f"lines[{i}].variant_id", "is not on this transfer")
                    elif r.quantity <= 0:
                        v.add(f"lines[{i}].quantity", "must be positive")
                    else:
                        receipt[r.variant_id] = receipt.get(r.variant_id, 0) + r.quantity
                for vid, q in receipt.items():
                    if q > pending[vid]:
                        v.add("lines", f"{vid}: {q} received but only {pending[vid]} in transit")
                v.raise_if_any()
            else:
                receipt = {vid: q for vid, q in pending.items() if q > 0}
            dst = tr.destination_warehouse_id
            stocks = await repo.lock_stocks(s, [(vid, dst) for vid in by_variant])
            now = self.clock()
            ledger = Ledger(s, self.outbox, now)
            for vid, q in sorted(receipt.items()):
                st = stocks[(vid, dst)]
                st.in_transit -= q
                await ledger.bring_in(st, q)
                ledger.record(st, q, "TRANSFER_IN", reference=tr.name)
                by_variant[vid].received_quantity += q
                pending[vid] -= q
            if req.close:
                for vid, q in sorted(pending.items()):
                    if q > 0:
                        st = stocks[(vid, dst)]
                        st.in_transit -= q
                        by_variant[vid].written_off_quantity += q
                        ledger.record(
                            st, -q, "TRANSIT_LOSS", reference=tr.name, note="written off on close"
                        )
                        pending[vid] = 0
            tr.state = "RECEIVED" if not any(pending.values()) else "PARTIALLY_RECEIVED"
            if tr.state == "RECEIVED":
                tr.receive_time = now
            await ledger.settle(stocks.values())
        return TransferView(tr, lines)

    async def cancel_transfer(self, name: str) -> TransferView:
        async with self.db.transaction() as s:
            tr = await self._transfer_for_update(s, name)
            if tr.state != "REQUESTED":
                raise self._state_error(tr, "requested")
            tr.state = "CANCELLED"
            lines = await repo.transfer_lines(s, tr.id)
        return TransferView(tr, lines)

    # --- backorders ------------------------------------------------------------------------

    async def list_backorders(self, size: int, token: str, variant_id: str, state: int) -> Page:
        filters = {"v": variant_id, "state": state}
        after = decode_page_token(token, filters)
        q = select(Backorder).order_by(Backorder.id).limit(size + 1)
        if variant_id:
            q = q.where(Backorder.variant_id == variant_id)
        if state:
            q = q.where(
                Backorder.state
                == resources_pb2.BackorderState.Name(state).removeprefix("BACKORDER_STATE_")
            )
        if after is not None:
            q = q.where(Backorder.id > after)
        async with self.db.session() as s:
            rows = list(await s.scalars(q))
        return _page(rows, size, lambda b: b.id, filters)

    # --- bulk CSV ----------------------------------------------------------------------------

    async def import_csv(self, data: bytes, dry_run: bool) -> admin_pb2.ImportStockCsvResponse:
        out = admin_pb2.ImportStockCsvResponse()
        rows: list[rules.CsvRow] = []
        seen: dict[tuple[str, str], int] = {}
        for item in rules.parse_stock_csv(data):
            if isinstance(item, rules.CsvError):
                out.errors.append(
                    admin_pb2.CsvRowError(line=item.line, column=item.column, message=item.message)
                )
                continue
            key = (item.variant_id, item.warehouse_id)
            if key in seen:
                out.errors.append(
                    admin_pb2.CsvRowError(
                        line=item.line, column="variant_id", message=f"repeats line {seen[key]}"
                    )
                )
                continue
            seen[key] = item.line
            rows.append(item)
        out.rows = len(rows) + len({e.line for e in out.errors if e.line > 1})
        async with self.db.session() as s:
            whs = await repo.warehouses_by_id(s, [r.warehouse_id for r in rows])
            existing = (
                {
                    (st.variant_id, st.warehouse_id)
                    for st in await s.scalars(
                        select(Stock).where(
                            tuple_(Stock.variant_id, Stock.warehouse_id).in_(sorted(seen))
                        )
                    )
                }
                if seen
                else set()
            )
        for r in rows:
            if r.warehouse_id not in whs:
                out.errors.append(
                    admin_pb2.CsvRowError(
                        line=r.line, column="warehouse_id", message="no such warehouse"
                    )
                )
            elif not valid_variant_id(r.variant_id):
                out.errors.append(
                    admin_pb2.CsvRowError(line=r.line, column="variant_id", message="invalid id")
                )
        new_ids = sorted(
            {r.variant_id for r in rows if (r.variant_id, r.warehouse_id) not in existing}
        )
        if new_ids and not out.errors:
            unknown = set(await missing_variants(new_ids))
            if unknown:
                for r in rows:
                    if r.variant_id in unknown:
                        out.errors.append(
                            admin_pb2.CsvRowError(
                                line=r.line, column="variant_id", message="no such catalog variant"
                            )
                        )
        if out.errors or dry_run:
            out.errors.sort(key=lambda e: e.line)
            return out
        async with self.db.transaction() as s:
            now = self.clock()
            stocks = await repo.lock_stocks(s, seen)
            ledger = Ledger(s, self.outbox, now)
            for r in rows:
                key = (r.variant_id, r.warehouse_id)
                st = stocks.get(key)
                if st is None:
                    st = stocks[key] = new_stock(r.variant_id, r.warehouse_id, now)
                    s.add(st)
                    out.created += 1
                else:
                    out.updated += 1
                if r.on_hand is not None and r.on_hand < st.reserved:
                    raise FailedPrecondition(
                        f"line {r.line}: on_hand {r.on_hand} is below the {st.reserved} reserved",
                        reason="INSUFFICIENT_STOCK",
                    )
                await self._set_fields(ledger, st, r, "CSV import")
            await ledger.settle(stocks.values())
        out.applied = True
        return out


def _page(rows: list[Any], size: int, key: Any, filters: dict[str, Any]) -> Page:
    return Page(rows[:size], next_page_token(rows, size, filters, key=key))
