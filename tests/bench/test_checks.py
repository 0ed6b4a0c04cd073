"""The bench's correctness checks (bench/checks.py) read what they claim to read."""

from __future__ import annotations

from bench import checks
from cleanse.auth.v1 import auth_service_pb2

_SVC = 'grpc_service="cleanse.auth.v1.AuthService",grpc_type="unary"'
METRICS = f"""
# TYPE grpc_server_handled_total counter
grpc_server_handled_total{{grpc_code="OK",grpc_method="GetJwks",{_SVC}}} 120.0
grpc_server_handled_total{{grpc_code="CANCELLED",grpc_method="GetJwks",{_SVC}}} 3.0
grpc_server_handled_total{{grpc_code="OK",grpc_method="Login",{_SVC}}} 7.0
"""


def test_grpc_frame_is_a_length_prefixed_get_jwks_request() -> None:
    frame = checks.grpc_frame()
    assert frame[0] == 0  # not compressed
    length = int.from_bytes(frame[1:5], "big")
    assert len(frame) == 5 + length
    auth_service_pb2.GetJwksRequest.FromString(frame[5:])


def test_handled_codes_for_the_method_only() -> None:
    assert checks.handled_codes(METRICS) == {"OK": 120.0, "CANCELLED": 3.0}
    assert checks.handled_codes(METRICS, "Login") == {"OK": 7.0}


def test_delta() -> None:
    before = {"OK": 100.0}
    after = {"OK": 150.0, "UNAVAILABLE": 2.0}
    assert checks.delta(before, after) == {"OK": 50, "UNAVAILABLE": 2}
    assert checks.delta(None, after) == {}
