"""Visitors' ID numbers: masked for screens, encrypted at rest with AES-GCM (key from env or file), and a
keyed hash for watch-list matching that never stores the number itself."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


def normalise_id(number: str) -> str:
    """ID number without spaces or dashes, upper case (the ``x`` of a Chinese ID's check digit)."""
    return "".join(ch for ch in number if ch.isalnum()).upper()


def mask_id(number: str) -> str:
    """What screens show: the first 3 and last 4 characters, the rest as ``*`` (``110**********1234``)."""
    n = normalise_id(number)
    if len(n) <= 7:
        return "*" * len(n)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]


def load_key(env: str, file: str | None) -> bytes:
    """The 32-byte key from ``file`` or the environment variable ``env``; ConfigError saying how to make one."""
    how = ("make one with: python3 -c \"import secrets; print(secrets.token_hex(32))\" and keep it out of "
           "the repository and backups of the config")
    if file:
        try:
            text = Path(file).read_text(encoding="ascii").strip()
        except OSError as e:
            raise ConfigError([f"[gate] id_key_file = {file!r}: cannot be read ({e}); {how}"]) from None
        where = f"id_key_file {file!r}"
    else:
        text = os.environ.get(env, "").strip()
        if not text:
            raise ConfigError([f"[gate] id_numbers = \"encrypted\" needs a key in the environment variable {env} "
                               f"(id_key_env) or in id_key_file; {how}"])
        where = f"environment variable {env}"
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError([f"[gate] the ID key in {where} must be 64 hexadecimal characters (32 bytes); {how}"])
    return key


class IdCipher:
    """AES-256-GCM of ID numbers; each value has its own random nonce (stored in front of the ciphertext)."""

    def __init__(self, key: bytes) -> None:
        # Imported here: only a site keeping ID numbers encrypted loads cryptography (7 MB resident on a Pi).
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead: AESGCM = AESGCM(key)
        # A separate key for the watch-list hash, derived so the encryption key is never used twice.
        self._hash_key = hmac.new(key, b"houqin watch-list hash", hashlib.sha256).digest()

    def encrypt(self, number: str) -> bytes:
        """Nonce + ciphertext of the normalised number."""
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, normalise_id(number).encode(), b"houqin-id")

    def decrypt(self, blob: bytes) -> str:
        """The number back; ValueError when the key is wrong or the value was altered."""
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], b"houqin-id").decode()
        except InvalidTag:
            raise ValueError("the ID number cannot be decrypted with this key (wrong key or altered record)") from None

    def digest(self, number: str) -> str:
        """Keyed hash of the normalised number, for watch-list matching."""
        return hmac.new(self._hash_key, normalise_id(number).encode(), hashlib.sha256).hexdigest()
