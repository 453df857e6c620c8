"""``[gate]``: card readers and their lock relays, visitor ID handling and retention, approval links,
night patrol routes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.contract import ID_PATTERN, check_id
from gateway.values import Duration, OvernightWindow


class _S(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _device_id(v: str) -> str:
    if not ID_PATTERN.match(v):
        raise ValueError(f"{v!r} must be a device id from [[devices]] (lower-case letters, digits, '-', '_')")
    return v


class ReaderSettings(_S):
    """``[[gate.readers]]``: a card reader at a gate or door and the lock relay an accepted card releases."""

    device: str
    """The card reader's device id (its ``card`` events are decided)."""
    relay: str | None = None
    """Device whose lock relay is pulsed for an accepted card (none: decide and log only)."""
    direction: Literal["in", "out", "both"] = "in"
    """Which way people pass this reader: counts them on or off site (contractors on the roll call)."""

    @field_validator("device")
    @classmethod
    def _device(cls, v: str) -> str:
        return _device_id(v)

    @field_validator("relay")
    @classmethod
    def _relay(cls, v: str | None) -> str | None:
        return None if v is None else _device_id(v)


class CheckpointSettings(_S):
    """One checkpoint of a patrol route: a reader where the guard taps a card, or a tag read at any reader."""

    id: str
    """Checkpoint id, unique in its route."""
    name: str = ""
    """Name for people; default: the id."""
    reader: str | None = None
    """Device id of the reader at this place (any card tapped there by a guard checks in)."""
    tag: str | None = None
    """Card number of the tag fixed at this place (read by the guard's handheld or any reader)."""
    devices: list[str] = Field(default_factory=list)
    """Devices whose latest readings are recorded with each check-in (e.g. the kitchen fridge)."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "kitchen")

    @field_validator("tag")
    @classmethod
    def _tag(cls, v: str | None) -> str | None:
        # the same form as card numbers from readers (letters and digits, upper case)
        return None if v is None else "".join(ch for ch in v if ch.isalnum()).upper()

    @model_validator(mode="after")
    def _where(self) -> CheckpointSettings:
        if not self.reader and not self.tag:
            raise ValueError(f"checkpoint {self.id!r} needs reader = \"<device id>\" or tag = \"<card number>\"")
        return self

    @property
    def label(self) -> str:
        """Name for people."""
        return self.name or self.id


class RouteSettings(_S):
    """``[[gate.patrols]]``: checkpoints to visit in each round, and the rounds' time windows (local time)."""

    id: str
    """Route id; its alerts are filed under rule ``patrol-<id>``."""
    name: str = ""
    """Name for people; default: the id."""
    checkpoints: list[CheckpointSettings] = Field(min_length=1)
    """Places to visit in each round."""
    rounds: list[OvernightWindow] = Field(min_length=1)
    """Round windows, e.g. ["22:00-23:00", "02:00-03:00"]; every checkpoint must be visited inside each."""
    days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7])
    """ISO weekdays the rounds run (1 = Monday ... 7 = Sunday); default every day."""
    notify: str | None = None
    """Escalation chain for missed or incomplete rounds (none: shown on the dashboard only)."""
    severity: Literal["critical", "major", "minor", "warning"] = "major"
    """Severity of missed or incomplete rounds."""
    device: str | None = None
    """Device the alert is filed under (so the guard may acknowledge it); default the first reader."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "night")

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if not v or any(d < 1 or d > 7 for d in v):
            raise ValueError("must list ISO weekdays 1 (Monday) to 7 (Sunday)")
        return v

    @property
    def label(self) -> str:
        """Name for people."""
        return self.name or self.id


class GateSettings(_S):
    """``[gate]``: the gate guard's work."""

    readers: list[ReaderSettings] = Field(default_factory=list)
    """Card readers whose ``card`` events the gateway decides."""
    relay_seconds: Duration = 3.0
    """How long an accepted card or an approved visitor holds the lock open."""
    late_after: Duration = 20.0
    """A card read older than this when the gateway sees it (sent late by the agent) opens nothing."""
    id_numbers: Literal["encrypted", "none"] = "none"
    """``encrypted``: visitors' ID numbers stored with AES-GCM (key from ``id_key_env``); ``none``: only the masked form
    (first 3 and last 4 characters) is kept."""
    id_key_env: str = "HOUQIN_ID_KEY"
    """Environment variable holding the ID key: 32 random bytes as 64 hex characters (``python3 -c "import secrets;
    print(secrets.token_hex(32))"``)."""
    id_key_file: str | None = None
    """Or a file (mode 0600) holding the same 64 hex characters."""
    command_key_file: str | None = None
    """File with the site's gate command key (64 hex characters, readable by Houqin only), shared by the gateway and
    every agent: relay commands, the card list and the gateway's heartbeat are signed with it. Default
    ``<[storage] dir>/gate.key``, made by the gateway when missing (``houqin gate keygen`` makes one)."""
    command_max_age: Duration = 30.0
    """A signed command older (or newer) than this is refused: the clocks of the gateway and the agent must agree
    within it."""
    signed_devices: list[str] = Field(default_factory=list)
    """Card readers and exit buttons wired to an agent on another board (not in this file's ``[[sensors]]``): their
    events must carry the agent's signature too. Those in ``[[sensors]]`` need not be listed."""
    forgery_notify: str | None = None
    """Escalation chain told when someone forges a gate command, card list, card read or exit-button press (none:
    the alarm shows on the dashboard only)."""
    retention: Duration = 90 * 86400.0
    """Visitor records are deleted this long after their visit (personal data is kept no longer than needed)."""
    approval_channels: list[str] = Field(default_factory=list)
    """Channels of ``[notify.channels]`` (webhook robots, e-mail) that receive approval requests with a link."""
    approval_ttl: Duration = 1800.0
    """How long an approval link stays valid."""
    public_url: str = ""
    """The dashboard's address as people's phones reach it, for links in messages (e.g. "https://pi.local:8080")."""
    release_on_approval: str | None = None
    """Device whose relay an approval releases (none: approval does not open the gate)."""
    patrols: list[RouteSettings] = Field(default_factory=list)
    """Night patrol routes."""

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http://), e.g. \"https://houqin.local:8080\"")
        return v.rstrip("/")

    @field_validator("retention", "approval_ttl", "relay_seconds", "command_max_age")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be longer than zero (e.g. \"90d\", \"30m\", \"3s\")")
        return v

    def reader(self, device: str) -> ReaderSettings | None:
        """The ``[[gate.readers]]`` entry of a reader device."""
        for r in self.readers:
            if r.device == device:
                return r
        return None


