"""``credentials.json``: every client's user name and password, readable by root alone (mode 0600)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

FILE_NAME = "credentials.json"


@dataclass(frozen=True, slots=True)
class Login:
    """One client's user name and password."""

    username: str
    password: str


def new_password() -> str:
    """A random password (32 URL-safe characters, about 190 bits)."""
    return secrets.token_urlsafe(24)


@dataclass
class Credentials:
    """Logins by role: the gateway's, each agent's and each device's; ``revoked`` devices get none."""

    gateway: Login | None = None
    agents: dict[str, Login] = field(default_factory=dict)
    devices: dict[str, Login] = field(default_factory=dict)
    homeassistant: Login | None = None
    revoked: list[str] = field(default_factory=list)

    def users(self) -> dict[str, str]:
        """User name -> password of every login (devices sharing a publisher share one)."""
        out: dict[str, str] = {}
        for login in [self.gateway, self.homeassistant, *self.agents.values(), *self.devices.values()]:
            if login is not None:
                out[login.username] = login.password
        return out

    def to_json(self) -> bytes:
        """The file's content."""
        def one(login: Login | None) -> dict[str, str] | None:
            return None if login is None else {"username": login.username, "password": login.password}

        doc: dict[str, Any] = {
            "gateway": one(self.gateway),
            "agents": {k: one(v) for k, v in sorted(self.agents.items())},
            "devices": {k: one(v) for k, v in sorted(self.devices.items())},
        }
        if self.homeassistant is not None:
            doc["homeassistant"] = one(self.homeassistant)
        if self.revoked:
            doc["revoked"] = sorted(self.revoked)
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def load(cls, path: Path) -> Credentials:
        """Read the file; an absent file is empty credentials; a damaged one is an error naming it."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                gateway=_login(doc.get("gateway")),
                agents={k: _need(v) for k, v in doc.get("agents", {}).items()},
                devices={k: _need(v) for k, v in doc.get("devices", {}).items()},
                homeassistant=_login(doc.get("homeassistant")),
                revoked=[str(x) for x in doc.get("revoked", [])],
            )
        except FileNotFoundError:
            return cls()
        except (ValueError, TypeError, AttributeError, KeyError) as e:
            raise ConfigError([f"{path}: is not a Houqin credentials file ({e}); move it aside and run "
                               "`houqin mqtt setup` again (every client then needs its new password)"]) from None


def _login(v: Any) -> Login | None:
    return None if v is None else Login(str(v["username"]), str(v["password"]))


def _need(v: Any) -> Login:
    return Login(str(v["username"]), str(v["password"]))
