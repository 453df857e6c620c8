"""Who connects to the site's broker and what each may publish and read: the ACL, derived from the config.

The gateway reads everything of its site and alone writes commands (``set``), alerts, the card list and Home
Assistant discovery. The sensor agent writes the native topics of the devices it reads and reads only their
commands. Every other device writes only the topics its format uses; devices that share one publisher (a
Zigbee2MQTT bridge, a Tasmota with several probes, an ESPHome node) share one client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway import contract

if TYPE_CHECKING:
    from gateway.config import Config, DeviceSettings

#: "site" and "reader" are the central broker's (gateway.mosquitto.district).
Role = Literal["gateway", "agent", "device", "homeassistant", "site", "reader"]

#: The gateway's user name on the broker.
GATEWAY_USER = "houqin-gateway"
#: The local sensor agent's user name (one agent per config file).
AGENT_ID = "local"
HOMEASSISTANT_USER = "homeassistant"


@dataclass(frozen=True, slots=True)
class Client:
    """One broker user: its name, role, the devices it speaks for, and the topic filters it may use."""

    username: str
    role: Role
    devices: tuple[str, ...]
    write: tuple[str, ...]
    read: tuple[str, ...]
    readwrite: tuple[str, ...] = ()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "device"


def publisher_root(device: DeviceSettings) -> str:
    """The topic namespace of the physical publisher behind ``device`` (shared by devices on one bridge)."""
    from gateway.decoders import esphome, shelly, tasmota

    if device.format == "tasmota":
        return tasmota.base_topic(device)
    if device.format == "shelly":
        return shelly.prefix(device)
    if device.format == "esphome":
        return esphome.topics(device, "")[-1].removesuffix("/status")
    if device.format == "zigbee2mqtt":
        return (device.topic or "").strip("/").split("/", 1)[0]
    return (device.topic or "").strip("/")


def _third_party_rules(fmt: str, root: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(write, read, readwrite) filters for a third-party publisher rooted at ``root``."""
    if fmt == "plain":
        return (root,), (), ()
    if fmt == "tasmota":
        levels = root.split("/")
        if len(levels) == 2 and levels[0] == "tele":  # Tasmota's %prefix%/%topic%: stat and cmnd too
            name = levels[1]
            return (f"stat/{name}/#",), (f"cmnd/{name}/#",), (f"{root}/#",)
    return (), (), (f"{root}/#",)


def site_clients(config: Config, agent_devices: Iterable[str]) -> list[Client]:
    """Every client of the site, the gateway first, from the config and the devices the local agent reads."""
    from gateway.decoders import registry

    site = config.site.id
    hosted = set(agent_devices)
    decoders = registry()
    gateway_reads: list[str] = []
    groups: dict[tuple[str, str], list[DeviceSettings]] = {}
    natives: list[DeviceSettings] = []
    for d in config.devices:
        if d.format == "native":
            if d.id not in hosted:
                natives.append(d)
            continue
        gateway_reads.extend(decoders[d.format].topics(d, site))
        groups.setdefault((d.format, publisher_root(d)), []).append(d)
    ha = config.homeassistant
    gateway_write = (f"{ha.prefix}/#",) if ha.discovery else ()
    clients = [Client(GATEWAY_USER, "gateway", (), gateway_write, tuple(dict.fromkeys(gateway_reads)),
                      (f"{contract.ROOT}/{site}/#",))]
    if hosted:
        ids = tuple(sorted(hosted))
        write = tuple(contract.device_topic(site, i, ch) for i in ids for ch in ("state", "event", "availability"))
        read = (*(contract.set_topic(site, i) for i in ids), contract.cards_topic(site),
                contract.gateway_availability_topic(site), contract.gateway_alive_topic(site))
        clients.append(Client(f"houqin-agent-{AGENT_ID}", "agent", ids, write, read))
    for d in natives:
        write = tuple(contract.device_topic(site, d.id, ch) for ch in ("state", "event", "availability"))
        clients.append(Client(f"device-{d.id}", "device", (d.id,), write, (contract.set_topic(site, d.id),)))
    for (fmt, root), members in groups.items():
        name = members[0].id if len(members) == 1 else _slug(f"{fmt}-{root}")
        w, r, rw = _third_party_rules(fmt, root)
        clients.append(Client(f"device-{name}", "device", tuple(m.id for m in members), w, r, rw))
    if ha.discovery:
        clients.append(Client(HOMEASSISTANT_USER, "homeassistant", (), (f"{ha.prefix}/status",),
                              (f"{contract.ROOT}/{site}/#", f"{ha.prefix}/#")))
    return clients


def render_acl(clients: Iterable[Client]) -> str:
    """Mosquitto's ACL file: a ``user`` block per client; anything not listed is refused."""
    out = ["# Written by `houqin mqtt setup`; run it again instead of editing. Unlisted topics are refused.\n"]
    for c in clients:
        devices = f" ({', '.join(c.devices)})" if c.devices else ""
        out.append(f"\n# {c.role}{devices}\nuser {c.username}\n")
        out += [f"topic readwrite {t}\n" for t in c.readwrite]
        out += [f"topic write {t}\n" for t in c.write]
        out += [f"topic read {t}\n" for t in c.read]
    return "".join(out)