def _english(message: str) -> str:
    return message


def check_gate(gate: GateSettings, devices: Sequence[str], channels: set[str], chains: set[str],
               translate: Callable[[str], str] = _english) -> list[str]:
    """Problems across sections: unknown devices, channels and chains; duplicate ids. ``translate`` turns each
    English text into the reader's language (``gateway.config`` passes the catalogs)."""
    known = set(devices)
    problems: list[str] = []

    def need(dev: str | None, where: str) -> None:
        if dev is not None and dev not in known:
            problems.append(f"{where}: " + translate("device {dev} is not in [[devices]]; add it or fix the id").format(
                dev=repr(dev)))

    def no_chain(where: str, chain: str) -> str:
        said = translate("names no chain; add [notify.chains.{chain}] or fix the name")
        return f"{where} = {chain!r} " + said.format(chain=chain)

    for i, r in enumerate(gate.readers):
        need(r.device, f"gate.readers[{i}]")
        need(r.relay, f"gate.readers[{i}] relay")
    need(gate.release_on_approval, "[gate] release_on_approval")
    for dev in gate.signed_devices:
        need(dev, "[gate] signed_devices")
    if gate.forgery_notify is not None and gate.forgery_notify not in chains:
        problems.append(no_chain("[gate] forgery_notify", gate.forgery_notify))
    for name in gate.approval_channels:
        if name not in channels:
            problems.append(f"[gate] approval_channels: {name!r} " + translate(
                "is not in [notify.channels]; add it or fix the name"))
    if gate.approval_channels and not gate.public_url:
        problems.append("[gate] approval_channels " + translate(
            "needs public_url (the dashboard's address on people's phones) so the message can carry the approval "
            "link"))
    seen: set[str] = set()
    for i, route in enumerate(gate.patrols):
        if route.id in seen:
            problems.append(f"gate.patrols[{i}]: id {route.id!r} " + translate(
                "is used twice; route ids must be unique"))
        seen.add(route.id)
        if route.notify is not None and route.notify not in chains:
            problems.append(no_chain(f"gate.patrols[{i}]: notify", route.notify))
        need(route.device, f"gate.patrols[{i}] device")
        ids: set[str] = set()
        for j, cp in enumerate(route.checkpoints):
            if cp.id in ids:
                problems.append(f"gate.patrols[{i}].checkpoints[{j}]: id {cp.id!r} " + translate(
                    "is used twice in route {route}").format(route=repr(route.id)))
            ids.add(cp.id)
            need(cp.reader, f"gate.patrols[{i}].checkpoints[{j}] reader")
            for d in cp.devices:
                need(d, f"gate.patrols[{i}].checkpoints[{j}] devices")
    return problems
