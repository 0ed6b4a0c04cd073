"""Structured JSON logs: one JSON object per line on stderr.

    configure_logging("order")
    log.info("order placed", extra={"order_id": "ord_1", "total_paise": 49900})
    -> {"ts": "2025-01-01T10:00:00.123Z", "level": "INFO", "service": "order",
        "logger": "services.order", "message": "order placed", "trace_id": "...",
        "span_id": "...", "request_id": "...", "order_id": "ord_1", "total_paise": 49900}

Level from CLEANSE_LOG_LEVEL (default INFO). Calling it again replaces our handler
(never other handlers, e.g. pytest's capture).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from mesh import context as call_context
from observability.tracing import current_ids

LEVEL_ENV = "CLEANSE_LOG_LEVEL"

# Attributes every LogRecord has; anything else came in through `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = current_ids()
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[
                :-6
            ]
            + "Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": trace_id,
            "span_id": span_id,
            "request_id": call_context.current().request_id,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _CleanseHandler(logging.StreamHandler):
    """Marks the handler configure_logging installed, so it can replace only it."""


def configure_logging(service: str, stream: TextIO | None = None) -> logging.Handler:
    level_name = os.environ.get(LEVEL_ENV, "INFO").upper()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        raise RuntimeError(f"{LEVEL_ENV}={level_name!r} is not a logging level")
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _CleanseHandler)]:
        root.removeHandler(h)
    handler = _CleanseHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
