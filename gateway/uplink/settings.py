"""``[uplink]`` settings: the district's central broker and store, and the uplink's bounds (values only)."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.store.influx_settings import InfluxSettings
from gateway.values import Duration


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class CentralBrokerSettings(_Section):
    """``[uplink.broker]``: the district's central MQTT broker, reached out over TLS with the site's own login."""

    url: str
    """``"mqtts://central.example.org:8883"`` (TLS; the default port is 8883) or ``"mqtt://..."`` (plain, for tests
    on one machine only). Credentials may be given here (percent-encoded) or in ``username`` and ``password``."""
    username: str = ""
    """The site's user name on the central broker (``houqin district mqtt-setup`` makes one per site: ``site-{id}``)."""
    password: str = Field(default="", repr=False)
    """The site's password on the central broker (from the district's ``credentials.json``)."""
    ca_file: str | None = None
    """CA certificate (PEM) of the central broker (the district's ``ca.crt``); default: the system's CAs."""
    client_id: str = ""
    """Fixed client id on the central broker; default ``"houqin-uplink-{site.id}"``."""
    keepalive: int = Field(default=60, ge=5, le=3600)
    """Seconds between keep-alive pings (5-3600)."""
    reconnect_max: Duration = 60.0
    """Longest wait between attempts to reach the central broker while it is away (from 1 s, doubling)."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must be \"mqtts://host[:port]\" (or \"mqtt://host[:port]\" without TLS)")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("has a port that is not a number between 1 and 65535") from None
        return v

    @field_validator("reconnect_max")
    @classmethod
    def _at_least_a_second(cls, v: float) -> float:
        if v < 1:
            raise ValueError("must be at least one second, e.g. \"1m\"")
        return v

    @field_validator("ca_file")
    @classmethod
    def _readable(cls, v: str | None) -> str | None:
        if v is not None and not os.path.exists(v):
            raise ValueError("no such file; give the path of the district's ca.crt")
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

    def login(self) -> tuple[str | None, str | None]:
        """User name and password: the fields, else those in the URL."""
        parts = urlsplit(self.url)
        user = self.username or (unquote(parts.username) if parts.username else "")
        pw = self.password or (unquote(parts.password) if parts.password else "")
        return (user or None, pw or None)


class UplinkSettings(_Section):
    """``[uplink]``: send this site's readings, alert transitions and status to the district (off by default).

    Only readings, alert transitions and the site's status leave the school; visitors' names, phones and ID
    numbers and card holders never do (see docs/district.md).
    """

    broker: CentralBrokerSettings | None = None
    """``[uplink.broker]``: the central broker that receives alert transitions and status under ``houqin/{site}/``."""
    store: InfluxSettings | None = None
    """``[uplink.store]``: the central time-series store, with the same keys as ``[influxdb]``: InfluxDB 1.x
    (``api = "v1"``, ``database``), 2.x/3.x (``org``, ``bucket``, ``token``), or VictoriaMetrics (its InfluxDB
    endpoint: ``url = "http://vm:8428"``, ``api = "v1"``, ``database = "houqin"``). The site keeps its own store too."""
    outbox_max_messages: int = Field(default=100_000, ge=10)
    """Most alert and status messages the uplink keeps while the central broker is away; past it the oldest are
    dropped and counted."""
    ack_timeout: Duration = 10.0
    """How long one message waits for the central broker's acknowledgement before it is tried again."""
    status_every: Duration = 60.0
    """How often the site's status (health, devices offline) is checked; it is sent when it changed."""
    outage_alert_after: Duration = 3600.0
    """An alert at the site when the oldest unsent reading or message has waited this long."""
    alert_chain: str | None = None
    """The ``[notify.chains]`` chain told of a long uplink outage or of dropped data."""

    @field_validator("ack_timeout", "status_every", "outage_alert_after")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be longer than zero, e.g. \"1h\"")
        return v

    @property
    def enabled(self) -> bool:
        """True when a central broker or store is configured."""
        return self.broker is not None or self.store is not None
