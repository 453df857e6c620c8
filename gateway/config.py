"""The one TOML configuration file: typed settings validated at start, every problem reported at once."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dashboard.settings import DashboardSettings
from gateway.backup.settings import BackupSettings
from gateway.calendar import CalendarSettings
from gateway.contract import METRICS, check_id
from gateway.errors import ConfigError
from gateway.gate.settings import GateSettings, check_gate
from gateway.inspections.settings import InspectionsSettings, check_inspections
from gateway.kinds import FORMATS, KINDS
from gateway.notify.config import NotifySettings, check_notify
from gateway.reports.settings import ReportsSettings, check_reports
from gateway.rules.settings import RuleBase, RuleSettings, check_rules
from gateway.store.influx_settings import InfluxSettings
from gateway.store.retention import Retention, parse_keep
from gateway.uplink.settings import UplinkSettings
from gateway.values import Duration, Said
from sensors.config import SensorSettings, check_sensors

DEFAULT_CONFIG_PATH = Path("/etc/houqin/houqin.toml")
CONFIG_ENV = "HOUQIN_CONFIG"

if TYPE_CHECKING:
    KindName = str
    FormatName = str
else:
    # Literals built from the tables: pydantic refuses other names and lists the allowed ones.
    KindName = Literal[tuple(KINDS)]
    FormatName = Literal[tuple(FORMATS)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SiteSettings(_Section):
    """``[site]``: who we are and where the clock is."""

    id: str
    """Short id used in MQTT topics and file names: lower-case letters, digits, ``-``, ``_`` (e.g. ``"sunshine-kg"``).
    """
    name: str = ""
    """The school's name for people (e.g. ``"阳光幼儿园"``)."""
    timezone: str = "Asia/Shanghai"
    """IANA time zone for schedules, days and reports."""
    locale: Literal["zh-CN", "en"] = "zh-CN"
    """Language of notifications and reports, and the dashboard's default: ``"zh-CN"`` or ``"en"``."""
    clock_wait: Duration = 600.0
    """After boot, how long messages wait (unacknowledged) for the clock to be synchronised before the Pi's own clock
    is used to stamp them (a Pi has no real-time clock); ``"0s"``: never wait (a board with one)."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "sunshine-kg")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise Said("is not a known IANA time zone (e.g. \"Asia/Shanghai\")") from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is, parsed from ``[mqtt] url``."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


class MqttSettings(_Section):
    """``[mqtt]``: the broker and how the gateway connects to it."""

    url: str = "embedded"
    """``"embedded"`` (an in-process broker on 127.0.0.1 for the demo and trials; it comes with the ``demo`` extra,
    ``pip install houqin[demo]``), ``"mqtt://[user:pass@]host[:port]"``
    (port 1883 by default) or ``"mqtts://..."`` (TLS, port 8883); percent-encode special characters in the user and
    password."""
    agent_url: str | None = None
    """The sensor agent's own login (``houqin sensors``), e.g. ``"mqtt://houqin-agent-local:PASSWORD@127.0.0.1:1883"``
    with the user and password of ``agents.local`` in the broker's ``credentials.json``, so the broker's ACL lets it
    publish only its devices' topics. Default: ``url`` (the gateway's login)."""
    client_id: str = ""
    """The gateway's fixed client id, so the broker keeps its session (and queued messages) across restarts; unique per
    gateway. Default: ``"houqin-gateway-{site.id}"``."""
    protocol: Literal["3.1.1", "5"] = "5"
    """MQTT version: "5" by default; "3.1.1" with the embedded broker, which speaks only 3.1.1."""
    keepalive: int = Field(default=30, ge=5, le=3600)
    """Seconds between keep-alive pings (5-3600)."""
    ca_file: str | None = None
    """CA certificate (PEM) to verify the broker with ``mqtts://``; default: the system's CAs."""
    cert_file: str | None = None
    """Client certificate (PEM) when the broker requires one (``mqtts://`` only)."""
    key_file: str | None = None
    """Key (PEM) of the client certificate."""
    embedded_port: int = Field(default=1883, ge=0, le=65535)
    """For ``url = "embedded"``: the port the in-process broker listens on (127.0.0.1 only)."""

    @model_validator(mode="before")
    @classmethod
    def _embedded_speaks_311(cls, data: Any) -> Any:
        # The embedded broker (amqtt, gateway/broker.py) speaks MQTT 3.1.1 only: default to it there.
        if isinstance(data, dict) and data.get("url", "embedded") == "embedded":
            if data.get("protocol") == "5":
                raise ValueError("protocol = \"5\" does not work with url = \"embedded\" (the embedded broker "
                                 "speaks MQTT 3.1.1); remove protocol, or use Mosquitto with url = \"mqtt://...\"")
            data = {**data, "protocol": "3.1.1"}
        return data

    @field_validator("agent_url")
    @classmethod
    def _agent_url(cls, v: str | None) -> str | None:
        if v is not None and urlsplit(v).scheme not in ("mqtt", "mqtts"):
            raise ValueError("must be \"mqtt://user:pass@host[:port]\" or \"mqtts://...\" (the agent's login)")
        return None if v is None else cls._url(v)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v == "embedded":
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(
                "must be \"embedded\", \"mqtt://[user:pass@]host[:port]\" or \"mqtts://[user:pass@]host[:port]\""
            )
        if not parts.hostname:
            raise ValueError("has no host; write e.g. \"mqtt://127.0.0.1:1883\"")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("has a port that is not a number between 1 and 65535") from None
        return v

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _readable(cls, v: str | None) -> str | None:
        # said by check-config, not when the link starts (readability is checked then: check-config may run
        # as another user than the service, and a key file is readable by the service's user only)
        if v is not None and not os.path.exists(v):
            raise ValueError("no such file; give the path of a PEM file")
        return v

    @model_validator(mode="after")
    def _tls_files_need_mqtts(self) -> MqttSettings:
        # certificates with mqtt:// would be ignored silently: the installer believes the link is encrypted
        given = [k for k in ("ca_file", "cert_file", "key_file") if getattr(self, k) is not None]
        if given and not self.url.startswith("mqtts://"):
            raise ValueError(f"{', '.join(given)} given but url is not mqtts:// (no TLS); write "
                             "url = \"mqtts://host[:port]\" to use them, or remove them")
        return self

    @property
    def embedded(self) -> bool:
        """True when the gateway runs its own in-process broker."""
        return self.url == "embedded"

    def address(self, agent: bool = False) -> BrokerAddress:
        """Host, port, TLS and credentials from the URL (the embedded broker is plain 127.0.0.1); ``agent``: the
        sensor agent's, from ``agent_url`` when set."""
        url = self.agent_url if agent and self.agent_url else self.url
        if url == "embedded":
            return BrokerAddress("127.0.0.1", self.embedded_port, False, None, None)
        parts = urlsplit(url)
        tls = parts.scheme == "mqtts"
        return BrokerAddress(
            host=parts.hostname or "",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class RetentionSettings(_Section):
    """``[storage.retention]``: how long the SQLite time-series store keeps each resolution.

    Durations such as ``"90d"`` or ``"104w"``, or ``"forever"``.
    """

    raw: str = "90d"
    """How long every reading is kept as received."""
    rollup_5m: str = "730d"
    """How long 5-minute aggregates (sum, mean, min, max, last) are kept."""
    rollup_1h: str = "forever"
    """How long hourly aggregates are kept."""

    @field_validator("raw", "rollup_5m", "rollup_1h")
    @classmethod
    def _keep(cls, v: str) -> str:
        parse_keep(v)
        return v

    @model_validator(mode="after")
    def _ordered(self) -> RetentionSettings:
        self.retention()
        return self

    def retention(self) -> Retention:
        """The parsed retention the store applies."""
        return Retention.parse(self.raw, self.rollup_5m, self.rollup_1h)


class StorageSettings(_Section):
    """``[storage]``: where the databases live and which time-series backend to use."""

    dir: str = "/var/lib/houqin"
    """Directory of the databases (``events.db``, ``timeseries.db``, or ``outbox.db`` with InfluxDB); created if
    missing."""
    timeseries: Literal["sqlite", "influxdb"] = "sqlite"
    """Time-series backend: ``"sqlite"`` (embedded) or ``"influxdb"`` (needs an ``[influxdb]`` section)."""
    retention: RetentionSettings = RetentionSettings()
    """How long the SQLite store keeps each resolution (``[storage.retention]``)."""
    commit_interval: Duration = Field(default=60.0, ge=0, le=60)
    """How long readings are gathered before one commit (e.g. ``"60s"``; ``0``: commit each batch at once).
    Fewer, larger commits spare the SD card: whatever it holds, a commit rewrites the store's last pages
    and the pages of SQLite's WAL index, about 25-30 kB the kernel writes back to the card (bench/flash.py),
    so at 3 readings a second a 60 s window costs about 175 bytes per reading and a 30 s one 300. A
    message is acknowledged to the broker only after its commit, so a window also closes when it holds as
    many messages as the broker lets be unacknowledged (``max_inflight_messages``, 1000 in what ``houqin
    mqtt setup`` writes; a broker set up by hand needs the same). Rules and the live dashboard are told of a
    reading as soon as it arrives, before its commit, so alerts do not wait for the window; a killed gateway
    loses nothing (the broker delivers the window's messages again). Charts drawn from the store show a
    reading once committed.
    Events (cards, buttons), availability and readings of gate, door and leak devices commit at once, so
    the gate and alarms never wait for it."""
    fold_interval: Duration = Field(default=3600.0, ge=0, le=86400)
    """How often the SQLite store moves the readings of its inbox into its per-series tables and rollups
    (e.g. ``"1h"``; ``0``: no inbox, every commit writes them at once). Commits append to the inbox,
    a page or two each; the fold appends the hours that are over to the tables (a whole number of hours
    runs just after the hour turns), each page written once: measured on a store with days of data, about
    90 bytes per reading at ``"1h"`` for 30 series and 70 for 300 (bench/flash_fold.py). Queries see the
    inbox too (each scans it: longer intervals make dashboards a little slower); it is also folded after
    150,000 rows and before maintenance."""

    @property
    def path(self) -> Path:
        """The storage directory as a path."""
        return Path(self.dir)


class EntitySettings(_Section):
    """An ESPHome entity's metric and the factor to canonical units (e.g. kWh -> Wh: scale = 1000)."""

    metric: str
    scale: float = Field(default=1.0, gt=0)


class DeviceSettings(_Section):
    """``[[devices]]``: one sensor, meter, gate part or off-the-shelf device."""

    id: str
    """Unique device id, used in topics: lower-case letters, digits, ``-``, ``_`` (e.g. ``"kitchen-fridge-1"``)."""
    kind: KindName
    """What the device is; decides its dashboard area and the rules that make sense for it."""
    name: str = ""
    """Name for people (e.g. ``"厨房冷藏冰箱 1号"``); default: the id."""
    format: FormatName = "native"
    """Payload format: Houqin's own (``native``) or an off-the-shelf firmware's (see docs/devices.md)."""
    topic: str | None = None
    """The device's own MQTT topic; required for every format but ``native``."""
    probe: str | None = None
    """For multi-probe devices (e.g. a Tasmota with several DS18B20): which probe this device is."""
    litres_per_pulse: float | None = Field(default=None, gt=0)
    """Pulse counters: litres per pulse, to turn ``pulses`` into ``total_l``."""
    wh_per_pulse: float | None = Field(default=None, gt=0)
    """Pulse counters: watt-hours per pulse, to turn ``pulses`` into ``energy_wh``."""
    location: str = ""
    """Where it is, for people (e.g. ``"厨房"``)."""
    metric: str | None = None
    """For format "plain": the canonical metric the bare value is (e.g. "temperature")."""
    scale: float = Field(default=1.0, gt=0)
    """For format "plain": multiply the value by this to get canonical units (e.g. 1000 for kWh -> Wh)."""
    entities: dict[str, str | EntitySettings] = Field(default_factory=dict)
    """For format "esphome": entity object id -> metric, or {metric = "...", scale = N} (names not listed are guessed
    from words like "temperature", "humidity", "door", "leak")."""
    invert: bool = False
    """A contact wired the other way round (normally-closed reed switch): swap open and closed."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "kitchen-fridge")

    @field_validator("topic")
    @classmethod
    def _topic(cls, v: str | None) -> str | None:
        # A topic the broker refuses would stop every subscription at connect, not just this device's.
        if v is None:
            return v
        if not v.strip() or v != v.strip() or "\x00" in v or len(v.encode()) > 65535:
            raise ValueError("must be the device's MQTT topic, not empty and without surrounding spaces "
                             "(e.g. \"tele/kitchen-fridge/SENSOR\")")
        if "+" in v or "#" in v:
            raise ValueError("must be the device's exact MQTT topic: wildcards '+' and '#' are not allowed "
                             "(one [[devices]] entry per device)")
        return v

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        if v is not None and v not in METRICS:
            raise ValueError(f"is not a metric; use one of: {', '.join(METRICS)}")
        return v

    @field_validator("entities")
    @classmethod
    def _entities(cls, v: dict[str, str | EntitySettings]) -> dict[str, str | EntitySettings]:
        for name, target in v.items():
            metric = target if isinstance(target, str) else target.metric
            if metric not in METRICS:
                raise ValueError(f"entity {name!r} maps to {metric!r}, which is not a metric; use one of: "
                                 f"{', '.join(METRICS)}")
        return v

    @model_validator(mode="after")
    def _plain_needs_metric(self) -> DeviceSettings:
        if self.format == "plain" and self.metric is None:
            raise ValueError(
                f"device {self.id!r} has format 'plain' but no metric; add metric = \"temperature\" "
                f"(one of: {', '.join(METRICS)})"
            )
        return self

    @model_validator(mode="after")
    def _topic_for_format(self) -> DeviceSettings:
        if self.format != "native" and not self.topic:
            raise ValueError(
                f"device {self.id!r} has format {self.format!r} but no topic; add topic = \"...\" "
                "with the device's own MQTT topic (e.g. \"tele/kitchen-fridge/SENSOR\")"
            )
        return self

    @property
    def area(self) -> str:
        """Dashboard area of this device."""
        return KINDS[self.kind].area

    @property
    def event_only(self) -> bool:
        """Whether the device only reports events (judged by availability, not by silence)."""
        return KINDS[self.kind].event_only

    @property
    def label(self) -> str:
        """Name for people: the configured name or the id."""
        return self.name or self.id


class HomeAssistantSettings(_Section):
    """``[homeassistant]``: publish MQTT discovery so Home Assistant shows every device and alert."""

    discovery: bool = False
    """Publish Home Assistant MQTT discovery for every device and alert."""
    prefix: str = "homeassistant"
    """Home Assistant's discovery prefix (its MQTT integration setting; "homeassistant" by default)."""

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v or v != v.strip("/") or any(c in v for c in "+#\0 "):
            raise ValueError("must be a topic prefix without wildcards, spaces or leading/trailing '/' "
                             "(e.g. \"homeassistant\")")
        return v


class Config(_Section):
    """The whole configuration file."""

    site: SiteSettings
    mqtt: MqttSettings = MqttSettings()
    storage: StorageSettings = StorageSettings()
    dashboard: DashboardSettings = DashboardSettings()
    devices: list[DeviceSettings] = Field(default_factory=list)
    homeassistant: HomeAssistantSettings = HomeAssistantSettings()
    """``[homeassistant]``: MQTT discovery for Home Assistant (``gateway/homeassistant.py``)."""
    sensors: list[SensorSettings] = Field(default_factory=list)
    """``[[sensors]]``: hardware wired to the Pi running ``houqin sensors`` (models in ``sensors/config.py``)."""
    influxdb: InfluxSettings | None = None
    """``[influxdb]``: needed when ``[storage] timeseries = "influxdb"`` (see ``gateway/store/influx_settings.py``)."""
    calendar: CalendarSettings = CalendarSettings()
    """``[calendar]``: school opening hours, holidays, make-up days (``gateway/calendar.py``)."""
    rules: list[RuleSettings] = Field(default_factory=list)
    """``[[rules]]``: alert rules, one model per kind (``gateway/rules/``)."""
    notify: NotifySettings = NotifySettings()
    """``[notify]``: channels and escalation chains (``gateway/notify/config.py``)."""
    reports: ReportsSettings = ReportsSettings()
    """``[reports]``: weekly utility report, tariffs, cold-storage sheet, sample ledger (``gateway/reports/``)."""
    gate: GateSettings = GateSettings()
    """``[gate]``: card readers and relays, visitors, approval links, patrol routes (``gateway/gate/``)."""
    backup: BackupSettings = BackupSettings()
    """``[backup]``: the nightly backup of every database and secret file (``gateway/backup/``)."""
    inspections: InspectionsSettings = InspectionsSettings()
    """``[inspections]``: checklists, the hazard ledger, repairs, the disinfection record and holidays
    (``gateway/inspections/``)."""
    uplink: UplinkSettings = UplinkSettings()
    """``[uplink]``: readings, alert transitions and status to the district's central store and broker
    (``gateway/uplink/``)."""

    @model_validator(mode="after")
    def _sections_consistent(self, info: ValidationInfo) -> Config:
        # One validator for every check across sections: pydantic stops at the first after-validator that
        # raises, and check-config must list every problem at once (one per line, split by _describe).
        problems = cross_problems(_Parts(
            device_ids=[d.id for d in self.devices], devices=self.devices, sensors=self.sensors,
            channels=set(self.notify.channels), chains=set(self.notify.chains), rules=list(self.rules),
            notify=self.notify, reports=self.reports, gate=self.gate, storage=self.storage,
            influxdb_given=self.influxdb is not None, inspections=self.inspections),
            (info.context or {}).get("translate", _english))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @cached_property
    def devices_by_id(self) -> Mapping[str, DeviceSettings]:
        """Every configured device by id (built once; the config is frozen)."""
        return {d.id: d for d in self.devices}

    def device(self, device_id: str) -> DeviceSettings | None:
        """The device with this id, if configured."""
        return self.devices_by_id.get(device_id)

    @property
    def client_id(self) -> str:
        """The gateway's fixed MQTT client id (fixed so the broker keeps its session)."""
        return self.mqtt.client_id or f"houqin-gateway-{self.site.id}"


#: Turns an English message into the reader's language (``gettext`` of a catalog).
Translate = Callable[[str], str]


def _english(message: str) -> str:
    return message


def _say(translate: Translate, message: str, **values: object) -> str:
    return translate(message).format(**values)


@dataclass(frozen=True, slots=True)
class _Parts:
    """What the checks across sections need; None (or only the valid entries) where a part is itself invalid."""

    device_ids: list[str]
    devices: list[DeviceSettings]
    sensors: list[SensorSettings]
    channels: set[str]
    chains: set[str]
    rules: list[RuleBase]
    notify: NotifySettings | None
    reports: ReportsSettings | None
    gate: GateSettings | None
    storage: StorageSettings | None
    influxdb_given: bool
    inspections: InspectionsSettings | None = None


def cross_problems(parts: _Parts, translate: Translate = _english) -> list[str]:
    """Every problem across sections: unknown devices, chains and channels, duplicate ids."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, dev in enumerate(parts.device_ids):
        if dev in seen:
            problems.append(f"devices[{i}].id = {_toml(dev)}: "
                            + _say(translate, "used twice; every [[devices]] id must be unique"))
        seen.add(dev)
    if parts.gate is not None:
        problems += check_gate(parts.gate, parts.device_ids, parts.channels, parts.chains, translate)
    problems += check_rules(parts.rules, parts.chains, parts.device_ids, translate)
    if parts.notify is not None:
        problems += check_notify(parts.notify, parts.device_ids, translate)
    if parts.reports is not None:
        problems += check_reports(parts.reports, parts.channels, parts.chains, translate)
    problems += check_sensors(parts.devices, parts.sensors, translate)
    if parts.inspections is not None:
        plugs = [d.id for d in parts.devices if "power_w" in KINDS[d.kind].metrics]
        problems += check_inspections(parts.inspections, plugs, parts.device_ids, parts.chains, translate)
    if parts.storage is not None and parts.storage.timeseries == "influxdb" and not parts.influxdb_given:
        problems.append('[storage] timeseries = "influxdb" ' + _say(
            translate, "needs an [influxdb] section: url and database (InfluxDB 1.x) or url, org, bucket and token "
                       "(2.x/3.x); see docs/storage.md"))
    return problems


def _valid(annotation: Any, value: Any) -> Any:
    """``value`` validated as ``annotation`` (strictly, as the whole file is), or None when it is invalid."""
    try:
        return TypeAdapter(annotation).validate_python(value, strict=True)
    except ValidationError:
        return None


def _section(raw: Mapping[str, Any], name: str) -> Any:
    field = Config.model_fields[name]
    if name not in raw:
        return field.get_default(call_default_factory=True)
    return _valid(field.annotation, raw[name])


def _entries(raw: Mapping[str, Any], name: str) -> list[Any]:
    value = raw.get(name, [])
    return value if isinstance(value, list) else []


def _names(raw: Mapping[str, Any], section: str, table: str) -> set[str]:
    outer = raw.get(section)
    inner = outer.get(table) if isinstance(outer, dict) else None
    return set(inner) if isinstance(inner, dict) else set()


def _rule_refs(entry: Any) -> RuleBase:
    """An invalid ``[[rules]]`` entry's names alone (id, devices, notify), so its references are checked too."""
    if not isinstance(entry, dict):
        return RuleBase.model_construct(id="")
    refs: dict[str, Any] = {"id": entry["id"] if isinstance(entry.get("id"), str) else ""}
    if isinstance(entry.get("notify"), str):
        refs["notify"] = entry["notify"]
    devices = entry.get("devices")
    if isinstance(devices, list) and all(isinstance(d, str) for d in devices):
        refs["devices"] = devices
    return RuleBase.model_construct(**refs)


def _partial_cross_problems(raw: Mapping[str, Any], translate: Translate = _english) -> list[str]:
    """The checks across sections on the parts of a file that are valid on their own.

    A file with type errors never reaches ``Config``'s own checks (pydantic runs a model's validators only
    once its fields are valid), so without this an installer would see the broken references only after
    fixing every type error: one run must list every problem.
    """
    rules: list[RuleBase] = [_valid(RuleSettings, entry) or _rule_refs(entry) for entry in _entries(raw, "rules")]
    return cross_problems(_Parts(
        device_ids=[d["id"] for d in _entries(raw, "devices") if isinstance(d, dict) and isinstance(d.get("id"), str)],
        devices=[d for d in (_valid(DeviceSettings, e) for e in _entries(raw, "devices")) if d is not None],
        sensors=[s for s in (_valid(SensorSettings, e) for e in _entries(raw, "sensors")) if s is not None],
        channels=_names(raw, "notify", "channels"), chains=_names(raw, "notify", "chains"), rules=rules,
        notify=_section(raw, "notify"), reports=_section(raw, "reports"), gate=_section(raw, "gate"),
        storage=_section(raw, "storage"), influxdb_given=isinstance(raw.get("influxdb"), dict),
        inspections=_section(raw, "inspections")), translate)


def default_config_path() -> Path:
    """``$HOUQIN_CONFIG`` or ``/etc/houqin/houqin.toml``."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG_PATH


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _value_at(raw: Any, loc: tuple[int | str, ...]) -> Any:
    cur = raw
    for part in loc:
        if isinstance(cur, dict) and part not in cur and part in (cur.get("kind"), cur.get("type")):
            continue  # the tag pydantic puts in the path of an entry of a list of kinds (rules[0].threshold)
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _toml(value: Any) -> str:
    """A value as it is written in the TOML file (``"urgent"``, ``8``, ``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _number_text(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def _type_problem(translate: Translate, kind: str, field: str, value: Any,
                  ctx: Mapping[str, Any] | None = None) -> str | None:
    """Strict types in config words: a number in quotes is refused with the line to write instead."""
    if kind in ("int_type", "float_type") and _number_text(value):
        text = ("must be a whole number written without quotes: {line}" if kind == "int_type"
                else "must be a number written without quotes: {line}")
        return _say(translate, text, line=f"{field} = {value.strip()}")
    if kind in ("int_type", "float_type") and isinstance(value, bool):
        return _say(translate, "must be a number, not true/false")
    if kind == "int_type" or kind == "int_from_float":
        return _say(translate, "must be a whole number (e.g. {line})", line=f"{field} = 30")
    if kind == "float_type":
        return _say(translate, "must be a number (e.g. {line})", line=f"{field} = 8")
    if kind == "bool_type":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return _say(translate, "must be true or false written without quotes: {line}",
                      line=f"{field} = {value.strip().lower()}")
        return _say(translate, "must be true or false (e.g. {line})", line=f"{field} = true")
    if kind == "string_type":
        return _say(translate, "must be text in quotes (e.g. {line})", line=f'{field} = "{value}"') \
            if isinstance(value, int | float) else _say(translate, "must be text in quotes")
    return _other_type_problem(translate, kind, field, ctx or {})


def _other_type_problem(translate: Translate, kind: str, field: str, ctx: Mapping[str, Any]) -> str | None:
    """Pydantic's other texts ("Input should be a valid dictionary ...") in config words and the reader's language."""
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _say(translate, "must be a table: write [{field}] or {field} = {{ key = value }}", field=field)
    if kind in ("list_type", "tuple_type", "set_type"):
        return _say(translate, "must be a list in brackets (e.g. {line})", line=f'{field} = ["..."]')
    if kind == "too_short":
        return _say(translate, "needs at least {n} entries", n=ctx.get("min_length", 1))
    if kind == "too_long":
        return _say(translate, "may have at most {n} entries", n=ctx.get("max_length", ""))
    if kind == "string_too_short":
        return _say(translate, "must not be empty")
    if kind == "string_too_long":
        return _say(translate, "may be at most {n} characters long", n=ctx.get("max_length", ""))
    if kind == "string_pattern_mismatch":
        return _say(translate, "may contain only letters, digits, \"-\" and \"_\"")
    limits = {"greater_than": ("must be more than {n}", "gt"), "greater_than_equal": ("must be at least {n}", "ge"),
              "less_than": ("must be less than {n}", "lt"), "less_than_equal": ("must be at most {n}", "le")}
    if kind in limits:
        text, key = limits[kind]
        return _say(translate, text, n=ctx.get(key, ""))
    return None


def _field_error(translate: Translate, e: Any, msg: str) -> str:
    """A field validator's own message (a ``ValueError`` in values.py, calendar.py, ...): its text is a msgid
    or a ``Said`` with its values, so the reader gets it in their language; anything else as it is."""
    err = (e.get("ctx") or {}).get("error")
    if isinstance(err, Said):
        return _say(translate, err.msgid, **err.values)
    return translate(msg)


def _allowed(translate: Translate, expected: str) -> str:
    """Pydantic's ``'a', 'b' or 'c'`` as the file writes them, joined in the language of the message."""
    return expected.replace("'", '"').replace(" or ", f" {_say(translate, 'or')} ")


def _entry_hint(raw: Mapping[str, Any], loc: tuple[int | str, ...], translate: Translate = _english) -> str:
    """`` (in the [[devices]] entry with id = "x")``: an index alone does not tell which entry of a long list."""
    if len(loc) < 3 or not isinstance(loc[0], str) or not isinstance(loc[1], int) or loc[2] == "id":
        return ""
    entry = _value_at(raw, loc[:2])
    ident = entry.get("id") if isinstance(entry, dict) else None
    if not isinstance(ident, str) or not ident:
        return ""
    return _say(translate, " (in the [[{table}]] entry with id = {id})", table=loc[0], id=repr(ident))


def _describe(path: Path, raw: Mapping[str, Any], err: ValidationError,
              translate: Translate = _english) -> list[str]:
    problems: list[str] = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
        hint = _entry_hint(raw, loc, translate)
        before = len(problems)
        key = _key(loc) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            problems.append(f"{path}: {key}: " + _say(translate, "missing; add it (see docs/configuration.md)"))
        elif e["type"] == "extra_forbidden":
            problems.append(f"{path}: {key}: " + _say(translate, "unknown key; remove it or check its spelling"))
        elif e["type"] in ("literal_error", "enum"):
            expected = _allowed(translate, str((e.get("ctx") or {}).get("expected", "")))
            problems.append(f"{path}: {key} = {_toml(_value_at(raw, loc))}: "
                            + _say(translate, "must be one of {allowed}", allowed=expected))
        elif e["type"] in ("union_tag_not_found", "union_tag_invalid"):
            # an entry of a list of kinds ([[sensors]] type = ...): say it in config words, not pydantic's
            field = str((e.get("ctx") or {}).get("discriminator", "'type'")).strip("'")
            if e["type"] == "union_tag_not_found":
                problems.append(f"{path}: {key}.{field}: " + _say(
                    translate, "missing; add {line} (see docs/configuration.md)", line=f'{field} = "..."'))
            else:
                allowed = _allowed(translate, str((e.get("ctx") or {}).get("expected_tags", "")))
                problems.append(f"{path}: {key}.{field} = {_toml(_value_at(raw, (*loc, field)))}: "
                                + _say(translate, "must be one of {allowed}", allowed=allowed))
        elif not loc:  # checks across sections name their own keys, one problem per line
            problems.extend(f"{path}: {line}" for line in msg.splitlines())
        else:
            value = _value_at(raw, loc)
            shown = f" = {_toml(value)}" if value is not None and not isinstance(value, dict | list) else ""
            field = next((str(p) for p in reversed(loc) if isinstance(p, str)), key)
            said = _type_problem(translate, e["type"], field, value, e.get("ctx")) or _field_error(translate, e, msg)
            problems.append(f"{path}: {key}{shown}: {said}")
        if hint and len(problems) == before + 1:
            problems[-1] += hint
    return problems


def parse_config(raw: Mapping[str, Any], path: Path | str = "<config>", translate: Translate = _english) -> Config:
    """Validate an already-parsed TOML mapping; raises ConfigError with every problem.

    ``translate`` turns each English text into the reader's language (the CLI passes the gettext catalogs;
    this module stays free of them, so the agent on the Pi loads no Babel).
    """
    try:
        # strict: a number in quotes (keepalive = "30") is a mistake to show, not a value to guess at
        return Config.model_validate(raw, strict=True, context={"translate": translate})
    except ValidationError as err:
        problems = _describe(Path(path), raw, err, translate)
        if any(e["loc"] for e in err.errors()):  # Config's own checks did not run: run them on what is valid
            where = Path(path)
            problems += [f"{where}: {p}" for p in _partial_cross_problems(raw, translate)
                         if f"{where}: {p}" not in problems]
        raise ConfigError(problems) from None


def load_config(path: Path | str, translate: Translate = _english) -> Config:
    """Read and validate ``path``; raises ConfigError naming the file, key, bad value and fix (see parse_config)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: " + _say(translate, "no such file; pass --config PATH, set ${env}, or create it "
                                                 "(see docs/install-pi.md)", env=CONFIG_ENV)]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{p}: " + _say(translate, "cannot be read ({error}); check its permissions and that it is "
                                                 "UTF-8", error=e)]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{p}: " + _say(translate, "not valid TOML: {error}; fix the syntax at that line",
                                         error=e)]) from None
    return parse_config(raw, p, translate)
