"""Protobuf message -> JSON-ready Python value, compiled once per message type.

`json_format.MessageToDict` walks descriptors and dispatches on field types for
every field of every message it prints; on the edge's request path that costs
more than the rest of the transcoding. `Encoders(pool).for_descriptor(desc)`
generates, once per message type, a plain function that reads each field and
converts it the way json_format does with `always_print_fields_with_no_presence=True`:

- names: lowerCamel `json_name`;
- fields without presence (proto3 scalars, repeated, maps) are always emitted, with
  their defaults when unset; fields with presence (messages, `optional`, oneof
  members, proto2/editions explicit presence) only when set;
- 64-bit integers as strings; float/double NaN and infinities as "NaN",
  "Infinity", "-Infinity"; 32-bit floats at their shortest round-tripping form;
- enums by name (a `pb.enumvalue.json` name option wins), an open enum's unknown
  number as the number, a closed enum's unknown number an error;
  google.protobuf.NullValue as null; bytes as standard base64;
- maps as objects with string keys (bool keys "true"/"false");
- wrappers as their value; Timestamp, Duration and FieldMask as their JSON strings;
- Any, Struct, Value, ListValue and messages with extension ranges go to
  json_format itself (rare in responses, and their rules are intricate).

Dict key order may differ from json_format's (JSON objects are unordered).
"""

from __future__ import annotations

import base64
import keyword
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor, descriptor_pool, json_format
from google.protobuf.internal.type_checkers import ToShortestFloat
from google.protobuf.message import Message

FD = descriptor.FieldDescriptor
Encoder = Callable[[Message], Any]

_INT64 = {FD.CPPTYPE_INT64, FD.CPPTYPE_UINT64}
_FALLBACK = {
    "google.protobuf.Any",
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
}
_JSON_STRING = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
}
_WRAPPERS_FILE = "google/protobuf/wrappers.proto"


def _nonfinite(v: float) -> Any:
    """A double that is NaN or infinite (finite ones never get here)."""
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def _float32(v: float) -> Any:
    if v - v != 0:
        return _nonfinite(v)
    return ToShortestFloat(v)


def _b64(v: bytes) -> str:
    return base64.b64encode(v).decode("ascii")


def _bool_key(k: bool) -> str:
    return "true" if k else "false"


def _closed_enum(names: dict[int, str], enum_name: str) -> Callable[[int], str]:
    def name_of(v: int) -> str:
        try:
            return names[v]
        except KeyError:
            raise json_format.SerializeToJsonError(
                f"Enum field {enum_name} contains an integer value "
                "which can not mapped to an enum value."
            ) from None

    return name_of


def _enum_value_names(enum: descriptor.EnumDescriptor) -> dict[int, str]:
    """number -> JSON name; the first value wins for aliases, as values_by_number has it."""
    printer = json_format._Printer()  # for the `pb.enumvalue.json` option, if registered
    out: dict[int, str] = {}
    for number in {v.number for v in enum.values}:
        value = enum.values_by_number.get(number)  # as json_format looks it up
        name = value.name
        try:
            option = printer._GetJsonEnumValueOption(value)
        except Exception:  # an older protobuf without the option
            option = None
        if option is not None:
            name = option.string
        out[number] = name
    return out


