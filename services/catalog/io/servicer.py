"""The gRPC face of CSV import/export (cleanse.catalog.v1.CatalogIoService).

CatalogIoServicer(db)        # actor checked with AdminDirectory (auth), classes with settings
app.add(catalog_io_service_pb2_grpc.add_CatalogIoServiceServicer_to_server,
        CatalogIoServicer(db, actor=deps.admins.acting_admin, tax_classes=deps.tax_classes))
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from cleanse.catalog.v1 import catalog_io_service_pb2 as pb
from cleanse.catalog.v1 import catalog_io_service_pb2_grpc
from mesh.db import Database
from mesh.errors import InvalidArgument
from services.catalog.admins import AdminDirectory
from services.catalog.io.columns import PRODUCT_STATUSES
from services.catalog.io.exporter import ExportFilters, export_csv
from services.catalog.io.importer import Importer, Progress, RowError, Summary
from services.catalog.io.reader import records
from services.catalog.tax_classes import TaxClasses, TaxClassLookup

MAX_CHUNK = 4 * 1024 * 1024

Actor = Callable[[], Awaitable[str]]


def error_pb(e: RowError) -> pb.ImportRowError:
    return pb.ImportRowError(line=e.line, column=e.column, message=e.message, sku=e.sku)


def summary_pb(s: Summary) -> pb.ImportSummary:
    return pb.ImportSummary(
        dry_run=s.dry_run,
        rows_total=s.rows_total,
        rows_failed=s.rows_failed,
        products_created=s.products["created"],
        products_updated=s.products["updated"],
        products_unchanged=s.products["unchanged"],
        variants_created=s.variants["created"],
        variants_updated=s.variants["updated"],
        variants_unchanged=s.variants["unchanged"],
        errors=[error_pb(e) for e in s.errors],
        errors_truncated=s.error_count > len(s.errors),
    )


def progress_pb(p: Progress, received: int) -> pb.ImportProgress:
    return pb.ImportProgress(
        rows_processed=p.rows_processed,
        errors_so_far=p.errors_so_far,
        bytes_received=received,
        new_errors=[error_pb(e) for e in p.new_errors],
    )


class CatalogIoServicer(catalog_io_service_pb2_grpc.CatalogIoServiceServicer):
    def __init__(
        self,
        db: Database,
        *,
        actor: Actor | None = None,
        tax_classes: TaxClassLookup | None = None,
    ) -> None:
        self.db = db
        self.actor = actor or AdminDirectory().acting_admin
        # Tax classes are checked against settings (services/catalog/tax_classes.py).
        self.tax_classes = tax_classes or TaxClasses()

    async def ImportProducts(
        self,
        request_iterator: AsyncIterator[pb.ImportProductsRequest],
        context: grpc.aio.ServicerContext,
    ) -> None:
        actor = await self.actor()
        first = await anext(aiter(request_iterator), None)
        if first is None:
            raise InvalidArgument({"options": "the stream is empty"})
        received = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal received
            message: pb.ImportProductsRequest | None = first
            while message is not None:
                if len(message.chunk) > MAX_CHUNK:
                    raise InvalidArgument({"chunk": "at most 4 MiB per message"})
                received += len(message.chunk)
                yield message.chunk
                message = await anext(aiter(request_iterator), None)

        importer = Importer(
            self.db, actor, dry_run=first.options.dry_run, tax_classes=self.tax_classes
        )
        async for progress in importer.run(records(chunks())):
            await context.write(pb.ImportProductsResponse(progress=progress_pb(progress, received)))
        await context.write(pb.ImportProductsResponse(summary=summary_pb(importer.summary)))

    async def ImportProductsCsv(
        self, request: pb.ImportProductsCsvRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportSummary:
        actor = await self.actor()
        data = request.csv

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 64 * 1024):
                yield data[i : i + 64 * 1024]

        importer = Importer(self.db, actor, dry_run=request.dry_run, tax_classes=self.tax_classes)
        async for _ in importer.run(records(chunks())):
            pass
        return summary_pb(importer.summary)

    async def ExportProducts(
        self, request: pb.ExportProductsRequest, context: grpc.aio.ServicerContext
    ) -> None:
        bad = [s for s in request.statuses if s not in PRODUCT_STATUSES]
        if bad:
            raise InvalidArgument({"statuses": f"unknown status {bad[0]!r}"})
        filters = ExportFilters(
            statuses=frozenset(request.statuses),
            brand_slugs=frozenset(request.brand_slugs),
            category_slugs=frozenset(request.category_slugs),
        )
        async for chunk, rows in export_csv(self.db, filters):
            await context.write(pb.ExportProductsResponse(chunk=chunk, rows=rows))
