"""Access tokens: Ed25519 signing keys kept in the database, JWTs, and the JWK set.

- Private keys are encrypted at rest with AES-256-GCM under a key derived (HKDF-SHA256)
  from the mesh secret (CLEANSE_INTERNAL_SECRET); the key id is the associated data.
- Exactly one key signs at a time (the newest unretired one). `rotate()` retires it:
  a retired key stays in the JWK set (so its tokens keep verifying) until every
  token it signed has expired, i.e. for the access-token lifetime plus leeway.
- Access tokens: alg EdDSA, `kid` header; claims iss, aud, sub, role, perms (admin
  only), sid, jti, iat, nbf, exp (see mesh.identity, which verifies them).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, utcnow
from mesh.identity import ACCESS_ALGORITHM, AUDIENCE, ISSUER, LEEWAY_SECONDS
from services.auth.models import SigningKey

# How long the signing key is cached in memory before re-reading which key is current
# (another replica may have rotated).
CURRENT_KEY_CACHE_SECONDS = 30.0

JwksListener = Callable[[Sequence[Mapping[str, str]]], None]


def derive_key(secret: str, info: bytes, length: int = 32) -> bytes:
    """A purpose-bound key from the mesh secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"cleanse-auth", info=info).derive(
        secret.encode()
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class KeyCipher:
    """AES-GCM for private keys at rest."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(derive_key(secret, b"cleanse-auth/signing-key-encryption"))

    def encrypt(self, kid: str, plaintext: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, plaintext, kid.encode())

    def decrypt(self, kid: str, blob: bytes) -> bytes:
        return self._aead.decrypt(blob[:12], blob[12:], kid.encode())


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    private_key: Ed25519PrivateKey


def new_kid(now: datetime) -> str:
    return f"{now:%Y%m%d}-{secrets.token_hex(6)}"


def public_jwk(kid: str, x: str) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


class KeyStore:
    """The signing keys of the auth service (the source of its JWK set)."""

    def __init__(self, db: Database, secret: str, access_token_ttl_seconds: int) -> None:
        self._db = db
        self._cipher = KeyCipher(secret)
        self._overlap = timedelta(seconds=access_token_ttl_seconds + LEEWAY_SECONDS + 60)
        self._current: tuple[LoadedKey, float] | None = None
        self._jwks: tuple[list[dict[str, str]], float] | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[JwksListener] = []

    def on_change(self, listener: JwksListener) -> None:
        """Call `listener(jwks)` after this process changed the keys (rotation)."""
        self._listeners.append(listener)

    def new_key(self, session: AsyncSession, now: datetime) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        x = b64url(private.public_key().public_bytes_raw())
        kid = new_kid(now)
        row = SigningKey(
            kid=kid,
            private_key_encrypted=self._cipher.encrypt(kid, raw),
            public_key_x=x,
            create_time=now,
        )
        session.add(row)
        return row

    async def ensure_key(self) -> None:
        """Create the first signing key if there is none (start-up)."""
        async with self._db.transaction() as s:
            if await self._newest_active(s) is None:
                self.new_key(s, utcnow())

    async def rotate(self, session: AsyncSession) -> str:
        """Retire the signing key(s) and start a new one, in the caller's transaction.

        Call `changed()` after the transaction commits.
        """
        now = utcnow()
        active = await session.scalars(
            select(SigningKey).where(SigningKey.retire_time.is_(None)).with_for_update()
        )
        for key in active:
            key.retire_time = now
            key.verify_until = now + self._overlap
        return self.new_key(session, now).kid

    async def changed(self) -> None:
        self._current = None
        self._jwks = None
        jwks = await self.jwks()
        for listener in self._listeners:
            listener(jwks)

    async def _newest_active(self, session: AsyncSession) -> SigningKey | None:
        return await session.scalar(
            select(SigningKey)
            .where(SigningKey.retire_time.is_(None))
            .order_by(SigningKey.create_time.desc(), SigningKey.kid.desc())
            .limit(1)
        )

    async def current(self) -> LoadedKey:
        cached = self._current
        if cached is not None and time.monotonic() - cached[1] < CURRENT_KEY_CACHE_SECONDS:
            return cached[0]
        async with self._lock:
            async with self._db.session() as s:
                row = await self._newest_active(s)
            if row is None:
                await self.ensure_key()
                async with self._db.session() as s:
                    row = await self._newest_active(s)
                assert row is not None
            raw = self._cipher.decrypt(row.kid, row.private_key_encrypted)
            loaded = LoadedKey(row.kid, Ed25519PrivateKey.from_private_bytes(raw))
            self._current = (loaded, time.monotonic())
            return loaded

    async def jwks(self) -> list[dict[str, str]]:
        """Active keys plus retired keys whose tokens may still be unexpired.

        Every verifier of the mesh asks for this, so it is served from memory:
        `changed()` (this replica rotated) clears it at once, and it is re-read
        after CURRENT_KEY_CACHE_SECONDS so a rotation by another replica shows up.
        """
        cached = self._jwks
        if cached is not None and time.monotonic() - cached[1] < CURRENT_KEY_CACHE_SECONDS:
            return cached[0]
        now = utcnow()
        async with self._db.session() as s:
            rows = await s.scalars(
                select(SigningKey)
                .where(or_(SigningKey.retire_time.is_(None), SigningKey.verify_until > now))
                .order_by(SigningKey.create_time.desc())
            )
            keys = [public_jwk(r.kid, r.public_key_x) for r in rows]
        self._jwks = (keys, time.monotonic())
        return keys

    async def sign(self, claims: Mapping[str, object], *, kid: str | None = None) -> str:
        key = await self.current()
        return jwt.encode(
            dict(claims),
            key.private_key,
            algorithm=ACCESS_ALGORITHM,
            headers={"kid": kid or key.kid, "typ": "JWT"},
        )


class TokenIssuer:
    """Builds and signs access tokens."""

    def __init__(self, keys: KeyStore, ttl_seconds: int) -> None:
        self.keys = keys
        self.ttl_seconds = ttl_seconds

    async def access_token(
        self,
        *,
        subject: str,
        role: str,
        session: str,
        permissions: Sequence[str] = (),
        now: datetime | None = None,
    ) -> str:
        now = now or utcnow()
        iat = int(now.timestamp())
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "role": role,
            "sid": session,
            "jti": secrets.token_urlsafe(16),
            "iat": iat,
            "nbf": iat,
            "exp": iat + self.ttl_seconds,
        }
        if role == "admin":
            claims["perms"] = sorted(permissions)
        return await self.keys.sign(claims)
