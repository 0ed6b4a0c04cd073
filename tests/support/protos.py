"""Compile the test-only protos under tests/protos (packages `testing.*`) on demand.

    mods = compile_test_protos()        # once per test session (cached)
    pb2 = mods.module("testing/edge/v1/transcode_test.proto", "pb2")
    fds = mods.descriptor_set           # FileDescriptorSet with imports + source info

The output goes to a temporary folder that is put on sys.path, so generated
modules import as `testing.edge.v1.transcode_test_pb2`.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
TEST_PROTOS = ROOT / "tests" / "protos"
PROTO = ROOT / "proto"
THIRD = ROOT / "build" / "third_party" / "proto"


@dataclass(frozen=True)
class CompiledProtos:
    out: Path
    descriptor_set: descriptor_pb2.FileDescriptorSet
    descriptor_set_path: Path

    def module(self, proto_path: str, kind: str = "pb2") -> ModuleType:
        name = proto_path.removesuffix(".proto").replace("/", ".") + f"_{kind}"
        return importlib.import_module(name)


@cache
def compile_test_protos() -> CompiledProtos:
    out = Path(tempfile.mkdtemp(prefix="cleanse-test-protos-"))
    protos = sorted(str(p.relative_to(TEST_PROTOS)) for p in TEST_PROTOS.rglob("*.proto"))
    fds_path = out / "test_descriptor_set.binpb"
    rc = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{TEST_PROTOS}",
            f"-I{PROTO}",
            f"-I{THIRD}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            f"--descriptor_set_out={fds_path}",
            "--include_imports",
            "--include_source_info",
            *protos,
        ]
    )
    if rc != 0:
        raise RuntimeError("protoc failed on tests/protos")
    for folder in [p for p in out.rglob("*") if p.is_dir()]:
        (folder / "__init__.py").touch()
    sys.path.insert(0, str(out))
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(fds_path.read_bytes())
    return CompiledProtos(out=out, descriptor_set=fds, descriptor_set_path=fds_path)
