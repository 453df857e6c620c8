"""``[influxdb]`` settings: where InfluxDB is, which API to speak, and the outbox's bounds."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.values import Duration


class InfluxSettings(BaseModel):
    """``[influxdb]``: server, credentials (v2: org/bucket/token; v1: database/username/password), outbox."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    url: str = "http://127.0.0.1:8086"
    """The InfluxDB server."""
    api: Literal["auto", "v1", "v2"] = "auto"
    """``v1``: ``/write`` + database (InfluxDB 1.x, as Debian ships 1.6); ``v2``: influxdb-client with org/bucket/token
    (2.x, 3.x, Cloud, 1.8+); ``auto``: ask ``/ping`` which version answers."""
    org: str = ""
    """2.x/3.x: the organisation."""
    bucket: str = ""
    """2.x/3.x: the bucket written to."""
    token: str = Field(default="", repr=False)
    """2.x/3.x: the API token."""
    database: str = ""
    """v1 database; on 2.x/3.x the database name InfluxQL reads use (a DBRP mapping); default: bucket."""
    retention_policy: str = ""
    """1.x: the retention policy written to; default: the database's default."""
    username: str = ""
    """1.x: user name (give both or neither)."""
    password: str = Field(default="", repr=False)
    """1.x: password."""
    measurement: str = "houqin"
    """Measurement name of every point."""
    timeout: Duration = 10.0
    """Per HTTP request."""
    verify_tls: bool = True
    """Check the server's certificate for ``https://``."""
    outbox_max_points: int = Field(default=1_000_000, ge=1)
    """Most points the outbox keeps while InfluxDB is away; past it the oldest are dropped and counted."""
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    """Points per write request."""
    backoff_initial: Duration = 1.0
    """First retry delay after a failed write (doubling, with jitter)."""
    backoff_max: Duration = 300.0
    """Longest retry delay."""
    alert_chain: str | None = None
    """The ``[notify.chains]`` chain told when storage is degraded (credentials refused) or drops points."""

    @field_validator("timeout", "backoff_initial", "backoff_max")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be longer than zero, e.g. \"10s\"")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as \"http://127.0.0.1:8086\"")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("has a port that is not a number between 1 and 65535") from None
        return v.rstrip("/")

    @model_validator(mode="after")
    def _credentials(self) -> InfluxSettings:
        v2 = bool(self.org and self.bucket and self.token)
        partial_v2 = [k for k in ("org", "bucket", "token") if not getattr(self, k)]
        if self.api == "v2" and not v2:
            raise ValueError(f"api = \"v2\" needs org, bucket and token; missing: {', '.join(partial_v2)}")
        if self.api == "v1" and not self.database:
            raise ValueError("api = \"v1\" needs database = \"...\" (create it with: influx -execute "
                             "'CREATE DATABASE houqin')")
        if self.api == "auto" and not v2 and not self.database:
            raise ValueError("set database = \"...\" (InfluxDB 1.x) or org, bucket and token (2.x/3.x)")
        if bool(self.username) != bool(self.password):
            raise ValueError("username and password go together; set both or neither")
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must be at least backoff_initial")
        return self

    @property
    def has_v2_credentials(self) -> bool:
        """True when org, bucket and token are all set."""
        return bool(self.org and self.bucket and self.token)

    @property
    def query_database(self) -> str:
        """The database name InfluxQL reads name (``database``, else ``bucket``)."""
        return self.database or self.bucket

    @property
    def safe_url(self) -> str:
        """The URL without any credentials, for logs and status."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
