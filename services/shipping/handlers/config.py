"""Zones, carriers, methods and PIN serviceability: admin writes, checkout reads."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.shipping.v1 import resources_pb2 as pb
from mesh.db import Database, next_page_token, page_after, utcnow
from mesh.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Violations,
)
from mesh.resources import check_update_mask, require_name
from services.shipping.cache import ConfigCache, bump_version
from services.shipping.domain import rules
from services.shipping.models import Carrier, Method, Serviceability, Shipment, Zone
from services.shipping.secrets import SecretBox

MAX_CSV_BYTES = 8 * 1024 * 1024
CSV_COLUMNS = ("pincode", "serviceable", "cod_available", "estimated_days")
CSV_OPTIONAL = ("carrier_id", "state_code")


def pincode_or_raise(pincode: str, field: str = "pincode") -> str:
    """The state of a real PIN: malformed INVALID_ARGUMENT, unknown NOT_FOUND."""
    try:
        return rules.real_pincode_state(pincode)
    except rules.PincodeProblem as p:
        if p.kind == "malformed":
            raise InvalidArgument({field: str(p)}) from None
        raise NotFound(str(p), reason="PINCODE_NOT_FOUND", metadata={"pincode": pincode}) from None


def _kind(value: int, enum: Any, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix) if value else ""


@dataclass(frozen=True)
class QuoteResult:
    pincode: str
    state_code: str
    zone_id: str
    serviceable: bool
    weight_grams: int
    options: list[rules.Option]


class ConfigHandlers:
    def __init__(self, db: Database, box: SecretBox, cache: ConfigCache | None = None) -> None:
        self.db = db
        self.box = box
        # Quotes and new shipments read zones, methods, carriers and PINs from here.
        self.cache = cache or ConfigCache(db)

    @asynccontextmanager
    async def _changing(self) -> AsyncIterator[AsyncSession]:
        """A transaction that changes the configuration: it bumps the version row (other
        processes reload), and this process drops its copy once it has ended."""
        try:
            async with self.db.transaction() as s:
                yield s
                await bump_version(s)
        finally:
            self.cache.invalidate()

    # --- generic ---------------------------------------------------------------------

    async def _list(self, model: Any, size: int, token: str, key: Any, **filters: Any) -> Any:
        after = page_after(token, filters)
        async with self.db.session() as s:
            q = select(model).order_by(key)
            if after is not None:
                q = q.where(key > after)
            for col, value in filters.items():
                if value:
                    q = q.where(getattr(model, col) == value)
            rows = list((await s.scalars(q.limit(size + 1))).all())
        return rows[:size], next_page_token(rows, size, filters, key=lambda r: key.__get__(r))

    async def _get(self, model: Any, name: str, collection: str) -> Any:
        rid = require_name(name, collection)
        async with self.db.session() as s:
            row = await s.get(model, rid)
        if row is None:
            raise NotFound(f"{name} not found")
        return row

    # --- zones -----------------------------------------------------------------------

    async def list_zones(self, size: int, token: str) -> Any:
        return await self._list(Zone, size, token, Zone.id)

    async def get_zone(self, name: str) -> Zone:
        return await self._get(Zone, name, "zones")

    def _zone_fields(self, z: pb.ShippingZone, v: Violations) -> dict[str, Any]:
        states = [rules.india.normalize_state_code(c) or c for c in z.state_codes]
        ranges = [(r.start, r.end) for r in z.pincode_ranges]
        for f, d in rules.check_zone(states, list(z.pincode_prefixes), ranges):
            v.add(f"zone.{f}", d)
        v.require(z.display_name.strip(), "zone.display_name")
        return {
            "display_name": z.display_name.strip(),
            "state_codes": states,
            "pincode_prefixes": list(z.pincode_prefixes),
            "pincode_ranges": [list(r) for r in ranges],
            "active": z.active,
        }

    async def create_zone(self, zone_id: str, z: pb.ShippingZone) -> Zone:
        v = Violations()
        v.check(rules.check_slug(zone_id), "zone_id", "lower-case letters, digits, hyphens")
        fields = self._zone_fields(z, v)
        v.raise_if_any()
        async with self._changing() as s:
            if await s.get(Zone, zone_id) is not None:
                raise AlreadyExists(f"zones/{zone_id} already exists")
            row = Zone(id=zone_id, **fields)
            s.add(row)
        return row

    async def update_zone(self, z: pb.ShippingZone, paths: Sequence[str]) -> Zone:
        allowed = ("display_name", "state_codes", "pincode_prefixes", "pincode_ranges", "active")
        v = Violations()
        mask = check_update_mask(paths, allowed, v)
        v.raise_if_any()
        zid = require_name(z.name, "zones", "zone.name")
        async with self._changing() as s:
            row = await s.get(Zone, zid, with_for_update=True)
            if row is None:
                raise NotFound(f"{z.name} not found")
            merged = pb.ShippingZone()
            merged.CopyFrom(z)
            for f in allowed:
                if f not in mask:
                    cur = getattr(row, f)
                    if f == "pincode_ranges":
                        del merged.pincode_ranges[:]
                        merged.pincode_ranges.extend(
                            pb.PincodeRange(start=a, end=b) for a, b in cur
                        )
                    elif isinstance(cur, list):
                        getattr(merged, f)[:] = cur
                    else:
                        setattr(merged, f, cur)
            fields = self._zone_fields(merged, v)
            v.raise_if_any()
            for f in mask:
                setattr(row, f, fields[f])
            row.update_time = utcnow()
        return row

    async def delete_zone(self, name: str) -> None:
        zid = require_name(name, "zones")
        async with self._changing() as s:
            if (await s.scalars(select(Method.id).where(Method.zone_id == zid))).first():
                raise FailedPrecondition(f"{name} still has methods", reason="ZONE_IN_USE")
            if (await s.execute(delete(Zone).where(Zone.id == zid))).rowcount == 0:
                raise NotFound(f"{name} not found")

    # --- carriers --------------------------------------------------------------------

    async def list_carriers(self, size: int, token: str) -> Any:
        return await self._list(Carrier, size, token, Carrier.id)

    async def get_carrier(self, name: str) -> Carrier:
        return await self._get(Carrier, name, "carriers")

    def _carrier_fields(self, c: pb.Carrier, v: Violations) -> dict[str, Any]:
        v.require(c.display_name.strip(), "carrier.display_name")
        v.check(c.kind != 0, "carrier.kind", "is required")
        tpl = c.tracking_url_template
        v.check(
            not tpl or (tpl.startswith(("https://", "http://")) and "{awb}" in tpl),
            "carrier.tracking_url_template",
            "must be an http(s) URL containing {awb}",
        )
        return {
            "display_name": c.display_name.strip(),
            "kind": _kind(c.kind, pb.CarrierKind, "CARRIER_KIND_"),
            "tracking_url_template": tpl,
            "webhook_secret_encrypted": self.box.seal(c.webhook_secret),
            "test_mode": c.test_mode,
            "active": c.active,
        }

    async def create_carrier(self, carrier_id: str, c: pb.Carrier) -> Carrier:
        v = Violations()
        v.check(rules.check_slug(carrier_id), "carrier_id", "lower-case letters, digits, hyphens")
        fields = self._carrier_fields(c, v)
        v.raise_if_any()
        async with self._changing() as s:
            if await s.get(Carrier, carrier_id) is not None:
                raise AlreadyExists(f"carriers/{carrier_id} already exists")
            row = Carrier(id=carrier_id, **fields)
            s.add(row)
        return row

    async def update_carrier(self, c: pb.Carrier, paths: Sequence[str]) -> Carrier:
        allowed = (
            "display_name",
            "kind",
            "tracking_url_template",
            "webhook_secret",
            "test_mode",
            "active",
        )
        v = Violations()
        mask = check_update_mask(paths, allowed, v)
        cid = require_name(c.name, "carriers", "carrier.name")
        v.raise_if_any()
        async with self._changing() as s:
            row = await s.get(Carrier, cid, with_for_update=True)
            if row is None:
                raise NotFound(f"{c.name} not found")
            merged = pb.Carrier()
            merged.CopyFrom(c)
            if "display_name" not in mask:
                merged.display_name = row.display_name
            if "kind" not in mask:
                merged.kind = pb.CarrierKind.Value(f"CARRIER_KIND_{row.kind}")
            if "tracking_url_template" not in mask:
                merged.tracking_url_template = row.tracking_url_template
            fields = self._carrier_fields(merged, v)
            v.raise_if_any()
            for f in mask:
                key = "webhook_secret_encrypted" if f == "webhook_secret" else f
                setattr(row, key, fields[key])
            row.update_time = utcnow()
        return row

    async def delete_carrier(self, name: str) -> None:
        cid = require_name(name, "carriers")
        async with self._changing() as s:
            used = (await s.scalars(select(Method.id).where(Method.carrier_id == cid))).first()
            used = (
                used
                or (await s.scalars(select(Shipment.id).where(Shipment.carrier_id == cid))).first()
            )
            if used:
                raise FailedPrecondition(
                    f"{name} is used by methods or shipments; deactivate it instead",
                    reason="CARRIER_IN_USE",
                )
            if (await s.execute(delete(Carrier).where(Carrier.id == cid))).rowcount == 0:
                raise NotFound(f"{name} not found")

    # --- methods ---------------------------------------------------------------------

    async def list_methods(self, size: int, token: str, zone: str) -> Any:
        zone_id = require_name(zone, "zones", "zone") if zone else ""
        return await self._list(Method, size, token, Method.id, zone_id=zone_id)

    async def get_method(self, name: str) -> Method:
        return await self._get(Method, name, "methods")

    async def _method_fields(self, s: Any, m: pb.ShippingMethod, v: Violations) -> dict[str, Any]:
        zone_id = require_name(m.zone, "zones", "method.zone") if m.zone else ""
        carrier_id = require_name(m.carrier, "carriers", "method.carrier") if m.carrier else ""
        v.require(zone_id, "method.zone")
        v.require(carrier_id, "method.carrier")
        v.check(m.kind != 0, "method.kind", "is required")
        v.require(m.display_name.strip(), "method.display_name")
        slabs = [(sl.max_weight_grams, sl.rate_minor) for sl in m.slabs]
        for f, d in rules.check_slabs(slabs):
            v.add(f"method.{f}", d)
        for f in (
            "extra_per_500g_minor",
            "free_shipping_threshold_minor",
            "cod_fee_minor",
            "cod_max_order_value_minor",
            "estimated_days",
        ):
            v.check(getattr(m, f) >= 0, f"method.{f}", "must not be negative")
        v.check(m.estimated_days >= 1, "method.estimated_days", "must be at least 1")
        if zone_id and await s.get(Zone, zone_id) is None:
            v.add("method.zone", f"{m.zone} does not exist")
        if carrier_id and await s.get(Carrier, carrier_id) is None:
            v.add("method.carrier", f"{m.carrier} does not exist")
        return {
            "zone_id": zone_id,
            "carrier_id": carrier_id,
            "kind": _kind(m.kind, pb.MethodKind, "METHOD_KIND_"),
            "display_name": m.display_name.strip(),
            "slabs": [list(x) for x in slabs],
            "extra_per_500g_minor": m.extra_per_500g_minor,
            "free_shipping_threshold_minor": m.free_shipping_threshold_minor,
            "cod_available": m.cod_available,
            "cod_fee_minor": m.cod_fee_minor,
            "cod_max_order_value_minor": m.cod_max_order_value_minor,
            "estimated_days": m.estimated_days,
            "active": m.active,
        }

    async def create_method(self, method_id: str, m: pb.ShippingMethod) -> Method:
        v = Violations()
        v.check(rules.check_slug(method_id), "method_id", "lower-case letters, digits, hyphens")
        async with self._changing() as s:
            fields = await self._method_fields(s, m, v)
            v.raise_if_any()
            if await s.get(Method, method_id) is not None:
                raise AlreadyExists(f"methods/{method_id} already exists")
            dup = await s.scalars(
                select(Method.id).where(
                    Method.zone_id == fields["zone_id"], Method.kind == fields["kind"]
                )
            )
            if dup.first():
                raise AlreadyExists(f"{m.zone} already has a {fields['kind']} method")
            row = Method(id=method_id, **fields)
            s.add(row)
        return row

    async def update_method(self, m: pb.ShippingMethod, paths: Sequence[str]) -> Method:
        allowed = (
            "display_name",
            "slabs",
            "extra_per_500g_minor",
            "free_shipping_threshold_minor",
            "cod_available",
            "cod_fee_minor",
            "cod_max_order_value_minor",
            "estimated_days",
            "carrier",
            "active",
        )
        v = Violations()
        mask = check_update_mask(paths, allowed, v)
        mid = require_name(m.name, "methods", "method.name")
        v.raise_if_any()
        async with self._changing() as s:
            row = await s.get(Method, mid, with_for_update=True)
            if row is None:
                raise NotFound(f"{m.name} not found")
            merged = pb.ShippingMethod()
            from services.shipping.convert import method_pb

            merged.CopyFrom(method_pb(row))
            for f in mask:
                if f == "slabs":
                    del merged.slabs[:]
                    merged.slabs.extend(m.slabs)
                else:
                    setattr(merged, f, getattr(m, f))
            fields = await self._method_fields(s, merged, v)
            v.raise_if_any()
            for f in mask:
                key = "carrier_id" if f == "carrier" else f
                setattr(row, key, fields[key])
            row.update_time = utcnow()
        return row

    async def delete_method(self, name: str) -> None:
        mid = require_name(name, "methods")
        async with self._changing() as s:
            if (await s.execute(delete(Method).where(Method.id == mid))).rowcount == 0:
                raise NotFound(f"{name} not found")

    # --- PIN serviceability ----------------------------------------------------------

    async def list_pincodes(self, size: int, token: str, prefix: str) -> Any:
        filters = {"prefix": prefix}
        after = page_after(token, filters)
        async with self.db.session() as s:
            q = select(Serviceability).order_by(Serviceability.pincode)
            if prefix:
                q = q.where(Serviceability.pincode.startswith(prefix))
            if after is not None:
                q = q.where(Serviceability.pincode > after)
            rows = list((await s.scalars(q.limit(size + 1))).all())
        return rows[:size], next_page_token(rows, size, filters, key=lambda r: r.pincode)

    async def get_pincode(self, name: str) -> Serviceability:
        pin = require_name(name, "pincodes")
        async with self.db.session() as s:
            row = await s.get(Serviceability, pin)
        if row is None:
            raise NotFound(f"{name} not found")
        return row

    async def set_pincode(self, r: pb.PincodeServiceability) -> Serviceability:
        pin = require_name(r.name, "pincodes", "serviceability.name")
        state = pincode_or_raise(pin, "serviceability.name")
        v = Violations()
        v.check(r.estimated_days >= 0, "serviceability.estimated_days", "must not be negative")
        cid = require_name(r.carrier, "carriers", "serviceability.carrier") if r.carrier else None
        v.raise_if_any()
        async with self._changing() as s:
            if cid and await s.get(Carrier, cid) is None:
                raise InvalidArgument({"serviceability.carrier": f"{r.carrier} does not exist"})
            row = await s.get(Serviceability, pin, with_for_update=True)
            if row is None:
                row = Serviceability(pincode=pin)
                s.add(row)
            row.state_code = state
            row.serviceable = r.serviceable
            row.cod_available = r.cod_available
            row.estimated_days = r.estimated_days
            row.carrier_id = cid
            row.update_time = utcnow()
        return row

    async def delete_pincode(self, name: str) -> None:
        pin = require_name(name, "pincodes")
        async with self._changing() as s:
            q = delete(Serviceability).where(Serviceability.pincode == pin)
            if (await s.execute(q)).rowcount == 0:
                raise NotFound(f"{name} not found")

    async def import_csv(self, data: bytes, dry_run: bool) -> dict[str, Any]:
        """Validate every row (line numbers 1-based, header = 1); apply all or none."""
        if len(data) > MAX_CSV_BYTES:
            raise InvalidArgument({"csv": "must be at most 8 MiB"})
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidArgument({"csv": "must be UTF-8"}) from None
        reader = csv.reader(io.StringIO(text))
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        unknown = [h for h in header if h not in CSV_COLUMNS + CSV_OPTIONAL]
        if missing or unknown:
            raise InvalidArgument(
                {"csv": f"header: missing {missing or 'nothing'}, unknown {unknown or 'nothing'}"}
            )
        async with self.db.session() as s:
            carriers = set((await s.scalars(select(Carrier.id))).all())
        errors: list[tuple[int, str, str]] = []
        parsed: dict[str, dict[str, Any]] = {}
        rows = 0
        for line_no, raw in enumerate(reader, start=2):
            if not any(c.strip() for c in raw):
                continue
            rows += 1
            cell = dict(zip(header, (c.strip() for c in raw), strict=False))

            def err(col: str, msg: str, line: int = line_no) -> None:
                errors.append((line, col, msg))

            pin = cell.get("pincode", "")
            state = ""
            try:
                state = rules.real_pincode_state(pin)
            except rules.PincodeProblem as p:
                err("pincode", str(p))
            if pin in parsed:
                err("pincode", f"{pin} appears twice (first on line {parsed[pin]['line']})")
            given_state = cell.get("state_code", "")
            if given_state and state:
                norm = rules.india.normalize_state_code(given_state)
                if norm != state:
                    err("state_code", f"{pin} is in {state}, not {given_state}")
            flags: dict[str, bool] = {}
            for col in ("serviceable", "cod_available"):
                b = rules.parse_bool(cell.get(col, ""))
                if b is None:
                    err(col, "must be true/false, yes/no or 1/0")
                flags[col] = bool(b)
            days_raw = cell.get("estimated_days", "") or "0"
            days = int(days_raw) if days_raw.isdigit() else -1
            if days < 0 or days > 60:
                err("estimated_days", "must be a whole number of days, 0-60")
            carrier = cell.get("carrier_id", "")
            if carrier and carrier not in carriers:
                err("carrier_id", f"unknown carrier {carrier!r}")
            if pin not in parsed:
                parsed[pin] = {
                    "line": line_no,
                    "state_code": state,
                    "estimated_days": days,
                    "carrier_id": carrier or None,
                    **flags,
                }
        created = updated = 0
        applied = not errors and not dry_run
        if applied:
            async with self._changing() as s:
                for pin, f in parsed.items():
                    row = await s.get(Serviceability, pin, with_for_update=True)
                    if row is None:
                        row = Serviceability(pincode=pin)
                        s.add(row)
                        created += 1
                    else:
                        updated += 1
                    for k, val in f.items():
                        if k != "line":
                            setattr(row, k, val)
                    row.update_time = utcnow()
        return {
            "rows": rows,
            "created": created,
            "updated": updated,
            "errors": errors,
            "applied": applied,
        }

    # --- quotes ----------------------------------------------------------------------

    async def route_carrier(self, pincode: str, kind: str) -> str:
        """The carrier that serves the PIN at `kind` (PIN row first, then the zone's
        method); "" when none does."""
        try:
            q = await self.quote(pincode, 500, 0, False)
        except (InvalidArgument, NotFound):
            return ""
        for o in q.options:
            if o.method.kind == (kind or "STANDARD"):
                return o.carrier_id
        return q.options[0].carrier_id if q.options else ""

    async def quote(
        self, pincode: str, weight_grams: int, order_value: int, wants_cod: bool
    ) -> QuoteResult:
        state = pincode_or_raise(pincode)
        snap = await self.cache.snapshot()
        pin = await self.cache.pin(pincode, snap)
        zone = rules.match_zone(snap.zones, pincode, state)
        methods = snap.methods.get(zone.id, ()) if zone is not None else ()
        options = rules.quote(methods, pin, weight_grams, order_value, wants_cod)
        return QuoteResult(
            pincode, state, zone.id if zone else "", bool(options), weight_grams, options
        )
