"""CSV import and export over real gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator

import grpc
import pytest
from sqlalchemy import func, select

from cleanse.catalog.v1 import catalog_io_service_pb2 as pb
from cleanse.catalog.v1 import search_service_pb2 as spb
from mesh.errors import Unavailable
from services.catalog.io.importer import Importer
from services.catalog.io.reader import records
from services.catalog.models import Product, Variant
from tests.catalog.io.conftest import IoHarness, csv_bytes, split

HEADER = [
    "product_slug",
    "title",
    "description_html",
    "brand_slug",
    "category_slugs",
    "ingredient_slugs",
    "status",
    "hsn_code",
    "tax_class",
    "attributes",
    "tags",
    "sku",
    "option_values",
    "mrp_paise",
    "price_paise",
    "cost_price_paise",
    "weight_grams",
    "barcode",
]


def _row(slug: str, sku: str, price: int, **kw: object) -> list[object]:
    base: dict[str, object] = dict(
        product_slug=slug,
        title=f"Tulsi {slug.replace('-', ' ').title()}",
        description_html="<p>Holy basil <b>goodness</b></p>",
        brand_slug="kama",
        category_slugs="face-oils;cleansers",
        ingredient_slugs="neem;saffron",
        status="active",
        hsn_code="33049990",
        tax_class="standard",
        attributes="skin_type=oily|dry;dosha=kapha",
        tags="new;bestseller",
        sku=sku,
        option_values="size=50 ml",
        mrp_paise=price + 5000,
        price_paise=price,
        cost_price_paise=price // 3,
        weight_grams=60,
        barcode="",
    )
    base.update(kw)
    return [base[c] for c in HEADER]


async def _count(h: IoHarness, model: type) -> int:
    async with h.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_dry_run_changes_nothing_and_reports_row_errors(catalog_io: IoHarness) -> None:
    data = csv_bytes(
        HEADER,
        [
            _row("dry-tulsi-wash", "DRY-1", 20_000),  # line 2
            _row("dry-tulsi-wash", "DRY-2", 30_000, description_html="two\nlines"),  # 3-4
            _row("dry-tulsi-wash", "DRY-1", 20_000),  # 5: duplicate SKU
            _row("dry-bad", "DRY-3", 50_000, mrp_paise=40_000),  # 6: price > MRP
            _row("dry-bad", "DRY-4", 10_000, brand_slug="nobody"),  # 7: unknown brand
            _row("dry-bad", "DRY-5", 10_000, mrp_paise="lots"),  # 8: not an integer
            _row("Bad Slug", "DRY-6", 10_000),  # 9
            _row("dry-bad", "DRY-7", 10_000, hsn_code="", tax_class=""),  # 10: active, no GST
            _row("dry-bad", "DRY-8", 10_000, barcode="8901234567891"),  # 11: bad check digit
        ],
    )
    products, variants = await _count(catalog_io, Product), await _count(catalog_io, Variant)
    summary, progress = await catalog_io.import_bytes(split(data, 100), dry_run=True)
    assert summary.dry_run and summary.rows_total == 9 and summary.rows_failed == 7
    assert (summary.products_created, summary.variants_created) == (1, 2)
    errors = {(e.line, e.column) for e in summary.errors}
    assert errors == {
        (5, "sku"),
        (6, "price_paise"),
        (7, "brand_slug"),
        (8, "mrp_paise"),
        (9, "product_slug"),
        (10, "status"),
        (11, "barcode"),
    }
    assert "line 2" in next(e.message for e in summary.errors if e.line == 5)
    assert progress and progress[-1].errors_so_far == 7
    assert await _count(catalog_io, Product) == products
    assert await _count(catalog_io, Variant) == variants


async def test_import_upserts_by_sku_and_indexes(catalog_io: IoHarness) -> None:
    rows = [
        _row("tulsi-face-mist", "MIST-50", 24_900),
        _row("tulsi-face-mist", "MIST-100", 39_900, option_values="size=100 ml"),
        _row("tulsi-body-oil", "BODY-1", 59_900, ingredient_slugs="saffron"),
    ]
    summary, _ = await catalog_io.import_bytes([csv_bytes(HEADER, rows)])
    assert summary.rows_failed == 0, summary.errors
    assert (summary.products_created, summary.variants_created) == (2, 3)
    async with catalog_io.db.session() as s:
        mist = await s.scalar(select(Product).where(Product.slug == "tulsi-face-mist"))
        assert mist is not None
        assert (mist.min_price, mist.max_price) == (24_900, 39_900)
        assert mist.created_by == "adminUsers/importer" and mist.publish_time is not None
    found = await catalog_io.search.SearchProducts(spb.SearchProductsRequest(query="tulsi mist"))
    assert [r.slug for r in found.results] == ["tulsi-face-mist"]
    # Second import: one price changes, one variant is new; nothing is duplicated.
    rows[0] = _row("tulsi-face-mist", "MIST-50", 19_900)
    rows.append(_row("tulsi-face-mist", "MIST-200", 59_900, option_values="size=200 ml"))
    variants = await _count(catalog_io, Variant)
    summary, _ = await catalog_io.import_bytes([csv_bytes(HEADER, rows)])
    assert summary.rows_failed == 0, summary.errors
    assert (summary.products_created, summary.products_updated) == (0, 0)
    assert summary.products_unchanged == 2
    assert (summary.variants_created, summary.variants_updated) == (1, 1)
    assert summary.variants_unchanged == 2
    assert await _count(catalog_io, Variant) == variants + 1
    async with catalog_io.db.session() as s:
        mist = await s.scalar(select(Product).where(Product.slug == "tulsi-face-mist"))
        assert mist is not None and (mist.min_price, mist.max_price) == (19_900, 59_900)
    found = await catalog_io.search.SearchProducts(spb.SearchProductsRequest(query="tulsi mist"))
    assert found.results[0].min_price.amount_minor == 19_900
    # A SKU cannot move to another product.
    summary, _ = await catalog_io.import_bytes(
        [csv_bytes(HEADER, [_row("tulsi-body-oil", "MIST-50", 10_000)])]
    )
    assert [(e.line, e.column) for e in summary.errors] == [(2, "sku")]


async def test_unary_import_and_permissions(catalog_io: IoHarness) -> None:
    data = csv_bytes(HEADER, [_row("tulsi-lip-balm", "BALM-1", 9_900)])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await catalog_io.io.ImportProductsCsv(
            pb.ImportProductsCsvRequest(csv=data), metadata=catalog_io.md("catalog.read")
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    summary = await catalog_io.io.ImportProductsCsv(
        pb.ImportProductsCsvRequest(csv=data, dry_run=True), metadata=catalog_io.md()
    )
    assert summary.products_created == 1 and summary.dry_run
    bad = await catalog_io.io.ImportProductsCsv(
        pb.ImportProductsCsvRequest(csv=b"title,price\nx,1\n"), metadata=catalog_io.md()
    )
    assert bad.errors[0].line == 1 and "product_slug" in bad.errors[0].message


async def test_export_round_trips_an_import(catalog_io: IoHarness) -> None:
    rows = [
        _row("rt-kesh-oil", "RT-1", 34_900, barcode="8901234567890", tags="hair"),
        _row("rt-kesh-oil", "RT-2", 64_900, option_values="size=200 ml;pack=2", tags="hair"),
        _row("rt-soap", "RT-3", 9_900, status="draft", attributes="", category_slugs="cleansers"),
    ]
    data = csv_bytes(HEADER, rows)
    summary, _ = await catalog_io.import_bytes([data])
    assert summary.rows_failed == 0, summary.errors
    # (The fixture's hair oil was stored with unsanitised HTML: an import would rewrite it.)
    exported = await catalog_io.export(category_slugs=["skincare"])
    parsed = list(csv.DictReader(io.StringIO(exported.decode())))
    by_sku = {r["sku"]: r for r in parsed}
    for original in csv.DictReader(io.StringIO(data.decode())):
        got = by_sku[original["sku"]]
        for column in HEADER:
            if column == "description_html":
                assert "goodness" in got[column]
            elif column in ("category_slugs", "tags", "option_values"):
                assert sorted(got[column].split(";")) == sorted(original[column].split(";"))
            elif column == "attributes":
                assert got[column] == "dosha=kapha;skin_type=dry|oily" or not original[column]
            else:
                assert got[column] == original[column], column
    # Re-importing the export changes nothing.
    again, _ = await catalog_io.import_bytes(split(exported, 4096))
    assert again.rows_failed == 0, again.errors
    assert again.products_updated == 0 and again.variants_updated == 0
    assert again.variants_unchanged == len(parsed)
    # Filters.
    drafts = await catalog_io.export(statuses=["draft"])
    skus = {r["sku"] for r in csv.DictReader(io.StringIO(drafts.decode()))}
    assert "RT-3" in skus and "RT-1" not in skus
    cleansers = await catalog_io.export(category_slugs=["skincare"], brand_slugs=["kama"])
    skus = {r["sku"] for r in csv.DictReader(io.StringIO(cleansers.decode()))}
    assert {"RT-1", "RT-3"} <= skus
    assert all(r["brand_slug"] == "kama" for r in csv.DictReader(io.StringIO(cleansers.decode())))


async def test_10000_rows_stream_in_batches(catalog_io: IoHarness) -> None:
    header = ["product_slug", "title", "status", "sku", "mrp_paise", "price_paise", "tags"]

    def chunks() -> Iterator[bytes]:
        """Generated lazily, 64 KiB at a time: the file never exists in memory."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for n in range(10_000):
            # Two variants per product: 5,000 products.
            w.writerow(
                [
                    f"bulk-{n // 2}",
                    f"Bulk Herbal Product {n // 2}",
                    "draft",
                    f"BULK-{n}",
                    50_000,
                    40_000 + n,
                    "bulk",
                ]
            )
            if buf.tell() >= 64 * 1024:
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue().encode()

    summary, progress = await catalog_io.import_bytes(chunks())
    assert summary.rows_failed == 0, summary.errors[:3]
    assert summary.variants_created == 10_000 and summary.products_created == 5_000
    assert len(progress) >= 20  # one message per batch of 500 rows
    assert [p.rows_processed for p in progress[:3]] == [500, 1000, 1500]
    assert progress[-1].bytes_received > 400_000
    async with catalog_io.db.session() as s:
        n = await s.scalar(
            select(func.count()).select_from(Variant).where(Variant.sku.like("BULK-%"))
        )
    assert n == 10_000


