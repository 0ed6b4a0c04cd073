"""One catalog database per back end per module, the known catalogue indexed, and
SearchService over real gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from cleanse.catalog.v1 import search_service_pb2_grpc
from mesh.db import Database
from services.catalog.search.servicer import SearchServicer
from tests.catalog.search.harness import Fixture, Keys, catalog_server, load_fixture, migrated


@dataclass
class SearchHarness:
    db: Database
    fx: Fixture
    keys: Keys
    stub: search_service_pb2_grpc.SearchServiceStub
    servicer: SearchServicer
    backend: str


@pytest.fixture(scope="module")
async def search(module_database_url: str) -> AsyncIterator[SearchHarness]:
    db = await migrated(module_database_url)
    fx = await load_fixture(db)
    keys = Keys()
    servicer = SearchServicer(db)
    add = search_service_pb2_grpc.add_SearchServiceServicer_to_server
    try:
        async with catalog_server(db, keys, (add, servicer)) as channel:
            yield SearchHarness(
                db,
                fx,
                keys,
                search_service_pb2_grpc.SearchServiceStub(channel),
                servicer,
                "sqlite" if db.is_sqlite else "postgres",
            )
    finally:
        await db.dispose()
