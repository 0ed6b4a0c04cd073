"""The auth service's plain-Python rules, tested without a server or database."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from mesh.db import decode_page_token, encode_page_token, new_id
from mesh.errors import InvalidArgument, Violations
from mesh.india import (
    STATE_CODES,
    PostalAddress,
    is_valid_pincode,
    normalize_mobile,
    normalize_state_code,
    validate_delivery_address,
)
from services.auth import passwords
from services.auth.config import RateLimit, Settings
from services.auth.domain import accounts, rbac
from services.auth.domain.otp import OtpCheck, OtpState, check_otp, prune, retry_after
from services.auth.otp import LogOtpSender, OtpHasher, generate_code
from services.auth.seed import write_credentials
from services.auth.tokens import KeyCipher

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

# --- India --------------------------------------------------------------------------


def test_there_are_36_states_and_union_territories() -> None:
    assert len(STATE_CODES) == 36
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in STATE_CODES)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("KA", "KA"), ("mh", "MH"), (" dl ", "DL"), ("OR", "OD"), ("TG", "TS"), ("UT", "UK")],
)
def test_state_codes_normalize(raw: str, expected: str) -> None:
    assert normalize_state_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "XX", "Karnataka", "K", "IN"])
def test_unknown_state_codes(raw: str) -> None:
    assert normalize_state_code(raw) is None


@pytest.mark.parametrize(
    ("pin", "ok"),
    [
        ("560001", True),
        ("110011", True),
        ("060001", False),
        ("56000", False),
        ("5600011", False),
        ("56000a", False),
        ("", False),
    ],
)
def test_pincodes(pin: str, ok: bool) -> None:
    assert is_valid_pincode(pin) is ok


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9876543210", "+919876543210"),
        ("+919876543210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("+91 98765-43210", "+919876543210"),
        ("6000000000", "+916000000000"),
        ("5876543210", None),
        ("987654321", None),
        ("98765432101", None),
        ("+449876543210", None),
        ("98765abcde", None),
    ],
)
def test_mobile_numbers(raw: str, expected: str | None) -> None:
    assert normalize_mobile(raw) == expected


@given(st.from_regex(r"[6-9][0-9]{9}", fullmatch=True))
def test_every_valid_mobile_normalizes_to_plus91(number: str) -> None:
    assert normalize_mobile(number) == "+91" + number
    assert normalize_mobile("+91" + number) == "+91" + number


# --- accounts -----------------------------------------------------------------------


def _violations(fn, *args, **kw) -> dict[str, str]:
    v = Violations()
    fn(*args, v, **kw)
    return dict(v.items)


def test_email_validation() -> None:
    assert _violations(accounts.validate_email, "a@b.co") == {}
    assert "email" in _violations(accounts.validate_email, "not-an-email")
    assert "email" in _violations(accounts.validate_email, "")
    assert "email" in _violations(accounts.validate_email, "a@b")
    assert accounts.normalize_email("  A.B@Example.COM ") == "a.b@example.com"


def test_password_policy() -> None:
    assert _violations(accounts.validate_password, "0123456789") == {}
    assert "password" in _violations(accounts.validate_password, "012345678")
    assert "password" in _violations(accounts.validate_password, " " * 12)
    v = Violations()
    accounts.validate_password("x" * 11, v, "p", minimum=12)
    assert [f for f, _ in v.items] == ["p"]
    assert "password" in _violations(accounts.validate_password, "x" * 300)


def test_full_name() -> None:
    assert _violations(accounts.validate_full_name, "Asha  Verma") == {}
    assert "full_name" in _violations(accounts.validate_full_name, "   ")
    assert "full_name" in _violations(accounts.validate_full_name, "a\x00b")
    assert "full_name" in _violations(accounts.validate_full_name, "x" * 101)


GOOD_ADDRESS = PostalAddress(
    recipient_name="Asha Verma",
    phone="9876543210",
    line1="12 MG Road",
    city="Bengaluru",
    state_code="ka",
    pincode="560001",
)


def test_a_good_address_is_normalized() -> None:
    v = Violations()
    out = validate_delivery_address(GOOD_ADDRESS, v, "address.postal_address.")
    assert not v
    assert out.state_code == "KA" and out.phone == "+919876543210" and out.country_code == "IN"


def test_a_bad_address_names_every_bad_field() -> None:
    bad = PostalAddress(
        recipient_name="",
        phone="12345",
        line1="",
        city="",
        state_code="ZZ",
        pincode="012345",
        country_code="US",
    )
    v = Violations()
    validate_delivery_address(bad, v, "a.")
    fields = {f for f, _ in v.items}
    assert fields == {
        "a.recipient_name",
        "a.phone",
        "a.line1",
        "a.city",
        "a.state_code",
        "a.pincode",
        "a.country_code",
    }


def test_an_address_whose_pin_is_in_another_state_is_refused() -> None:
    """The same rule order applies at checkout (one validator, mesh.india): an address
    book never holds an address the checkout would refuse."""
    v = Violations()
    validate_delivery_address(replace(GOOD_ADDRESS, state_code="MH"), v, "a.")
    assert [f for f, _ in v.items] == ["a.pincode"]


# --- OTP policy ---------------------------------------------------------------------


def _state(attempts: int = 0, consumed: bool = False, ttl: int = 300) -> OtpState:
    return OtpState(NOW + timedelta(seconds=ttl), attempts, consumed)


def test_otp_right_code() -> None:
    assert check_otp(_state(), True, NOW, 5) is OtpCheck.OK


def test_otp_wrong_code_counts() -> None:
    assert check_otp(_state(attempts=4), False, NOW, 5) is OtpCheck.WRONG


def test_otp_exhausted_even_with_the_right_code() -> None:
    assert check_otp(_state(attempts=5), True, NOW, 5) is OtpCheck.EXHAUSTED


def test_otp_expired_used_or_missing() -> None:
    assert check_otp(_state(ttl=0), True, NOW, 5) is OtpCheck.INVALID
    assert check_otp(_state(consumed=True), True, NOW, 5) is OtpCheck.INVALID
    assert check_otp(None, False, NOW, 5) is OtpCheck.INVALID


def test_otp_ttl_must_be_three_to_five_minutes() -> None:
    Settings(otp_ttl_seconds=180)
    with pytest.raises(RuntimeError):
        Settings(otp_ttl_seconds=600)
    with pytest.raises(RuntimeError):
        Settings.from_env({"CLEANSE_OTP_TTL_SECONDS": "60"})


def test_codes_are_six_digits_and_hashed_per_phone() -> None:
    codes = {generate_code() for _ in range(200)}
    assert all(re.fullmatch(r"[0-9]{6}", c) for c in codes)
    assert len(codes) > 150
    h = OtpHasher("s" * 40)
    stored = h.hash("+919876543210", "123456")
    assert "123456" not in stored
    assert h.matches(stored, "+919876543210", "123456")
    assert not h.matches(stored, "+919876543211", "123456")
    assert not OtpHasher("t" * 40).matches(stored, "+919876543210", "123456")


def test_sliding_window_rate_limits() -> None:
    limits = (RateLimit(1, 30), RateLimit(5, 3600))
    assert retry_after([], limits, 1000.0) is None
    assert retry_after([990.0], limits, 1000.0) == pytest.approx(20.0)
    assert retry_after([960.0], limits, 1000.0) is None
    five = [0.0, 100.0, 200.0, 300.0, 400.0]
    assert retry_after(five, limits, 1000.0) == pytest.approx(2600.0)  # oldest leaves at 3600
    assert prune([*five, -5000.0], limits, 1000.0) == five


async def test_log_sender_appends_to_the_outbox(tmp_path: Path) -> None:
    outbox = tmp_path / "otp.jsonl"
    sender = LogOtpSender(outbox)
    await sender.send("+919876543210", "123456", NOW)
    await sender.send("+919876543211", "654321", NOW)
    lines = [json.loads(x) for x in outbox.read_text().splitlines()]
    assert [(x["phone"], x["code"]) for x in lines] == [
        ("+919876543210", "123456"),
        ("+919876543211", "654321"),
    ]
    assert all("time" in x for x in lines)


# --- passwords ----------------------------------------------------------------------


async def test_password_hashes_are_argon2id_at_owasp_minimum_or_above() -> None:
    stored = await passwords.hash_password("correct horse battery")
    m = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$.+\$.+", stored)
    assert m, stored
    mem, t, p = map(int, m.groups())
    assert mem >= 19456 and t >= 2 and p >= 1
    assert await passwords.verify_password(stored, "correct horse battery")
    assert not await passwords.verify_password(stored, "wrong horse battery")
    assert not await passwords.verify_password(None, "correct horse battery")
    assert not await passwords.verify_password("garbage", "x")
    # Hashes made with weaker parameters are flagged for rehash.
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x")
    assert passwords.needs_rehash(weak)


# --- RBAC ---------------------------------------------------------------------------


def test_permissions_must_be_declared_or_star() -> None:
    v = Violations()
    out = rbac.validate_permissions(
        ["roles.read", "*", "roles.read", "nope"], ["roles.read"], v, "p"
    )
    assert out == ["*", "roles.read"]
    assert dict(v.items) == {"p[3]": "unknown permission 'nope'"}


def test_role_names() -> None:
    assert rbac.role_id_from_name("roles/catalog_manager") == "catalog_manager"
    for bad in ["catalog_manager", "roles/", "roles/Bad", "roles/a", "users/x", "roles/a/b"]:
        assert rbac.role_id_from_name(bad) is None
    assert rbac.effective_permissions([["b", "a"], ["a", "c"]]) == ["a", "b", "c"]


# --- persistence helpers ------------------------------------------------------------


def test_page_tokens_round_trip_and_bind_to_filters() -> None:
    token = encode_page_token("abc", {"q": "x"})
    assert decode_page_token(token, {"q": "x"}) == "abc"
    assert decode_page_token("", {"q": "x"}) is None
    with pytest.raises(InvalidArgument):
        decode_page_token(token, {"q": "y"})
    with pytest.raises(InvalidArgument):
        decode_page_token("!!not-base64!!", None)


def test_ids_sort_by_creation_time() -> None:
    import time

    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert len(first) == 32 and first < second


def test_private_keys_are_encrypted_and_bound_to_their_kid() -> None:
    cipher = KeyCipher("s" * 40)
    blob = cipher.encrypt("kid-1", b"k" * 32)
    assert b"k" * 32 not in blob
    assert cipher.decrypt("kid-1", blob) == b"k" * 32
    with pytest.raises(InvalidTag):
        cipher.decrypt("kid-2", blob)
    with pytest.raises(InvalidTag):
        KeyCipher("t" * 40).decrypt("kid-1", blob)


def test_admin_credentials_file_is_private(tmp_path: Path) -> None:
    path = write_credentials(tmp_path, "a@b.co", "pw")
    assert path.read_text() == "email: a@b.co\npassword: pw\n"
    assert path.stat().st_mode & 0o777 == 0o600


def test_ids_made_in_one_millisecond_still_increase() -> None:
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
