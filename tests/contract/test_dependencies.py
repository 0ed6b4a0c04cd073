"""Dependencies point one way (ARCHITECTURE.md): proto -> gen -> mesh, observability ->
services, edge. A service never imports another service's package; the edge never
imports a service; mesh and observability import neither."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(path: Path) -> set[str]:
    """Modules a file imports (real import statements, not text in docstrings)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def offenders(folder: str, forbidden) -> list[str]:
    out = []
    for path in (ROOT / folder).rglob("*.py"):
        for mod in imports(path):
            if forbidden(path, mod):
                out.append(f"{path.relative_to(ROOT)} imports {mod}")
    return out


def test_mesh_and_observability_import_no_service_and_not_the_edge() -> None:
    def bad(_path: Path, mod: str) -> bool:
        return mod.split(".")[0] in {"services", "edge", "bench", "tests"}

    assert not offenders("mesh", bad) + offenders("observability", bad)


def test_the_edge_imports_no_service() -> None:
    assert not offenders("edge", lambda _p, mod: mod.split(".")[0] in {"services", "bench"})


def test_a_service_imports_no_other_service() -> None:
    def bad(path: Path, mod: str) -> bool:
        own = path.relative_to(ROOT / "services").parts[0]
        parts = mod.split(".")
        return parts[0] in {"edge", "bench", "tests"} or (
            parts[0] == "services" and len(parts) > 1 and parts[1] != own
        )

    assert not offenders("services", bad)


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    f = tmp_path / "x.py"
    f.write_text("from services.catalog.models import Product\nimport edge.app\n")
    assert imports(f) == {"services.catalog.models", "edge.app"}
