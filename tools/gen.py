"""Generate gen/ from proto/: messages, gRPC stubs, .pyi stubs and one descriptor set.

`make gen` runs this. The output is committed; `make lint` (and CI) regenerate it
into a scratch folder and fail if it differs from what is committed.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
THIRD = ROOT / "build" / "third_party" / "proto"
DESCRIPTOR_SET = "descriptor_set.binpb"


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    if not (THIRD / "google" / "api" / "annotations.proto").exists():
        sys.exit(f"missing third-party protos in {THIRD}: run tools/bootstrap.sh")
    out.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO}",
        f"-I{THIRD}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        f"--descriptor_set_out={out / DESCRIPTOR_SET}",
        "--include_imports",
        "--include_source_info",
        *protos,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    # Packages for every generated folder, so `import cleanse.auth.v1` works.
    for folder in [out / "cleanse", *(p for p in (out / "cleanse").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def main() -> None:
    check = "--check" in sys.argv
    target = ROOT / "gen"
    if not check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(tmp, target)
        print(f"generated {sum(1 for _ in target.rglob('*.py'))} modules into gen/")
        return
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        drift = []
        names = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        names |= {
            p.relative_to(target)
            for p in target.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        for name in sorted(names):
            a, b = fresh / name, target / name
            if not a.exists() or not b.exists() or a.read_bytes() != b.read_bytes():
                drift.append(str(name))
        if drift:
            sys.exit("gen/ is out of date with proto/ (run `make gen`):\n  " + "\n  ".join(drift))
        print("gen/ matches proto/")


if __name__ == "__main__":
    main()
