"""Who is calling, and whether the RPC's declared access policy lets them.

Access tokens are JWTs the auth service signs with Ed25519 (alg EdDSA, `kid` in the
header). Anyone holding the public JWK set verifies them: the edge before it calls
a service, and every service again on each RPC (a direct gRPC caller cannot get
around the policy). Algorithms are pinned; `iss`, `aud`, `exp`, `nbf` are checked.

Calls between services carry a short-lived internal token in the
`x-cleanse-internal` metadata key: an HS256 JWT over the mesh's shared secret
(`CLEANSE_INTERNAL_SECRET`), audience "cleanse-internal". The edge drops that
header from incoming requests, so only mesh members can call INTERNAL RPCs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import jwt
from jwt.algorithms import OKPAlgorithm

from cleanse.common.v1 import access_pb2
from mesh.contracts import MethodContract
from mesh.errors import PermissionDenied, Unauthenticated

ISSUER = "cleanse-auth"
AUDIENCE = "cleanse"
ACCESS_ALGORITHM = "EdDSA"
INTERNAL_AUDIENCE = "cleanse-internal"
INTERNAL_ALGORITHM = "HS256"
INTERNAL_HEADER = "x-cleanse-internal"
INTERNAL_SECRET_ENV = "CLEANSE_INTERNAL_SECRET"
LEEWAY_SECONDS = 5
EDGE_SERVICE = "edge"

Audience = access_pb2.Audience
# The enum's values as plain ints: `Audience.AUDIENCE_PUBLIC` is a Python-level
# __getattr__ on protobuf's enum wrapper, and `authorize` runs on every RPC.
AUDIENCE_PUBLIC = access_pb2.AUDIENCE_PUBLIC
AUDIENCE_INTERNAL = access_pb2.AUDIENCE_INTERNAL
AUDIENCE_CUSTOMER = access_pb2.AUDIENCE_CUSTOMER
AUDIENCE_ADMIN = access_pb2.AUDIENCE_ADMIN


@dataclass(frozen=True)
class Identity:
    """The verified caller of an RPC."""

    kind: str  # "anonymous" | "customer" | "admin" | "service"
    subject: str = ""  # "users/..", "adminUsers/..", or the calling service's name
    session: str = ""  # "sessions/.." for customer and admin tokens
    permissions: frozenset[str] = field(default_factory=frozenset)
    token_id: str = ""

    @property
    def is_customer(self) -> bool:
        return self.kind == "customer"

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    def has_permission(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions

    @property
    def subject_id(self) -> str:
        """The id part of the subject resource name ("users/abc" -> "abc")."""
        return self.subject.rsplit("/", 1)[-1]


ANONYMOUS = Identity(kind="anonymous")


def authorize(contract: MethodContract, identity: Identity, via_service: str = "") -> None:
    """Raise unless `identity` may call the RPC `contract` describes.

    `via_service` is the mesh member that relayed the call (its internal token was
    verified); INTERNAL RPCs need one, whoever the call is on behalf of.
    """
    audience = contract.audience
    if audience == AUDIENCE_PUBLIC:
        return
    if audience == AUDIENCE_INTERNAL:
        relayed_by = via_service or (identity.subject if identity.kind == "service" else "")
        # The edge relays outside callers: it never reaches an INTERNAL RPC.
        if not relayed_by or relayed_by == EDGE_SERVICE:
            raise PermissionDenied(f"{contract.method} is internal to the mesh")
        return
    if identity.kind == "anonymous":
        raise Unauthenticated("a valid access token is required")
    if audience == AUDIENCE_CUSTOMER:
        if identity.is_customer or (contract.allow_admin and identity.is_admin):
            return
        raise PermissionDenied(f"{contract.method} is for customers")
    if audience == AUDIENCE_ADMIN:
        if not identity.is_admin:
            raise PermissionDenied(f"{contract.method} needs an admin")
        if contract.permission and not identity.has_permission(contract.permission):
            raise PermissionDenied(
                f"{contract.method} needs the permission {contract.permission!r}",
                metadata={"permission": contract.permission},
            )
        return
    # AUDIENCE_UNSPECIFIED: a contract test forbids it; refuse at run time too.
    raise PermissionDenied(f"{contract.method} declares no access policy")


def identity_from_claims(claims: Mapping[str, object]) -> Identity:
    role = claims.get("role")
    if role not in ("customer", "admin"):
        raise Unauthenticated("token has no valid role")
    perms = claims.get("perms") or []
    if not isinstance(perms, list):
        raise Unauthenticated("token permissions malformed")
    return Identity(
        kind=str(role),
        subject=str(claims.get("sub", "")),
        session=str(claims.get("sid", "")),
        permissions=frozenset(str(p) for p in perms) if role == "admin" else frozenset(),
        token_id=str(claims.get("jti", "")),
    )


JwksSource = Callable[[], Awaitable[Sequence[Mapping[str, str]]]]


class TokenVerifier:
    """Verifies access tokens against the auth service's published JWK set.

    Keys are cached by `kid`; an unknown `kid` triggers at most one JWKS refresh
    per `min_refresh_interval` (so a rotated key is picked up at once, and junk
    kids cannot hammer the auth service).
    """

    def __init__(self, jwks_source: JwksSource, *, min_refresh_interval: float = 5.0) -> None:
        self._source = jwks_source
        self._keys: dict[str, object] = {}
        self._last_refresh = float("-inf")
        self._min_refresh = min_refresh_interval
        self._lock = asyncio.Lock()

    def set_jwks(self, jwks: Sequence[Mapping[str, str]]) -> None:
        keys: dict[str, object] = {}
        for jwk in jwks:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
                keys[jwk["kid"]] = OKPAlgorithm.from_jwk(dict(jwk))
        self._keys = keys

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._last_refresh < self._min_refresh:
                return
            self._last_refresh = time.monotonic()
            self.set_jwks(await self._source())

    async def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed access token") from None
        if header.get("alg") != ACCESS_ALGORITHM:
            raise Unauthenticated("access token algorithm not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("access token has no key id")
        key = self._keys.get(kid)
        if key is None:
            try:
                await self._refresh()
            except Exception:
                raise Unauthenticated("cannot fetch token signing keys") from None
            key = self._keys.get(kid)
            if key is None:
                raise Unauthenticated("access token signed by an unknown key")
        return identity_from_claims(decode_access_token(token, key))


def decode_access_token(token: str, key: object) -> dict:
    try:
        return jwt.decode(
            token,
            key=key,  # type: ignore[arg-type]
            algorithms=[ACCESS_ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("access token expired", reason="TOKEN_EXPIRED") from None
    except jwt.PyJWTError:
        raise Unauthenticated("invalid access token") from None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    return token.strip()


# --- service-to-service ---------------------------------------------------------


def internal_secret(env: Mapping[str, str] | None = None) -> str:
    """The mesh's shared secret; start-up fails fast without it."""
    env = os.environ if env is None else env
    secret = env.get(INTERNAL_SECRET_ENV, "")
    if len(secret) < 32:
        raise RuntimeError(
            f"{INTERNAL_SECRET_ENV} must be set to at least 32 characters "
            "(the supervisor generates one under the data folder)"
        )
    return secret


