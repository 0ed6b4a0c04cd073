from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_FIELD: _ClassVar[ErrorReason]
    ERROR_REASON_UNAUTHENTICATED: _ClassVar[ErrorReason]
    ERROR_REASON_PERMISSION_DENIED: _ClassVar[ErrorReason]
    ERROR_REASON_ACCOUNT_EXISTS: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_CREDENTIALS: _ClassVar[ErrorReason]
    ERROR_REASON_OTP_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_OTP_ATTEMPTS_EXHAUSTED: _ClassVar[ErrorReason]
    ERROR_REASON_RATE_LIMITED: _ClassVar[ErrorReason]
    ERROR_REASON_REFRESH_TOKEN_REUSED: _ClassVar[ErrorReason]
    ERROR_REASON_SESSION_REVOKED: _ClassVar[ErrorReason]
    ERROR_REASON_IDEMPOTENCY_MISMATCH: _ClassVar[ErrorReason]
    ERROR_REASON_DEPENDENCY_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_ACCOUNT_DISABLED: _ClassVar[ErrorReason]
    ERROR_REASON_ROLE_IN_USE: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_INVALID_FIELD: ErrorReason
ERROR_REASON_UNAUTHENTICATED: ErrorReason
ERROR_REASON_PERMISSION_DENIED: ErrorReason
ERROR_REASON_ACCOUNT_EXISTS: ErrorReason
ERROR_REASON_INVALID_CREDENTIALS: ErrorReason
ERROR_REASON_OTP_INVALID: ErrorReason
ERROR_REASON_OTP_ATTEMPTS_EXHAUSTED: ErrorReason
ERROR_REASON_RATE_LIMITED: ErrorReason
ERROR_REASON_REFRESH_TOKEN_REUSED: ErrorReason
ERROR_REASON_SESSION_REVOKED: ErrorReason
ERROR_REASON_IDEMPOTENCY_MISMATCH: ErrorReason
ERROR_REASON_DEPENDENCY_UNAVAILABLE: ErrorReason
ERROR_REASON_ACCOUNT_DISABLED: ErrorReason
ERROR_REASON_ROLE_IN_USE: ErrorReason
