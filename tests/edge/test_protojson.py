"""edge.protojson's compiled encoders print what json_format prints, and its
decoders read request bodies as json_format.ParseDict reads them.

Reference: json_format.MessageToJson(msg, always_print_fields_with_no_presence=True)
(what the edge used before), compared as parsed JSON (key order is free); for
bodies, `transcode.parse_into` with its fast path switched off (ParseDict alone).
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import orjson
import pytest
from google.protobuf import (
    any_pb2,
    descriptor,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    json_format,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from edge import transcode
from edge.protojson import Encoders
from edge.transcode import ResponseRenderer, build_pool
from mesh.contracts import load_descriptor_set
from mesh.errors import InvalidArgument
from tests.support.protos import CompiledProtos

FD = descriptor.FieldDescriptor
FDP = descriptor_pb2.FieldDescriptorProto
PKG = "testing.protojson.v1"
_WKT_FILES = (
    any_pb2,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)


def reference(msg: Message, pool: descriptor_pool.DescriptorPool | None = None) -> Any:
    return json.loads(
        json_format.MessageToJson(
            msg, always_print_fields_with_no_presence=True, descriptor_pool=pool
        )
    )


def encoded(encoders: Encoders, msg: Message) -> Any:
    return orjson.loads(orjson.dumps(encoders.encode(msg)))


# --- a kitchen-sink proto built in memory ------------------------------------------


def _field(
    msg: descriptor_pb2.DescriptorProto,
    name: str,
    number: int,
    ftype: int,
    *,
    label: int = FDP.LABEL_OPTIONAL,
    type_name: str = "",
    **kw: Any,
) -> descriptor_pb2.FieldDescriptorProto:
    f = msg.field.add(name=name, number=number, type=ftype, label=label, **kw)
    if type_name:
        f.type_name = type_name
    return f


def _map(
    file: descriptor_pb2.FileDescriptorProto,
    msg: descriptor_pb2.DescriptorProto,
    name: str,
    number: int,
    key: int,
    value: int,
    value_type: str = "",
) -> None:
    entry_name = "".join(p.capitalize() for p in name.split("_")) + "Entry"
    entry = msg.nested_type.add(name=entry_name)
    entry.options.map_entry = True
    _field(entry, "key", 1, key)
    _field(entry, "value", 2, value, type_name=value_type)
    _field(
        msg,
        name,
        number,
        FDP.TYPE_MESSAGE,
        label=FDP.LABEL_REPEATED,
        type_name=f".{PKG}.{msg.name}.{entry_name}",
    )


def _kitchen_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name="testing/protojson/v1/kitchen.proto", package=PKG)
    f.syntax = "proto3"
    f.dependency.extend(m.DESCRIPTOR.name for m in _WKT_FILES)
    color = f.enum_type.add(name="Color")
    color.options.allow_alias = True
    for name, n in (("COLOR_UNSPECIFIED", 0), ("RED", 1), ("CRIMSON", 1), ("BLUE", 2)):
        color.value.add(name=name, number=n)

    inner = f.message_type.add(name="Inner")
    _field(inner, "note", 1, FDP.TYPE_STRING)
    _field(inner, "count", 2, FDP.TYPE_INT64)

    k = f.message_type.add(name="Kitchen")
    R = FDP.LABEL_REPEATED
    wkt = "google.protobuf."
    scalars = [
        ("i32", FDP.TYPE_INT32),
        ("i64", FDP.TYPE_INT64),
        ("u32", FDP.TYPE_UINT32),
        ("u64", FDP.TYPE_UINT64),
        ("s32", FDP.TYPE_SINT32),
        ("s64", FDP.TYPE_SINT64),
        ("fx32", FDP.TYPE_FIXED32),
        ("fx64", FDP.TYPE_FIXED64),
        ("sfx32", FDP.TYPE_SFIXED32),
        ("sfx64", FDP.TYPE_SFIXED64),
        ("flt", FDP.TYPE_FLOAT),
        ("dbl", FDP.TYPE_DOUBLE),
        ("flag", FDP.TYPE_BOOL),
        ("text", FDP.TYPE_STRING),
        ("blob", FDP.TYPE_BYTES),
    ]
    n = 0
    for name, t in scalars:
        n += 1
        _field(k, name, n, t)
    for name, t in scalars:
        n += 1
        _field(k, f"rep_{name}", n, t, label=R)
    n = 40
    _field(k, "color", 40, FDP.TYPE_ENUM, type_name=f".{PKG}.Color")
    _field(k, "colors", 41, FDP.TYPE_ENUM, label=R, type_name=f".{PKG}.Color")
    _field(k, "inner", 42, FDP.TYPE_MESSAGE, type_name=f".{PKG}.Inner")
    _field(k, "inners", 43, FDP.TYPE_MESSAGE, label=R, type_name=f".{PKG}.Inner")
    _field(k, "child", 44, FDP.TYPE_MESSAGE, type_name=f".{PKG}.Kitchen")  # recursive
    _field(k, "children", 45, FDP.TYPE_MESSAGE, label=R, type_name=f".{PKG}.Kitchen")
    k.oneof_decl.add(name="choice")
    choice = len(k.oneof_decl) - 1
    _field(k, "pick_text", 60, FDP.TYPE_STRING, oneof_index=choice)
    _field(k, "pick_inner", 61, FDP.TYPE_MESSAGE, type_name=f".{PKG}.Inner", oneof_index=choice)
    _field(k, "pick_i64", 62, FDP.TYPE_INT64, oneof_index=choice)
    _field(k, "pick_color", 63, FDP.TYPE_ENUM, type_name=f".{PKG}.Color", oneof_index=choice)
    # proto3 optional: a synthetic oneof each (after the real ones).
    for i, (name, t) in enumerate(
        (("opt_i32", FDP.TYPE_INT32), ("opt_text", FDP.TYPE_STRING), ("opt_i64", FDP.TYPE_INT64))
    ):
        k.oneof_decl.add(name=f"_{name}")
        _field(k, name, 50 + i, t, proto3_optional=True, oneof_index=len(k.oneof_decl) - 1)
    _map(f, k, "str_map", 70, FDP.TYPE_STRING, FDP.TYPE_STRING)
    _map(f, k, "int_map", 71, FDP.TYPE_INT32, FDP.TYPE_MESSAGE, f".{PKG}.Inner")
    _map(f, k, "bool_map", 72, FDP.TYPE_BOOL, FDP.TYPE_INT64)
    _map(f, k, "i64_map", 73, FDP.TYPE_INT64, FDP.TYPE_ENUM, f".{PKG}.Color")
    _map(f, k, "u64_map", 74, FDP.TYPE_UINT64, FDP.TYPE_DOUBLE)
    _map(f, k, "blob_map", 75, FDP.TYPE_STRING, FDP.TYPE_BYTES)
    _map(f, k, "ts_map", 76, FDP.TYPE_STRING, FDP.TYPE_MESSAGE, f".{wkt}Timestamp")
    wkts = [
        ("ts", "Timestamp"),
        ("dur", "Duration"),
        ("mask", "FieldMask"),
        ("w_i64", "Int64Value"),
        ("w_u64", "UInt64Value"),
        ("w_i32", "Int32Value"),
        ("w_u32", "UInt32Value"),
        ("w_text", "StringValue"),
        ("w_flag", "BoolValue"),
        ("w_dbl", "DoubleValue"),
        ("w_flt", "FloatValue"),
        ("w_blob", "BytesValue"),
        ("st", "Struct"),
        ("val", "Value"),
        ("lst", "ListValue"),
        ("any", "Any"),
        ("empty", "Empty"),
    ]
    for i, (name, t) in enumerate(wkts):
        _field(k, name, 80 + i, FDP.TYPE_MESSAGE, type_name=f".{wkt}{t}")
    _field(k, "stamps", 100, FDP.TYPE_MESSAGE, label=R, type_name=f".{wkt}Timestamp")
    _field(k, "w_texts", 101, FDP.TYPE_MESSAGE, label=R, type_name=f".{wkt}StringValue")
    _field(k, "nothing", 102, FDP.TYPE_ENUM, type_name=f".{wkt}NullValue")
    _field(k, "from", 103, FDP.TYPE_STRING)  # a Python keyword
    _field(k, "custom", 104, FDP.TYPE_STRING, json_name="renamedInJson")
    _field(k, "snake_case_name", 105, FDP.TYPE_INT32)
    return f


def _legacy_file() -> descriptor_pb2.FileDescriptorProto:
    """proto2: closed enums, explicit presence with defaults, an extension range."""
    f = descriptor_pb2.FileDescriptorProto(name="testing/protojson/v1/legacy.proto", package=PKG)
    f.syntax = "proto2"
    e = f.enum_type.add(name="Closed")
    e.value.add(name="ONE", number=1)
    e.value.add(name="TWO", number=2)
    m = f.message_type.add(name="Legacy")
    _field(m, "a", 1, FDP.TYPE_INT32, default_value="7")
    _field(m, "b", 2, FDP.TYPE_ENUM, type_name=f".{PKG}.Closed")
    _field(m, "c", 3, FDP.TYPE_STRING, default_value="dflt")
    _field(m, "r", 4, FDP.TYPE_INT64, label=FDP.LABEL_REPEATED)
    _field(m, "rb", 5, FDP.TYPE_ENUM, label=FDP.LABEL_REPEATED, type_name=f".{PKG}.Closed")
    x = f.message_type.add(name="Extendable")
    _field(x, "a", 1, FDP.TYPE_INT32)
    x.extension_range.add(start=100, end=200)
    f.extension.add(
        name="ext_note",
        number=100,
        type=FDP.TYPE_STRING,
        label=FDP.LABEL_OPTIONAL,
        extendee=f".{PKG}.Extendable",
    )
    return f


@pytest.fixture(scope="module")
def pool() -> descriptor_pool.DescriptorPool:
    p = descriptor_pool.DescriptorPool()
    for mod in _WKT_FILES:
        fdp = descriptor_pb2.FileDescriptorProto()
        mod.DESCRIPTOR.CopyToProto(fdp)
        p.Add(fdp)
    p.Add(_kitchen_file())
    p.Add(_legacy_file())
    return p


def _cls(pool: descriptor_pool.DescriptorPool, name: str) -> Any:
    return GetMessageClass(pool.FindMessageTypeByName(f"{PKG}.{name}"))


def _kitchen(pool: descriptor_pool.DescriptorPool, **kw: Any) -> Any:
    """A Kitchen; well-known-type values may come from the default pool's classes."""
    foreign = {
        k: v
        for k, v in kw.items()
        if isinstance(v, Message) or (isinstance(v, list) and v and isinstance(v[0], Message))
    }
    msg = _cls(pool, "Kitchen")(**{k: v for k, v in kw.items() if k not in foreign})
    for name, value in foreign.items():
        if isinstance(value, list):
            for item in value:
                getattr(msg, name).add().MergeFromString(item.SerializeToString())
        else:
            sub = getattr(msg, name)
            sub.SetInParent()
            sub.MergeFromString(value.SerializeToString())
    return msg


