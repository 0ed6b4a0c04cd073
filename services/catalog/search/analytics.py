"""Search analytics: every recorded search, clicks on its results, and the admin report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, case, cast, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, utcnow
from services.catalog.search.models import SearchClick, SearchQuery


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
    async with db.transaction() as s:
        row = SearchQuery(query=query[:200], result_count=result_count)
        s.add(row)
        await s.flush()
        return row.id


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
