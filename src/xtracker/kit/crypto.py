"""Secrets at rest (bot tokens, Meta access tokens, webhook signing secrets).

Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography`` with a key derived from the
``XTRACKER_SECRET_KEY`` setting. The ciphertext carries a ``v1:`` prefix so the scheme can change.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(("xtracker-at-rest|" + secret_key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, plaintext: str) -> str:
        return "v1:" + self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        if not ciphertext.startswith("v1:"):
            raise ValueError("unknown ciphertext format")
        try:
            return self._fernet.decrypt(ciphertext[3:].encode()).decode()
        except InvalidToken:
            raise ValueError("secret cannot be decrypted with this XTRACKER_SECRET_KEY") from None
