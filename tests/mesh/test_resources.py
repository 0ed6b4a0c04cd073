"""mesh.resources: resource names and update masks."""

from __future__ import annotations

import pytest

from mesh.errors import InvalidArgument, Violations
from mesh.resources import check_update_mask, parse_name, require_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("users/abc", "abc"),
        ("users/" + "x" * 64, "x" * 64),
        ("users/" + "x" * 65, None),  # id too long
        ("users/", None),  # no id
        ("users", None),  # no separator
        ("admins/abc", None),  # another collection
        ("users/abc/def", None),  # nested
        ("", None),
    ],
)
def test_parse_name(name: str, expected: str | None) -> None:
    assert parse_name(name, "users") == expected


def test_parse_name_with_a_shorter_id_limit() -> None:
    assert parse_name("transfers/" + "a" * 32, "transfers", max_id_length=32) == "a" * 32
    assert parse_name("transfers/" + "a" * 33, "transfers", max_id_length=32) is None


def test_require_name_returns_the_id() -> None:
    assert require_name("brands/b1", "brands") == "b1"


def test_require_name_is_invalid_argument_on_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        require_name("brand/b1", "brands", "product.brand")
    assert err.value.violations == [("product.brand", "must look like brands/{id}")]


def test_check_update_mask_keeps_allowed_paths_in_order_without_repeats() -> None:
    v = Violations()
    assert check_update_mask(["title", "slug", "title"], ("slug", "title"), v) == ["title", "slug"]
    assert not v


def test_check_update_mask_flags_each_disallowed_path() -> None:
    v = Violations()
    kept = check_update_mask(["slug", "id", "create_time"], ("slug", "title"), v)
    assert kept == ["slug"]
    assert v.items == [
        ("update_mask", "'id' cannot be updated (allowed: slug, title)"),
        ("update_mask", "'create_time' cannot be updated (allowed: slug, title)"),
    ]


def test_check_update_mask_on_another_field() -> None:
    v = Violations()
    check_update_mask(["nope"], frozenset({"label"}), v, "address.update_mask")
    assert [f for f, _ in v.items] == ["address.update_mask"]
