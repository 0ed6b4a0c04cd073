"""Every REST binding of a descriptor set: one per google.api.http rule.

This is the single reading of the HTTP annotations the edge's router and its
OpenAPI document share; nothing else declares a route.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from google.api import http_pb2
from google.protobuf import descriptor_pb2

from edge.routes import Template, parse_template
from mesh.contracts import Audience, MethodContract, contracts_from_file_set

log = logging.getLogger("edge.bindings")

_PATTERNS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Binding:
    http_method: str  # "GET", ... or a custom kind, upper case
    template: Template
    body: str  # "", "*" or a field name
    response_body: str
    contract: MethodContract
    index: int  # 0 for the main rule, 1.. for additional_bindings

    @property
    def operation_id(self) -> str:
        service = self.contract.service.rsplit(".", 1)[-1]
        suffix = f"_{self.index}" if self.index else ""
        return f"{service}_{self.contract.method}{suffix}"


def rule_method_and_path(rule: http_pb2.HttpRule) -> tuple[str, str] | None:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        return None
    if kind == "custom":
        return rule.custom.kind.upper(), rule.custom.path
    if kind in _PATTERNS:
        return kind.upper(), getattr(rule, kind)
    return None


def bindings_from_file_set(
    fds: descriptor_pb2.FileDescriptorSet, packages_prefix: str = ""
) -> list[Binding]:
    """Every HTTP binding of every RPC; INTERNAL RPCs are refused (logged, no route)."""
    out: list[Binding] = []
    contracts = contracts_from_file_set(fds, packages_prefix=packages_prefix)
    for contract in sorted(contracts.values(), key=lambda c: c.full_name):
        if not contract.http_rules:
            continue
        if contract.audience == Audience.AUDIENCE_INTERNAL:
            log.warning("internal RPC %s has an HTTP binding; not exposed", contract.full_name)
            continue
        for index, rule in enumerate(contract.http_rules):
            mp = rule_method_and_path(rule)
            if mp is None:
                continue
            method, path = mp
            out.append(
                Binding(
                    http_method=method,
                    template=parse_template(path),
                    body=rule.body,
                    response_body=rule.response_body,
                    contract=contract,
                    index=index,
                )
            )
    return out
