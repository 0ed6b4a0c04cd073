"""Carrier webhook secrets at rest: encrypted, because verifying an HMAC needs the key.

A hash would not do: the service must recompute HMAC-SHA256(secret, body). Secrets
are stored as Fernet tokens (AES-128-CBC + HMAC-SHA256) under a key derived with
HKDF-SHA256 from CLEANSE_SHIPPING_SECRETS_KEY, or from the mesh secret
(CLEANSE_INTERNAL_SECRET) when that is not set. The API never returns a secret,
only whether one is set.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBox:
    def __init__(self, master: str) -> None:
        if len(master) < 32:
            raise RuntimeError("the shipping secrets key must be at least 32 characters")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"cleanse-shipping-secrets"
        ).derive(master.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode() if secret else ""

    def open(self, token: str) -> str:
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return ""  # another key: treated as unset, every webhook is rejected