async def test_cli_streams_a_file_and_prints_progress(
    catalog_io: IoHarness, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.catalog.io.__main__ import main_async, parser

    path = tmp_path / "products.csv"
    path.write_bytes(csv_bytes(HEADER, [_row("cli-tulsi-toner", "CLI-1", 14_900)]))
    token = catalog_io.keys.token("admin", ["catalog.write"], "adminUsers/cli")
    args = parser().parse_args(["--token", token, "import", str(path), "--dry-run"])
    assert await main_async(args) == 0
    out = capsys.readouterr()
    assert "DRY RUN" in out.out and "1 created" in out.out and "rows" in out.err
    async with catalog_io.db.session() as s:
        assert await s.scalar(select(Product).where(Product.slug == "cli-tulsi-toner")) is None


async def test_a_tax_class_settings_lacks_is_a_row_error(catalog_io: IoHarness) -> None:
    rows = [
        _row("gst-old-class", "GSTC-1", 20_000, tax_class="gst_18"),  # line 2: unknown
        _row("gst-apparel", "GSTC-2", 59_900, hsn_code="61169990", tax_class="apparel"),
    ]
    summary, _ = await catalog_io.import_bytes([csv_bytes(HEADER, rows)])
    assert summary.rows_failed == 1
    [err] = summary.errors
    assert (err.line, err.column) == (2, "tax_class")
    assert "'gst_18'" in err.message and "apparel, standard" in err.message
    async with catalog_io.db.session() as s:
        slugs = set(await s.scalars(select(Product.slug).where(Product.slug.like("gst-%"))))
    assert slugs == {"gst-apparel"}


class _SettingsDown:
    calls = 0

    async def known(self) -> frozenset[str]:
        self.calls += 1
        raise Unavailable("settings is down", metadata={"dependency": "settings"})

    async def unknown(self, classes: Iterable[str]) -> tuple[list[str], frozenset[str]]:
        await self.known()
        return [], frozenset()


async def test_settings_down_fails_the_import_before_any_batch(catalog_io: IoHarness) -> None:
    data = csv_bytes(HEADER, [_row("gst-outage", "GSTO-1", 20_000)])

    async def chunks() -> AsyncIterator[bytes]:
        yield data

    down = _SettingsDown()
    importer = Importer(catalog_io.db, "adminUsers/importer", dry_run=False, tax_classes=down)
    with pytest.raises(Unavailable):
        async for _ in importer.run(records(chunks())):
            pass
    assert down.calls == 1
    async with catalog_io.db.session() as s:
        assert await s.scalar(select(Product.id).where(Product.slug == "gst-outage")) is None


async def test_pieces_per_unit_column(catalog_io: IoHarness) -> None:
    """A pack variant's pieces (GST slabs per piece) import, export and validate."""
    header = [*HEADER, "pieces_per_unit"]
    rows = [
        [*_row("pc-kurta-set", "PC-1", 299_900, tax_class="apparel", hsn_code="62114990"), ""],
        [*_row("pc-kurta-set", "PC-2", 549_900, tax_class="apparel", hsn_code="62114990"), 2],
        [*_row("pc-kurta-set", "PC-3", 749_900, tax_class="apparel", hsn_code="62114990"), -1],
        [*_row("pc-kurta-set", "PC-4", 749_900, tax_class="apparel", hsn_code="62114990"), 1001],
    ]
    summary, _ = await catalog_io.import_bytes([csv_bytes(header, rows)])
    assert {(e.line, e.column) for e in summary.errors} == {
        (4, "pieces_per_unit"),
        (5, "pieces_per_unit"),
    }
    async with catalog_io.db.session() as s:
        got = dict(
            (
                await s.execute(
                    select(Variant.sku, Variant.pieces_per_unit).where(
                        Variant.sku.in_(["PC-1", "PC-2"])
                    )
                )
            ).all()
        )
    assert got == {"PC-1": 1, "PC-2": 2}  # an empty cell: the default, one piece
    exported = await catalog_io.export()
    by_sku = {r["sku"]: r for r in csv.DictReader(io.StringIO(exported.decode()))}
    assert (by_sku["PC-1"]["pieces_per_unit"], by_sku["PC-2"]["pieces_per_unit"]) == ("1", "2")
