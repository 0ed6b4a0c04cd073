"""Wiring: the catalog's database, handlers, search and servicers on a ServiceApp."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from cleanse.catalog.v1 import (
    catalog_admin_service_pb2_grpc,
    catalog_internal_service_pb2_grpc,
    catalog_io_service_pb2_grpc,
    search_service_pb2_grpc,
    storefront_service_pb2_grpc,
)
from mesh.db import Database, utcnow
from mesh.server import ServiceApp
from services.catalog.admins import AdminDirectory
from services.catalog.availability import Availability
from services.catalog.config import Settings
from services.catalog.demo.loader import load_demo
from services.catalog.handlers.bundles import BundleHandlers
from services.catalog.handlers.categories import CategoryHandlers
from services.catalog.handlers.collections import CollectionHandlers
from services.catalog.handlers.common import Clock, Deps
from services.catalog.handlers.internal import InternalHandlers, VariantFacts
from services.catalog.handlers.products import ProductHandlers
from services.catalog.handlers.storefront import StorefrontHandlers
from services.catalog.handlers.taxonomy import TaxonomyHandlers
from services.catalog.indexer import ProductIndexer
from services.catalog.io.servicer import CatalogIoServicer
from services.catalog.search.analytics import SearchLog
from services.catalog.search.engine import SearchEngine
from services.catalog.search.indexer import SearchIndexer
from services.catalog.search.servicer import SearchServicer
from services.catalog.servicer import CatalogAdminService, CatalogInternalService
from services.catalog.storefront_servicer import RenderedProduct, StorefrontService
from services.catalog.tax_classes import TaxClasses
from services.catalog.versions import CatalogVersion, VersionedCache, VersionedIndexer

JwksSource = Callable[[], Awaitable[Sequence[dict[str, str]]]]


@dataclass
class CatalogApp:
    app: ServiceApp
    db: Database
    settings: Settings
    deps: Deps
    pages: VersionedCache[RenderedProduct]
    variant_facts: VersionedCache[VariantFacts]
    search_log: SearchLog | None


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    indexer: ProductIndexer | None = None,
    clock: Clock = utcnow,
    jwks_source: JwksSource | None = None,  # tests: a fixed JWK set instead of asking auth
) -> CatalogApp:
    settings = settings or Settings.from_env()
    versions = CatalogVersion(db)
    deps = Deps(
        db=db,
        admins=AdminDirectory(ttl=settings.admin_cache_seconds),
        availability=Availability(ttl=settings.stock_cache_seconds),
        tax_classes=TaxClasses(ttl=settings.tax_class_cache_seconds),
        # Every product write bumps the catalogue version (versions.py), whatever indexer.
        indexer=VersionedIndexer(indexer or SearchIndexer()),
        clock=clock,
    )
    pages = VersionedCache[RenderedProduct](versions, max_entries=settings.storefront_cache_entries)
    # What BatchGetVariants answers (pricing, order, inventory: several calls per
    # checkout), against the same version: one write path invalidates both.
    variant_facts = VersionedCache[VariantFacts](
        versions, max_entries=settings.variant_cache_entries
    )
    search_log = (
        SearchLog(db, flush_seconds=settings.search_log_flush_seconds)
        if settings.search_log_flush_seconds > 0
        else None
    )
    app = ServiceApp("catalog", readiness=db.ready, jwks_source=jwks_source)
    bundles = BundleHandlers(deps)
    app.add(
        catalog_admin_service_pb2_grpc.add_CatalogAdminServiceServicer_to_server,
        CatalogAdminService(
            TaxonomyHandlers(deps),
            ProductHandlers(deps),
            CategoryHandlers(deps),
            CollectionHandlers(deps),
            bundles,
        ),
    )
    app.add(
        storefront_service_pb2_grpc.add_StorefrontServiceServicer_to_server,
        StorefrontService(StorefrontHandlers(deps), pages),
    )
    app.add(
        catalog_internal_service_pb2_grpc.add_CatalogInternalServiceServicer_to_server,
        CatalogInternalService(InternalHandlers(deps, variant_facts), bundles),
    )
    # Subpackages built alongside: search (search/) and CSV import/export (io/).
    app.add(
        search_service_pb2_grpc.add_SearchServiceServicer_to_server,
        SearchServicer(db, SearchEngine(db, versions), search_log),
    )
    app.add(
        catalog_io_service_pb2_grpc.add_CatalogIoServiceServicer_to_server,
        CatalogIoServicer(db, actor=deps.admins.acting_admin, tax_classes=deps.tax_classes),
    )

    async def startup() -> None:
        await db.migrate()
        if settings.demo_data:
            await load_demo(db, deps.indexer)

    app.on_startup(startup)
    if search_log is not None:
        app.on_shutdown(search_log.close)  # queued searches are written before the pool closes
    app.on_shutdown(versions.close)
    app.on_shutdown(db.dispose)
    return CatalogApp(app, db, settings, deps, pages, variant_facts, search_log)