def _full_kitchen(pool: descriptor_pool.DescriptorPool) -> Any:
    Inner = _cls(pool, "Inner")
    k = _kitchen(
        pool,
        i32=-5,
        i64=-(2**63),
        u32=2**32 - 1,
        u64=2**64 - 1,
        s32=-(2**31),
        s64=2**63 - 1,
        fx32=7,
        fx64=2**60,
        sfx32=-9,
        sfx64=-(2**40),
        flt=0.1,
        dbl=1e300,
        flag=True,
        text='héllo \u2603 "quoted" \\ \n',
        blob=bytes(range(256)),
        rep_i32=[1, -2],
        rep_i64=[0, 2**62],
        rep_u64=[2**64 - 1],
        rep_flt=[0.3, float("inf"), -1.5],
        rep_dbl=[float("nan"), float("-inf"), 2.5],
        rep_flag=[True, False],
        rep_text=["a", ""],
        rep_blob=[b"\x00\xff", b""],
        color=2,
        colors=[0, 1, 2, 42],  # 42: an open enum's unknown number
        inner=Inner(note="n", count=3),
        inners=[Inner(), Inner(count=-1)],
        opt_i32=0,  # set to its default: present, so printed
        opt_text="",
        pick_inner=Inner(),  # an empty message set in a oneof
        str_map={"k": "v", "": "empty"},
        int_map={-1: Inner(note="neg"), 5: Inner()},
        bool_map={True: 1, False: -(2**63)},
        i64_map={2**40: 1, -3: 99},
        u64_map={2**64 - 1: float("nan"), 0: 0.5},
        blob_map={"b": b"\x01\x02\x03"},
        w_i64=wrappers_pb2.Int64Value(value=-(2**63)),
        w_u64=wrappers_pb2.UInt64Value(value=2**64 - 1),
        w_i32=wrappers_pb2.Int32Value(value=0),  # a default inside a set wrapper
        w_u32=wrappers_pb2.UInt32Value(value=4),
        w_text=wrappers_pb2.StringValue(value="w"),
        w_flag=wrappers_pb2.BoolValue(value=False),
        w_dbl=wrappers_pb2.DoubleValue(value=float("-inf")),
        w_flt=wrappers_pb2.FloatValue(value=3.14),
        w_blob=wrappers_pb2.BytesValue(value=b"wb"),
        w_texts=[wrappers_pb2.StringValue(value="x"), wrappers_pb2.StringValue()],
        mask=field_mask_pb2.FieldMask(paths=["display_name", "shelf.book_count"]),
        empty=empty_pb2.Empty(),
        nothing=0,
        custom="c",
        snake_case_name=12,
        **{"from": "keyword"},
    )
    k.ts.FromJsonString("2024-02-29T23:59:59.123456789Z")
    k.dur.FromJsonString("-3.5s")
    k.ts_map["a"].FromJsonString("1970-01-01T00:00:00Z")
    k.ts_map["b"].FromJsonString("2038-01-19T03:14:08.120Z")
    for stamp in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"):
        k.stamps.add().FromJsonString(stamp)
    k.st.update({"n": 1.5, "s": "x", "b": True, "z": None, "l": [1, "a", None], "o": {"p": {}}})
    k.val.list_value.extend([1, "two", {"three": 3}])
    k.lst.extend([None, False, 2.0])
    k.any.Pack(_cls(pool, "Inner")(note="packed", count=2**50))
    k.child.text = "nested"
    k.child.child.i64 = 1
    k.children.add(color=1, pick_text="")  # oneof set to the empty string: present
    k.children.add()
    return k


