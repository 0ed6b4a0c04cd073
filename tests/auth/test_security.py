"""Access policy over gRPC: tokens, internal calls, health reflecting readiness."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cleanse.auth.v1 import account_service_pb2 as acc
from cleanse.auth.v1 import auth_service_pb2
from mesh.db import Database
from mesh.identity import AUDIENCE, INTERNAL_HEADER, ISSUER, InternalTokens, internal_secret
from services.auth.app import build
from services.auth.config import Settings
from tests.auth.conftest import AuthHarness, bearer
from tests.conftest import BACKENDS, free_address, temporary_database
from tests.support.rpc import reason, violations

StatusCode = grpc.StatusCode


async def _claims(auth: AuthHarness) -> dict:
    reg = await auth.register()
    return jwt.decode(reg.tokens.access_token, options={"verify_signature": False})


async def _rejected(auth: AuthHarness, token: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.GetProfile(acc.GetProfileRequest(), metadata=bearer(token))
    assert err.value.code() == StatusCode.UNAUTHENTICATED, err.value.details()
    assert (
        dict(err.value.trailing_metadata() or ()).get("www-authenticate", "").startswith("Bearer")
    )
    return err.value


async def test_no_token_is_unauthenticated(auth: AuthHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.GetProfile(acc.GetProfileRequest())
    assert err.value.code() == StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.account.GetProfile(
            acc.GetProfileRequest(), metadata=(("authorization", "Basic abc"),)
        )
    assert err.value.code() == StatusCode.UNAUTHENTICATED


async def test_tampered_token(auth: AuthHarness) -> None:
    reg = await auth.register()
    header, payload, sig = reg.tokens.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "users/someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    await _rejected(auth, f"{header}.{forged}.{sig}")
    await _rejected(auth, f"{header}.{payload}.{sig[:-4]}AAAA")


async def test_expired_token(auth: AuthHarness) -> None:
    claims = await _claims(auth)
    now = int(time.time())
    claims.update(iat=now - 3600, nbf=now - 3600, exp=now - 60)
    err = await _rejected(auth, await auth.wired.keys.sign(claims))
    assert reason(err) == "TOKEN_EXPIRED"


async def test_not_yet_valid_token(auth: AuthHarness) -> None:
    claims = await _claims(auth)
    claims.update(nbf=int(time.time()) + 600)
    await _rejected(auth, await auth.wired.keys.sign(claims))


async def test_alg_none_token(auth: AuthHarness) -> None:
    claims = await _claims(auth)
    kid = (await auth.wired.keys.current()).kid
    token = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})  # type: ignore[arg-type]
    await _rejected(auth, token)
    hs = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": kid})
    await _rejected(auth, hs)


async def test_wrong_audience_or_issuer(auth: AuthHarness) -> None:
    claims = await _claims(auth)
    await _rejected(auth, await auth.wired.keys.sign({**claims, "aud": "someone-else"}))
    await _rejected(auth, await auth.wired.keys.sign({**claims, "iss": "evil"}))
    assert claims["aud"] == AUDIENCE and claims["iss"] == ISSUER


async def test_token_signed_by_an_unknown_key(auth: AuthHarness) -> None:
    claims = await _claims(auth)
    kid = (await auth.wired.keys.current()).kid
    stranger = Ed25519PrivateKey.generate()
    await _rejected(auth, jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": kid}))
    await _rejected(auth, jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": "x"}))


async def test_internal_rpcs_need_an_internal_token(auth: AuthHarness) -> None:
    reg = await auth.register()
    request = auth_service_pb2.BatchGetUsersRequest(names=[reg.user.name, "users/nobody"])
    for md in [(), bearer(reg.tokens.access_token), bearer(await auth.super_admin_token())]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await auth.auth.BatchGetUsers(request, metadata=md)
        assert err.value.code() == StatusCode.PERMISSION_DENIED
    forged = InternalTokens("order", "not-the-mesh-secret-" + "x" * 20).mint()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.BatchGetUsers(request, metadata=((INTERNAL_HEADER, forged),))
    assert err.value.code() == StatusCode.UNAUTHENTICATED
    internal = ((INTERNAL_HEADER, InternalTokens("order", internal_secret()).mint()),)
    resp = await auth.auth.BatchGetUsers(request, metadata=internal)
    assert [u.name for u in resp.users] == [reg.user.name]
    assert list(resp.missing) == ["users/nobody"]
    admins = await auth.auth.BatchGetAdminUsers(
        auth_service_pb2.BatchGetAdminUsersRequest(names=["adminUsers/nobody"]), metadata=internal
    )
    assert list(admins.missing) == ["adminUsers/nobody"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.BatchGetUsers(
            auth_service_pb2.BatchGetUsersRequest(names=["users/x"] * 501), metadata=internal
        )
    assert err.value.code() == StatusCode.INVALID_ARGUMENT and "names" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await auth.auth.BatchGetUsers(
            auth_service_pb2.BatchGetUsersRequest(names=["orders/1"]), metadata=internal
        )
    assert "names[0]" in violations(err.value)


async def test_jwks_is_public(auth: AuthHarness) -> None:
    keys = (await auth.auth.GetJwks(auth_service_pb2.GetJwksRequest())).keys
    assert keys and all(k.kty == "OKP" and not hasattr(k, "d") for k in keys)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_health_is_not_serving_until_migrated(tmp_path: Path, backend: str) -> None:
    """Health answers NOT_SERVING while migrations have not run, SERVING after."""
    async with temporary_database(backend, tmp_path) as url:
        mp = pytest.MonkeyPatch()
        mp.setenv("CLEANSE_AUTH_ADDR", str(free_address()))
        mp.setenv("CLEANSE_AUTH_METRICS_ADDR", str(free_address()))
        db = Database("auth", url)
        wired = build(db, Settings(data_dir=tmp_path))
        gate = asyncio.Event()

        async def hold() -> None:  # runs before the migration hook
            await gate.wait()

        wired.app._startup.insert(0, hold)
        starting = asyncio.create_task(wired.app.start())
        channel = grpc.aio.insecure_channel(str(wired.app.address))
        health = health_pb2_grpc.HealthStub(channel)
        try:
            status = None
            for _ in range(100):
                try:
                    resp = await health.Check(health_pb2.HealthCheckRequest(service=""))
                    status = resp.status
                    break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.05)
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert not await db.ready()
            gate.set()
            await starting
            for service in ("", "cleanse.auth.v1.AuthService", "cleanse.auth.v1.AdminService"):
                resp = await health.Check(health_pb2.HealthCheckRequest(service=service))
                assert resp.status == health_pb2.HealthCheckResponse.SERVING
            assert (tmp_path / "admin-credentials.txt").exists()
        finally:
            gate.set()
            await channel.close()
            await wired.app.stop()
            mp.undo()


async def test_second_start_seeds_nothing_new(auth: AuthHarness) -> None:
    from services.auth.seed import seed

    before = auth.admin_credentials()
    await seed(
        auth.wired.db,
        admin_email="other@cleanse.local",
        data_dir=auth.data_dir,
        known_permissions=lambda: [],
    )
    assert auth.admin_credentials() == before


async def test_signing_keys_are_encrypted_at_rest(auth: AuthHarness) -> None:
    from cryptography.hazmat.primitives import serialization
    from sqlalchemy import select

    from services.auth.models import SigningKey

    key = await auth.wired.keys.current()
    raw = key.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    async with auth.wired.db.session() as s:
        row = (await s.scalars(select(SigningKey).where(SigningKey.kid == key.kid))).one()
    assert raw not in row.private_key_encrypted and len(row.private_key_encrypted) == 12 + 32 + 16