class InternalTokens:
    """Mints and checks the tokens services attach to calls between each other."""

    TTL = 60.0

    def __init__(self, service: str, secret: str) -> None:
        self.service = service
        self._secret = secret
        self._cached: tuple[str, float] = ("", 0.0)
        # Verified tokens until they expire: a peer reuses one token for TTL/2, so
        # each is checked once instead of on every call (bounded; cleared when full).
        self._verified: dict[str, tuple[Identity, float]] = {}

    def mint(self) -> str:
        token, expires = self._cached
        now = time.time()
        if now < expires - self.TTL / 2:
            return token
        token = jwt.encode(
            {
                "iss": self.service,
                "sub": self.service,
                "aud": INTERNAL_AUDIENCE,
                "iat": int(now),
                "exp": int(now + self.TTL),
            },
            self._secret,
            algorithm=INTERNAL_ALGORITHM,
        )
        self._cached = (token, now + self.TTL)
        return token

    VERIFIED_CACHE_SIZE = 1024

    def verify(self, token: str) -> Identity:
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[INTERNAL_ALGORITHM],
                audience=INTERNAL_AUDIENCE,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            raise Unauthenticated("invalid internal service token") from None
        identity = Identity(kind="service", subject=str(claims["iss"]))
        if len(self._verified) >= self.VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (identity, float(claims["exp"]))
        return identity
