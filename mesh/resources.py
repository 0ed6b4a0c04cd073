"""Resource names and update masks (AIP-122, AIP-134), the same in every service.

parse_name("users/abc", "users")            # -> "abc"; None when malformed
require_name(req.name, "brands")            # -> "abc", else INVALID_ARGUMENT on "name"
fields = check_update_mask(req.update_mask.paths, ("slug", "title"), v)
"""

from __future__ import annotations

from collections.abc import Iterable

from mesh.errors import InvalidArgument, Violations

MAX_ID_LENGTH = 64


def parse_name(name: str, collection: str, *, max_id_length: int = MAX_ID_LENGTH) -> str | None:
    """ "users/abc" with collection "users" -> "abc"; None if malformed.

    Malformed: another collection, no id, an id with a "/" in it, or one longer
    than `max_id_length`.
    """
    prefix, sep, rid = name.partition("/")
    if prefix != collection or not sep or not rid or "/" in rid or len(rid) > max_id_length:
        return None
    return rid


def require_name(
    name: str, collection: str, field: str = "name", *, max_id_length: int = MAX_ID_LENGTH
) -> str:
    """The id in `name` (as parse_name), or INVALID_ARGUMENT on `field`."""
    rid = parse_name(name, collection, max_id_length=max_id_length)
    if rid is None:
        raise InvalidArgument({field: f"must look like {collection}/{{id}}"})
    return rid


def check_update_mask(
    paths: Iterable[str], allowed: Iterable[str], v: Violations, field: str = "update_mask"
) -> list[str]:
    """The mask's paths in order without repeats; a violation on `field` for each path
    that is not in `allowed`."""
    allowed_set = set(allowed)
    out: list[str] = []
    for p in paths:
        if p not in allowed_set:
            v.add(field, f"{p!r} cannot be updated (allowed: {', '.join(sorted(allowed_set))})")
        elif p not in out:
            out.append(p)
    return out
