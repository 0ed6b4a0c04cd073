"""gRPC status -> HTTP response, with grpc-gateway's table (runtime/errors.go).

The body is the status as JSON, `{"code": <gRPC code>, "message": ..., "details":
[...]}`; details are the `google.rpc` messages from the service's
`grpc-status-details-bin` trailer, rendered with "@type". A `RetryInfo` detail
also becomes a `Retry-After` header on 429 and 503; UNAUTHENTICATED carries
`WWW-Authenticate: Bearer` (RFC 6750).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import orjson
from google.protobuf import any_pb2, descriptor_pool, json_format
from google.rpc import error_details_pb2, status_pb2

from mesh.errors import ServiceError

# Imported for its side effect too: registers google.rpc detail types in the default
# pool so the JSON printer resolves their "@type".
_DETAIL_TYPES = error_details_pb2

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}
_BY_NUMBER = {c.value[0]: c for c in grpc.StatusCode}
DETAILS_KEY = "grpc-status-details-bin"
WWW_AUTHENTICATE = b'Bearer realm="cleanse"'
_RETRY_AFTER_STATUSES = {429, 503}
_RETRY_INFO = "type.googleapis.com/" + error_details_pb2.RetryInfo.DESCRIPTOR.full_name


@dataclass
class ErrorResponse:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def http_status(code: grpc.StatusCode) -> int:
    return HTTP_STATUS.get(code, 500)


def _any_to_json(a: any_pb2.Any, pools: Sequence[descriptor_pool.DescriptorPool]) -> Any:
    for pool in pools:
        try:
            return json_format.MessageToDict(
                a, always_print_fields_with_no_presence=True, descriptor_pool=pool
            )
        except (TypeError, KeyError, json_format.Error):
            continue
    return {"@type": a.type_url, "value": json_format.MessageToDict(a).get("value", "")}


def render_status(
    code: grpc.StatusCode,
    message: str,
    details: Sequence[any_pb2.Any] = (),
    *,
    pools: Sequence[descriptor_pool.DescriptorPool] = (),
    token_sent: bool = False,
) -> ErrorResponse:
    status = http_status(code)
    all_pools = (descriptor_pool.Default(), *pools)
    body = {
        "code": code.value[0],
        "message": message,
        "details": [_any_to_json(d, all_pools) for d in details],
    }
    headers: list[tuple[bytes, bytes]] = []
    if code == grpc.StatusCode.UNAUTHENTICATED:
        value = WWW_AUTHENTICATE + (b', error="invalid_token"' if token_sent else b"")
        headers.append((b"www-authenticate", value))
    if status in _RETRY_AFTER_STATUSES:
        for d in details:
            if d.type_url == _RETRY_INFO:
                info = error_details_pb2.RetryInfo()
                d.Unpack(info)
                delay = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
                headers.append((b"retry-after", str(max(0, math.ceil(delay))).encode()))
                break
    return ErrorResponse(status, orjson.dumps(body), headers)


def from_service_error(exc: ServiceError, *, token_sent: bool = False) -> ErrorResponse:
    s = exc.to_status()
    return render_status(exc.code, s.message, list(s.details), token_sent=token_sent)


def from_rpc_error(
    exc: grpc.aio.AioRpcError,
    pools: Sequence[descriptor_pool.DescriptorPool] = (),
    *,
    token_sent: bool = False,
) -> ErrorResponse:
    code = exc.code()
    message = exc.details() or ""
    details: list[any_pb2.Any] = []
    for key, value in exc.trailing_metadata() or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            s = status_pb2.Status()
            try:
                s.ParseFromString(value)
            except Exception:  # a malformed trailer must not hide the status itself
                break
            if s.code == code.value[0]:
                details = list(s.details)
                message = s.message or message
            break
    return render_status(code, message, details, pools=pools, token_sent=token_sent)


def status_code(number: int) -> grpc.StatusCode:
    return _BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)
