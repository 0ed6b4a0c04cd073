"""JSON <-> protobuf for the edge: request building and response rendering.

Request building follows grpc-gateway's generated handlers and runtime/query.go:
the body first (`body: "*"` fills the whole request, `body: "field"` only that
field), then path variables (they win over the body), then every remaining field
from the query string (dotted paths for nested fields, a repeated key per element
of a repeated field). With `body: "*"` the query string is ignored.

A body bound to `google.api.HttpBody` (the request message itself with `body: "*"`,
or a singular HttpBody field named by `body: "field"`) is not JSON: its `data` gets
the request body byte for byte and its `content_type` the Content-Type header, as
grpc-gateway does. Webhook receivers verify signatures over exactly those bytes.
Likewise a response that is a google.api.HttpBody (the response message itself, or
the singular HttpBody field named by `response_body`) is answered raw: its `data` is
the HTTP body and its `content_type` the Content-Type (grpc-gateway's
HTTPBodyMarshaler), e.g. a PDF download.

JSON follows protobuf's JSON mapping (json_format): lowerCamel names out, both
names accepted in, unknown fields ignored, unpopulated fields emitted (grpc-gateway's
EmitUnpopulated). 64-bit integers are emitted as JSON strings, as the mapping
specifies (a JavaScript number cannot hold every int64).

Everything that depends only on the descriptors is resolved once per route at
start-up (message classes, field paths, converters); query keys are resolved on
first use and cached per request type.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, json_format
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from edge.protojson import Decoders, Encoders
from mesh.errors import InvalidArgument

FD = descriptor.FieldDescriptor
_QUERY_CACHE_LIMIT = 512

_INT_TYPES = {
    FD.TYPE_INT32,
    FD.TYPE_SINT32,
    FD.TYPE_SFIXED32,
    FD.TYPE_INT64,
    FD.TYPE_SINT64,
    FD.TYPE_SFIXED64,
}
_UINT_TYPES = {FD.TYPE_UINT32, FD.TYPE_FIXED32, FD.TYPE_UINT64, FD.TYPE_FIXED64}
_FLOAT_TYPES = {FD.TYPE_FLOAT, FD.TYPE_DOUBLE}
_TRUE = {"true", "True", "TRUE", "t", "T", "1"}
_FALSE = {"false", "False", "FALSE", "f", "F", "0"}
_WRAPPERS = {
    f"google.protobuf.{n}Value"
    for n in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
}
_STRING_WKT = {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
_PARSE_FIELD = re.compile(r"Failed to parse (\S+) field")
HTTP_BODY = "google.api.HttpBody"


def build_pool(fds: descriptor_pb2.FileDescriptorSet) -> descriptor_pool.DescriptorPool:
    """A private pool holding every file of the set (dependencies first, as protoc emits)."""
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    files = {f.name: f for f in fds.file}

    def add(name: str) -> None:
        if name in added:
            return
        added.add(name)
        f = files.get(name)
        if f is None:
            raise ValueError(f"descriptor set lacks {name}; build it with --include_imports")
        for dep in f.dependency:
            add(dep)
        pool.Add(f)

    for f in fds.file:
        add(f.name)
    return pool


def bad_request(field: str, description: str) -> InvalidArgument:
    return InvalidArgument([(field, description)])


# --- scalar conversion from strings (path variables, query parameters) -------------


Converter = Callable[[str], Any]


def _int(s: str, lo: int, hi: int) -> int:
    v = int(s, 10)
    if not lo <= v <= hi:
        raise ValueError("out of range")
    return v


def scalar_converter(f: descriptor.FieldDescriptor) -> Converter:
    t = f.type
    if t in _INT_TYPES:
        bits = 64 if t in (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64) else 32
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return lambda s: _int(s, lo, hi)
    if t in _UINT_TYPES:
        hi = 2 ** (64 if t in (FD.TYPE_UINT64, FD.TYPE_FIXED64) else 32) - 1
        return lambda s: _int(s, 0, hi)
    if t in _FLOAT_TYPES:
        return float
    if t == FD.TYPE_BOOL:

        def to_bool(s: str) -> bool:
            if s in _TRUE:
                return True
            if s in _FALSE:
                return False
            raise ValueError("expected true or false")

        return to_bool
    if t == FD.TYPE_STRING:
        return str
    if t == FD.TYPE_BYTES:

        def to_bytes(s: str) -> bytes:
            s = s.replace("-", "+").replace("_", "/")
            return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)

        return to_bytes
    if t == FD.TYPE_ENUM:
        enum = f.enum_type
        by_name = {v.name: v.number for v in enum.values}
        closed = enum.is_closed

        def to_enum(s: str) -> int:
            if s in by_name:
                return by_name[s]
            n = int(s, 10)
            if closed and n not in enum.values_by_number:
                raise ValueError(f"unknown value of {enum.name}")
            return n

        return to_enum
    raise TypeError(f"{f.full_name}: no string form")


_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(path: str) -> str:
    return ".".join(_CAMEL.sub(r"_\1", p).lower() if "_" not in p else p for p in path.split("."))


LeafSetter = Callable[[Message, Sequence[str]], None]


def leaf_setter(f: descriptor.FieldDescriptor, dotted: str) -> LeafSetter:
    """Sets field `f` of a message from one or more string values."""
    name = f.name
    repeated = f.is_repeated
    if f.message_type is not None:
        full = f.message_type.full_name
        if f.message_type.GetOptions().map_entry:
            raise TypeError(f"{dotted}: map fields cannot be set from a path or query")
        if full == "google.protobuf.FieldMask":

            def field_mask(target: Message, s: str) -> None:
                # JSON writes lowerCamel paths; grpc-gateway clients also send proto names.
                target.paths.extend(_snake(p.strip()) for p in s.split(",") if p.strip())  # type: ignore[attr-defined]

            fill: Callable[[Message, str], None] = field_mask
        elif full in _STRING_WKT:

            def from_json_string(target: Message, s: str) -> None:
                target.FromJsonString(s)  # type: ignore[attr-defined]

            fill = from_json_string
        elif full in _WRAPPERS:
            inner = scalar_converter(f.message_type.fields_by_name["value"])

            def wrapper(target: Message, s: str) -> None:
                target.value = inner(s)  # type: ignore[attr-defined]

            fill = wrapper
        else:
            raise TypeError(f"{dotted}: message fields cannot be set from a path or query")
        if repeated:

            def set_repeated_msg(msg: Message, values: Sequence[str]) -> None:
                items = getattr(msg, name)
                for v in values:
                    fill(items.add(), v)

            return set_repeated_msg

        def set_msg(msg: Message, values: Sequence[str]) -> None:
            if len(values) != 1:
                raise ValueError("expected one value")
            sub = getattr(msg, name)
            sub.SetInParent()
            fill(sub, values[0])

        return set_msg
    conv = scalar_converter(f)
    if repeated:

        def set_repeated(msg: Message, values: Sequence[str]) -> None:
            getattr(msg, name).extend(conv(v) for v in values)

        return set_repeated

    def set_scalar(msg: Message, values: Sequence[str]) -> None:
        if len(values) != 1:
            raise ValueError("expected one value")
        setattr(msg, name, conv(values[0]))

    return set_scalar


def field_by_any_name(desc: descriptor.Descriptor, name: str) -> descriptor.FieldDescriptor | None:
    f = desc.fields_by_name.get(name)
    if f is None:
        f = desc.fields_by_camelcase_name.get(name)
        if f is None:
            for candidate in desc.fields:
                if candidate.json_name == name:
                    return candidate
    return f


@dataclass(frozen=True)
class FieldPathSetter:
    """Sets a (possibly nested) field from string values; built once per path."""

    dotted: str  # canonical proto-name path, e.g. "filter.min_books"
    steps: tuple[str, ...]  # intermediate message field names
    leaf: LeafSetter

    def __call__(self, msg: Message, values: Sequence[str]) -> None:
        for step in self.steps:
            msg = getattr(msg, step)
            msg.SetInParent()
        try:
            self.leaf(msg, values)
        except (ValueError, TypeError) as exc:
            raise bad_request(self.dotted, f"invalid value: {exc}") from None


def resolve_field_path(desc: descriptor.Descriptor, path: Sequence[str]) -> FieldPathSetter:
    """Raises KeyError for an unknown field, TypeError for a field with no string form."""
    steps: list[str] = []
    names: list[str] = []
    d = desc
    for i, part in enumerate(path):
        f = field_by_any_name(d, part)
        if f is None:
            raise KeyError(".".join(path))
        names.append(f.name)
        if i == len(path) - 1:
            return FieldPathSetter(".".join(names), tuple(steps), leaf_setter(f, ".".join(names)))
        if f.message_type is None or f.is_repeated:
            raise TypeError(f"{'.'.join(path)}: {f.name} is not a singular message")
        steps.append(f.name)
        d = f.message_type
    raise KeyError("")


def http_body_response(output_desc: descriptor.Descriptor, response_body: str) -> str | None:
    """Where a raw (google.api.HttpBody) response is: "" for the response message
    itself, a field name for the HttpBody field `response_body` names, None for JSON."""
    if not response_body:
        return "" if output_desc.full_name == HTTP_BODY else None
    f = field_by_any_name(output_desc, response_body)
    if f is None or f.is_repeated or f.message_type is None:
        return None
    return f.name if f.message_type.full_name == HTTP_BODY else None


# --- per-route request building -----------------------------------------------------


def http_body_target(input_desc: descriptor.Descriptor, body: str) -> str | None:
    """Where a raw (google.api.HttpBody) body goes: "" for the request message itself,
    a field name for an HttpBody field, None when the body is JSON."""
    if body == "*":
        return "" if input_desc.full_name == HTTP_BODY else None
    if not body:
        return None
    f = field_by_any_name(input_desc, body)
    if f is None or f.is_repeated or f.message_type is None:
        return None
    return f.name if f.message_type.full_name == HTTP_BODY else None


class RequestBuilder:
    """Turns (path params, query string, body bytes) into the RPC's request message."""

    def __init__(
        self,
        input_desc: descriptor.Descriptor,
        pool: descriptor_pool.DescriptorPool,
        path_fields: Sequence[str],
        body: str,
        max_page_size: int | None = None,
    ) -> None:
        self.cls: type[Message] = GetMessageClass(input_desc)
        self.desc = input_desc
        self._pool = pool
        self._path = {p: resolve_field_path(input_desc, p.split(".")) for p in path_fields}
        self.body = body
        self._body_key = ""
        if body and body != "*":
            f = field_by_any_name(input_desc, body)
            if f is None:
                raise KeyError(f"{input_desc.full_name} has no body field {body!r}")
            self._body_key = f.name
        # None: a JSON body; "" or a field name: raw bytes into a google.api.HttpBody.
        self._raw_target = http_body_target(input_desc, body)
        # The body is passed through as bytes (google.api.HttpBody), not parsed.
        self.raw_body = self._raw_target is not None
        # Query parameters may not touch fields bound by the path or the body.
        self._excluded = tuple({self._path[p].dotted for p in self._path} | {self._body_key} - {""})
        self._query_cache: dict[str, FieldPathSetter | None] = {}
        page = input_desc.fields_by_name.get("page_size")
        self._clamp_page = (
            max_page_size
            if page is not None and page.type == FD.TYPE_INT32 and max_page_size
            else None
        )

    def _query_setter(self, key: str) -> FieldPathSetter | None:
        cache = self._query_cache
        if key in cache:
            return cache[key]
        try:
            setter: FieldPathSetter | None = resolve_field_path(self.desc, key.split("."))
        except KeyError:  # not a field: ignored, like grpc-gateway
            setter = None
        except TypeError as exc:
            raise bad_request(key, str(exc)) from None
        if setter is not None and any(
            setter.dotted == ex or setter.dotted.startswith(ex + ".") for ex in self._excluded
        ):
            setter = None
        if len(cache) < _QUERY_CACHE_LIMIT:
            cache[key] = setter
        return setter

    def build(
        self,
        params: Sequence[tuple[str, str]],
        query: bytes,
        body: bytes | None,
        content_type: str = "",
    ) -> Message:
        msg = self.cls()
        raw = self._raw_target
        if raw is not None:
            target = getattr(msg, raw) if raw else msg
            target.SetInParent()
            target.content_type = content_type  # type: ignore[attr-defined]
            target.data = body or b""  # type: ignore[attr-defined]
        elif self.body:
            data = parse_json_body(body)
            if self.body == "*":
                if data is None:
                    data = {}
                elif not isinstance(data, dict):
                    raise bad_request("body", "expected a JSON object")
                parse_into(data, msg, self._pool)
            elif data is not None:
                parse_into({self._body_key: data}, msg, self._pool)
        for dotted, value in params:
            self._path[dotted](msg, (value,))
        if query and self.body != "*":
            grouped: dict[str, list[str]] = {}
            for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                grouped.setdefault(k, []).append(v)
            for k, values in grouped.items():
                setter = self._query_setter(k)
                if setter is not None:
                    setter(msg, values)
        if self._clamp_page is not None:
            size = msg.page_size  # type: ignore[attr-defined]
            if size < 0:
                raise bad_request("page_size", "must not be negative")
            if size > self._clamp_page:
                msg.page_size = self._clamp_page  # type: ignore[attr-defined]
        return msg


