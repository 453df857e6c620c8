"""Request bodies of the group robots (WeCom, DingTalk, Feishu) and the generic JSON webhook.

Shapes follow each robot's documentation:
- WeCom (企业微信): ``{"msgtype": "text", "text": {"content": ...}}`` or ``msgtype`` ``markdown``.
- DingTalk (钉钉): same ``msgtype`` shapes (markdown has ``title`` and ``text``); with a secret the URL
  gets ``timestamp`` (ms) and ``sign`` = url-encoded base64 HMAC-SHA256 of ``"{timestamp}\\n{secret}"``
  keyed with the secret.
- Feishu (飞书): ``{"msg_type": "text", "content": {"text": ...}}`` or ``interactive`` with a ``card``;
  with a secret the body gets ``timestamp`` (s) and ``sign`` = base64 HMAC-SHA256 keyed with
  ``"{timestamp}\\n{secret}"`` over an empty message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

from gateway.notify.messages import Notice


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk's ``sign`` query value (already url-encoded)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """Feishu's ``sign`` body value."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def wecom_body(notice: Notice, style: str) -> dict[str, Any]:
    """WeCom group robot body."""
    if style == "markdown":
        return {"msgtype": "markdown", "markdown": {"content": notice.markdown}}
    return {"msgtype": "text", "text": {"content": notice.text}}


def dingtalk_body(notice: Notice, style: str) -> dict[str, Any]:
    """DingTalk group robot body."""
    if style == "markdown":
        return {"msgtype": "markdown", "markdown": {"title": notice.title, "text": notice.markdown}}
    return {"msgtype": "text", "text": {"content": notice.text}}


def dingtalk_url(url: str, secret: str | None, now_s: float) -> str:
    """The DingTalk URL, signed when there is a secret."""
    if not secret:
        return url
    ts = int(now_s * 1000)
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(ts, secret)}"


_CARD_COLOUR = {"critical": "red", "major": "orange", "minor": "yellow", "warning": "blue"}


def feishu_body(notice: Notice, style: str, secret: str | None, now_s: float) -> dict[str, Any]:
    """Feishu group robot body (signed when there is a secret)."""
    body: dict[str, Any]
    if style == "interactive":
        colour = "green" if notice.event in ("resolved", "acknowledged") else _CARD_COLOUR.get(
            notice.alert.severity, "red")
        body = {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": notice.title}, "template": colour},
            "elements": [{"tag": "div", "text": {"tag": "lark_md",
                                                 "content": notice.text.split("\n", 1)[-1]}}],
        }}
    else:
        body = {"msg_type": "text", "content": {"text": notice.text}}
    if secret:
        ts = int(now_s)
        body = {"timestamp": str(ts), "sign": feishu_sign(ts, secret), **body}
    return body


def generic_body(notice: Notice) -> dict[str, Any]:
    """Generic JSON: ``{"event", "alert": {"id", "rule", "device", "severity", "state", "value", "since"}, "text"}``."""
    a = notice.alert
    return {"event": notice.event,
            "alert": {"id": a.id, "rule": a.rule, "device": a.device, "severity": a.severity, "state": a.state,
                      "value": a.value, "since": a.since},
            "text": notice.text}
