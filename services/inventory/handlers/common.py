"""What the handlers share: the caller, resource names, catalog checks and the stock
ledger (every change of on hand goes through `Ledger`, which records the
adjustment, fills backorders from incoming stock and raises low-stock alerts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import grpc
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.catalog.v1 import catalog_internal_service_pb2, catalog_internal_service_pb2_grpc
from cleanse.inventory.v1 import events_pb2
from mesh import client
from mesh import context as call_context
from mesh.breaker import CircuitOpenError
from mesh.db import utcnow
from mesh.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from mesh.outbox import Outbox
from mesh.resources import require_name
from observability.metrics import counter
from services.inventory import repository as repo
from services.inventory.domain import stock as rules
from services.inventory.domain.rules import WAREHOUSE_ID, valid_variant_id
from services.inventory.models import Adjustment, Reservation, ReservationLine, Stock

Clock = Callable[[], datetime]
LOW_STOCK_TOPIC = "inventory.low_stock"
LOW_STOCK_ALERTS = counter(
    "inventory_low_stock_alerts_total", "Low-stock events written to the outbox."
)
CATALOG_BATCH = 500


def actor() -> str:
    """Who is acting: "adminUsers/.." for admins, the service name for the mesh."""
    return call_context.identity().subject[:64]


# --- resource names ------------------------------------------------------------------


def warehouse_id_of(name: str, field: str = "name") -> str:
    prefix, sep, wid = name.partition("/")
    if prefix != "warehouses" or not sep or not WAREHOUSE_ID.fullmatch(wid):
        raise InvalidArgument({field: "must be warehouses/{warehouse_id}"})
    return wid


def stock_name_parts(name: str, field: str = "name") -> tuple[str, str]:
    """ "warehouses/w/stockLevels/v" -> (warehouse_id, variant_id)."""
    parts = name.split("/")
    if (
        len(parts) != 4
        or parts[0] != "warehouses"
        or parts[2] != "stockLevels"
        or not WAREHOUSE_ID.fullmatch(parts[1])
        or not valid_variant_id(parts[3])
    ):
        raise InvalidArgument({field: "must be warehouses/{warehouse_id}/stockLevels/{variant_id}"})
    return parts[1], parts[3]


def id_of(name: str, collection: str, field: str = "name") -> str:
    """The id in "reservations/{id}" or "transfers/{id}" (ids are new_id()'s 32 digits)."""
    return require_name(name, collection, field, max_id_length=32)


# --- the catalog -----------------------------------------------------------------------


async def missing_variants(variant_ids: Iterable[str]) -> list[str]:
    """The ids the catalog does not know; the catalog down is UNAVAILABLE, never a pass."""
    ids = sorted(set(variant_ids))
    catalog = client.stub("catalog", catalog_internal_service_pb2_grpc.CatalogInternalServiceStub)
    missing: list[str] = []
    for i in range(0, len(ids), CATALOG_BATCH):
        chunk = ids[i : i + CATALOG_BATCH]
        try:
            resp = await catalog.BatchGetVariants(
                catalog_internal_service_pb2.BatchGetVariantsRequest(variant_ids=chunk)
            )
        except CircuitOpenError:
            raise Unavailable(
                "the catalog is unavailable, so variant ids cannot be checked; try again later",
                metadata={"dependency": "catalog"},
            ) from None
        except grpc.aio.AioRpcError as exc:
            raise Unavailable(
                f"the catalog could not check the variant ids ({exc.code().name}); try again later",
                metadata={"dependency": "catalog"},
            ) from None
        found = {v.variant_id for v in resp.variants}
        missing.extend(v for v in chunk if v not in found)
    return missing


async def check_variants_exist(variant_ids: Iterable[str]) -> None:
    """Every id must be a catalog variant (INVALID_ARGUMENT, UNKNOWN_VARIANT otherwise)."""
    missing = await missing_variants(variant_ids)
    if missing:
        raise InvalidArgument(
            [("variant_id", f"no catalog variant {v!r}") for v in missing],
            reason="UNKNOWN_VARIANT",
        )


# --- the ledger --------------------------------------------------------------------------


@dataclass
class Ledger:
    """Stock changes inside one unit of work (the caller holds the stock row locks)."""

    s: AsyncSession
    outbox: Outbox
    now: datetime

    def record(
        self,
        st: Stock,
        delta: int,
        reason: str,
        *,
        note: str = "",
        reference: str = "",
        who: str | None = None,
    ) -> Adjustment:
        adj = Adjustment(
            warehouse_id=st.warehouse_id,
            variant_id=st.variant_id,
            delta=delta,
            reason=reason,
            note=note[:500],
            actor=actor() if who is None else who,
            on_hand_after=st.on_hand,
            reference=reference[:64],
            create_time=self.now,
        )
        self.s.add(adj)
        return adj

    def take_out(self, st: Stock, quantity: int) -> None:
        """Remove units that are not reserved (damaged, lost, dispatched)."""
        if st.on_hand - quantity < st.reserved:
            raise FailedPrecondition(
                f"only {st.on_hand - st.reserved} unreserved units of {st.variant_id} "
                f"in warehouses/{st.warehouse_id}",
                reason="INSUFFICIENT_STOCK",
                metadata={"variant_id": st.variant_id, "warehouse": st.warehouse_id},
            )
        st.on_hand -= quantity
        st.update_time = self.now

    async def bring_in(self, st: Stock, quantity: int) -> int:
        """Add incoming units; open backorders are filled first, oldest first.

        Returns the units that went to backorders. A filled backorder of a held
        reservation becomes reserved stock; of a committed (paid) one, it leaves
        on hand at once as a SALE.
        """
        st.on_hand += quantity
        st.update_time = self.now
        filled = 0
        if st.backordered == 0:
            return 0
        for bo in await repo.open_backorders(self.s, st.variant_id, st.warehouse_id):
            free = rules.available(st.on_hand, st.reserved, st.safety_stock)
            if free <= 0:
                break
            take = min(bo.quantity - bo.allocated_quantity, free)
            bo.allocated_quantity += take
            if bo.allocated_quantity == bo.quantity:
                bo.state = "FILLED"
            st.backordered -= take
            st.reserved += take
            filled += take
            res = await self.s.get(Reservation, bo.reservation_id)
            line = await self._line(bo.reservation_id, st)
            if line is not None:
                line.quantity += take
                line.backordered_quantity -= take
            if res is not None and res.state == "COMMITTED":
                st.reserved -= take
                st.on_hand -= take
                self.record(st, -take, "SALE", reference=res.name, note="backorder filled")
        return filled

    async def _line(self, reservation_id: str, st: Stock) -> ReservationLine | None:
        for line in await repo.reservation_lines(self.s, reservation_id):
            if line.variant_id == st.variant_id and line.warehouse_id == st.warehouse_id:
                return line
        return None

    async def settle(self, stocks: Iterable[Stock]) -> None:
        """After changes: one low-stock event per dip to the reorder point."""
        for st in stocks:
            avail = rules.available(st.on_hand, st.reserved, st.safety_stock)
            low = rules.is_low(avail, st.reorder_point)
            if low and not st.low_stock_alerted:
                st.low_stock_alerted = True
                await self.outbox.add(
                    self.s,
                    LOW_STOCK_TOPIC,
                    events_pb2.LowStockEvent(
                        variant_id=st.variant_id,
                        warehouse=f"warehouses/{st.warehouse_id}",
                        available=avail,
                        on_hand=st.on_hand,
                        reorder_point=st.reorder_point,
                    ),
                )
                LOW_STOCK_ALERTS.inc()
            elif not low and st.low_stock_alerted:
                st.low_stock_alerted = False  # re-armed: the next dip alerts again


def not_found(what: str, name: str) -> NotFound:
    return NotFound(f"{what} {name} not found", metadata={"name": name})


def now_or(clock: Clock | None) -> datetime:
    return clock() if clock else utcnow()
