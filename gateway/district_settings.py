"""``district.toml``: the district's name, its sites (id, name, children, floor area) and the district service's
central broker, central store and web server; values only.

The central broker's set-up (``houqin district mqtt-setup``) gives each site here a login that may publish
only under ``houqin/{site}/``; children and floor area are what the district's figures are divided by;
``houqin district serve`` reads ``[broker]``, ``[store]`` and ``[web]``.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dashboard.settings import DashboardSettings
from gateway.calendar import WEEKDAYS
from gateway.contract import check_id
from gateway.errors import ConfigError
from gateway.notify.config import EmailChannel, WebhookChannel
from gateway.values import ClockTime, Duration

#: The channels the district sends through: a robot (webhook) or e-mail, keyed as a site's ``[notify.channels]``.
MessageChannel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="type")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DistrictSite(_Section):
    """``[[sites]]``: one kindergarten or school of the district."""

    id: str
    """The site's id, as in its own ``[site] id`` (its MQTT prefix ``houqin/{id}/`` and its user on the broker)."""
    name: str = ""
    """The school's name for people (e.g. ``"阳光幼儿园"``)."""
    children: int = Field(default=0, ge=0)
    """Children enrolled (water and electricity per child)."""
    floor_area_m2: float = Field(default=0.0, ge=0)
    """Heated or cooled floor area in m² (electricity per m²)."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "sunshine-kg")


class DistrictBrokerSettings(_Section):
    """``[broker]``: the central broker as the district service reads it (the reader login of ``mqtt-setup``)."""

    url: str = "mqtt://127.0.0.1:1883"
    """``"mqtt://127.0.0.1:1883"``: the loopback listener ``mqtt-setup`` writes for services on the broker's machine;
    ``"mqtts://host:8883"`` over TLS from another machine."""
    username: str = "houqin-district"
    """The reader's user name (``reader`` in the broker folder's ``credentials.json``)."""
    password: str = Field(default="", repr=False)
    """The reader's password (``reader`` in ``credentials.json``)."""
    ca_file: str | None = None
    """The district's ``ca.crt`` for ``mqtts://``; default: the system's CAs."""
    client_id: str = "houqin-district-service"
    """Client id on the central broker (one running service per id)."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must be \"mqtt://host[:port]\" or \"mqtts://host[:port]\"")
        return v

    @property
    def tls(self) -> bool:
        """True for ``mqtts://``."""
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def host(self) -> str:
        """The broker's host."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The broker's port (8883 with TLS, 1883 without, unless given)."""
        return urlsplit(self.url).port or (8883 if self.tls else 1883)


class CentralStoreSettings(_Section):
    """``[store]``: the central time-series store the sites' uplinks write to, read through its query API."""

    kind: Literal["influxdb", "victoriametrics"]
    """``"influxdb"``: InfluxDB 1.x (InfluxQL ``/query``); ``"victoriametrics"``: VictoriaMetrics (``/api/v1``)."""
    url: str
    """Base URL, e.g. ``"http://127.0.0.1:8086"`` (InfluxDB) or ``"http://127.0.0.1:8428"`` (VictoriaMetrics)."""
    database: str = "houqin"
    """The database the sites write to (their ``[uplink.store] database``; VictoriaMetrics keeps it as the ``db``
    label)."""
    username: str = ""
    """InfluxDB user (empty: no authentication)."""
    password: str = Field(default="", repr=False)
    """InfluxDB password."""
    timeout: Duration = 10.0
    """How long one query may take."""

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if urlsplit(v).scheme not in ("http", "https"):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


class DistrictNotifySettings(_Section):
    """``[notify]``: the district's robots and e-mail, as a site's ``[notify.channels]``."""

    channels: dict[str, MessageChannel] = Field(default_factory=dict)
    """``[notify.channels.NAME]``: a ``webhook`` (WeCom, DingTalk, Feishu or generic) or ``email`` channel."""


