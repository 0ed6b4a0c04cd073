"""A catalog database per back end per module, the known brands/categories/ingredients,
and CatalogIoService + SearchService over real gRPC."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

import pytest

from cleanse.catalog.v1 import (
    catalog_io_service_pb2 as pb,
)
from cleanse.catalog.v1 import (
    catalog_io_service_pb2_grpc,
    search_service_pb2_grpc,
)
from mesh import context as call_context
from mesh.db import Database
from services.catalog.io.servicer import CatalogIoServicer
from services.catalog.search.servicer import SearchServicer
from tests.catalog.search.harness import Fixture, Keys, catalog_server, load_fixture, migrated

ADMIN = "adminUsers/importer"


@dataclass
class IoHarness:
    db: Database
    fx: Fixture
    keys: Keys
    io: catalog_io_service_pb2_grpc.CatalogIoServiceStub
    search: search_service_pb2_grpc.SearchServiceStub
    backend: str

    def md(self, perm: str = "catalog.write") -> tuple[tuple[str, str], ...]:
        return self.keys.md(perm, sub=ADMIN)

    async def import_bytes(
        self, chunks: Iterable[bytes], *, dry_run: bool = False
    ) -> tuple[pb.ImportSummary, list[pb.ImportProgress]]:
        async def requests() -> AsyncIterator[pb.ImportProductsRequest]:
            yield pb.ImportProductsRequest(options=pb.ImportOptions(dry_run=dry_run))
            for c in chunks:
                yield pb.ImportProductsRequest(chunk=c)

        progress: list[pb.ImportProgress] = []
        summary = None
        async for event in self.io.ImportProducts(requests(), metadata=self.md()):
            if event.HasField("progress"):
                progress.append(event.progress)
            else:
                summary = event.summary
        assert summary is not None
        return summary, progress

    async def export(self, **filters: list[str]) -> bytes:
        out = b""
        async for part in self.io.ExportProducts(
            pb.ExportProductsRequest(**filters), metadata=self.md("catalog.read")
        ):
            out += part.chunk
        return out


async def _actor() -> str:
    """Tests have no auth service: the verified token's subject is the actor."""
    return call_context.identity().subject


class StaticTaxClasses:
    """Settings' ListTaxClasses, as seeded (services/catalog/tax_classes.py asks it)."""

    classes = frozenset({"apparel", "standard"})

    async def known(self) -> frozenset[str]:
        return self.classes

    async def unknown(self, classes: Iterable[str]) -> tuple[list[str], frozenset[str]]:
        return sorted({c for c in classes if c} - self.classes), self.classes


@pytest.fixture(scope="module")
async def catalog_io(module_database_url: str) -> AsyncIterator[IoHarness]:
    db = await migrated(module_database_url)
    fx = await load_fixture(db)
    keys = Keys()
    io_add = catalog_io_service_pb2_grpc.add_CatalogIoServiceServicer_to_server
    search_add = search_service_pb2_grpc.add_SearchServiceServicer_to_server
    try:
        async with catalog_server(
            db,
            keys,
            (io_add, CatalogIoServicer(db, actor=_actor, tax_classes=StaticTaxClasses())),
            (search_add, SearchServicer(db)),
        ) as channel:
            yield IoHarness(
                db,
                fx,
                keys,
                catalog_io_service_pb2_grpc.CatalogIoServiceStub(channel),
                search_service_pb2_grpc.SearchServiceStub(channel),
                "sqlite" if db.is_sqlite else "postgres",
            )
    finally:
        await db.dispose()


def csv_bytes(header: list[str], rows: Iterable[list[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode()


def split(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
