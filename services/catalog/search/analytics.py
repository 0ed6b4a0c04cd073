"""Search analytics: every recorded search, clicks on its results, and the admin report."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, case, cast, distinct, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, new_id, utcnow
from services.catalog.search.models import SearchClick, SearchQuery

log = logging.getLogger("catalog.search.analytics")


@dataclass
class QueryStat:
    query: str
    searches: int = 0
    clicked_searches: int = 0
    clicks: int = 0
    max_result_count: int = 0

    @property
    def ctr(self) -> float:
        return self.clicked_searches / self.searches if self.searches else 0.0


@dataclass
class Report:
    total_searches: int = 0
    zero_result_searches: int = 0
    clicked_searches: int = 0
    top_queries: list[QueryStat] = field(default_factory=list)
    zero_result_queries: list[QueryStat] = field(default_factory=list)

    @property
    def ctr(self) -> float:
        return self.clicked_searches / self.total_searches if self.total_searches else 0.0


async def record_search(db: Database, query: str, result_count: int) -> str:
    """One search, written now (SearchServicer without a SearchLog; tests)."""
    async with db.transaction() as s:
        row = SearchQuery(query=query[:200], result_count=result_count)
        s.add(row)
        await s.flush()
        return row.id


class SearchLog:
    """Searches recorded off the request path: kept in memory, written in batches.

    `record` returns the search id at once (a new_id(), so it sorts by time and the
    click path can tell how old it is) and queues the row with its own create_time.
    A background task (started on the first record) writes the queue every
    `flush_seconds` in one transaction per `batch` rows; `close()` (app shutdown)
    writes what is left. Bounded: beyond `max_pending` queued rows a search is not
    recorded (its search_id is empty, `dropped` counts them) until writes catch up.

    Loss window: a crash (not a clean shutdown) loses at most the searches of the
    last `flush_seconds` (default 1 s; or more while the database refuses writes,
    still at most `max_pending` rows). Analytics only: no customer-visible effect.
    """

    def __init__(
        self,
        db: Database,
        *,
        flush_seconds: float = 1.0,
        batch: int = 500,
        max_pending: int = 20_000,
    ) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self.batch = batch
        self.max_pending = max_pending
        self.dropped = 0
        self.written = 0
        self._pending: list[dict[str, object]] = []
        self._ids: set[str] = set()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def record(self, query: str, result_count: int) -> str:
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning(
                    "search analytics queue full: dropping", extra={"dropped": self.dropped}
                )
            return ""
        sid = new_id()
        self._pending.append(
            {"id": sid, "query": query[:200], "result_count": result_count, "create_time": utcnow()}
        )
        self._ids.add(sid)
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return sid

    def pending(self, search_id: str) -> bool:
        return search_id in self._ids

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
            except Exception:  # the database is down: keep the rows, try again later
                log.warning("search analytics flush failed; retrying", exc_info=True)

    async def flush(self) -> int:
        """Write everything queued so far; returns how many rows were written."""
        async with self._lock:
            rows, self._pending = self._pending, []
            done = 0
            try:
                for start in range(0, len(rows), self.batch):
                    chunk = rows[start : start + self.batch]
                    async with self.db.transaction() as s:
                        await s.execute(insert(SearchQuery), chunk)
                    done += len(chunk)
                    self._ids.difference_update(str(r["id"]) for r in chunk)
            finally:
                if done < len(rows):  # put back what was not written, oldest first
                    self._pending[:0] = rows[done:]
                self.written += done
            return done

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def write_if_queued(self, search_id: str) -> None:
        """A click on a search still queued here: write the queue now."""
        if self.pending(search_id):
            await self.flush()

    async def wait_for_other_process(self, search_id: str) -> bool:
        """An unknown search id recent enough to sit in another process's queue: wait
        until that process must have written it and say True (look again); else False."""
        made = id_time(search_id)
        if made is None:
            return False
        window = self.flush_seconds + FLUSH_GRACE_SECONDS
        wait = made + window - time.time()
        if not 0 < wait <= window:
            return False
        await asyncio.sleep(wait)
        return True


FLUSH_GRACE_SECONDS = 0.5


def id_time(search_id: str) -> float | None:
    """When a mesh.db.new_id() was made (seconds since the epoch), or None."""
    if len(search_id) != 32:
        return None
    try:
        return int(search_id[:12], 16) / 1000.0
    except ValueError:
        return None


async def record_click(db: Database, search_id: str, product_id: str, position: int) -> bool:
    """False when the search is unknown. Idempotent on (search, product)."""
    async with db.transaction() as s:
        if await s.get(SearchQuery, search_id) is None:
            return False
        dup = await s.scalar(
            select(SearchClick.id).where(
                SearchClick.search_id == search_id, SearchClick.product_id == product_id
            )
        )
        if dup is None:
            s.add(SearchClick(search_id=search_id, product_id=product_id, position=position))
        return True


async def popular_queries(session: AsyncSession, limit: int = 5, days: int = 30) -> list[str]:
    since = utcnow() - timedelta(days=days)
    rows = await session.execute(
        select(SearchQuery.query, func.count().label("n"))
        .where(SearchQuery.create_time >= since, SearchQuery.result_count > 0)
        .group_by(SearchQuery.query)
        .order_by(func.count().desc(), SearchQuery.query)
        .limit(limit)
    )
    return [q for q, _ in rows]


async def report(db: Database, start: datetime, end: datetime, limit: int) -> Report:
    in_window = (SearchQuery.create_time >= start, SearchQuery.create_time < end)
    async with db.session() as s:
        total, zero = (
            await s.execute(
                select(
                    func.count(),
                    func.coalesce(
                        func.sum(cast(case((SearchQuery.result_count == 0, 1), else_=0), Integer)),
                        0,
                    ),
                ).where(*in_window)
            )
        ).one()
        clicked = await s.scalar(
            select(func.count(distinct(SearchClick.search_id)))
            .join(SearchQuery, SearchQuery.id == SearchClick.search_id)
            .where(*in_window)
        )
        click_rows = await s.execute(
            select(
                SearchQuery.query,
                func.count(SearchClick.id),
                func.count(distinct(SearchClick.search_id)),
            )
            .join(SearchQuery, SearchQuery.id == SearchClick.search_id)
            .where(*in_window)
            .group_by(SearchQuery.query)
        )
        clicks = {q: (int(n), int(d)) for q, n, d in click_rows}

        async def stats(*where: object) -> list[QueryStat]:
            rows = await s.execute(
                select(SearchQuery.query, func.count(), func.max(SearchQuery.result_count))
                .where(*in_window, *where)  # type: ignore[arg-type]
                .group_by(SearchQuery.query)
                .order_by(func.count().desc(), SearchQuery.query)
                .limit(limit)
            )
            out = []
            for q, n, mx in rows:
                c, d = clicks.get(q, (0, 0))
                out.append(QueryStat(q, int(n), d, c, int(mx or 0)))
            return out

        top = await stats()
        zeros = await stats(SearchQuery.result_count == 0)
    return Report(int(total), int(zero or 0), int(clicked or 0), top, zeros)
