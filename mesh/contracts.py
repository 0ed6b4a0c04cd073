"""What the contracts declare about each RPC, read from the proto descriptors.

Access policy (`cleanse.common.v1.access`), page limits (`page_limits`), headers
the edge forwards (`forward_headers`), idempotency (`idempotency_level`) and the
REST bindings (`google.api.http`) live
next to each RPC in proto/. Servers, clients and the edge all read them through
this module, so there is one reading of the contract.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

import cleanse
from cleanse.common.v1 import access_pb2, http_forward_pb2, pagination_pb2

Audience = access_pb2.Audience
DESCRIPTOR_SET_PATH = Path(cleanse.__file__).resolve().parent.parent / "descriptor_set.binpb"

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
DEFAULT_FORWARD_HEADER_BYTES = 1024


@dataclass(frozen=True)
class MethodContract:
    """Everything proto/ says about one RPC."""

    full_name: str  # "cleanse.auth.v1.AuthService.LoginWithPassword"
    service: str  # "cleanse.auth.v1.AuthService"
    method: str  # "LoginWithPassword"
    input_type: str
    output_type: str
    audience: int
    permission: str
    allow_admin: bool
    idempotent: bool  # safe to retry: NO_SIDE_EFFECTS or IDEMPOTENT
    default_page_size: int
    max_page_size: int
    http_rules: tuple[http_pb2.HttpRule, ...] = field(default=(), compare=False)
    client_streaming: bool = False
    server_streaming: bool = False
    # Request headers the edge passes on as gRPC metadata (lower-case names).
    forward_headers: tuple[str, ...] = ()
    forward_header_max_bytes: int = DEFAULT_FORWARD_HEADER_BYTES

    @property
    def path(self) -> str:
        """The gRPC method path: /package.Service/Method."""
        return f"/{self.service}/{self.method}"

    @property
    def package(self) -> str:
        return self.service.rsplit(".", 1)[0]


def contract_from_proto(
    package: str,
    service: descriptor_pb2.ServiceDescriptorProto,
    m: descriptor_pb2.MethodDescriptorProto,
) -> MethodContract:
    opts = m.options
    policy = opts.Extensions[access_pb2.access]
    limits = opts.Extensions[pagination_pb2.page_limits]
    rule = opts.Extensions[annotations_pb2.http]
    rules: list[http_pb2.HttpRule] = []
    if opts.HasExtension(annotations_pb2.http):
        top = http_pb2.HttpRule()
        top.CopyFrom(rule)
        del top.additional_bindings[:]
        rules.append(top)
        rules.extend(rule.additional_bindings)
    forward = opts.Extensions[http_forward_pb2.forward_headers]
    level = opts.idempotency_level
    svc = f"{package}.{service.name}" if package else service.name
    return MethodContract(
        full_name=f"{svc}.{m.name}",
        service=svc,
        method=m.name,
        input_type=m.input_type.lstrip("."),
        output_type=m.output_type.lstrip("."),
        audience=policy.audience,
        permission=policy.permission,
        allow_admin=policy.allow_admin,
        idempotent=level
        in (
            descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
            descriptor_pb2.MethodOptions.IDEMPOTENT,
        ),
        default_page_size=limits.default_size or DEFAULT_PAGE_SIZE,
        max_page_size=limits.max_size or MAX_PAGE_SIZE,
        http_rules=tuple(rules),
        client_streaming=m.client_streaming,
        server_streaming=m.server_streaming,
        forward_headers=tuple(dict.fromkeys(n.strip().lower() for n in forward.names)),
        forward_header_max_bytes=forward.max_value_bytes or DEFAULT_FORWARD_HEADER_BYTES,
    )


def contracts_from_file_set(
    fds: descriptor_pb2.FileDescriptorSet, packages_prefix: str = "cleanse."
) -> dict[str, MethodContract]:
    """Every RPC in a descriptor set whose package starts with `packages_prefix`."""
    out: dict[str, MethodContract] = {}
    for f in fds.file:
        if not f.package.startswith(packages_prefix):
            continue
        for s in f.service:
            for m in s.method:
                c = contract_from_proto(f.package, s, m)
                out[c.path] = c
    return out


def load_descriptor_set(path: Path = DESCRIPTOR_SET_PATH) -> descriptor_pb2.FileDescriptorSet:
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(path.read_bytes())
    return fds


@cache
def all_contracts() -> dict[str, MethodContract]:
    """Every RPC of the mesh, keyed by gRPC method path, from gen/descriptor_set.binpb."""
    return contracts_from_file_set(load_descriptor_set())


def contract_for(path: str) -> MethodContract:
    try:
        return all_contracts()[path]
    except KeyError:
        raise KeyError(f"no contract for RPC {path}") from None


def import_generated_modules() -> None:
    """Import every generated *_pb2 module so the default pool knows every message."""
    for mod in pkgutil.walk_packages(cleanse.__path__, prefix="cleanse."):
        if mod.name.endswith("_pb2"):
            importlib.import_module(mod.name)


def default_pool() -> descriptor_pool.DescriptorPool:
    import_generated_modules()
    return descriptor_pool.Default()


def service_descriptor(full_name: str) -> descriptor.ServiceDescriptor:
    return default_pool().FindServiceByName(full_name)


def admin_permissions() -> list[str]:
    """Every permission some admin RPC declares, sorted."""
    return sorted(
        {c.permission for c in all_contracts().values() if c.audience == Audience.AUDIENCE_ADMIN}
    )