def test_defaults_of_every_kind_match(pool: descriptor_pool.DescriptorPool) -> None:
    enc = Encoders(pool)
    msg = _kitchen(pool)
    assert encoded(enc, msg) == reference(msg, pool)


def test_every_field_kind_set_matches(pool: descriptor_pool.DescriptorPool) -> None:
    enc = Encoders(pool)
    msg = _full_kitchen(pool)
    got, want = encoded(enc, msg), reference(msg, pool)
    assert got == want
    # Spot checks of the mapping rules themselves.
    assert got["i64"] == str(-(2**63)) and got["u64"] == str(2**64 - 1)
    assert got["repDbl"] == ["NaN", "-Infinity", 2.5]
    assert got["repFlt"][1] == "Infinity" and got["flt"] == 0.1
    assert got["colors"] == ["COLOR_UNSPECIFIED", "RED", "BLUE", 42]
    assert got["boolMap"] == {"true": "1", "false": str(-(2**63))}
    assert got["optI32"] == 0 and got["optText"] == "" and "optI64" not in got
    assert got["pickInner"] == {"note": "", "count": "0"}
    assert got["wI32"] == 0 and got["wI64"] == str(-(2**63))
    assert got["ts"] == "2024-02-29T23:59:59.123456789Z" and got["dur"] == "-3.500s"
    assert got["mask"] == "displayName,shelf.bookCount"
    assert got["from"] == "keyword" and got["renamedInJson"] == "c"
    assert got["snakeCaseName"] == 12
    assert got["nothing"] is None and got["empty"] == {}
    assert got["any"]["@type"].endswith(f"{PKG}.Inner")


