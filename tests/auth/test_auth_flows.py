"""Sign-up, sign-in, tokens and sessions over real gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.rpc import error_details_pb2

from cleanse.auth.v1 import account_service_pb2, admin_service_pb2, auth_service_pb2
from mesh.identity import (
    AUDIENCE,
    INTERNAL_HEADER,
    ISSUER,
    InternalTokens,
    decode_access_token,
    internal_secret,
)
from tests.auth.conftest import AuthHarness, bearer, unique_email, unique_ip, unique_phone
from tests.support.rpc import detail, reason, violations

StatusCode = grpc.StatusCode


async def _refresh(auth: AuthHarness, token: str) -> auth_service_pb2.RefreshTokensResponse:
    return await auth.auth.RefreshTokens(auth_service_pb2.RefreshTokensRequest(refresh_token=token))


async def _audit(auth: AuthHarness, **filters: object) -> list:
    token = await auth.super_admin_token()
    resp = await auth.admin.ListAuditLogs(
        admin_service_pb2.ListAuditLogsRequest(page_size=100, **filters), metadata=bearer(token)
    )
    return list(resp.audit_logs)


# --- register and password login ----------------------------------------------------


async def test_register_returns_user_and_working_tokens(auth: AuthHarness) -> None:
    email = unique_email()
    resp = await auth.register(email=email, phone="98765 " + unique_phone()[5:])
    assert resp.user.name.startswith("users/")
    assert resp.user.email == email and resp.user.has_password
    assert resp.user.phone.startswith("+919876")
    assert resp.tokens.token_type == "Bearer" and resp.tokens.expires_in == 900
    key = await auth.wired.keys.current()
    claims = decode_access_token(resp.tokens.access_token, key.private_key.public_key())
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert claims["sub"] == resp.user.name and claims["role"] == "customer"
    assert claims["sid"].startswith("sessions/") and claims["jti"]
    assert claims["exp"] - claims["iat"] == 900 and claims["nbf"] == claims["iat"]
    assert "perms" not in claims
    me = await auth.account.GetProfile(
        account_service_pb2.GetProfileRequest(), metadata=bearer(resp.tokens.access_token)
    )
    assert me.name == resp.user.name


async def test_email_is_unique_case_insensitively(auth: AuthHarness) -> None:
    email = unique_email()
    await auth.register(email=email)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.register(email=email.upper())
    assert err.value.code() == StatusCode.ALREADY_EXISTS
    assert reason(err.value) == "ACCOUNT_EXISTS"


async def test_phone_is_unique(auth: AuthHarness) -> None:
    phone = unique_phone()
    await auth.register(phone=phone)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.register(phone="+91" + phone)
    assert err.value.code() == StatusCode.ALREADY_EXISTS


async def test_bad_registration_lists_every_field_and_creates_nothing(auth: AuthHarness) -> None:
    email = "not-an-email"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.register(email=email, password="short", full_name="  ", phone="12345")
    assert err.value.code() == StatusCode.INVALID_ARGUMENT
    assert set(violations(err.value)) == {"email", "password", "full_name", "phone"}
    assert reason(err.value) == "INVALID_FIELD"
    # Missing REQUIRED fields are caught by the contract before the servicer.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.RegisterCustomer(auth_service_pb2.RegisterCustomerRequest())
    assert set(violations(err.value)) == {"email", "password", "full_name"}


async def test_twenty_concurrent_registrations_of_one_email(auth: AuthHarness) -> None:
    email = unique_email()
    results = await asyncio.gather(
        *(auth.register(email=email) for _ in range(20)), return_exceptions=True
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(ok) == 1, errors[:3]
    assert all(
        isinstance(e, grpc.aio.AioRpcError) and e.code() == StatusCode.ALREADY_EXISTS
        for e in errors
    ), errors[:3]


async def test_password_login(auth: AuthHarness) -> None:
    email = unique_email()
    reg = await auth.register(email=email, password="a long password")
    resp = await auth.auth.LoginWithPassword(
        auth_service_pb2.LoginWithPasswordRequest(email=email.upper(), password="a long password")
    )
    assert resp.user.name == reg.user.name and resp.tokens.access_token


async def test_wrong_password_and_unknown_email_look_the_same(auth: AuthHarness) -> None:
    email = unique_email()
    await auth.register(email=email, password="a long password")
    errs = []
    for e, p in [(email, "the wrong password"), (unique_email(), "a long password")]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await auth.auth.LoginWithPassword(
                auth_service_pb2.LoginWithPasswordRequest(email=e, password=p)
            )
        errs.append(err.value)
    assert [e.code() for e in errs] == [StatusCode.UNAUTHENTICATED] * 2
    assert [reason(e) for e in errs] == ["INVALID_CREDENTIALS"] * 2
    assert errs[0].details() == errs[1].details()
    failed = await _audit(auth, action="auth.login_failed")
    assert any(e.details.get("email") == email.lower() for e in failed)


# --- refresh tokens -----------------------------------------------------------------


async def test_refresh_rotates_the_token(auth: AuthHarness) -> None:
    reg = await auth.register()
    first = await _refresh(auth, reg.tokens.refresh_token)
    assert first.tokens.refresh_token != reg.tokens.refresh_token
    second = await _refresh(auth, first.tokens.refresh_token)
    assert second.tokens.access_token and second.tokens.refresh_token


async def test_reusing_a_refresh_token_revokes_the_whole_family(auth: AuthHarness) -> None:
    reg = await auth.register()
    rotated = await _refresh(auth, reg.tokens.refresh_token)
    # The old token comes back (a thief, or a replay): the session dies.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _refresh(auth, reg.tokens.refresh_token)
    assert err.value.code() == StatusCode.UNAUTHENTICATED
    assert reason(err.value) == "REFRESH_TOKEN_REUSED"
    # ... including the newest token of that family,
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _refresh(auth, rotated.tokens.refresh_token)
    assert reason(err.value) == "SESSION_REVOKED"
    # ... and this service stops honouring the family's access tokens at once.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.GetProfile(
            account_service_pb2.GetProfileRequest(), metadata=bearer(rotated.tokens.access_token)
        )
    assert err.value.code() == StatusCode.UNAUTHENTICATED
    reused = await _audit(auth, action="auth.refresh_token_reused", actor=reg.user.name)
    assert len(reused) == 1
    assert reused[0].outcome == 2  # AUDIT_OUTCOME_FAILURE


async def test_unknown_refresh_token(auth: AuthHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _refresh(auth, "not-a-token")
    assert (err.value.code(), reason(err.value)) == (StatusCode.UNAUTHENTICATED, "SESSION_REVOKED")


async def test_logout_ends_the_session(auth: AuthHarness) -> None:
    reg = await auth.register()
    await auth.auth.Logout(
        auth_service_pb2.LogoutRequest(), metadata=bearer(reg.tokens.access_token)
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _refresh(auth, reg.tokens.refresh_token)
    assert reason(err.value) == "SESSION_REVOKED"


async def test_sessions_list_revoke_one_and_all(auth: AuthHarness) -> None:
    email = unique_email()
    reg = await auth.register(email=email, password="a long password")
    login = auth_service_pb2.LoginWithPasswordRequest(email=email, password="a long password")
    second = await auth.auth.LoginWithPassword(login)
    third = await auth.auth.LoginWithPassword(login)
    me = bearer(reg.tokens.access_token)
    listed = await auth.auth.ListSessions(auth_service_pb2.ListSessionsRequest(), metadata=me)
    assert len(listed.sessions) == 3
    assert [s.current for s in listed.sessions].count(True) == 1
    # Paging: one at a time.
    page = await auth.auth.ListSessions(
        auth_service_pb2.ListSessionsRequest(page_size=2), metadata=me
    )
    assert len(page.sessions) == 2 and page.next_page_token
    rest = await auth.auth.ListSessions(
        auth_service_pb2.ListSessionsRequest(page_size=2, page_token=page.next_page_token),
        metadata=me,
    )
    assert len(rest.sessions) == 1 and not rest.next_page_token
    # Revoke the second device.
    other = next(s for s in listed.sessions if not s.current)
    await auth.auth.RevokeSession(
        auth_service_pb2.RevokeSessionRequest(name=other.name), metadata=me
    )
    # Somebody else's session is NOT_FOUND.
    stranger = await auth.register()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.RevokeSession(
            auth_service_pb2.RevokeSessionRequest(name=other.name),
            metadata=bearer(stranger.tokens.access_token),
        )
    assert err.value.code() == StatusCode.NOT_FOUND
    # Log out everywhere else.
    resp = await auth.auth.RevokeAllSessions(
        auth_service_pb2.RevokeAllSessionsRequest(keep_current=True), metadata=me
    )
    assert resp.revoked_count == 1
    left = await auth.auth.ListSessions(auth_service_pb2.ListSessionsRequest(), metadata=me)
    assert [s.current for s in left.sessions] == [True]
    for tokens in (second.tokens, third.tokens):
        with pytest.raises(grpc.aio.AioRpcError):
            await _refresh(auth, tokens.refresh_token)
    resp = await auth.auth.RevokeAllSessions(
        auth_service_pb2.RevokeAllSessionsRequest(), metadata=me
    )
    assert resp.revoked_count == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.ListSessions(auth_service_pb2.ListSessionsRequest(), metadata=me)
    assert reason(err.value) == "SESSION_REVOKED"


# --- OTP ----------------------------------------------------------------------------


def _ip(ip: str) -> tuple[tuple[str, str], ...]:
    """Metadata of a call relayed by the edge for a client at `ip`."""
    edge_token = InternalTokens("edge", internal_secret()).mint()
    return (("x-forwarded-for", ip), (INTERNAL_HEADER, edge_token))


async def _send(auth: AuthHarness, phone: str, ip: str) -> auth_service_pb2.SendLoginOtpResponse:
    return await auth.auth.SendLoginOtp(
        auth_service_pb2.SendLoginOtpRequest(phone=phone), metadata=_ip(ip)
    )


async def _verify(
    auth: AuthHarness, phone: str, code: str, ip: str = "10.0.0.1"
) -> auth_service_pb2.VerifyLoginOtpResponse:
    return await auth.auth.VerifyLoginOtp(
        auth_service_pb2.VerifyLoginOtpRequest(phone=phone, code=code), metadata=_ip(ip)
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_otp_login_creates_an_account_then_logs_into_it(auth: AuthHarness) -> None:
    phone, ip = unique_phone(), unique_ip()
    sent = await _send(auth, phone, ip)
    assert sent.resend_after_seconds >= 1 and sent.expire_time.seconds > 0
    first = await _verify(auth, phone, auth.latest_code(phone))
    assert first.new_account and first.user.phone == "+91" + phone and first.user.phone_verified
    # A used code does not work twice.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _verify(auth, phone, auth.latest_code(phone))
    assert reason(err.value) == "OTP_INVALID"
    await asyncio.sleep(1.05)  # the test server's per-phone resend interval
    await _send(auth, phone, ip)
    again = await _verify(auth, phone, auth.latest_code(phone))
    assert not again.new_account and again.user.name == first.user.name


async def test_otp_brute_force_is_cut_off_after_five_wrong_codes(auth: AuthHarness) -> None:
    phone, ip = unique_phone(), unique_ip()
    await _send(auth, phone, ip)
    code = auth.latest_code(phone)
    for _ in range(5):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _verify(auth, phone, _wrong(code))
        assert (err.value.code(), reason(err.value)) == (StatusCode.UNAUTHENTICATED, "OTP_INVALID")
    # Even the right code fails now: a new code is needed.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _verify(auth, phone, code)
    assert err.value.code() == StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "OTP_ATTEMPTS_EXHAUSTED"
    logs = await _audit(auth, action="auth.otp_exhausted")
    assert any(e.target == "+91" + phone for e in logs)
    # A new code works.
    await asyncio.sleep(1.05)
    await _send(auth, phone, ip)
    assert (await _verify(auth, phone, auth.latest_code(phone))).user.phone == "+91" + phone


async def test_concurrent_otp_guesses_cannot_exceed_the_limit(auth: AuthHarness) -> None:
    phone, ip = unique_phone(), unique_ip()
    await _send(auth, phone, ip)
    code = auth.latest_code(phone)
    guesses = [f"{n:06d}" for n in range(20) if f"{n:06d}" != code][:12]
    results = await asyncio.gather(
        *(_verify(auth, phone, g) for g in guesses), return_exceptions=True
    )
    reasons = sorted(reason(r) for r in results if isinstance(r, grpc.aio.AioRpcError))
    assert reasons.count("OTP_INVALID") == 5
    assert reasons.count("OTP_ATTEMPTS_EXHAUSTED") == len(guesses) - 5


async def test_only_the_latest_otp_is_valid(auth: AuthHarness) -> None:
    phone, ip = unique_phone(), unique_ip()
    await _send(auth, phone, ip)
    old = auth.latest_code(phone)
    await asyncio.sleep(1.05)
    await _send(auth, phone, ip)
    new = auth.latest_code(phone)
    if old != new:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _verify(auth, phone, old)
        assert reason(err.value) == "OTP_INVALID"
    assert (await _verify(auth, phone, new)).user.phone == "+91" + phone


async def test_otp_send_is_rate_limited_per_phone(auth: AuthHarness) -> None:
    phone, ip = unique_phone(), unique_ip()
    await _send(auth, phone, ip)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _send(auth, phone, unique_ip())
    assert err.value.code() == StatusCode.RESOURCE_EXHAUSTED
    assert reason(err.value) == "RATE_LIMITED"
    retry = detail(err.value, error_details_pb2.RetryInfo)
    assert retry is not None and 0 < retry.retry_delay.ToTimedelta().total_seconds() <= 1


async def test_otp_send_is_rate_limited_per_ip(auth: AuthHarness) -> None:
    ip = unique_ip()
    for _ in range(5):  # the test server allows 5 per IP per hour
        await _send(auth, unique_phone(), ip)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _send(auth, unique_phone(), ip)
    assert err.value.code() == StatusCode.RESOURCE_EXHAUSTED
    retry = detail(err.value, error_details_pb2.RetryInfo)
    assert retry.retry_delay.seconds > 3500  # the hourly window
    # Another IP is unaffected.
    await _send(auth, unique_phone(), unique_ip())


async def test_a_direct_caller_cannot_claim_another_ip(auth: AuthHarness) -> None:
    """x-forwarded-for counts only on calls relayed by a mesh member (the edge): a
    direct gRPC caller that rotates the header still hits its own per-IP limit."""
    for _ in range(5):
        await auth.auth.SendLoginOtp(
            auth_service_pb2.SendLoginOtpRequest(phone=unique_phone()),
            metadata=(("x-forwarded-for", unique_ip()),),
        )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.SendLoginOtp(
            auth_service_pb2.SendLoginOtpRequest(phone=unique_phone()),
            metadata=(("x-forwarded-for", unique_ip()),),
        )
    assert err.value.code() == StatusCode.RESOURCE_EXHAUSTED


async def test_bad_otp_input(auth: AuthHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _send(auth, "12345", unique_ip())
    assert err.value.code() == StatusCode.INVALID_ARGUMENT and "phone" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _verify(auth, unique_phone(), "12ab")
    assert set(violations(err.value)) == {"code"}