def parse_json_body(body: bytes | None) -> Any:
    if not body or not body.strip():
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request("body", f"invalid JSON: {exc}") from None


_DECODERS = Decoders()


def parse_into(data: Any, msg: Message, pool: descriptor_pool.DescriptorPool) -> None:
    """`data` (a JSON object) into the fresh message `msg`, as json_format.ParseDict
    with unknown fields ignored; a bad value is a 400 naming its field. Plain
    bodies take the fast path (`Decoders`); anything else starts again with ParseDict."""
    if type(data) is dict and _DECODERS.decode(data, msg):
        return
    msg.Clear()
    try:
        json_format.ParseDict(data, msg, ignore_unknown_fields=True, descriptor_pool=pool)
    except json_format.ParseError as exc:
        text = str(exc)
        path = ".".join(_PARSE_FIELD.findall(text)) or "body"
        raise bad_request(path, text) from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise bad_request("body", f"invalid value: {exc}") from None


# --- response rendering -------------------------------------------------------------


RAW_DEFAULT_CONTENT_TYPE = "application/octet-stream"


class ResponseRenderer:
    """The RPC's response (or its `response_body` field) as JSON bytes, or, for a
    google.api.HttpBody, as its raw bytes and Content-Type (`raw`, `to_raw`)."""

    def __init__(
        self,
        output_desc: descriptor.Descriptor,
        pool: descriptor_pool.DescriptorPool,
        response_body: str = "",
        encoders: Encoders | None = None,
    ) -> None:
        self.cls: type[Message] = GetMessageClass(output_desc)
        self._pool = pool
        self._field = ""
        if response_body:
            f = field_by_any_name(output_desc, response_body)
            if f is None:
                raise KeyError(f"{output_desc.full_name} has no field {response_body!r}")
            self._field = f.json_name
        # Compiled at start-up (edge/protojson.py): json_format's mapping, much cheaper.
        self._encode = (encoders or Encoders(pool)).for_descriptor(output_desc)
        # None: JSON; "" or a field name: the google.api.HttpBody answered raw.
        self._raw_field = http_body_response(output_desc, response_body)
        self.raw = self._raw_field is not None

    def to_raw(self, msg: Message) -> tuple[bytes, str]:
        """(body, Content-Type) of an HttpBody response; an empty, non-ASCII or
        unprintable content_type becomes application/octet-stream."""
        body: Any = getattr(msg, self._raw_field) if self._raw_field else msg
        ctype = body.content_type
        if not ctype or not (ctype.isascii() and ctype.isprintable()):
            ctype = RAW_DEFAULT_CONTENT_TYPE
        return body.data, ctype

    def to_json(self, msg: Message) -> bytes:
        data: Any = self._encode(msg)
        if self._field:
            data = data.get(self._field)
        return orjson.dumps(data)


def message_to_dict(msg: Message, pool: descriptor_pool.DescriptorPool | None = None) -> Any:
    return json_format.MessageToDict(
        msg, always_print_fields_with_no_presence=True, descriptor_pool=pool
    )
