"""``[dashboard]`` settings: where the web server listens, session lifetimes, cookies and throttling."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.values import Duration


class DashboardSettings(BaseModel):
    """``[dashboard]``: the web server in the gateway process.

    ``bind`` defaults to ``0.0.0.0`` because the people who use the dashboard do so from the gate
    tablet and their phones on the school LAN; every page needs a login and there is no default
    account. Set ``bind = "127.0.0.1"`` when a reverse proxy (nginx, Caddy) terminates TLS in front.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    enabled: bool = True
    """Serve the dashboard from ``houqin run``."""
    bind: str = "0.0.0.0"
    """Listen address: the school LAN by default (the gate tablet and phones); ``"127.0.0.1"`` behind a reverse proxy
    that terminates TLS."""
    port: int = Field(default=8080, ge=0, le=65535)
    """TCP port of the dashboard."""
    session_idle: Duration = 2 * 3600.0
    """A session unused this long ends (the gate page's live stream counts as use)."""
    session_max: Duration = 14 * 3600.0
    """A session ends this long after login whatever happens (a guard's shift plus margin)."""
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    """``auto``: Secure cookies when the request came over HTTPS; ``always``/``never`` force it."""
    tls_cert: str | None = None
    """Serve HTTPS directly with this certificate and key (PEM files)."""
    tls_key: str | None = None
    """The key of ``tls_cert`` (PEM)."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Trust X-Forwarded-For/-Proto from these proxy addresses only (e.g. ["127.0.0.1"]); empty: the headers are
    ignored and the peer's address counts."""
    login_max_failures_account: int = Field(default=5, ge=1, le=1000)
    """Failed logins for one account from one browser (its device cookie) or, for a browser that never logged in as
    it, one address, within ``login_window``, before that pair is refused; attempts are spaced by a growing delay."""
    login_max_failures_address: int = Field(default=20, ge=1, le=10000)
    """Failed logins from one address, or against one account from browsers that never logged in as it, within
    ``login_window`` before new browsers are refused (a browser that logged in before keeps its own budget)."""
    login_window: Duration = 15 * 60.0
    """The login throttling window."""

    @field_validator("session_idle", "session_max", "login_window")
    @classmethod
    def _duration(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be longer than zero (e.g. \"2h\")")
        return v

    @model_validator(mode="after")
    def _tls_pair(self) -> DashboardSettings:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together; set both (PEM files) or neither")
        return self

    @property
    def idle_seconds(self) -> float:
        """``session_idle`` in seconds."""
        return self.session_idle

    @property
    def max_seconds(self) -> float:
        """``session_max`` in seconds."""
        return self.session_max

    @property
    def window_seconds(self) -> float:
        """``login_window`` in seconds."""
        return self.login_window

    @property
    def tls(self) -> bool:
        """True when the server itself speaks HTTPS."""
        return bool(self.tls_cert and self.tls_key)