@pytest.mark.parametrize(
    "fields",
    [
        {"pick_text": "t"},
        {"pick_i64": 0},
        {"pick_color": 0},
        {"opt_i64": -1},
        {"val": struct_pb2.Value(null_value=0)},
        {"val": struct_pb2.Value(string_value="")},
        {"st": struct_pb2.Struct()},
        {"lst": struct_pb2.ListValue()},
        {"any": any_pb2.Any()},
        {"ts": timestamp_pb2.Timestamp(seconds=1, nanos=1000)},
        {"ts": timestamp_pb2.Timestamp(seconds=-1, nanos=1_000_000)},
        {"dur": duration_pb2.Duration(seconds=0, nanos=1)},
        {"mask": field_mask_pb2.FieldMask()},
        {"dbl": -0.0},
        {"flt": float("nan")},
        {"flt": 3.4028234663852886e38},
        {"flt": 1e-45},
        {"color": 1},  # RED and CRIMSON share 1: the first name wins
        {"color": -7},
        {"text": "\x00\x1f"},
    ],
)
def test_single_fields_match(pool: descriptor_pool.DescriptorPool, fields: dict[str, Any]) -> None:
    enc = Encoders(pool)
    msg = _kitchen(pool, **fields)
    assert encoded(enc, msg) == reference(msg, pool)


