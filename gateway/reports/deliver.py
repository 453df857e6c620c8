"""Sending reports through the channels of ``[notify.channels]``: the Markdown summary to group robots
(WeCom, DingTalk, Feishu, generic JSON) and an HTML e-mail with the charts as inline PNG images.

The alert channels' HTTP and SMTP code is reused (signing, STARTTLS/SSL, login, robot error codes); only
the message bodies differ, so the report channels subclass them and replace what they send.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from gateway.config import Config
from gateway.notify import robots
from gateway.notify.channel import DeliveryError
from gateway.notify.config import EmailChannel, WebhookChannel
from gateway.notify.email import EmailDelivery
from gateway.notify.messages import Notice
from gateway.notify.webhook import WebhookDelivery
from gateway.reports.render import Image

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """A report message for every kind of channel: title, Markdown, plain text, HTML and its images."""

    kind: str  # "weekly", "samples_due", ...
    title: str
    markdown: str
    text: str
    html: str | None = None
    images: Sequence[Image] = ()


#: WeCom refuses markdown/text content over 4096 bytes (UTF-8).
WECOM_MAX = 4096


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes at a line end, with "…" when cut."""
    if len(text.encode()) <= limit:
        return text
    out = ""
    for line in text.splitlines(keepends=True):
        if len((out + line).encode()) > limit - 4:
            break
        out += line
    return out + "…"


#: The alert channels' ``deliver(notice)`` is reused; report subclasses ignore the notice they are given.
_NO_NOTICE = cast(Notice, None)


class ReportWebhook(WebhookDelivery):
    """A webhook channel that posts a report instead of an alert notice."""

    def __init__(self, name: str, settings: WebhookChannel, message: Message) -> None:
        super().__init__(name, settings)
        self.report = message

    def request(self, notice: Notice) -> tuple[str, dict[str, Any]]:
        """The URL and body of the report for this robot format and style."""
        s, m = self.settings, self.report
        secret = s.signing_secret()
        if s.secret_env and not secret:
            raise DeliveryError(f"{self.name}: environment variable {s.secret_env} (secret_env) is not set")
        rich = s.style in ("markdown", "interactive")
        if s.format == "wecom":
            body: dict[str, Any] = ({"msgtype": "markdown", "markdown": {"content": clip(m.markdown, WECOM_MAX)}}
                                    if rich else {"msgtype": "text", "text": {"content": clip(m.text, WECOM_MAX)}})
            return s.url, body
        if s.format == "dingtalk":
            body = ({"msgtype": "markdown", "markdown": {"title": m.title, "text": m.markdown}} if rich
                    else {"msgtype": "text", "text": {"content": m.text}})
            return robots.dingtalk_url(s.url, secret, self._wall()), body
        if s.format == "feishu":
            if rich:
                body = {"msg_type": "interactive", "card": {
                    "config": {"wide_screen_mode": True},
                    "header": {"title": {"tag": "plain_text", "content": m.title}, "template": "blue"},
                    "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": m.markdown}}]}}
            else:
                body = {"msg_type": "text", "content": {"text": m.text}}
            if secret:
                ts = int(self._wall())
                body = {"timestamp": str(ts), "sign": robots.feishu_sign(ts, secret), **body}
            return s.url, body
        return s.url, {"event": "report", "report": m.kind, "title": m.title, "text": m.text, "markdown": m.markdown}

    def send(self) -> None:
        """POST the report; raises DeliveryError."""
        self.deliver(_NO_NOTICE)


class ReportEmail(EmailDelivery):
    """An e-mail channel that sends a report: HTML with inline PNG charts and a plain-text part."""

    def __init__(self, name: str, settings: EmailChannel, message: Message) -> None:
        super().__init__(name, settings)
        self.report = message

    def message(self, notice: Notice) -> EmailMessage:
        """multipart/alternative: text, then HTML in multipart/related with the charts by Content-ID."""
        m = self.report
        msg = self.plain(m.title, m.text)
        if m.html is not None:
            msg.add_alternative(m.html, subtype="html")
            html_part = cast(EmailMessage, msg.get_payload()[-1])  # type: ignore[index]
            for img in m.images:
                html_part.add_related(img.png, maintype="image", subtype="png", cid=f"<{img.cid}>",
                                      filename=img.cid.split("@")[0] + ".png")
        return msg

    def send(self) -> None:
        """Send the report; raises DeliveryError."""
        self.deliver(_NO_NOTICE)


def send(config: Config, channels: Sequence[str], message: Message) -> dict[str, str | None]:
    """Send ``message`` to each named channel; returns channel -> None (sent) or the error.

    Buzzer, LED and MQTT alert channels carry no reports and are skipped with a note.
    """
    out: dict[str, str | None] = {}
    for name in channels:
        s = config.notify.channels.get(name)
        try:
            if isinstance(s, WebhookChannel):
                ReportWebhook(name, s, message).send()
            elif isinstance(s, EmailChannel):
                ReportEmail(name, s, message).send()
            elif s is None:
                raise DeliveryError(f"{name}: no such channel in [notify.channels]")
            else:
                raise DeliveryError(f"{name}: a {s.type} channel cannot carry reports; use a webhook or e-mail")
            out[name] = None
        except Exception as e:  # one channel failing must not stop the others
            log.warning("sending the %s report to %s failed: %s", message.kind, name, e)
            out[name] = str(e) or type(e).__name__
    return out


def nobody_reached(results: Mapping[str, str | None]) -> bool:
    """Whether ``send`` had channels to try and every one of them failed."""
    return bool(results) and all(err is not None for err in results.values())
