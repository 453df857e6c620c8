"""Password hashing with argon2id (argon2-cffi), and the minimum a password must meet."""

from __future__ import annotations

import base64
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10


class PasswordPolicyError(ValueError):
    """A new password is too weak; the message says what to change."""


def make_hasher() -> PasswordHasher:
    """An argon2id hasher with argon2-cffi's RFC 9106 low-memory profile (fits a Raspberry Pi)."""
    return PasswordHasher()  # argon2-cffi defaults: argon2id, t=3, m=64 MiB, p=4


def unmatchable_hash(hasher: PasswordHasher) -> str:
    """An encoded hash with ``hasher``'s parameters that no password matches, made without hashing.

    Verifying against it costs a full argon2id check (the point: an unknown user's login takes as
    long as a known one's), but building it needs none, so start-up does not spend 64 MiB and a
    second of CPU on a hash that only failed logins use.
    """
    def b64(n: int) -> str:
        return base64.b64encode(secrets.token_bytes(n)).decode().rstrip("=")

    kind = f"argon2{hasher.type.name.lower()}"
    return (f"${kind}$v=19$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
            f"${b64(hasher.salt_len)}${b64(hasher.hash_len)}")


def check_policy(password: str, username: str = "") -> None:
    """Raise PasswordPolicyError when ``password`` is too short or equals the user name."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"password too short: use at least {MIN_LENGTH} characters")
    if username and password.strip().lower() == username.strip().lower():
        raise PasswordPolicyError("password must not be the user name")


def verify(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; never raises on a bad hash."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