def test_wrappers_and_wkts_at_top_level(pool: descriptor_pool.DescriptorPool) -> None:
    enc = Encoders(pool)
    ts = timestamp_pb2.Timestamp()
    ts.FromJsonString("2001-02-03T04:05:06.700Z")
    struct = struct_pb2.Struct()
    struct.update({"a": [1, {"b": None}]})
    for msg in (
        wrappers_pb2.Int64Value(value=5),
        wrappers_pb2.BytesValue(value=b"\xfe"),
        wrappers_pb2.FloatValue(value=float("inf")),
        ts,
        duration_pb2.Duration(seconds=5),
        field_mask_pb2.FieldMask(paths=["a_b"]),
        empty_pb2.Empty(),
        struct,
        struct_pb2.Value(bool_value=True),
        struct_pb2.ListValue(),
    ):
        assert encoded(enc, msg) == reference(msg), msg


def test_proto2_presence_defaults_and_extensions(pool: descriptor_pool.DescriptorPool) -> None:
    enc = Encoders(pool)
    Legacy = _cls(pool, "Legacy")
    for msg in (Legacy(), Legacy(a=0, b=2, c="", r=[1], rb=[2, 1]), Legacy(b=1)):
        assert encoded(enc, msg) == reference(msg, pool)
    assert encoded(enc, Legacy()) == {"r": [], "rb": []}  # unset proto2 fields: absent
    ext_msg = _cls(pool, "Extendable")(a=1)
    ext = pool.FindExtensionByName(f"{PKG}.ext_note")
    ext_msg.Extensions[ext] = "x"
    assert encoded(enc, ext_msg) == reference(ext_msg, pool)


def test_recursive_type_compiles_once(pool: descriptor_pool.DescriptorPool) -> None:
    enc = Encoders(pool)
    desc = pool.FindMessageTypeByName(f"{PKG}.Kitchen")
    assert enc.for_descriptor(desc) is enc.for_descriptor(desc)
    msg = _kitchen(pool)
    cur = msg
    for i in range(30):
        cur.i32 = i
        cur = cur.child
    assert encoded(enc, msg) == reference(msg, pool)


