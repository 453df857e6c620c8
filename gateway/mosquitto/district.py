"""``houqin district mqtt-setup``: the central broker's files (passwords, ACL, CA and TLS, listeners).

Like a site's set-up (``gateway.mosquitto.site``: the same password hashing, CA and server certificate), for
the district's broker: one login per site of ``district.toml`` that may publish only under its own prefix
``houqin/{site}/#`` and read nothing, and a reader login for the district's own services (``houqin/#``).
Sites connect out over TLS; the plain listener is on loopback for services on the broker's machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from gateway import contract
from gateway.district_settings import DistrictSettings
from gateway.errors import ConfigError
from gateway.mosquitto.clients import Client, render_acl
from gateway.mosquitto.credentials import FILE_NAME, Login, new_password
from gateway.mosquitto.files import write_if_changed
from gateway.mosquitto.site import BROKER_GROUP, _ca, _passwd, _server

#: The district's services' user (the district web service, Grafana's MQTT feed): reads every site.
READER_USER = "houqin-district"
#: Alert and status messages a site may have queued at the broker for a reader that is away.
MAX_QUEUED = 1_000_000


def site_user(site: str) -> str:
    """A site's user name on the central broker."""
    return f"site-{site}"


@dataclass(frozen=True, slots=True)
class Listeners:
    """The TLS listener sites connect to, and the loopback listener of the district's own services."""

    tls: int = 8883
    local: int = 1883
    local_bind: str = "127.0.0.1"


@dataclass
class DistrictCredentials:
    """``credentials.json`` of the central broker: the reader's login and each site's."""

    reader: Login | None = None
    sites: dict[str, Login] = field(default_factory=dict)

    def users(self) -> dict[str, str]:
        """User name -> password of every login."""
        out = {login.username: login.password for login in self.sites.values()}
        if self.reader is not None:
            out[self.reader.username] = self.reader.password
        return out

    def to_json(self) -> bytes:
        """The file's content."""
        def one(login: Login) -> dict[str, str]:
            return {"username": login.username, "password": login.password}

        doc = {"reader": None if self.reader is None else one(self.reader),
               "sites": {k: one(v) for k, v in sorted(self.sites.items())}}
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def load(cls, path: Path) -> DistrictCredentials:
        """Read the file; an absent file is empty credentials."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            reader = doc.get("reader")
            return cls(reader=None if reader is None else Login(reader["username"], reader["password"]),
                       sites={k: Login(v["username"], v["password"]) for k, v in doc.get("sites", {}).items()})
        except FileNotFoundError:
            return cls()
        except (ValueError, TypeError, AttributeError, KeyError) as e:
            raise ConfigError([f"{path}: is not a district credentials file ({e}); move it aside and run "
                               "`houqin district mqtt-setup` again (every site then needs its new password)"]) from None


@dataclass
class DistrictSetup:
    """What ``setup`` wrote."""

    dir: Path
    clients: list[Client]
    credentials: DistrictCredentials
    changed: list[str] = field(default_factory=list)


def district_clients(district: DistrictSettings) -> list[Client]:
    """The reader, then one client per site that may write only ``houqin/{site}/#``."""
    clients = [Client(READER_USER, "reader", (), (), (f"{contract.ROOT}/#",))]
    for s in district.sites:
        clients.append(Client(site_user(s.id), "site", (s.id,), (f"{contract.ROOT}/{s.id}/#",), ()))
    return clients


def render_conf(dir: Path, district: DistrictSettings, listeners: Listeners) -> str:
    """``houqin.conf`` of the central broker."""
    lines = [
        f"# Central broker of {district.name}: written by `houqin district mqtt-setup`; run it again instead of",
        "# editing. Included from /etc/mosquitto/conf.d.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {dir / 'passwd'}",
        f"acl_file {dir / 'acl'}",
        "persistence true",
        "autosave_interval 10",
        f"max_queued_messages {MAX_QUEUED}",
        "persistent_client_expiration 14d",
        "",
        "# The district's own services on this machine.",
        f"listener {listeners.local} {listeners.local_bind}",
        "",
        "# Sites connect out to here over TLS, with the district's CA (ca.crt) and their own login.",
        f"listener {listeners.tls}",
        f"cafile {dir / 'ca.crt'}",
        f"certfile {dir / 'server.crt'}",
        f"keyfile {dir / 'server.key'}",
        "tls_version tlsv1.2",
    ]
    return "\n".join(lines) + "\n"


def setup(district: DistrictSettings, dir: Path, *, hosts: list[str], listeners: Listeners,
          now: dt.datetime | None = None) -> DistrictSetup:
    """Write (or bring up to date) every file in ``dir``; existing passwords, CA and certificate are kept."""
    now = now or dt.datetime.now(dt.UTC)
    dir = dir.absolute()
    dir.mkdir(parents=True, exist_ok=True)
    os.chmod(dir, 0o750)
    old = DistrictCredentials.load(dir / FILE_NAME)
    creds = DistrictCredentials(reader=old.reader or Login(READER_USER, new_password()))
    for s in district.sites:  # a site no longer in district.toml loses its login
        creds.sites[s.id] = old.sites.get(s.id) or Login(site_user(s.id), new_password())
    clients = district_clients(district)
    result = DistrictSetup(dir, clients, creds)

    def put(name: str, data: bytes, mode: int, group: str | None) -> None:
        if write_if_changed(dir / name, data, mode, group):
            result.changed.append(name)

    put(FILE_NAME, creds.to_json(), 0o600, None)
    put("passwd", _passwd(dir / "passwd", creds.users()).encode(), 0o640, BROKER_GROUP)
    put("acl", render_acl(clients).encode(), 0o640, BROKER_GROUP)
    ca = _ca(dir, f"district {district.name}", now, put)
    _server(dir, ca, hosts, now, put)
    put("houqin.conf", render_conf(dir, district, listeners).encode(), 0o644, None)
    return result
