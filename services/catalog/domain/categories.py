"""The category tree as materialised paths: "/root/child/grandchild/" of ids."""

from __future__ import annotations

MAX_DEPTH = 6


def child_path(parent_path: str | None, category_id: str) -> str:
    return f"{parent_path or '/'}{category_id}/"


def is_within(path: str, ancestor_path: str) -> bool:
    """True when `path` is `ancestor_path` itself or below it."""
    return path.startswith(ancestor_path)


def ids_of(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def moved_path(old_path: str, old_prefix: str, new_prefix: str) -> str:
    """Re-root a descendant's path when the subtree at `old_prefix` moves."""
    assert old_path.startswith(old_prefix)
    return new_prefix + old_path[len(old_prefix) :]
