"""Correctness checks around the load runs: the numbers only count if the answers are right.

- one real gRPC GetJwks call (generated stub) must return at least one key;
- one raw h2c request shaped exactly like h2load's (nghttp, same framed body and
  headers) must end with `grpc-status: 0` (h2load itself only sees HTTP 200);
- one REST GET through the edge and through Envoy must return the same keys;
- the auth service's /metrics must show no non-OK GetJwks codes appearing during a run.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import grpc

from cleanse.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from mesh import registry

SERVICE = "cleanse.auth.v1.AuthService"
METHOD = "GetJwks"
GRPC_PATH = f"/{SERVICE}/{METHOD}"
REST_PATH = "/v1/auth/jwks"
GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")


class CheckFailed(RuntimeError):
    pass


def grpc_frame() -> bytes:
    """The request body of a unary gRPC call: 5-byte prefix + serialized GetJwksRequest."""
    payload = auth_service_pb2.GetJwksRequest().SerializeToString()
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


def grpc_kids(env: Mapping[str, str]) -> list[str]:
    """Call GetJwks with the generated stub; the key ids it returns (at least one)."""
    addr = registry.address("auth", env)
    with grpc.insecure_channel(str(addr)) as ch:
        try:
            resp = auth_service_pb2_grpc.AuthServiceStub(ch).GetJwks(
                auth_service_pb2.GetJwksRequest(), timeout=5.0
            )
        except grpc.RpcError as exc:
            raise CheckFailed(f"gRPC {METHOD} failed: {exc.code()} {exc.details()}") from exc
    kids = [k.kid for k in resp.keys]
    if not kids:
        raise CheckFailed(f"gRPC {METHOD} returned no keys")
    return kids


def raw_h2c_status(nghttp: str, url: str, body: Path) -> int:
    """grpc-status of one h2c POST shaped like the load (nghttp prints the trailers)."""
    cmd = [nghttp, "-v", "-n", "-d", str(body)]
    for h in GRPC_HEADERS:
        cmd += ["-H", h]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=15, check=False)
    if done.returncode != 0:
        raise CheckFailed(f"nghttp failed ({done.returncode}): {done.stderr or done.stdout}")
    http = re.search(r":status: (\d+)", done.stdout)
    status = re.findall(r"grpc-status: (\d+)", done.stdout)
    if not http or http.group(1) != "200" or not status:
        raise CheckFailed(f"unexpected h2c response:\n{done.stdout[-1500:]}")
    return int(status[-1])


def rest_kids(url: str, timeout: float = 5.0) -> list[str]:
    """GET the JWKS over REST; the key ids in the JSON body (raises on non-200)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status = resp.status
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise CheckFailed(f"GET {url}: HTTP {exc.code}: {exc.read()[:300]!r}") from exc
    if status != 200:
        raise CheckFailed(f"GET {url}: HTTP {status}")
    kids = [k.get("kid", "") for k in body.get("keys", [])]
    if not kids:
        raise CheckFailed(f"GET {url}: no keys in {body!r}")
    return kids


_HANDLED = re.compile(r"^grpc_server_handled_total\{([^}]*)\}\s+([0-9.e+]+)$", re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def handled_codes(metrics_text: str, method: str = METHOD) -> dict[str, float]:
    """grpc_server_handled_total for `method`, by grpc_code."""
    out: dict[str, float] = {}
    for labels, value in _HANDLED.findall(metrics_text):
        lab = dict(_LABEL.findall(labels))
        if lab.get("grpc_method") == method and lab.get("grpc_service", SERVICE) == SERVICE:
            code = lab.get("grpc_code", "?")
            out[code] = out.get(code, 0.0) + float(value)
    return out


def scrape_handled(env: Mapping[str, str]) -> dict[str, float] | None:
    """The auth service's GetJwks counters, or None when /metrics is not reachable."""
    url = registry.metrics_address("auth", env).url + "/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5.0) as resp:
            return handled_codes(resp.read().decode())
    except OSError:
        return None


def delta(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, int]:
    if before is None or after is None:
        return {}
    return {c: int(v - before.get(c, 0.0)) for c, v in after.items() if v - before.get(c, 0.0)}


def settled_handled(env: Mapping[str, str], within: float = 3.0) -> dict[str, float] | None:
    """scrape_handled once the counters stop moving (RPCs cut off by h2load finish late)."""
    last = scrape_handled(env)
    deadline = time.monotonic() + within
    while last is not None and time.monotonic() < deadline:
        time.sleep(0.25)
        now = scrape_handled(env)
        if now == last:
            break
        last = now
    return last