# --- random messages of every type the edge serves ---------------------------------


def _random_scalar(f: descriptor.FieldDescriptor, rnd: random.Random) -> Any:
    t = f.type
    if t in (FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32):
        return rnd.choice([0, 1, -1, 2**31 - 1, -(2**31), rnd.randint(-1000, 1000)])
    if t in (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64):
        return rnd.choice([0, -1, 2**63 - 1, -(2**63), rnd.randint(-(2**40), 2**40)])
    if t in (FD.TYPE_UINT32, FD.TYPE_FIXED32):
        return rnd.choice([0, 2**32 - 1, rnd.randint(0, 1000)])
    if t in (FD.TYPE_UINT64, FD.TYPE_FIXED64):
        return rnd.choice([0, 2**64 - 1, rnd.randint(0, 2**50)])
    if t in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return rnd.choice([0.0, -0.0, 0.1, 1e10, float("inf"), float("nan"), rnd.random()])
    if t == FD.TYPE_BOOL:
        return rnd.random() < 0.5
    if t == FD.TYPE_STRING:
        return rnd.choice(["", "x", "ünï\u2603", "a/b?c", "\t"])
    if t == FD.TYPE_BYTES:
        return rnd.randbytes(rnd.randint(0, 9))
    if t == FD.TYPE_ENUM:
        numbers = list(f.enum_type.values_by_number)
        if f.enum_type.is_closed:
            return rnd.choice(numbers)
        return rnd.choice([*numbers, 12345])
    raise AssertionError(t)


def _fill(msg: Message, rnd: random.Random, depth: int = 0) -> None:
    full = msg.DESCRIPTOR.full_name
    if full == "google.protobuf.Timestamp":
        msg.seconds = rnd.randint(-62135596800, 253402300799)  # type: ignore[attr-defined]
        msg.nanos = rnd.choice([0, 5_000_000, 123_000, 7])  # type: ignore[attr-defined]
        return
    if full == "google.protobuf.Duration":
        msg.seconds = rnd.randint(0, 10**6)  # type: ignore[attr-defined]
        msg.nanos = rnd.choice([0, 500_000_000])  # type: ignore[attr-defined]
        return
    if full == "google.protobuf.FieldMask":
        msg.paths.extend(rnd.sample(["a", "b_c", "d.e_f"], 2))  # type: ignore[attr-defined]
        return
    if full in ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.Any"):
        return
    for f in msg.DESCRIPTOR.fields:
        if f.containing_oneof is not None and msg.WhichOneof(f.containing_oneof.name):
            continue
        if rnd.random() < 0.3:
            continue
        mt = f.message_type
        if mt is not None and mt.GetOptions().map_entry:
            vf = mt.fields_by_name["value"]
            for _ in range(rnd.randint(0, 2)):
                key = _random_scalar(mt.fields_by_name["key"], rnd)
                if vf.message_type is not None:
                    if depth < 3:
                        _fill(getattr(msg, f.name)[key], rnd, depth + 1)
                else:
                    getattr(msg, f.name)[key] = _random_scalar(vf, rnd)
        elif mt is not None:
            if depth >= 3:
                continue
            if f.is_repeated:
                for _ in range(rnd.randint(0, 2)):
                    _fill(getattr(msg, f.name).add(), rnd, depth + 1)
            else:
                getattr(msg, f.name).SetInParent()
                _fill(getattr(msg, f.name), rnd, depth + 1)
        elif f.is_repeated:
            getattr(msg, f.name).extend(_random_scalar(f, rnd) for _ in range(rnd.randint(0, 3)))
        else:
            setattr(msg, f.name, _random_scalar(f, rnd))


