"""The incremental CSV reader: any chunking gives the same records and line numbers,
and memory stays bounded by a record, not the file."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Iterable

import pytest

from services.catalog.io.columns import check_header, parse_row
from services.catalog.io.reader import CsvFormatError, Record, records

TEXT = (
    "product_slug,sku,description_html\r\n"
    'a,A-1,"<p>two\r\nlines, ""quoted""</p>"\r\n'
    "\r\n"
    "b,B-1,plain\r\n"
    "c,C-1,ünïcødé"
)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def _all(chunks: AsyncIterator[bytes]) -> list[Record]:
    return [r async for r in records(chunks)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
async def test_any_chunking_gives_the_same_records(size: int) -> None:
    got = await _all(_chunks(("\ufeff" + TEXT).encode(), size))
    assert [(r.line, r.fields) for r in got] == [
        (1, ["product_slug", "sku", "description_html"]),
        (2, ["a", "A-1", '<p>two\r\nlines, "quoted"</p>']),
        (5, ["b", "B-1", "plain"]),
        (6, ["c", "C-1", "ünïcødé"]),
    ]


async def test_unterminated_quote_and_bad_utf8_are_reported_with_a_line() -> None:
    with pytest.raises(CsvFormatError) as err:
        await _all(_chunks(b'a,b\nx,"open\nmore\n', 4))
    assert err.value.line == 2
    with pytest.raises(CsvFormatError) as err:
        await _all(_chunks(b"a,b\n\xff\xfe,x\n", 4))
    assert err.value.line == 2


async def test_streaming_10000_rows_uses_memory_bounded_by_a_record() -> None:
    header = "product_slug,sku,title,mrp_paise,price_paise,description_html\n"
    row = "prod-{n},SKU-{n},Product number {n},50000,45000,{pad}\n"

    def lines() -> Iterable[bytes]:
        yield header.encode()
        for n in range(10_000):
            yield row.format(n=n, pad="x" * 150).encode()

    async def chunks() -> AsyncIterator[bytes]:
        buf = b""
        for line in lines():
            buf += line
            if len(buf) >= 64 * 1024:
                yield buf
                buf = b""
        yield buf

    file_size = sum(len(x) for x in lines())
    assert file_size > 1_800_000
    names = None
    count = 0
    tracemalloc.start()
    try:
        async for rec in records(chunks()):
            if names is None:
                names = check_header(rec.fields)
                continue
            parsed, v = parse_row(names, rec.fields, rec.line)
            assert not v and parsed.mrp == 50_000
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 10_000
    assert peak < file_size / 4, (peak, file_size)  # a few chunks, never the file
