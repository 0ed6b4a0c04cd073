"""OpenAPI 3.1 for the edge, generated from the same bindings and descriptors it routes by.

Paths: a template's variables become path parameters; the literal parts of a
variable's pattern stay in the path, so `/v1/{name=orders/*}:cancel` is
`/v1/orders/{name}:cancel` (the edge rebuilds `name = "orders/<id>"`). Schemas use
the proto JSON mapping: lowerCamel property names, enums as strings, 64-bit
integers as strings, Timestamp as date-time. Descriptions come from the proto
comments (source info). Security follows each RPC's declared access policy.
A body bound to google.api.HttpBody, and an HttpBody response, are documented as raw
bytes of any media type;
headers a contract forwards (`forward_headers`) are header parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

from edge.bindings import Binding
from edge.routes import DEEP, LITERAL, WILDCARD
from edge.transcode import http_body_response, http_body_target
from mesh.contracts import Audience

FD = descriptor.FieldDescriptor
STATUS_SCHEMA = "google.rpc.Status"
_MAX_QUERY_DEPTH = 4

_SCALARS: dict[int, dict[str, Any]] = {
    FD.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FD.TYPE_FLOAT: {"type": "number", "format": "float"},
    FD.TYPE_INT32: {"type": "integer", "format": "int32"},
    FD.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FD.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FD.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    FD.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    # The JSON mapping writes 64-bit integers as strings.
    FD.TYPE_INT64: {"type": "string", "format": "int64"},
    FD.TYPE_SINT64: {"type": "string", "format": "int64"},
    FD.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FD.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FD.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FD.TYPE_BOOL: {"type": "boolean"},
    FD.TYPE_STRING: {"type": "string"},
    FD.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WKT: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated paths."},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
}
_WRAPPER_PREFIX = "google.protobuf."
_STRING_WKT = {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
_AUDIENCE_NAMES = {
    Audience.AUDIENCE_PUBLIC: "public",
    Audience.AUDIENCE_CUSTOMER: "customer",
    Audience.AUDIENCE_ADMIN: "admin",
}


Comments = dict[tuple[int, ...], str]


def _enum_comments(
    out: dict[str, str], by_path: Comments, items: Iterable, prefix: str, path: tuple, tag: int
) -> None:
    for i, e in enumerate(items):
        full, p = f"{prefix}.{e.name}", (*path, tag, i)
        if p in by_path:
            out[full] = by_path[p]
        for j, v in enumerate(e.value):
            if (*p, 2, j) in by_path:
                out[f"{full}.{v.name}"] = by_path[(*p, 2, j)]


def _message_comments(
    out: dict[str, str], by_path: Comments, items: Iterable, prefix: str, path: tuple, tag: int
) -> None:
    for i, m in enumerate(items):
        full, p = f"{prefix}.{m.name}", (*path, tag, i)
        if p in by_path:
            out[full] = by_path[p]
        for j, fld in enumerate(m.field):
            if (*p, 2, j) in by_path:
                out[f"{full}.{fld.name}"] = by_path[(*p, 2, j)]
        _message_comments(out, by_path, m.nested_type, full, p, 3)
        _enum_comments(out, by_path, m.enum_type, full, p, 4)


def _comments(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, str]:
    """Leading comments by full name (messages, fields, enums, values, services, methods).

    Source-info paths: message_type = 4, nested_type = 3, field = 2, enum_type = 5
    (4 when nested), enum value = 2, service = 6, method = 2.
    """
    out: dict[str, str] = {}
    for f in fds.file:
        by_path: Comments = {
            tuple(loc.path): (loc.leading_comments or loc.trailing_comments).strip()
            for loc in f.source_code_info.location
            if loc.leading_comments or loc.trailing_comments
        }
        pkg = f.package
        _message_comments(out, by_path, f.message_type, pkg, (), 4)
        _enum_comments(out, by_path, f.enum_type, pkg, (), 5)
        for i, s in enumerate(f.service):
            full = f"{pkg}.{s.name}"
            if (6, i) in by_path:
                out[full] = by_path[(6, i)]
            for j, m in enumerate(s.method):
                if (6, i, 2, j) in by_path:
                    out[f"{full}.{m.name}"] = by_path[(6, i, 2, j)]
    return out


class _Schemas:
    def __init__(self, comments: dict[str, str]) -> None:
        self.comments = comments
        self.components: dict[str, Any] = {}

    def ref(self, name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def message(self, d: descriptor.Descriptor) -> dict[str, Any]:
        full = d.full_name
        if full in _WKT:
            return dict(_WKT[full])
        if _is_wrapper(d):
            inner = dict(_SCALARS[d.fields_by_name["value"].type])
            inner["type"] = [inner["type"], "null"]
            return inner
        if full not in self.components:
            self.components[full] = {}  # placeholder: breaks recursion
            props = {f.json_name: self.field(f) for f in d.fields}
            schema: dict[str, Any] = {"type": "object", "properties": props}
            if full in self.comments:
                schema["description"] = self.comments[full]
            self.components[full] = schema
        return self.ref(full)

    def enum(self, e: descriptor.EnumDescriptor) -> dict[str, Any]:
        full = e.full_name
        if full not in self.components:
            schema: dict[str, Any] = {"type": "string", "enum": [v.name for v in e.values]}
            if full in self.comments:
                schema["description"] = self.comments[full]
            self.components[full] = schema
        return self.ref(full)

    def single(self, f: descriptor.FieldDescriptor) -> dict[str, Any]:
        if f.message_type is not None:
            return self.message(f.message_type)
        if f.enum_type is not None:
            return self.enum(f.enum_type)
        return dict(_SCALARS[f.type])

    def field(self, f: descriptor.FieldDescriptor) -> dict[str, Any]:
        mt = f.message_type
        if mt is not None and mt.GetOptions().map_entry:
            schema: dict[str, Any] = {
                "type": "object",
                "additionalProperties": self.single(mt.fields_by_name["value"]),
            }
        elif f.is_repeated:
            schema = {"type": "array", "items": self.single(f)}
        else:
            schema = self.single(f)
        text = self.comments.get(f.full_name)
        if text:
            schema = {"allOf": [schema], "description": text} if "$ref" in schema else schema
            schema.setdefault("description", text)
        return schema


def openapi_path(b: Binding) -> tuple[str, list[tuple[str, str, str]]]:
    """The OpenAPI path of a binding and its path parameters (name, field, pattern)."""
    t = b.template
    starts = {v.start: v for v in t.variables}
    parts: list[str] = []
    params: list[tuple[str, str, str]] = []
    i = 0
    while i < len(t.segments):
        v = starts.get(i)
        if v is None:
            parts.append(t.segments[i][1] or ("*" if t.segments[i][0] == WILDCARD else "**"))
            i += 1
            continue
        wild = [k for k, _ in v.pattern if k != LITERAL]
        pattern = "/".join(s if k == LITERAL else "{*}" for k, s in v.pattern)
        n = 0
        for kind, lit in v.pattern:
            if kind == LITERAL:
                parts.append(lit)
                continue
            n += 1
            name = v.dotted if len(wild) == 1 else f"{v.dotted}_{n}"
            parts.append("{" + name + "}")
            params.append(
                (name, v.dotted, pattern + (" (may contain '/')" if kind == DEEP else ""))
            )
        i = v.end
    return "/" + "/".join(parts) + (":" + t.verb if t.verb else ""), params


def _query_params(
    s: _Schemas,
    d: descriptor.Descriptor,
    excluded: set[str],
    prefix: str = "",
    json_prefix: str = "",
    depth: int = 0,
) -> list[dict[str, Any]]:
    """grpc-gateway's query parameters: every leaf field not bound by path or body."""
    out: list[dict[str, Any]] = []
    for f in d.fields:
        dotted = prefix + f.name
        if dotted in excluded:
            continue
        mt = f.message_type
        if mt is not None and mt.GetOptions().map_entry:
            continue
        name = json_prefix + f.json_name
        is_leaf = mt is None or mt.full_name in _WKT or _is_wrapper(mt)
        if not is_leaf:
            if not f.is_repeated and depth < _MAX_QUERY_DEPTH:
                out += _query_params(s, mt, excluded, dotted + ".", name + ".", depth + 1)
            continue
        if mt is not None and mt.full_name not in _STRING_WKT and not _is_wrapper(mt):
            continue  # Struct, Any, ...: no string form
        param: dict[str, Any] = {"name": name, "in": "query", "schema": s.field(f)}
        if f.is_repeated:
            param["explode"] = True
        out.append(param)
    return out


