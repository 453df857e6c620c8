"""``[notify]``: channels (where messages go) and chains (who is told when), validated at start."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.contract import ID_PATTERN
from gateway.values import Duration


class _S(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, populate_by_name=True)


def secret(value: str | None, env: str | None) -> str | None:
    """A secret from the config value or, when ``env`` names one, from that environment variable."""
    if env:
        return os.environ.get(env) or None
    return value


class OutputChannel(_S):
    """``type = "buzzer"`` or ``"led"``: a ``set`` command to the agent's output on ``device``."""

    type: Literal["buzzer", "led"]
    device: str
    """The agent device whose ``set`` topic receives ``{"<output>": "on" | "off"}``."""
    output: str | None = None
    """Output name in the command; default: the type (``buzzer`` / ``led``)."""

    @field_validator("device")
    @classmethod
    def _device(cls, v: str) -> str:
        if not ID_PATTERN.match(v):
            raise ValueError("must be a device id (lower-case letters, digits, '-' or '_')")
        return v


class MqttChannel(_S):
    """``type = "mqtt"``: retained JSON state of open alerts on ``houqin/{site}/alerts/{rule}/{device}``."""

    type: Literal["mqtt"]
    retain: bool = True
    """Publish the alert state retained (deleted with an empty retained message when it clears)."""


class WebhookChannel(_S):
    """``type = "webhook"``: a group robot (WeCom, DingTalk, Feishu) or a generic JSON receiver."""

    type: Literal["webhook"]
    format: Literal["wecom", "dingtalk", "feishu", "generic"]
    """The receiver: WeCom (企业微信), DingTalk (钉钉) or Feishu (飞书) group robot, or ``generic`` JSON."""
    url: str
    """The robot's webhook address (``https://...``)."""
    style: Literal["text", "markdown", "interactive"] = "text"
    """Message style: ``text`` or ``markdown`` (WeCom, DingTalk); ``text`` or ``interactive`` (Feishu)."""
    secret: str | None = None
    """Signing secret (DingTalk "加签", Feishu "签名校验"); prefer ``secret_env``."""
    secret_env: str | None = None
    """Environment variable holding the signing secret (keeps it out of the file)."""
    timeout: Duration = 5.0
    """Per request."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local receiver)")
        return v

    @model_validator(mode="after")
    def _style(self) -> WebhookChannel:
        allowed = {"wecom": ("text", "markdown"), "dingtalk": ("text", "markdown"),
                   "feishu": ("text", "interactive"), "generic": ("text",)}[self.format]
        if self.style not in allowed:
            raise ValueError(f"style {self.style!r} is not available for format {self.format!r}; "
                             f"use one of {', '.join(allowed)}")
        return self

    def signing_secret(self) -> str | None:
        """The signing secret, from ``secret_env`` or ``secret``."""
        return secret(self.secret, self.secret_env)


class EmailChannel(_S):
    """``type = "email"``: SMTP with STARTTLS (port 587), SSL (465) or plain (local relays only)."""

    type: Literal["email"]
    host: str
    """SMTP server."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """SMTP port; default by ``security``: 587 (starttls), 465 (ssl), 25 (none)."""
    security: Literal["starttls", "ssl", "none"] = "starttls"
    """``starttls`` (587), ``ssl`` (465) or ``none`` (local relays only)."""
    username: str | None = None
    """SMTP login, when the server needs one."""
    password: str | None = None
    """SMTP password; prefer ``password_env``."""
    password_env: str | None = None
    """Environment variable holding the SMTP password."""
    sender: str = Field(alias="from")
    """The From address."""
    to: list[str] = Field(min_length=1)
    """Recipients."""
    timeout: Duration = 10.0
    """Per connection."""

    @property
    def effective_port(self) -> int:
        """The port, defaulting by security."""
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]

    def login_password(self) -> str | None:
        """The SMTP password, from ``password_env`` or ``password``."""
        return secret(self.password, self.password_env)


ChannelSettings = Annotated[OutputChannel | MqttChannel | WebhookChannel | EmailChannel,
                            Field(discriminator="type")]


class ChainStep(_S):
    """One step: ``after`` the alert opened, tell ``channels``."""

    after: Duration = 0.0
    """How long after the alert opened this step is told."""
    channels: list[str] = Field(min_length=1)
    """Names of ``[notify.channels]`` told at this step."""


class ChainSettings(_S):
    """``[notify.chains.NAME]``: steps with delays, repeated every ``repeat`` until acknowledged."""

    steps: list[ChainStep] = Field(min_length=1)
    """Who is told when, in order of ``after``."""
    repeat: Duration | None = None
    """Tell everyone told so far again this often until the alert is acknowledged (none: once)."""
    resolved: bool = True
    """Send a "resolved" message to everyone told when the alert clears."""

    @field_validator("steps")
    @classmethod
    def _ordered(cls, v: list[ChainStep]) -> list[ChainStep]:
        if any(b.after < a.after for a, b in itertools.pairwise(v)):
            raise ValueError("steps must be in order of their 'after' delay")
        return v


class NotifySettings(_S):
    """``[notify]``: channels, chains and delivery retries."""

    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    """Where messages go, by name."""
    chains: dict[str, ChainSettings] = Field(default_factory=dict)
    """Who is told when, by name (rules name a chain in ``notify``)."""
    attempts: int = Field(default=6, ge=1, le=100)
    """Tries per message before giving up (each failure is logged, put on the alert's timeline and counted)."""
    backoff: Duration = 2.0
    """First wait between tries of a failed delivery (doubling, at most 5 min)."""
    queue_size: int = Field(default=1000, ge=1)
    """Messages waiting per channel; beyond that new ones are dropped and counted."""

    @model_validator(mode="after")
    def _chains_name_channels(self) -> NotifySettings:
        problems = []
        for name, chain in self.chains.items():
            for i, step in enumerate(chain.steps):
                for ch in step.channels:
                    if ch not in self.channels:
                        problems.append(f"chain {name!r} step {i + 1} names channel {ch!r}, which is not "
                                        f"defined; add [notify.channels.{ch}] or fix the name")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _english(message: str) -> str:
    return message


def check_notify(notify: NotifySettings, devices: Sequence[str],
                 translate: Callable[[str], str] = _english) -> list[str]:
    """Problems across sections: a buzzer or LED channel whose ``device`` is not a ``[[devices]]`` id."""
    # A misspelt device would send the local alarm's commands to a topic no agent listens to.
    return [f"notify.channels.{name}: " + translate(
                "device {device} is not a [[devices]] id, so the {type} would never sound; name the device whose "
                "[[sensors]] {type} is wired on the agent").format(device=repr(ch.device), type=ch.type)
            for name, ch in notify.channels.items() if isinstance(ch, OutputChannel) and ch.device not in devices]
