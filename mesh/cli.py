"""`cleanse` / `python -m mesh.cli`: run the mesh locally.

python -m mesh.cli up                       # every implemented service + the edge
python -m mesh.cli up --only auth,catalog   # a subset (the edge only if named)
python -m mesh.cli up --data-dir /tmp/cleanse
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from mesh.supervisor import Supervisor, discover, run


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cleanse", description="Cleanse Mesh local runner")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start every service and the edge; Ctrl-C stops them")
    up.add_argument("--data-dir", help="data folder (default: $CLEANSE_DATA_DIR or ./data)")
    up.add_argument("--only", help="comma-separated service names to start")
    up.add_argument(
        "--stop-timeout", type=float, default=10.0, help="seconds before SIGKILL on stop"
    )
    sub.add_parser("list", help="show which services would start")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    specs = discover()
    if args.command == "list":
        for s in specs:
            print(f"{s.name:<11} {' '.join(s.argv[1:])}")
        return 0
    if args.only:
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        unknown = wanted - {s.name for s in specs}
        if unknown:
            print(f"not implemented (no __main__.py): {', '.join(sorted(unknown))}")
            return 2
        specs = [s for s in specs if s.name in wanted]
    sup = Supervisor(specs, data_dir=args.data_dir, stop_timeout=args.stop_timeout)
    return asyncio.run(run(sup))


if __name__ == "__main__":
    sys.exit(main())