def _all_messages(pool: descriptor_pool.DescriptorPool, fds: Any) -> list[Any]:
    out = []

    def walk(prefix: str, msgs: Any) -> None:
        for m in msgs:
            name = f"{prefix}.{m.name}" if prefix else m.name
            if not m.options.map_entry:
                out.append(pool.FindMessageTypeByName(name))
            walk(name, m.nested_type)

    for f in fds.file:
        walk(f.package, f.message_type)
    return out


def _check_random(pool: descriptor_pool.DescriptorPool, descs: list[Any], rounds: int) -> int:
    enc = Encoders(pool)
    rnd = random.Random(20240601)
    checked = 0
    for desc in descs:
        cls = GetMessageClass(desc)
        for _ in range(rounds):
            msg = cls()
            _fill(msg, rnd)
            want = reference(msg, pool)
            got = encoded(enc, msg)
            assert got == want or _nan_equal(got, want), (desc.full_name, msg)
            checked += 1
    return checked


def _nan_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_nan_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_nan_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_random_messages_of_the_kitchen_proto(pool: descriptor_pool.DescriptorPool) -> None:
    descs = [pool.FindMessageTypeByName(f"{PKG}.{n}") for n in ("Kitchen", "Inner", "Legacy")]
    assert _check_random(pool, descs, 60) == 180


def test_random_messages_of_the_test_proto(protos: CompiledProtos) -> None:
    fds = protos.descriptor_set
    pool = build_pool(fds)
    descs = [
        d
        for d in _all_messages(pool, fds)
        if d.full_name.startswith("testing.edge.") or d.full_name.startswith("google.protobuf.")
    ]
    assert _check_random(pool, descs, 15) > 0


def test_random_messages_of_every_service_proto() -> None:
    fds = load_descriptor_set()
    pool = build_pool(fds)
    descs = [d for d in _all_messages(pool, fds) if d.full_name.startswith("cleanse.")]
    assert descs
    assert _check_random(pool, descs, 8) > 0


def test_response_renderer_uses_it(pool: descriptor_pool.DescriptorPool) -> None:
    desc = pool.FindMessageTypeByName(f"{PKG}.Kitchen")
    msg = _full_kitchen(pool)
    whole = ResponseRenderer(desc, pool)
    assert orjson.loads(whole.to_json(msg)) == reference(msg, pool)
    part = ResponseRenderer(desc, pool, "inner")
    assert orjson.loads(part.to_json(msg)) == reference(msg.inner, pool)
    unset = ResponseRenderer(desc, pool, "child")
    assert unset.to_json(_kitchen(pool)) == b"null"


# --- request bodies: the fast decoder against ParseDict ------------------------------


def _outcome(data: Any, desc: Any, pool: descriptor_pool.DescriptorPool) -> Any:
    """What parse_into makes of `data`: the message's bytes, or the 400's violations."""
    msg = GetMessageClass(desc)()
    try:
        transcode.parse_into(data, msg, pool)
    except InvalidArgument as exc:
        return ("400", exc.violations)
    return ("ok", msg.SerializeToString(deterministic=True))


def _reference_outcome(
    data: Any, desc: Any, pool: descriptor_pool.DescriptorPool, monkeypatch: pytest.MonkeyPatch
) -> Any:
    with monkeypatch.context() as m:
        m.setattr(transcode._DECODERS, "decode", lambda data, msg: False)
        return _outcome(data, desc, pool)


# Bodies come from orjson, which refuses lone surrogates: none here.
_WRONG = [None, "7", 7, -1, 2**31, 7.5, True, [], {}, ["x", None], [{}], "RED"]


def _variants(data: dict[str, Any], rnd: random.Random) -> list[dict[str, Any]]:
    """`data` itself and spoilt copies: one value of the wrong kind, an unknown key,
    a field given twice (its two spellings), each nested object spoilt likewise."""
    out = [data, {**data, "noSuchField": 1}]
    for key, value in data.items():
        out.append({**data, key: rnd.choice(_WRONG)})
        snake = "".join("_" + c.lower() if c.isupper() else c for c in key)
        if snake != key:
            out.append({**data, snake: value})
        if isinstance(value, dict) and value:
            for spoilt in _variants(value, rnd)[1:4]:
                out.append({**data, key: spoilt})
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for spoilt in _variants(value[0], rnd)[1:3]:
                out.append({**data, key: [spoilt, *value[1:]]})
    return out


