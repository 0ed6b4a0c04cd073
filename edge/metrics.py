"""The edge's HTTP metrics, labelled by route template (never the raw path)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests the edge answered.",
    ["method", "route", "code"],
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time the edge took to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UNMATCHED = "<unmatched>"


class HttpMetrics:
    """Caches label children so a request costs two dict lookups, not label parsing."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], object] = {}
        self._histograms: dict[tuple[str, str], object] = {}

    def observe(self, method: str, route: str, code: int, seconds: float) -> None:
        key = (method, route, code)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = REQUESTS.labels(method, route, str(code))
        counter.inc()  # type: ignore[attr-defined]
        hkey = (method, route)
        hist = self._histograms.get(hkey)
        if hist is None:
            hist = self._histograms[hkey] = DURATION.labels(method, route)
        hist.observe(seconds)  # type: ignore[attr-defined]


class RouteMetrics:
    """One route's children, resolved once: a request costs one dict lookup."""

    __slots__ = ("_counters", "_histogram", "_method", "_route")

    def __init__(self, method: str, route: str) -> None:
        self._method = method
        self._route = route
        self._histogram: object = None  # made on first use: no series for unused routes
        self._counters: dict[int, object] = {}

    def observe(self, code: int, seconds: float) -> None:
        counter = self._counters.get(code)
        if counter is None:
            counter = self._counters[code] = REQUESTS.labels(self._method, self._route, str(code))
        counter.inc()  # type: ignore[attr-defined]
        hist = self._histogram
        if hist is None:
            hist = self._histogram = DURATION.labels(self._method, self._route)
        hist.observe(seconds)  # type: ignore[attr-defined]
