"""Bytes chunks in, CSV records out, with the line each record starts on.

The file is never held in memory: an incremental UTF-8 decoder turns chunks into
text, complete physical lines are cut off, and lines are joined into one record
while a quoted field is still open (an odd number of `"` so far; RFC 4180 escapes
a quote as `""`, which keeps the parity). Each record is then parsed alone by the
csv module. Memory is bounded by the longest record, not the file.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

MAX_RECORD_CHARS = 1_000_000
_EOL = re.compile(r"\r\n|\n|\r")


class CsvFormatError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Record:
    line: int  # where the record starts, 1-based
    fields: list[str]


class RecordReader:
    """Feed text pieces; take complete records."""

    def __init__(self) -> None:
        self._partial = ""  # an unfinished physical line
        self._record: list[str] = []  # lines of an unfinished record (quote open)
        self._quotes = 0
        self._line = 0  # physical lines completed so far
        self._start = 1

    def feed(self, text: str) -> list[Record]:
        out: list[Record] = []
        if not text:
            return out
        data = self._partial + text
        lines: list[str] = []
        pos = 0
        for m in _EOL.finditer(data):
            if m.group() == "\r" and m.end() == len(data):
                break  # perhaps the first half of "\r\n"
            lines.append(data[pos : m.end()])
            pos = m.end()
        self._partial = data[pos:]
        for line in lines:
            self._take(line, out)
        if len(self._partial) > MAX_RECORD_CHARS:
            raise CsvFormatError(self._line + 1, "line too long")
        return out

    def close(self) -> list[Record]:
        out: list[Record] = []
        if self._partial:
            self._take(self._partial, out)
            self._partial = ""
        if self._record:
            raise CsvFormatError(self._start, "unterminated quoted field")
        return out

    def _take(self, line: str, out: list[Record]) -> None:
        self._line += 1
        if not self._record:
            self._start = self._line
        self._record.append(line)
        self._quotes += line.count('"')
        if self._quotes % 2:
            if sum(len(x) for x in self._record) > MAX_RECORD_CHARS:
                raise CsvFormatError(self._start, "record too long (unbalanced quotes?)")
            return
        text = "".join(self._record)
        self._record = []
        self._quotes = 0
        if not text.strip():
            return  # blank line
        try:
            rows = list(csv.reader([text], strict=True))
        except csv.Error as exc:
            raise CsvFormatError(self._start, f"malformed CSV: {exc}") from None
        if rows:
            out.append(Record(self._start, rows[0]))


async def records(chunks: AsyncIterable[bytes]) -> AsyncIterator[Record]:
    """CSV records from a stream of byte chunks (UTF-8, an optional BOM)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    reader = RecordReader()
    async for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError:
            raise CsvFormatError(reader._line + 1, "the file is not UTF-8") from None
        for r in reader.feed(text):
            yield r
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise CsvFormatError(reader._line + 1, "the file is not UTF-8") from None
    for r in reader.feed(tail):
        yield r
    for r in reader.close():
        yield r
