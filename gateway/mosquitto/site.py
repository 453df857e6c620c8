"""``houqin mqtt setup``: every file of the site's Mosquitto set-up, written from the config into one folder."""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import Config
from gateway.mosquitto import passwd, tls
from gateway.mosquitto.clients import AGENT_ID, GATEWAY_USER, HOMEASSISTANT_USER, Client, render_acl, site_clients
from gateway.mosquitto.credentials import FILE_NAME, Credentials, Login, new_password
from gateway.mosquitto.files import write_if_changed
from gateway.mqtt_link import RECEIVE_MAXIMUM

BROKER_GROUP = "mosquitto"
#: A device publishing every 10 s sends 8,640 messages a day; the gateway's session queues a day of them.
MESSAGES_PER_DEVICE_DAY = 8640
#: The broker's window of unacknowledged messages per client: the gateway commits readings in groups and
#: acknowledges them only after the commit, so the window must hold at least one commit window of messages;
#: the same number as the gateway's MQTT 5 receive maximum, at which its commit window closes.
MAX_INFLIGHT = RECEIVE_MAXIMUM
#: Seconds between saves of the broker's queue: a power cut loses at most this much of what is queued.
AUTOSAVE_S = 10

#: Writes one file of the folder: (name, content, mode, group or None).
Put = Callable[[str, bytes, int, "str | None"], None]


@dataclass(frozen=True, slots=True)
class Listeners:
    """Ports: loopback (gateway, local agent), TLS for the LAN, and an optional plain LAN port."""

    local: int = 1883
    tls: int = 8883
    lan_plain: int | None = None
    #: Address of the loopback listener (tests may move it; production keeps 127.0.0.1).
    local_bind: str = "127.0.0.1"


@dataclass
class SetupResult:
    """What ``setup`` wrote: the files that changed, the clients, and the folder."""

    dir: Path
    clients: list[Client]
    credentials: Credentials
    changed: list[str] = field(default_factory=list)


def _logins(config: Config, clients: list[Client], old: Credentials, only_new: set[str] | None) -> Credentials:
    def keep(username: str) -> Login:
        for login in old.users().items():
            if login[0] == username:
                return Login(*login)
        return Login(username, new_password())

    creds = Credentials(revoked=[r for r in old.revoked if only_new is None or r not in only_new])
    for c in clients:
        if c.role == "gateway":
            creds.gateway = keep(c.username)
        elif c.role == "homeassistant":
            creds.homeassistant = keep(c.username)
        elif c.role == "agent":
            creds.agents[AGENT_ID] = keep(c.username)
        else:
            login = keep(c.username)
            for d in c.devices:
                creds.devices[d] = login
    return creds