def _check_bodies(
    pool: descriptor_pool.DescriptorPool,
    descs: list[Any],
    rounds: int,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[int, int]:
    rnd = random.Random(20261126)
    checked = fast = 0
    for desc in descs:
        cls = GetMessageClass(desc)
        for _ in range(rounds):
            msg = cls()
            _fill(msg, rnd)
            body = json_format.MessageToDict(
                msg, descriptor_pool=pool, preserving_proto_field_name=rnd.random() < 0.3
            )
            for data in _variants(body, rnd):
                want = _reference_outcome(data, desc, pool, monkeypatch)
                assert _outcome(data, desc, pool) == want, (desc.full_name, data)
                checked += 1
                fast += transcode._DECODERS.decode(data, cls())
    return checked, fast


def test_bodies_of_every_kind_decode_as_parsedict_does(
    pool: descriptor_pool.DescriptorPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    descs = [pool.FindMessageTypeByName(f"{PKG}.{n}") for n in ("Kitchen", "Inner", "Legacy")]
    checked, fast = _check_bodies(pool, descs, 40, monkeypatch)
    assert checked > 1000 and fast > 0


def test_two_members_of_a_oneof_are_refused_as_parsedict_refuses(
    pool: descriptor_pool.DescriptorPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    desc = pool.FindMessageTypeByName(f"{PKG}.Kitchen")
    for body in (
        {"pickText": "a", "pickInner": {"note": "b"}},
        {"pickText": "a", "pickColor": "RED"},
        {"optI32": 1, "pickText": "a"},  # a proto3 optional beside one member: fine
    ):
        want = _reference_outcome(body, desc, pool, monkeypatch)
        assert _outcome(body, desc, pool) == want
    assert _outcome({"pickText": "a", "pickColor": "RED"}, desc, pool)[0] == "400"


def test_bodies_of_every_service_request_decode_as_parsedict_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fds = load_descriptor_set()
    pool = build_pool(fds)
    descs = [d for d in _all_messages(pool, fds) if d.full_name.endswith("Request")]
    assert len(descs) > 100
    checked, fast = _check_bodies(pool, descs, 2, monkeypatch)
    assert fast > checked // 10  # the fast path is exercised, not only the fallback


def test_checkout_bodies_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The storefront's checkout bodies never reach ParseDict."""
    pool = build_pool(load_descriptor_set())

    def refuse(*args: Any, **kw: Any) -> None:
        raise AssertionError("ParseDict reached")

    monkeypatch.setattr(json_format, "ParseDict", refuse)
    address = {
        "recipientName": "Meera Iyer",
        "phone": "9876543210",
        "line1": "12, 4th Cross",
        "city": "Bengaluru",
        "stateCode": "KA",
        "pincode": "560034",
        "countryCode": "IN",
    }
    bodies = {
        "AddCartLineRequest": {"cartToken": "t", "variantId": "v1", "quantity": 2},
        "CreateCheckoutSessionRequest": {
            "cart": "carts/c1",
            "cartToken": "t",
            "deliveryAddress": address,
            "email": "a@example.in",
            "phone": "9876543210",
            "paymentMethod": "razorpay_upi",
        },
        "PlaceOrderRequest": {"requestId": "r1", "cartToken": "t"},
        "ConfirmPaymentRequest": {
            "providerOrderId": "order_1",
            "providerPaymentId": "pay_1",
            "signature": "ab",
            "cartToken": "t",
        },
    }
    for name, body in bodies.items():
        desc = pool.FindMessageTypeByName(f"cleanse.order.v1.{name}")
        msg = GetMessageClass(desc)()
        transcode.parse_into(body, msg, pool)
        assert json_format.MessageToDict(msg, descriptor_pool=pool) == body