def _is_wrapper(d: descriptor.Descriptor) -> bool:
    full = d.full_name
    return (
        full.startswith(_WRAPPER_PREFIX) and full.endswith("Value") and "value" in d.fields_by_name
    )


def _security(b: Binding) -> tuple[list[dict[str, list[str]]], str]:
    c = b.contract
    audience = _AUDIENCE_NAMES.get(c.audience, "unspecified")
    if c.audience == Audience.AUDIENCE_PUBLIC:
        return [{}, {"bearerAuth": []}], "Access: public (a token, if sent, must be valid)."
    if c.audience == Audience.AUDIENCE_CUSTOMER:
        note = " (admins too)" if c.allow_admin else ""
        return [{"bearerAuth": []}], f"Access: signed-in customer{note}."
    if c.audience == Audience.AUDIENCE_ADMIN:
        perm = f" with the permission `{c.permission}`" if c.permission else ""
        return [{"bearerAuth": []}], f"Access: admin{perm}."
    return [{"bearerAuth": []}], f"Access: {audience}."


def _status_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "A gRPC status: `code` is the gRPC code; `details` are google.rpc "
        "messages (BadRequest, ErrorInfo, RetryInfo, ...) with their `@type`.",
        "properties": {
            "code": {"type": "integer", "format": "int32"},
            "message": {"type": "string"},
            "details": {"type": "array", "items": _WKT["google.protobuf.Any"]},
        },
    }


