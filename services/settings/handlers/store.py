"""Store settings and payment methods: admin reads and writes, public and checkout reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from mesh.cached import TtlCache
from mesh.db import Database, on_conflict
from mesh.errors import AlreadyExists, InvalidArgument, NotFound, Violations
from services.settings import repository as repo
from services.settings.domain import store
from services.settings.domain.store import StoreConfig
from services.settings.handlers.common import (
    PAYMENT_METHODS,
    STORE,
    Changes,
    Clock,
    actor,
    check_mask,
)
from services.settings.models import PaymentMethodConfig, Setting

_METHOD_ID = re.compile(r"[a-z][a-z0-9_]{1,31}")
PAYMENT_MASK = (
    "display_name",
    "enabled",
    "display_order",
    "min_order_value",
    "max_order_value",
    "fee",
    "description",
)
_PAYMENT_COLUMNS = {
    "min_order_value": "min_order_minor",
    "max_order_value": "max_order_minor",
    "fee": "fee_minor",
}


@dataclass(frozen=True)
class StoreView:
    config: StoreConfig
    update_time: Any
    update_by: str


@dataclass(frozen=True)
class MethodValues:
    display_name: str = ""
    provider: int = 0
    enabled: bool = False
    display_order: int = 0
    min_order_minor: int = 0
    max_order_minor: int = 0
    fee_minor: int = 0
    description: str = ""


def method_problems(m: MethodValues, prefix: str = "payment_method.") -> list[tuple[str, str]]:
    v: list[tuple[str, str]] = []
    if not m.display_name.strip() or len(m.display_name) > 100:
        v.append((prefix + "display_name", "is required, at most 100 characters"))
    if m.provider not in (1, 2):
        v.append((prefix + "provider", "must be RAZORPAY or COD"))
    for field, value in (
        ("min_order_value", m.min_order_minor),
        ("max_order_value", m.max_order_minor),
        ("fee", m.fee_minor),
    ):
        if value < 0:
            v.append((prefix + field, "must not be negative"))
        elif value > store.MAX_MONEY_MINOR:
            v.append((prefix + field, "must be at most Rs 1,00,00,000"))
    if m.max_order_minor and m.min_order_minor > m.max_order_minor:
        v.append((prefix + "max_order_value", "must be at least min_order_value (0: no limit)"))
    if len(m.description) > 300:
        v.append((prefix + "description", "must be at most 300 characters"))
    return v


def admits(m: PaymentMethodConfig, order_minor: int) -> bool:
    return (
        m.enabled
        and order_minor >= m.min_order_minor
        and (m.max_order_minor == 0 or order_minor <= m.max_order_minor)
    )


class StoreHandlers:
    def __init__(self, db: Database, changes: Changes, cache: TtlCache, clock: Clock) -> None:
        self.db = db
        self.changes = changes
        self.cache = cache
        self.clock = clock

    # --- store settings -------------------------------------------------------------

    async def _load(self) -> StoreView:
        async with self.db.session() as s:
            rows = await repo.settings_rows(s)
        cfg = StoreConfig.from_rows({k: r.value for k, r in rows.items()})
        latest = max(rows.values(), key=lambda r: r.update_time, default=None)
        return StoreView(
            cfg, latest.update_time if latest else None, latest.update_by if latest else ""
        )

    async def get(self) -> StoreView:
        return await self.cache.get_or_fetch(STORE, self._load)

    async def update(self, changes: dict[str, Any], paths: list[str]) -> StoreView:
        """Apply the masked fields; all validated together, nothing written if one fails."""
        check_mask(paths, store.MASK_FIELDS)
        attrs = {store.MASK_FIELDS[p]: changes[store.MASK_FIELDS[p]] for p in paths}
        async with self.db.transaction() as s:
            rows = await repo.settings_rows(s)
            current = StoreConfig.from_rows({k: r.value for k, r in rows.items()})
            new = store.normalize(replace(current, **attrs))
            problems = store.problems(new)
            if problems:
                raise InvalidArgument(problems)
            now = self.clock()
            changed = {k: val for k, val in new.as_rows().items() if current.as_rows()[k] != val}
            for key, value in changed.items():
                row = rows.get(key)
                if row is None:
                    s.add(Setting(key=key, value=value, update_time=now, update_by=actor()))
                else:
                    row.value, row.update_time, row.update_by = value, now, actor()
            if changed:
                await self.changes.record(s, STORE)
        self.changes.invalidate(STORE)
        return await self.get()

    # --- payment methods -------------------------------------------------------------

    async def _methods(self) -> list[PaymentMethodConfig]:
        async with self.db.session() as s:
            return await repo.payment_methods(s)

    async def methods(self) -> list[PaymentMethodConfig]:
        return await self.cache.get_or_fetch(PAYMENT_METHODS, self._methods)

    async def available(self, order_minor: int | None) -> list[PaymentMethodConfig]:
        methods = await self.methods()
        if order_minor is None:
            return [m for m in methods if m.enabled]
        return [m for m in methods if admits(m, order_minor)]

    async def method(self, code: str) -> PaymentMethodConfig:
        for m in await self.methods():
            if m.code == code:
                return m
        raise NotFound(f"paymentMethods/{code} does not exist")

    async def create_method(self, code: str, values: MethodValues) -> PaymentMethodConfig:
        v = Violations()
        v.check(bool(_METHOD_ID.fullmatch(code)), "payment_method_id", "2-32 of a-z, 0-9, _")
        v.items.extend(method_problems(values))
        v.raise_if_any()
        row = PaymentMethodConfig(code=code, update_time=self.clock(), **values.__dict__)
        with on_conflict(AlreadyExists(f"paymentMethods/{code} already exists")):
            async with self.db.transaction() as s:
                if await s.get(PaymentMethodConfig, code) is not None:
                    raise AlreadyExists(f"paymentMethods/{code} already exists")
                s.add(row)
                await self.changes.record(s, PAYMENT_METHODS)
        self.changes.invalidate(PAYMENT_METHODS)
        return row

    async def update_method(
        self, code: str, values: MethodValues, paths: list[str]
    ) -> PaymentMethodConfig:
        check_mask(paths, PAYMENT_MASK)
        async with self.db.transaction() as s:
            row = await s.get(PaymentMethodConfig, code, with_for_update=True)
            if row is None:
                raise NotFound(f"paymentMethods/{code} does not exist")
            current = MethodValues(
                **{f: getattr(row, f) for f in MethodValues.__dataclass_fields__}
            )
            new = replace(
                current,
                **{
                    _PAYMENT_COLUMNS.get(p, p): getattr(values, _PAYMENT_COLUMNS.get(p, p))
                    for p in paths
                },
            )
            problems = method_problems(new)
            if problems:
                raise InvalidArgument(problems)
            for f, val in new.__dict__.items():
                setattr(row, f, val)
            row.update_time = self.clock()
            await self.changes.record(s, PAYMENT_METHODS)
        self.changes.invalidate(PAYMENT_METHODS)
        return row

    async def delete_method(self, code: str) -> None:
        async with self.db.transaction() as s:
            row = await s.get(PaymentMethodConfig, code)
            if row is None:
                raise NotFound(f"paymentMethods/{code} does not exist")
            await s.delete(row)
            await self.changes.record(s, PAYMENT_METHODS)
        self.changes.invalidate(PAYMENT_METHODS)