class SummarySettings(_Section):
    """``[summary]``: the weekly district summary, the five sites needing attention and why."""

    enabled: bool = True
    """Send the weekly summary (when ``channels`` names any)."""
    day: str = "mon"
    """Weekday (``mon``..``sun``) it is sent, about the week that just ended."""
    at: ClockTime = time(8, 30)
    """Local time (``HH:MM``, the district's time zone) on ``day`` it is sent."""
    channels: list[str] = Field(default_factory=list)
    """Names of ``[notify.channels]``: robots get the Markdown, e-mail the text."""
    link: str = ""
    """The district service's address for the link in the message (e.g. ``"https://houqin.district.example.org"``)."""

    @field_validator("day")
    @classmethod
    def _day(cls, v: str) -> str:
        if v not in WEEKDAYS:
            raise ValueError(f"use one of {', '.join(WEEKDAYS)}")
        return v


class TermSettings(_Section):
    """``[term]``: the school term, for the saving table's "term so far"."""

    start: date | None = None
    """The term's first day (e.g. ``2026-09-01``); none: the saving table has no term-so-far figures."""


class SavingSettings(_Section):
    """``[saving]``: the saving table's leak finding."""

    leak_l_per_h: float = Field(default=5.0, gt=0)
    """A site's water night baseline (the least water used in any night hour, 00:00-05:00, of the week) at or above
    this many litres per hour is a leak finding: water flowed every night hour of the week."""


class DistrictSettings(_Section):
    """The whole ``district.toml``."""

    name: str
    """The district's name for people (e.g. ``"海淀区教委"``)."""
    timezone: str = "Asia/Shanghai"
    """The district's time zone (weeks and days of the figures)."""
    locale: Literal["zh-CN", "en"] = "zh-CN"
    """Language of the pages for users who did not choose one."""
    data_dir: str = "/var/lib/houqin-district"
    """Where the district service keeps its users, sessions and audit log (``district.db``)."""
    sites: list[DistrictSite] = Field(default_factory=list)
    """``[[sites]]``: every site that reports to the district."""
    broker: DistrictBrokerSettings = Field(default_factory=DistrictBrokerSettings)
    """``[broker]``: the central broker, for the sites' status and alert transitions."""
    store: CentralStoreSettings | None = None
    """``[store]``: the central store, for the age of the last reading and the cold-chain and saving figures."""
    web: DashboardSettings = Field(default_factory=DashboardSettings)
    """``[web]``: the district service's web server, sessions and login throttling (the keys of ``[dashboard]``)."""
    notify: DistrictNotifySettings = Field(default_factory=DistrictNotifySettings)
    """``[notify]``: the district's channels (robots, e-mail)."""
    summary: SummarySettings = Field(default_factory=SummarySettings)
    """``[summary]``: the weekly summary to the district's robot or e-mail."""
    term: TermSettings = Field(default_factory=TermSettings)
    """``[term]``: the school term's start, for the saving table's "term so far"."""
    saving: SavingSettings = Field(default_factory=SavingSettings)
    """``[saving]``: the saving table's leak finding."""

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as \"Asia/Shanghai\"") from None
        return v

    def site(self, site_id: str) -> DistrictSite | None:
        """The ``[[sites]]`` entry of ``site_id``."""
        return next((s for s in self.sites if s.id == site_id), None)

    @model_validator(mode="after")
    def _unique(self) -> DistrictSettings:
        seen: set[str] = set()
        for s in self.sites:
            if s.id in seen:
                raise ValueError(f"site id {s.id!r} is used twice; every [[sites]] id must be unique")
            seen.add(s.id)
        for name in self.summary.channels:
            if name not in self.notify.channels:
                raise ValueError(f"[summary] channels names {name!r}, which is not in [notify.channels]")
        return self


def load_district(path: Path) -> DistrictSettings:
    """Read and check ``district.toml``; raises ConfigError naming each problem."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file; write a district.toml with name = \"...\" and [[sites]]"]) from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: {e}"]) from None
    try:
        return DistrictSettings.model_validate(doc)
    except ValidationError as e:
        raise ConfigError([f"{path}: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]) \
            from None
