"""Copy the third-party .proto files our contracts import into one include folder.

google/api/*.proto and google/rpc/*.proto ship in the googleapis-common-protos wheel,
google/protobuf/*.proto in grpcio-tools. buf and protoc both read the copy.
"""

import shutil
import sys
from pathlib import Path

import google.api
import grpc_tools


def main(dest: str) -> None:
    out = Path(dest)
    google_root = Path(google.api.__path__[0]).parent
    for pkg in ("api", "rpc", "type"):
        src = google_root / pkg
        for proto in src.glob("*.proto"):
            target = out / "google" / pkg / proto.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(proto, target)
    wkt = Path(grpc_tools.__file__).parent / "_proto" / "google" / "protobuf"
    for proto in wkt.rglob("*.proto"):
        target = out / "google" / "protobuf" / proto.relative_to(wkt)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(proto, target)
    print(f"third-party protos ready in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
