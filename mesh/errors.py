"""One exception class per gRPC status code, turned into a rich status in one place.

Services raise these from domain code; the server's error interceptor
(`mesh.interceptors`) turns them into `google.rpc.Status` with an `ErrorInfo`
(reason UPPER_SNAKE, domain "cleanse.in") and, for bad input, `BadRequest` field
violations. Any other exception becomes INTERNAL with a generic message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "cleanse.in"


class ServiceError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    default_reason: str = ""

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        details: Iterable[object] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason if reason is not None else self.default_reason
        self.metadata = dict(metadata or {})
        self.extra_details = list(details)

    def details(self) -> list[object]:
        out: list[object] = []
        if self.reason:
            out.append(
                error_details_pb2.ErrorInfo(
                    reason=self.reason, domain=DOMAIN, metadata=self.metadata
                )
            )
        out.extend(self.extra_details)
        return out

    def to_status(self) -> status_pb2.Status:
        packed = []
        for d in self.details():
            a = any_pb2.Any()
            a.Pack(d)
            packed.append(a)
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=packed)

    def to_grpc_status(self) -> grpc.Status:
        return rpc_status.to_status(self.to_status())


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_FIELD"

    def __init__(
        self,
        violations: Mapping[str, str] | Iterable[tuple[str, str]],
        message: str | None = None,
        **kw: object,
    ) -> None:
        items = list(violations.items() if isinstance(violations, Mapping) else violations)
        self.violations = items
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in items
            ]
        )
        text = message or "; ".join(f"{f}: {d}" for f, d in items) or "invalid argument"
        super().__init__(text, details=[bad], **kw)  # type: ignore[arg-type]


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class Aborted(ServiceError):
    code = grpc.StatusCode.ABORTED
    default_reason = "ABORTED"


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: float | None = None, **kw) -> None:
        details = list(kw.pop("details", []))
        if retry_after_seconds is not None:
            secs = int(retry_after_seconds)
            nanos = int((retry_after_seconds - secs) * 1e9)
            details.append(
                error_details_pb2.RetryInfo(
                    retry_delay=duration_pb2.Duration(seconds=secs, nanos=nanos)
                )
            )
        super().__init__(message, details=details, **kw)


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "DEPENDENCY_UNAVAILABLE"


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    default_reason = "DEADLINE_EXCEEDED"


class Unimplemented(ServiceError):
    code = grpc.StatusCode.UNIMPLEMENTED
    default_reason = "UNIMPLEMENTED"


class Internal(ServiceError):
    code = grpc.StatusCode.INTERNAL
    default_reason = ""


def internal_status() -> status_pb2.Status:
    """What an unexpected exception becomes: no repr, no stack trace."""
    return status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")


class Violations:
    """Collects field violations, then raises one InvalidArgument with all of them.

    >>> v = Violations()
    >>> v.require(email, "email")
    >>> v.check(len(pw) >= 10, "password", "must be at least 10 characters")
    >>> v.raise_if_any()
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, description: str) -> None:
        self.items.append((field, description))

    def check(self, ok: bool, field: str, description: str) -> bool:
        if not ok:
            self.add(field, description)
        return ok

    def require(self, value: object, field: str) -> bool:
        return self.check(bool(value), field, "is required")

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidArgument(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
