"""Internal service tokens: minted once per half-TTL, verified once until they expire."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from mesh.errors import Unauthenticated
from mesh.identity import INTERNAL_ALGORITHM, INTERNAL_AUDIENCE, InternalTokens

SECRET = secrets.token_urlsafe(48)


def test_a_verified_token_is_served_from_the_cache_until_it_expires(monkeypatch) -> None:
    tokens = InternalTokens("catalog", SECRET)
    token = tokens.mint()
    assert tokens.verify(token).subject == "catalog"
    calls = 0
    original = jwt.decode

    def counting(*a, **kw):
        nonlocal calls
        calls += 1
        return original(*a, **kw)

    monkeypatch.setattr(jwt, "decode", counting)
    assert tokens.verify(token).subject == "catalog"
    assert calls == 0  # no second signature check
    # Past its expiry the cached entry is not trusted: the signature and expiry are
    # checked again (by PyJWT, on its own clock).
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + InternalTokens.TTL + 60)
    tokens.verify(token)
    assert calls == 1


def test_forged_and_foreign_tokens_are_refused() -> None:
    tokens = InternalTokens("catalog", SECRET)
    other = InternalTokens("catalog", secrets.token_urlsafe(48)).mint()
    with pytest.raises(Unauthenticated):
        tokens.verify(other)
    now = int(time.time())
    wrong_audience = jwt.encode(
        {"iss": "x", "aud": "cleanse", "iat": now, "exp": now + 60},
        SECRET,
        algorithm=INTERNAL_ALGORITHM,
    )
    with pytest.raises(Unauthenticated):
        tokens.verify(wrong_audience)
    ok = jwt.encode(
        {"iss": "order", "aud": INTERNAL_AUDIENCE, "iat": now, "exp": now + 60},
        SECRET,
        algorithm=INTERNAL_ALGORITHM,
    )
    assert tokens.verify(ok).subject == "order"
