"""Which tax classes a product may name: the ones settings has GST rules for.

A product's GST rate comes from settings (SettingsInternalService.ResolveTaxRates):
its HSN code first, then its tax class, else the residual "standard" rate. A class
settings has no rule for would silently fall back to that standard rate, so admin
writes (CreateProduct, UpdateProduct with tax_class in the mask, CSV import) are
checked against settings' ListTaxClasses: an unknown class is INVALID_ARGUMENT with
a field violation naming the known ones, nothing written.

The known set is cached for `ttl` seconds; a class missing from the cached set is
asked about again uncached before it is refused, so a class an admin has just given
a rule in settings is accepted at once. Settings down: the write fails with
UNAVAILABLE (DEPENDENCY_UNAVAILABLE, metadata dependency=settings), as with auth
(admins.py): a class is never recorded unchecked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol

import grpc

from cleanse.settings.v1 import settings_internal_service_pb2 as settings_pb2
from cleanse.settings.v1 import settings_internal_service_pb2_grpc as settings_grpc
from mesh import client
from mesh.errors import ServiceError, Unavailable


class TaxClassLookup(Protocol):
    async def known(self) -> frozenset[str]: ...

    async def unknown(self, classes: Iterable[str]) -> tuple[list[str], frozenset[str]]: ...


class TaxClasses:
    def __init__(self, *, ttl: float = 60.0, timeout: float = 2.0) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._known: frozenset[str] = frozenset()
        self._until = 0.0

    async def _fetch(self) -> frozenset[str]:
        stub = client.stub("settings", settings_grpc.SettingsInternalServiceStub)
        try:
            resp = await stub.ListTaxClasses(
                settings_pb2.ListTaxClassesRequest(), timeout=self.timeout
            )
        except (grpc.aio.AioRpcError, ServiceError) as exc:
            code = client.error_code(exc)
            name = code.name if code else type(exc).__name__
            raise Unavailable(
                f"cannot check the tax class: settings {name}; retry shortly",
                metadata={"dependency": "settings"},
            ) from None
        known = frozenset(resp.tax_classes)
        if self.ttl > 0:
            self._known, self._until = known, time.monotonic() + self.ttl
        return known

    async def known(self) -> frozenset[str]:
        """The classes settings has rules for (cached `ttl` seconds)."""
        return self._known if self._until > time.monotonic() else await self._fetch()

    async def unknown(self, classes: Iterable[str]) -> tuple[list[str], frozenset[str]]:
        """(the classes settings has no rule for, the known ones). Empty names pass."""
        wanted = {c for c in classes if c}
        if not wanted:
            return [], self._known
        known = await self.known()
        if not wanted <= known:
            known = await self._fetch()  # a class may have been given a rule just now
        return sorted(wanted - known), known

    async def problems(self, checks: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """A field violation for each (field, class) whose class settings lacks."""
        pairs = [(f, c) for f, c in checks if c]
        missing, known = await self.unknown(c for _, c in pairs)
        names = ", ".join(sorted(known)) or "none"
        return [
            (f, f"settings has no GST rule for tax class {c!r} (known: {names})")
            for f, c in pairs
            if c in missing
        ]
