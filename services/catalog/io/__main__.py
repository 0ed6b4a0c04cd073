"""`python -m services.catalog.io`: import or export the catalogue's CSV over gRPC.

    python -m services.catalog.io import products.csv --dry-run
    python -m services.catalog.io export -o products.csv --status active

The catalog's address comes from the registry (CLEANSE_CATALOG_ADDR overrides it).
An admin access token is read from --token or CLEANSE_ADMIN_TOKEN (AdminLogin).
The file is streamed in 256 KiB chunks; progress is printed after every batch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from cleanse.catalog.v1 import catalog_io_service_pb2 as pb
from cleanse.catalog.v1 import catalog_io_service_pb2_grpc
from mesh import registry

CHUNK = 256 * 1024


async def _requests(path: Path, dry_run: bool) -> AsyncIterator[pb.ImportProductsRequest]:
    yield pb.ImportProductsRequest(options=pb.ImportOptions(dry_run=dry_run, file_name=path.name))
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield pb.ImportProductsRequest(chunk=chunk)


async def do_import(stub: catalog_io_service_pb2_grpc.CatalogIoServiceStub, args) -> int:  # type: ignore[no-untyped-def]
    summary = None
    async for event in stub.ImportProducts(
        _requests(Path(args.file), args.dry_run), metadata=_auth(args)
    ):
        if event.HasField("progress"):
            p = event.progress
            print(
                f"{p.rows_processed:>8} rows  {p.errors_so_far:>6} errors  "
                f"{p.bytes_received:>12} bytes",
                file=sys.stderr,
            )
            for e in p.new_errors:
                print(f"  line {e.line} {e.column or '-'}: {e.message}", file=sys.stderr)
        else:
            summary = event.summary
    if summary is None:
        return 1
    mode = "DRY RUN (nothing changed)" if summary.dry_run else "imported"
    print(
        f"{mode}: {summary.rows_total} rows, {summary.rows_failed} failed; products "
        f"{summary.products_created} created, {summary.products_updated} updated, "
        f"{summary.products_unchanged} unchanged; variants {summary.variants_created} created, "
        f"{summary.variants_updated} updated, {summary.variants_unchanged} unchanged"
    )
    return 1 if summary.rows_failed else 0


async def do_export(stub: catalog_io_service_pb2_grpc.CatalogIoServiceStub, args) -> int:  # type: ignore[no-untyped-def]
    out = Path(args.output).open("wb") if args.output else sys.stdout.buffer  # noqa: ASYNC230
    rows = 0
    try:
        async for part in stub.ExportProducts(
            pb.ExportProductsRequest(
                statuses=args.status or [],
                brand_slugs=args.brand or [],
                category_slugs=args.category or [],
            ),
            metadata=_auth(args),
        ):
            out.write(part.chunk)
            rows = part.rows
    finally:
        if args.output:
            out.close()
    print(f"exported {rows} rows", file=sys.stderr)
    return 0


def _auth(args) -> tuple[tuple[str, str], ...]:  # type: ignore[no-untyped-def]
    token = args.token or os.environ.get("CLEANSE_ADMIN_TOKEN", "")
    if not token:
        raise SystemExit("an admin access token is required: --token or CLEANSE_ADMIN_TOKEN")
    return (("authorization", f"Bearer {token}"),)


async def main_async(args) -> int:  # type: ignore[no-untyped-def]
    async with grpc.aio.insecure_channel(str(registry.address("catalog"))) as channel:
        stub = catalog_io_service_pb2_grpc.CatalogIoServiceStub(channel)
        try:
            return await (do_import if args.command == "import" else do_export)(stub, args)
        except grpc.aio.AioRpcError as exc:
            print(f"{exc.code().name}: {exc.details()}", file=sys.stderr)
            return 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m services.catalog.io")
    p.add_argument("--token", help="admin access token (default: $CLEANSE_ADMIN_TOKEN)")
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="stream a CSV file into the catalogue")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="validate and report only")
    exp = sub.add_parser("export", help="write the catalogue as CSV")
    exp.add_argument("-o", "--output", help="file (default: stdout)")
    exp.add_argument("--status", action="append", help="draft, active or archived")
    exp.add_argument("--brand", action="append", help="brand slug")
    exp.add_argument("--category", action="append", help="category slug (with subcategories)")
    return p


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