def render_conf(dir: Path, config: Config, listeners: Listeners) -> str:
    """``houqin.conf``: listeners, authentication, ACL, persistence cadence and queue sizes."""
    queued = max(100_000, len(config.devices) * MESSAGES_PER_DEVICE_DAY * 3 // 2)
    lines = [
        f"# Houqin broker set-up for site {config.site.id}: written by `houqin mqtt setup`; run it again",
        "# instead of editing. Included from /etc/mosquitto/conf.d (the install script links it).",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {dir / 'passwd'}",
        f"acl_file {dir / 'acl'}",
        "persistence true",
        f"autosave_interval {AUTOSAVE_S}",
        "# The gateway's persistent session holds a day of the site's readings while it is down.",
        f"max_queued_messages {queued}",
        f"max_inflight_messages {MAX_INFLIGHT}",
        "persistent_client_expiration 14d",
        "set_tcp_nodelay true",
        "",
        "# The gateway and the local sensor agent.",
        f"listener {listeners.local} {listeners.local_bind}",
        "",
        "# Devices on the school's network, over TLS with the site's CA (ca.crt).",
        f"listener {listeners.tls}",
        f"cafile {dir / 'ca.crt'}",
        f"certfile {dir / 'server.crt'}",
        f"keyfile {dir / 'server.key'}",
        "tls_version tlsv1.2",
    ]
    if listeners.lan_plain is not None:
        lines += ["", "# Plain passwords on the LAN for devices that cannot do TLS (doctor warns about it).",
                  f"listener {listeners.lan_plain}"]
    return "\n".join(lines) + "\n"


def setup(config: Config, dir: Path, *, agent_devices: Iterable[str], hosts: list[str], listeners: Listeners,
          now: dt.datetime | None = None, only_new: set[str] | None = None) -> SetupResult:
    """Write (or bring up to date) every file in ``dir``; existing passwords, CA and certificate are kept."""
    now = now or dt.datetime.now(dt.UTC)
    dir = dir.absolute()
    dir.mkdir(parents=True, exist_ok=True)
    os.chmod(dir, 0o750)
    cred_path = dir / FILE_NAME
    old = Credentials.load(cred_path)
    revoked = set(old.revoked) - (only_new or set())
    clients = [c for c in site_clients(config, agent_devices) if not (c.role == "device" and set(c.devices) <= revoked)]
    creds = _logins(config, clients, old, only_new)
    result = SetupResult(dir, clients, creds)

    def put(name: str, data: bytes, mode: int, group: str | None) -> None:
        if write_if_changed(dir / name, data, mode, group):
            result.changed.append(name)

    put(FILE_NAME, creds.to_json(), 0o600, None)
    put("passwd", _passwd(dir / "passwd", creds.users()).encode(), 0o640, BROKER_GROUP)
    put("acl", render_acl(clients).encode(), 0o640, BROKER_GROUP)
    ca = _ca(dir, config.site.id, now, put)
    _server(dir, ca, hosts, now, put)
    put("houqin.conf", render_conf(dir, config, listeners).encode(), 0o644, None)
    return result


def _passwd(path: Path, users: dict[str, str]) -> str:
    """The password file, keeping each unchanged password's existing hash (a rerun changes nothing)."""
    old: dict[str, str] = {}
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, hashed = line.partition(":")
            old[name] = hashed
    except FileNotFoundError:
        pass
    out = []
    for name, pw in sorted(users.items()):
        hashed = old.get(name, "")
        out.append(f"{name}:{hashed if passwd.verify(pw, hashed) else passwd.hash_password(pw)}\n")
    return "".join(out)


def _ca(dir: Path, site: str, now: dt.datetime, put: Put) -> tls.Pem:
    try:
        return tls.Pem((dir / "ca.crt").read_bytes(), (dir / "ca.key").read_bytes())
    except FileNotFoundError:
        ca = tls.make_ca(site, now)
        put("ca.key", ca.key, 0o600, None)
        put("ca.crt", ca.cert, 0o644, None)
        return ca


def _server(dir: Path, ca: tls.Pem, hosts: list[str], now: dt.datetime, put: Put) -> None:
    try:
        if not tls.server_needs_renewal((dir / "server.crt").read_bytes(), ca.cert, hosts, now):
            return
    except FileNotFoundError:
        pass
    server = tls.make_server(ca, hosts, now)
    assert callable(put)
    put("server.key", server.key, 0o640, BROKER_GROUP)
    put("server.crt", server.cert, 0o644, None)


def rotate(dir: Path, who: str) -> Login:
    """A new password for ``who`` (a device id, ``gateway``, ``homeassistant`` or an agent id); returns it."""
    path = dir / FILE_NAME
    creds = Credentials.load(path)
    if who == "gateway" and creds.gateway is not None:
        creds.gateway = login = Login(GATEWAY_USER, new_password())
    elif who == "homeassistant" and creds.homeassistant is not None:
        creds.homeassistant = login = Login(HOMEASSISTANT_USER, new_password())
    elif who in creds.agents:
        creds.agents[who] = login = Login(creds.agents[who].username, new_password())
    elif who in creds.devices:
        user = creds.devices[who].username
        login = Login(user, new_password())
        for d, other in creds.devices.items():
            if other.username == user:  # devices on one publisher share its login
                creds.devices[d] = login
    else:
        known = ", ".join(["gateway", *creds.agents, *creds.devices])
        raise KeyError(f"{who!r} has no credentials in {path}; known: {known}")
    write_if_changed(path, creds.to_json(), 0o600)
    write_if_changed(dir / "passwd", _passwd(dir / "passwd", creds.users()).encode(), 0o640, BROKER_GROUP)
    return login


def reload_broker(pid_file: Path) -> bool:
    """Ask the running broker to reread its password and ACL files (SIGHUP); False when it is not running.

    Mosquitto keeps its clients connected across a reload, so the gateway's session is not dropped.
    """
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return False
    return True