class Encoders:
    """Per-message-type encoders for one descriptor pool (built on first request)."""

    def __init__(self, pool: descriptor_pool.DescriptorPool | None = None) -> None:
        self._pool = pool
        self._encoders: dict[str, Encoder] = {}

    def for_descriptor(self, desc: descriptor.Descriptor) -> Encoder:
        found = self._encoders.get(desc.full_name)
        if found is not None:
            return found
        # A recursive type refers to itself while being compiled: a forwarding stub.
        slot: list[Encoder] = []

        def forward(m: Message) -> Any:
            return slot[0](m)

        self._encoders[desc.full_name] = forward
        try:
            enc = self._compile(desc)
        except BaseException:
            del self._encoders[desc.full_name]
            raise
        slot.append(enc)
        self._encoders[desc.full_name] = enc
        return enc

    def encode(self, msg: Message) -> Any:
        return self.for_descriptor(msg.DESCRIPTOR)(msg)

    # --- compilation --------------------------------------------------------------

    def _fallback(self) -> Encoder:
        pool = self._pool

        def encode(m: Message) -> Any:
            return json_format.MessageToDict(
                m, always_print_fields_with_no_presence=True, descriptor_pool=pool
            )

        return encode

    def _compile(self, desc: descriptor.Descriptor) -> Encoder:
        full = desc.full_name
        if full in _FALLBACK or desc.extension_ranges:
            return self._fallback()
        if full in _JSON_STRING:
            return _to_json_string
        if desc.file.name == _WRAPPERS_FILE:
            return self._wrapper(desc)
        return self._regular(desc)

    def _wrapper(self, desc: descriptor.Descriptor) -> Encoder:
        ns: dict[str, Any] = {}
        expr = self._value_expr(desc.fields_by_name["value"], "m.value", ns, "v")
        return _exec(f"def encode(m):\n    return {expr}\n", ns)

    def _regular(self, desc: descriptor.Descriptor) -> Encoder:
        ns: dict[str, Any] = {}
        always: list[str] = []
        present: list[str] = []
        for i, f in enumerate(desc.fields):
            key = repr(f.json_name)
            attr = f"m.{f.name}" if not keyword.iskeyword(f.name) else f"getattr(m, {f.name!r})"
            tag = f"f{i}"
            if _is_map(f):
                key_f = f.message_type.fields_by_name["key"]
                val_f = f.message_type.fields_by_name["value"]
                if key_f.type == FD.TYPE_BOOL:
                    ns[f"{tag}k"] = _bool_key
                    k = f"{tag}k(k)"
                elif key_f.cpp_type == FD.CPPTYPE_STRING:
                    k = "k"
                else:
                    k = "str(k)"
                v = self._value_expr(val_f, "x", ns, tag)
                always.append(f"{key}: {{{k}: {v} for k, x in {attr}.items()}}")
            elif f.is_repeated:
                v = self._value_expr(f, "x", ns, tag)
                always.append(
                    f"{key}: list({attr})" if v == "x" else f"{key}: [{v} for x in {attr}]"
                )
            elif f.has_presence:
                v = self._value_expr(f, attr, ns, tag)
                present.append(f"    if m.HasField({f.name!r}):\n        js[{key}] = {v}\n")
            else:
                always.append(f"{key}: {self._value_expr(f, attr, ns, tag)}")
        body = "{" + ", ".join(always) + "}"
        if not present:
            src = f"def encode(m):\n    return {body}\n"
        else:
            src = f"def encode(m):\n    js = {body}\n{''.join(present)}    return js\n"
        return _exec(src, ns)

    def _value_expr(
        self, f: descriptor.FieldDescriptor, v: str, ns: dict[str, Any], tag: str
    ) -> str:
        """A Python expression converting the value `v` (a local or a field read) of `f`."""
        ct = f.cpp_type
        if ct == FD.CPPTYPE_MESSAGE:
            ns[f"{tag}m"] = self.for_descriptor(f.message_type)
            return f"{tag}m({v})"
        if ct == FD.CPPTYPE_ENUM:
            enum = f.enum_type
            if enum.full_name == "google.protobuf.NullValue":
                return "None"
            names = _enum_value_names(enum)
            if enum.is_closed:
                ns[f"{tag}e"] = _closed_enum(names, enum.full_name)
                return f"{tag}e({v})"
            ns[f"{tag}e"] = names
            return f"{tag}e.get({v}, {v})"  # reads the field twice: a cheap int read
        if ct == FD.CPPTYPE_STRING:
            if f.type == FD.TYPE_BYTES:
                ns["_b64"] = _b64
                return f"_b64({v})"
            return v
        if ct in _INT64:
            return f"str({v})"
        if ct == FD.CPPTYPE_DOUBLE:
            ns["_nonfinite"] = _nonfinite
            if v.isidentifier():
                return f"({v} if {v} - {v} == 0 else _nonfinite({v}))"
            ns["_double"] = _double
            return f"_double({v})"
        if ct == FD.CPPTYPE_FLOAT:
            ns["_float32"] = _float32
            return f"_float32({v})"
        return v  # int32, uint32, bool: JSON as they are


def _double(v: float) -> Any:
    return v if v - v == 0 else _nonfinite(v)


def _to_json_string(m: Message) -> str:
    return m.ToJsonString()  # type: ignore[attr-defined]


def _is_map(f: descriptor.FieldDescriptor) -> bool:
    mt = f.message_type
    return mt is not None and f.is_repeated and mt.GetOptions().map_entry


def _exec(src: str, ns: dict[str, Any]) -> Encoder:
    code = compile(src, "<edge.protojson>", "exec")
    exec(code, ns)  # the source is generated above from descriptor names only
    return ns["encode"]


# --- JSON -> message (request bodies) ---------------------------------------------------

# What a field's JSON value must be for the fast path to set it as it stands.
_STR, _BOOL, _INT, _ENUM, _MSG, _REP_STR, _REP_MSG = range(7)
_INT32_RANGE = {
    FD.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    FD.CPPTYPE_UINT32: (0, 2**32 - 1),
}
Field = tuple[str, int, Any]  # (field name, kind, range / enum numbers / sub-table)