def build_openapi(
    bindings: Iterable[Binding],
    pool: descriptor_pool.DescriptorPool,
    fds: descriptor_pb2.FileDescriptorSet,
    *,
    title: str = "Cleanse Mesh REST API",
    version: str = "v1",
) -> dict[str, Any]:
    comments = _comments(fds)
    s = _Schemas(comments)
    paths: dict[str, dict[str, Any]] = {}
    for b in bindings:
        method = b.http_method.lower()
        if method not in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            continue
        c = b.contract
        input_desc = pool.FindMessageTypeByName(c.input_type)
        output_desc = pool.FindMessageTypeByName(c.output_type)
        path, path_params = openapi_path(b)
        security, access = _security(b)
        params: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": f"Fills `{field}` (`{pattern}`).",
            }
            for name, field, pattern in path_params
        ]
        params += [
            {
                "name": name,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": c.forward_header_max_bytes},
                "description": f"Passed to the service as gRPC metadata `{name}`.",
            }
            for name in c.forward_headers
        ]
        excluded = {v.dotted for v in b.template.variables}
        if b.body != "*":
            if b.body:
                body_field = input_desc.fields_by_name.get(b.body)
                excluded.add(body_field.name if body_field else b.body)
            params += _query_params(s, input_desc, excluded)
        # Path fields may be written with json names; exclusion above uses proto names,
        # which is what templates in proto/ use.
        doc = comments.get(f"{c.service}.{c.method}", "")
        op: dict[str, Any] = {
            "operationId": b.operation_id,
            "tags": [c.service.rsplit(".", 1)[-1]],
            "summary": c.method,
            "description": (doc + "\n\n" if doc else "") + access,
            "parameters": params,
            "security": security,
            "x-cleanse-access": {
                "audience": _AUDIENCE_NAMES.get(c.audience, "unspecified"),
                **({"permission": c.permission} if c.permission else {}),
            },
            "x-grpc-method": c.path,
            "x-http-template": b.template.text,
        }
        body_schema: dict[str, Any] | None = None
        if http_body_target(input_desc, b.body) is not None:
            op["requestBody"] = {
                "description": "Passed to the service byte for byte with its Content-Type "
                "(google.api.HttpBody), not parsed as JSON.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        elif b.body == "*":
            body_schema = s.message(input_desc)
        elif b.body:
            f = input_desc.fields_by_name.get(b.body)
            body_schema = s.field(f) if f is not None else None
        if body_schema is not None:
            op["requestBody"] = {"content": {"application/json": {"schema": body_schema}}}
        if http_body_response(output_desc, b.response_body) is not None:
            ok: dict[str, Any] = {
                "description": "The raw bytes with the service's Content-Type "
                "(google.api.HttpBody), not JSON.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        else:
            if b.response_body:
                f = output_desc.fields_by_name.get(b.response_body)
                out_schema = s.field(f) if f is not None else {}
            else:
                out_schema = s.message(output_desc)
            ok = {"description": "OK", "content": {"application/json": {"schema": out_schema}}}
        op["responses"] = {
            "200": ok,
            "default": {
                "description": "An error: the gRPC status as JSON.",
                "content": {"application/json": {"schema": s.ref(STATUS_SCHEMA)}},
            },
        }
        item = paths.setdefault(path, {})
        if method not in item:  # the router rejects true duplicates at start-up
            item[method] = op
    s.components[STATUS_SCHEMA] = _status_schema()
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(s.components.items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Access token from the auth service (EdDSA JWT).",
                }
            },
        },
    }
