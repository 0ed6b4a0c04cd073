"""A storefront's and an admin console's auth flows, with curl's eye view: HTTP/JSON
to the edge, gRPC to the auth service, real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import secrets

import grpc
import httpx
import pytest

from cleanse.auth.v1 import admin_service_pb2, admin_service_pb2_grpc
from tests.integration.conftest import Mesh

pytestmark = pytest.mark.integration


def new_phone() -> str:
    return "9" + "".join(secrets.choice("0123456789") for _ in range(9))


def new_email() -> str:
    return f"shopper-{secrets.token_hex(4)}@example.in"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(mesh: Mesh, **extra: str) -> dict:
    body = {
        "email": new_email(),
        "password": "tulsi-and-neem-42",
        "fullName": "Ananya Rao",
        **extra,
    }
    r = await mesh.http.post("/v1/auth:register", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    out["_password"] = body["password"]
    return out


async def admin_token(mesh: Mesh) -> str:
    email, password = mesh.admin_credentials()
    r = await mesh.http.post("/v1/admin/auth:login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["tokens"]["accessToken"]


async def test_register_then_login_with_password(mesh: Mesh) -> None:
    reg = await register(mesh)
    assert reg["user"]["email"].startswith("shopper-")
    assert reg["tokens"]["tokenType"] == "Bearer"
    r = await mesh.http.post(
        "/v1/auth:login", json={"email": reg["user"]["email"], "password": reg["_password"]}
    )
    assert r.status_code == 200, r.text
    me = await mesh.http.get("/v1/me", headers=bearer(r.json()["tokens"]["accessToken"]))
    assert me.status_code == 200
    assert me.json()["fullName"] == "Ananya Rao"
    assert me.headers["x-request-id"]


async def test_wrong_password_is_401_and_says_nothing_about_the_account(mesh: Mesh) -> None:
    reg = await register(mesh)
    wrong = await mesh.http.post(
        "/v1/auth:login", json={"email": reg["user"]["email"], "password": "not-the-password"}
    )
    unknown = await mesh.http.post(
        "/v1/auth:login", json={"email": new_email(), "password": "not-the-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]


async def test_bad_registration_is_400_with_field_violations_and_creates_nothing(
    mesh: Mesh,
) -> None:
    email = new_email()
    r = await mesh.http.post(
        "/v1/auth:register",
        json={"email": "not-an-email", "password": "short", "fullName": "R", "phone": "12345"},
    )
    assert r.status_code == 400
    details = r.json()["details"]
    bad = next(d for d in details if d["@type"].endswith("BadRequest"))
    fields = {v["field"] for v in bad["fieldViolations"]}
    assert {"email", "password", "phone"} <= fields
    # A missing REQUIRED field is named by the contract check before the service runs.
    r = await mesh.http.post("/v1/auth:register", json={"email": email, "password": "x" * 12})
    assert r.status_code == 400
    assert "full_name" in r.text
    # Nothing half-created: the valid email registers normally afterwards.
    ok = await mesh.http.post(
        "/v1/auth:register",
        json={"email": email, "password": "long-enough-pass", "fullName": "R K"},
    )
    assert ok.status_code == 200


async def test_phone_otp_login_creates_an_account(mesh: Mesh) -> None:
    phone = new_phone()
    sent = await mesh.http.post("/v1/auth/otp:send", json={"phone": phone})
    assert sent.status_code == 200, sent.text
    code = mesh.otp_for(phone)
    r = await mesh.http.post("/v1/auth/otp:verify", json={"phone": phone, "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["newAccount"] is True
    assert r.json()["user"]["phone"].endswith(phone)
    # The code is single-use.
    again = await mesh.http.post("/v1/auth/otp:verify", json={"phone": phone, "code": code})
    assert again.status_code in (400, 401)


async def test_otp_brute_force_is_cut_off(mesh: Mesh) -> None:
    phone = new_phone()
    assert (await mesh.http.post("/v1/auth/otp:send", json={"phone": phone})).status_code == 200
    code = mesh.otp_for(phone)
    wrong = "000000" if code != "000000" else "111111"
    statuses = []
    for _ in range(6):
        r = await mesh.http.post("/v1/auth/otp:verify", json={"phone": phone, "code": wrong})
        statuses.append(r.status_code)
    assert all(s != 200 for s in statuses)
    # Even the right code no longer works: a new one must be requested.
    r = await mesh.http.post("/v1/auth/otp:verify", json={"phone": phone, "code": code})
    assert r.status_code != 200
    reasons = [d.get("reason") for d in r.json()["details"]]
    assert "OTP_ATTEMPTS_EXHAUSTED" in reasons


async def test_refresh_rotates_and_reuse_revokes_the_family(mesh: Mesh) -> None:
    reg = await register(mesh)
    first = reg["tokens"]["refreshToken"]
    r = await mesh.http.post("/v1/auth:refresh", json={"refreshToken": first})
    assert r.status_code == 200, r.text
    second = r.json()["tokens"]["refreshToken"]
    assert second != first
    reuse = await mesh.http.post("/v1/auth:refresh", json={"refreshToken": first})
    assert reuse.status_code == 401
    assert "REFRESH_TOKEN_REUSED" in [d.get("reason") for d in reuse.json()["details"]]
    # The whole family is gone: the newest token stopped working too.
    after = await mesh.http.post("/v1/auth:refresh", json={"refreshToken": second})
    assert after.status_code == 401


async def test_addresses_crud_and_isolation(mesh: Mesh) -> None:
    alice = (await register(mesh))["tokens"]["accessToken"]
    bob = (await register(mesh))["tokens"]["accessToken"]
    home = {
        "label": "Home",
        "postalAddress": {
            "recipientName": "Alice",
            "phone": "9876543210",
            "line1": "12 MG Road",
            "city": "Bengaluru",
            "stateCode": "KA",
            "pincode": "560001",
        },
    }
    r = await mesh.http.post("/v1/me/addresses", json=home, headers=bearer(alice))
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["isDefault"] is True and first["name"].startswith("addresses/")
    office = {**home, "label": "Office"}
    second = (await mesh.http.post("/v1/me/addresses", json=office, headers=bearer(alice))).json()
    assert second["isDefault"] is False
    r = await mesh.http.post(f"/v1/me/{second['name']}:setDefault", json={}, headers=bearer(alice))
    assert r.status_code == 200 and r.json()["isDefault"] is True
    listed = (await mesh.http.get("/v1/me/addresses", headers=bearer(alice))).json()["addresses"]
    assert {a["name"]: a["isDefault"] for a in listed} == {
        first["name"]: False,
        second["name"]: True,
    }
    r = await mesh.http.patch(
        f"/v1/me/{first['name']}", json={"label": "Parents"}, headers=bearer(alice)
    )
    assert r.status_code == 200 and r.json()["label"] == "Parents"
    # Bob cannot see, change or delete Alice's address: NOT_FOUND, not 403.
    assert (await mesh.http.get(f"/v1/me/{first['name']}", headers=bearer(bob))).status_code == 404
    r = await mesh.http.delete(f"/v1/me/{first['name']}", headers=bearer(bob))
    assert r.status_code == 404
    # Bad pincode: 400 with the field named, nothing stored.
    bad = {**home, "postalAddress": {**home["postalAddress"], "pincode": "012345"}}
    r = await mesh.http.post("/v1/me/addresses", json=bad, headers=bearer(alice))
    assert r.status_code == 400
    assert "pincode" in r.text
    assert (
        len((await mesh.http.get("/v1/me/addresses", headers=bearer(alice))).json()["addresses"])
        == 2
    )
    r = await mesh.http.delete(f"/v1/me/{second['name']}", headers=bearer(alice))
    assert r.status_code == 200
    left = (await mesh.http.get("/v1/me/addresses", headers=bearer(alice))).json()["addresses"]
    assert [a["isDefault"] for a in left] == [True]


async def test_admin_logs_in_with_seeded_credentials_and_manages_roles(mesh: Mesh) -> None:
    token = await admin_token(mesh)
    roles = (await mesh.http.get("/v1/admin/roles", headers=bearer(token))).json()["roles"]
    assert any(r["name"] == "roles/super_admin" and r["system"] for r in roles)
    perms = (await mesh.http.get("/v1/admin/permissions", headers=bearer(token))).json()
    assert "roles.write" in perms["permissions"]
    role_id = f"auditor_{secrets.token_hex(3)}"
    r = await mesh.http.post(
        "/v1/admin/roles",
        json={
            "name": f"roles/{role_id}",
            "displayName": "Auditor",
            "permissions": ["audit_logs.read"],
        },
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    r = await mesh.http.patch(
        f"/v1/admin/roles/{role_id}",
        json={"permissions": ["audit_logs.read", "customers.read"]},
        headers=bearer(token),
    )
    assert r.status_code == 200 and set(r.json()["permissions"]) == {
        "audit_logs.read",
        "customers.read",
    }
    r = await mesh.http.post(
        "/v1/admin/roles",
        json={"name": "roles/bogus", "permissions": ["no.such.permission"]},
        headers=bearer(token),
    )
    assert r.status_code == 400
    logs = await mesh.http.get(
        "/v1/admin/auditLogs", params={"action": "role.update"}, headers=bearer(token)
    )
    assert logs.status_code == 200
    assert any(e["target"] == f"roles/{role_id}" for e in logs.json()["auditLogs"])
    r = await mesh.http.delete(f"/v1/admin/roles/{role_id}", headers=bearer(token))
    assert r.status_code == 200


def _forge(token: str, *, payload_patch: dict | None = None, alg_none: bool = False) -> str:
    head, body, sig = token.split(".")

    def dec(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    def enc(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    h, p = dec(head), dec(body)
    p.update(payload_patch or {})
    if alg_none:
        h["alg"] = "none"
        return f"{enc(h)}.{enc(p)}."
    return f"{head}.{enc(p)}.{sig}"


async def test_access_policy_at_the_edge(mesh: Mesh) -> None:
    customer = (await register(mesh))["tokens"]["accessToken"]
    assert (await mesh.http.get("/v1/admin/roles")).status_code == 401
    no_token = await mesh.http.get("/v1/me")
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"].startswith("Bearer")
    assert (await mesh.http.get("/v1/admin/roles", headers=bearer(customer))).status_code == 403
    forged = [
        _forge(customer, payload_patch={"role": "admin", "perms": ["*"]}),  # tampered
        _forge(customer, payload_patch={"role": "admin", "perms": ["*"]}, alg_none=True),
        _forge(customer, payload_patch={"aud": "someone-else"}),
        customer[:-4] + ("AAAA" if not customer.endswith("AAAA") else "BBBB"),
        "garbage",
    ]
    for token in forged:
        r = await mesh.http.get("/v1/admin/roles", headers=bearer(token))
        assert r.status_code == 401, (token, r.text)
        r = await mesh.http.get("/v1/me", headers=bearer(token))
        assert r.status_code == 401


async def test_the_same_policy_holds_straight_over_grpc(mesh: Mesh) -> None:
    customer = (await register(mesh))["tokens"]["accessToken"]
    async with grpc.aio.insecure_channel(str(mesh.auth_addr)) as ch:
        admin = admin_service_pb2_grpc.AdminServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await admin.ListRoles(admin_service_pb2.ListRolesRequest())
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await admin.ListRoles(
                admin_service_pb2.ListRolesRequest(),
                metadata=(("authorization", f"Bearer {customer}"),),
            )
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        forged = _forge(customer, payload_patch={"role": "admin", "perms": ["*"]})
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await admin.ListRoles(
                admin_service_pb2.ListRolesRequest(),
                metadata=(("authorization", f"Bearer {forged}"),),
            )
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_jwks_published_at_the_well_known_path(mesh: Mesh) -> None:
    r = await mesh.http.get("/.well-known/jwks.json")
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert keys and all(k["kty"] == "OKP" and k["alg"] == "EdDSA" and k["kid"] for k in keys)


async def test_metrics_count_auth_rpcs_by_code(mesh: Mesh) -> None:
    reg = await register(mesh)
    await mesh.http.post(
        "/v1/auth:login", json={"email": reg["user"]["email"], "password": "wrong-password!"}
    )
    async with httpx.AsyncClient() as c:
        text = (await c.get(f"{mesh.auth_metrics.url}/metrics")).text
    lines = [ln for ln in text.splitlines() if ln.startswith("grpc_server_handled_total{")]

    def count(method: str, code: str) -> float:
        for ln in lines:
            if f'grpc_method="{method}"' in ln and f'grpc_code="{code}"' in ln:
                return float(ln.rsplit(" ", 1)[1])
        return 0.0

    assert count("RegisterCustomer", "OK") >= 1
    assert count("LoginWithPassword", "UNAUTHENTICATED") >= 1
    edge_metrics = (await mesh.http.get("/metrics")).text
    assert "http_requests_total" in edge_metrics


async def test_one_trace_runs_from_the_edge_into_auth(mesh: Mesh) -> None:
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    r = await mesh.http.get("/v1/auth/jwks", headers={"traceparent": traceparent})
    assert r.status_code == 200
    import asyncio

    needle = f"0x{trace_id}"
    for _ in range(50):
        if needle in mesh.log("edge") and needle in mesh.log("auth"):
            break
        await asyncio.sleep(0.1)
    assert needle in mesh.log("edge"), "edge exported no span for the request's trace"
    assert needle in mesh.log("auth"), "auth exported no span in the same trace"
