"""Mosquitto's password file format (``mosquitto_passwd``): PBKDF2-SHA512, 101 rounds, ``$7$`` lines."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

#: Mosquitto 2.0's own choice (``mosquitto_passwd`` writes ``$7$101$``); the broker reads the count.
ROUNDS = 101
SALT_BYTES = 12


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The ``$7$rounds$salt$hash`` string Mosquitto checks ``password`` against."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ROUNDS)
    return f"$7${ROUNDS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify(password: str, hashed: str) -> bool:
    """True when ``hashed`` (a ``$7$`` string) is the hash of ``password``."""
    try:
        _, kind, rounds, salt, digest = hashed.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    mine = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(rounds))
    return hmac.compare_digest(base64.b64encode(mine).decode(), digest)


def render(users: dict[str, str]) -> str:
    """A password file for ``users`` (user name -> clear password), sorted so reruns write the same users."""
    return "".join(f"{name}:{hash_password(pw)}\n" for name, pw in sorted(users.items()))
