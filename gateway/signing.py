"""Signed MQTT messages between the gateway and the agent: gate commands, the card list, the gateway's availability.

A broker that is misconfigured (anonymous, one shared password) lets anyone publish anything; the gate must
still hold. The gateway and the agent share a site key (32 random bytes, hex in a file readable by the service
only) and every message that can open a door carries ``ts``, ``nonce`` and ``sig``: an HMAC-SHA256 over the
topic and the canonical JSON of the rest. The agent refuses what is unsigned, altered, stale or replayed.

Standard library only: the sensor agent imports it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

#: The fields a signed payload adds to its JSON object.
ENVELOPE = ("ts", "nonce", "sig")
#: Default freshness window of a signed command: both sides usually share one Pi or a LAN with NTP.
MAX_AGE_S = 30.0
#: How many nonces the verifier remembers (past the freshness window they are refused as stale anyway).
REMEMBER = 4096
#: Event types the agent signs (``card``, ``button``): a forged one would open the gate or excuse a forced opening.
SIGNED_EVENTS = ("card", "button")
#: File name of the key when ``[gate] command_key_file`` is not set: in the gateway's data directory.
KEY_NAME = "gate.key"

Reason = Literal["unsigned", "altered", "stale", "replayed"]
_HOW = "make one with `houqin gate keygen` (the install script does) and copy the same file to every agent"


class SignatureError(ValueError):
    """A signed message was refused; ``reason`` is ``unsigned``, ``altered``, ``stale`` or ``replayed``."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason: Reason = reason
        super().__init__(detail)


class KeyFileError(ValueError):
    """The key file is missing or not a key (the message names the file and the fix)."""


def key_path(configured: str | None, data_dir: Path) -> Path:
    """Where the key lives: ``[gate] command_key_file`` or ``<data dir>/gate.key``."""
    return Path(configured) if configured else Path(data_dir) / KEY_NAME


def write_key(path: Path, mode: int = 0o600) -> bool:
    """Create a new random key at ``path`` unless one is there; True when it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return True


def read_key(path: Path) -> bytes:
    """The 32-byte key in ``path``; KeyFileError naming the file and the fix."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError as e:
        raise KeyFileError(f"gate command key {str(path)!r} cannot be read ({e.strerror or e}); {_HOW}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyFileError(f"gate command key {str(path)!r} must hold 64 hexadecimal characters; {_HOW}")
    return key


def ensure_key(path: Path) -> bytes:
    """Read the key, creating it first when the file does not exist (a single-Pi install, the demo)."""
    try:
        write_key(path)
    except OSError as e:
        raise KeyFileError(f"gate command key {str(path)!r} cannot be created ({e.strerror or e}); {_HOW}") from None
    return read_key(path)


def _canonical(topic: str, body: Mapping[str, Any]) -> bytes:
    return topic.encode() + b"\n" + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _mac(key: bytes, topic: str, body: Mapping[str, Any]) -> str:
    return hmac.new(key, _canonical(topic, body), hashlib.sha256).hexdigest()


def card_digest(key: bytes, site: str, uid: str) -> str:
    """Keyed hash of a normalised card number as the cached list carries it (no key, no digest to forge)."""
    return hmac.new(key, f"houqin-card:{site}:{uid}".encode(), hashlib.sha256).hexdigest()[:32]


class Signer:
    """Seals JSON objects for a topic with the site key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, topic: str, body: Mapping[str, Any], now: float) -> bytes:
        """``body`` plus ``ts``, a fresh ``nonce`` and ``sig``, as compact JSON."""
        sealed = {k: v for k, v in body.items() if k not in ENVELOPE}
        sealed["ts"] = now
        sealed["nonce"] = secrets.token_hex(12)
        sealed["sig"] = _mac(self._key, topic, sealed)
        return json.dumps(sealed, separators=(",", ":")).encode()

    def event_fields(self, topic: str, type_: str, data: Mapping[str, Any], ts: float) -> dict[str, str]:
        """The ``nonce`` and ``sig`` an event of ``type_`` carries (over its type, data and ``ts``, not its ``seq``)."""
        nonce = secrets.token_hex(12)
        body = event_body(type_, {**data, "nonce": nonce}, ts)
        return {"nonce": nonce, "sig": _mac(self._key, topic, body)}


def event_body(type_: str, data: Mapping[str, Any], ts: float) -> dict[str, Any]:
    """What an event's signature covers: its type, its data (with the nonce, without ``sig``) and its time."""
    return {**{k: v for k, v in data.items() if k != "sig"}, "type": type_, "ts": ts}


class Verifier:
    """Opens sealed payloads: refuses unsigned, altered, stale (outside ``max_age`` either way) or replayed ones.

    Thread-safe; remembers the last ``remember`` nonces.
    """

    def __init__(self, key: bytes, max_age: float = MAX_AGE_S, remember: int = REMEMBER) -> None:
        self._key = key
        self.max_age = max_age
        self._remember = remember
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, topic: str, payload: bytes) -> dict[str, Any]:
        """The body (envelope removed, ``ts`` kept) when the signature holds; SignatureError otherwise.

        Neither age nor replay is judged: retained messages (the card list) are ordered by the caller.
        """
        try:
            body = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            raise SignatureError("unsigned", "not a signed JSON object") from None
        if not isinstance(body, dict):
            raise SignatureError("unsigned", "not a signed JSON object")
        return self.check_body(topic, body)

    def check_body(self, topic: str, body: dict[str, Any]) -> dict[str, Any]:
        """``check`` on an already parsed JSON object (``sig`` is removed from it)."""
        if not all(k in body for k in ENVELOPE):
            raise SignatureError("unsigned", "it carries no signature")
        sig = body.pop("sig")
        ts = body.get("ts")
        if not isinstance(sig, str) or not isinstance(body.get("nonce"), str) or \
                isinstance(ts, bool) or not isinstance(ts, int | float):
            raise SignatureError("unsigned", "its signature fields are malformed")
        if not hmac.compare_digest(sig, _mac(self._key, topic, body)):
            raise SignatureError("altered", "the signature does not match (altered, another topic, or another key)")
        return body

    def open(self, topic: str, payload: bytes, now: float) -> dict[str, Any]:
        """``check``, then refuse a message older or newer than ``max_age`` or one whose nonce was seen."""
        body = self.check(topic, payload)
        age = now - float(body["ts"])
        if abs(age) > self.max_age:
            raise SignatureError("stale", f"it is {age:.0f} s {'old' if age > 0 else 'in the future'} "
                                          f"(at most {self.max_age:g} s; are both clocks synchronised?)")
        self.once(str(body["nonce"]), now)
        return body

    def once(self, nonce: str, now: float) -> None:
        """Remember ``nonce``; SignatureError ``replayed`` when it was seen before."""
        with self._lock:
            if nonce in self._seen:
                raise SignatureError("replayed", "its nonce was seen before (a replay)")
            self._seen[nonce] = now
            while len(self._seen) > self._remember:
                self._seen.popitem(last=False)
