"""The edge authenticates and enforces the proto's access policy before any call."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.app import EdgeApp
from mesh.identity import InternalTokens, internal_secret
from tests.edge.conftest import EchoBackend, Keys

ADMIN_PATH = "/v1/shelves/s1"  # DELETE: admin with "shelves.delete"
CUSTOMER_PATH = "/v1/shelves/s1:archive"  # POST: customer


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _reason(resp: httpx.Response) -> str:
    infos = [d for d in resp.json()["details"] if d["@type"].endswith("/google.rpc.ErrorInfo")]
    return infos[0]["reason"] if infos else ""


async def _calls_during(backend: EchoBackend, coro) -> tuple[httpx.Response, int]:
    before = len(backend.calls)
    resp = await coro
    return resp, len(backend.calls) - before


async def test_no_token_on_customer_route_is_401_with_challenge(
    client: httpx.AsyncClient, backend: EchoBackend
) -> None:
    r, calls = await _calls_during(backend, client.post(CUSTOMER_PATH, json={}))
    assert r.status_code == 401 and calls == 0
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["code"] == 16


async def test_customer_on_admin_route_is_403(
    client: httpx.AsyncClient, backend: EchoBackend, keys: Keys
) -> None:
    r, calls = await _calls_during(backend, client.delete(ADMIN_PATH, headers=_auth(keys.mint())))
    assert r.status_code == 403 and calls == 0
    assert r.json()["code"] == 7 and _reason(r) == "PERMISSION_DENIED"


async def test_admin_without_the_permission_is_403(
    client: httpx.AsyncClient, backend: EchoBackend, keys: Keys
) -> None:
    token = keys.mint("admin", ("shelves.read",))
    r, calls = await _calls_during(backend, client.delete(ADMIN_PATH, headers=_auth(token)))
    assert r.status_code == 403 and calls == 0
    assert "shelves.delete" in r.json()["message"]


@pytest.mark.parametrize("perms", [("shelves.delete",), ("*",)])
async def test_admin_with_the_permission_passes_and_token_is_forwarded(
    client: httpx.AsyncClient, backend: EchoBackend, keys: Keys, perms: tuple[str, ...]
) -> None:
    token = keys.mint("admin", perms)
    r, calls = await _calls_during(backend, client.delete(ADMIN_PATH, headers=_auth(token)))
    assert r.status_code == 200 and calls == 1
    assert backend.calls[-1].metadata["authorization"] == f"Bearer {token}"


async def test_customer_route_with_customer_token(
    client: httpx.AsyncClient, backend: EchoBackend, keys: Keys
) -> None:
    r = await client.post(CUSTOMER_PATH, json={}, headers=_auth(keys.mint()))
    assert r.status_code == 200


def _bad_tokens(keys: Keys) -> dict[str, str]:
    good = keys.mint()
    head, payload, sig = good.split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    now = int(time.time())
    return {
        "tampered signature": f"{head}.{payload}.{flipped}",
        "tampered payload": f"{head}.{keys.mint('admin', ('*',)).split('.')[1]}.{sig}",
        "expired": keys.mint(exp=now - 3600, iat=now - 7200, nbf=now - 7200),
        "not yet valid": keys.mint(nbf=now + 3600),
        "alg none": jwt.encode(
            {"iss": "cleanse-auth", "aud": "cleanse", "sub": "users/u1", "role": "customer"},
            None,
            algorithm="none",
            headers={"kid": keys.kid},
        ),
        "wrong audience": keys.mint(aud="someone-else"),
        "wrong issuer": keys.mint(iss="evil"),
        "unknown kid": keys.mint(kid="nobody"),
        "other key, same kid": keys.mint(key=Ed25519PrivateKey.generate()),
        "garbage": "not.a.jwt",
        "no role": keys.mint(role="root"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "tampered signature",
        "tampered payload",
        "expired",
        "not yet valid",
        "alg none",
        "wrong audience",
        "wrong issuer",
        "unknown kid",
        "other key, same kid",
        "garbage",
        "no role",
    ],
)
@pytest.mark.parametrize("path", ["customer", "public"])
async def test_bad_tokens_are_401_even_on_public_routes(
    client: httpx.AsyncClient, backend: EchoBackend, keys: Keys, case: str, path: str
) -> None:
    token = _bad_tokens(keys)[case]
    request = (
        client.post(CUSTOMER_PATH, json={}, headers=_auth(token))
        if path == "customer"
        else client.get("/v1/shelves/s1", headers=_auth(token))
    )
    r, calls = await _calls_during(backend, request)
    assert r.status_code == 401, (case, r.text)
    assert calls == 0
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_malformed_authorization_header_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shelves/s1", headers={"authorization": "Basic dXNlcjpwdw=="})
    assert r.status_code == 401


async def test_public_route_without_token(client: httpx.AsyncClient, backend: EchoBackend) -> None:
    r, calls = await _calls_during(backend, client.get("/v1/shelves/s1"))
    assert r.status_code == 200 and calls == 1
    assert "authorization" not in backend.calls[-1].metadata


async def test_internal_rpc_is_never_exposed(
    client: httpx.AsyncClient, backend: EchoBackend, keys: Keys
) -> None:
    headers = {**_auth(keys.mint("admin", ("*",))), "x-cleanse-internal": "forged"}
    r, calls = await _calls_during(backend, client.get("/v1/internal/shelves", headers=headers))
    assert r.status_code == 404 and calls == 0


async def test_internal_and_hop_by_hop_headers_are_not_forwarded(
    client: httpx.AsyncClient, backend: EchoBackend
) -> None:
    r = await client.get(
        "/v1/shelves/s1",
        headers={"x-cleanse-internal": "forged", "connection": "keep-alive", "x-custom": "1"},
    )
    assert r.status_code == 200
    md = backend.calls[-1].metadata
    assert "connection" not in md and "x-custom" not in md
    # The client's forged mesh token is dropped; the edge sends its own, valid one.
    assert md["x-cleanse-internal"] != "forged"
    relayed = InternalTokens("edge", internal_secret()).verify(md["x-cleanse-internal"])
    assert relayed.subject == "edge"


async def test_verified_tokens_are_cached(app: EdgeApp, client: httpx.AsyncClient, keys: Keys):
    verifier = app.auth.verifier
    original = verifier.verify
    count = 0

    async def counting(token: str):
        nonlocal count
        count += 1
        return await original(token)

    verifier.verify = counting  # type: ignore[method-assign]
    try:
        token = keys.mint()
        for _ in range(3):
            r = await client.post(CUSTOMER_PATH, json={}, headers=_auth(token))
            assert r.status_code == 200
        assert count == 1
        # A failing token is never cached.
        bad = _bad_tokens(keys)["tampered signature"]
        for _ in range(2):
            r = await client.post(CUSTOMER_PATH, json={}, headers=_auth(bad))
            assert r.status_code == 401
        assert count == 3
    finally:
        verifier.verify = original  # type: ignore[method-assign]