class Decoders:
    """JSON object -> request message, for the plain shapes request bodies have.

    `json_format.ParseDict` dispatches on descriptors for every value it reads; for a
    checkout body that is most of what the edge spends on the request. `decode()`
    sets, from a table built once per message type, the fields whose JSON value is
    exactly what it should be: a string for a string field, true/false for a bool,
    an in-range integer for an int32/uint32, an enum value's name, an object for a
    message, an array of strings or objects for a repeated one.

    Anything else (a field of another type, a number as a string, null, an unknown
    or repeated key, a oneof, a well-known type) makes it answer False, and the
    caller starts again on a cleared message with ParseDict itself. The fast path
    only ever accepts what ParseDict(ignore_unknown_fields=True) accepts, setting the
    same fields, so results and errors are ParseDict's either way.
    """

    def __init__(self) -> None:
        # By descriptor, not name: pools (the edge's, a test's) may define a name twice.
        self._tables: dict[descriptor.Descriptor, dict[str, Field] | None] = {}

    def decode(self, data: dict[str, Any], msg: Message) -> bool:
        table = self._table(msg.DESCRIPTOR)
        try:
            return table is not None and _decode(data, msg, table)
        except (TypeError, ValueError):  # e.g. a lone surrogate in a string
            return False

    def _table(self, desc: descriptor.Descriptor) -> dict[str, Field] | None:
        if desc in self._tables:
            return self._tables[desc]
        table: dict[str, Field] | None = None
        self._tables[desc] = None  # a recursive type: its own fields fall back
        # Well-known types (wrappers, Timestamp, Any, Struct...) have JSON forms of
        # their own, and extensions JSON keys of their own: ParseDict's to read.
        if not (_well_known(desc) or desc.extension_ranges):
            table = {}
            for f in desc.fields:
                entry = self._field(f)
                if entry is not None:
                    table[f.json_name] = table[f.name] = entry
        self._tables[desc] = table
        return table

    def _field(self, f: descriptor.FieldDescriptor) -> Field | None:
        oneof = f.containing_oneof
        if oneof is not None and len(oneof.fields) > 1:
            return None  # two members set at once is ParseDict's error to raise
        ct = f.cpp_type
        if f.is_repeated:
            if _is_map(f):
                return None
            if ct == FD.CPPTYPE_STRING and f.type == FD.TYPE_STRING:
                return (f.name, _REP_STR, None)
            if ct == FD.CPPTYPE_MESSAGE:
                sub = self._table(f.message_type)
                return None if sub is None else (f.name, _REP_MSG, sub)
            return None
        if ct == FD.CPPTYPE_STRING:
            return (f.name, _STR, None) if f.type == FD.TYPE_STRING else None
        if ct == FD.CPPTYPE_BOOL:
            return (f.name, _BOOL, None)
        if ct in _INT32_RANGE:
            return (f.name, _INT, _INT32_RANGE[ct])
        if ct == FD.CPPTYPE_ENUM:
            if _well_known(f.enum_type):  # NullValue: JSON null
                return None
            return (f.name, _ENUM, {v.name: v.number for v in f.enum_type.values})
        if ct == FD.CPPTYPE_MESSAGE:
            sub = self._table(f.message_type)
            return None if sub is None else (f.name, _MSG, sub)
        return None  # 64-bit integers, floats, bytes: ParseDict's many spellings


def _well_known(desc: descriptor.Descriptor | descriptor.EnumDescriptor) -> bool:
    return desc.full_name.startswith("google.protobuf.")


def _decode(data: dict[str, Any], msg: Message, table: dict[str, Field]) -> bool:
    seen: set[str] = set()
    for key, value in data.items():
        entry = table.get(key)
        if entry is None:
            return False
        name, kind, extra = entry
        if name in seen:
            return False
        seen.add(name)
        t = type(value)
        if kind == _STR:
            if t is not str:
                return False
            setattr(msg, name, value)
        elif kind == _INT:
            if t is not int or not extra[0] <= value <= extra[1]:
                return False
            setattr(msg, name, value)
        elif kind == _MSG:
            if t is not dict:
                return False
            sub = getattr(msg, name)
            sub.SetInParent()
            if not _decode(value, sub, extra):
                return False
        elif kind == _ENUM:
            number = extra.get(value) if t is str else None
            if number is None:
                return False
            setattr(msg, name, number)
        elif kind == _BOOL:
            if t is not bool:
                return False
            setattr(msg, name, value)
        elif kind == _REP_STR:
            if t is not list or any(type(v) is not str for v in value):
                return False
            getattr(msg, name).extend(value)
        else:  # _REP_MSG
            if t is not list:
                return False
            items = getattr(msg, name)
            for v in value:
                if type(v) is not dict or not _decode(v, items.add(), extra):
                    return False
    return True
