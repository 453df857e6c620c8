"""Request bodies of the group robots (WeCom, DingTalk, Feishu) and the generic JSON webhook, and their
signatures: the one place each is written, for alerts, reports and visitor approvals alike.

Shapes follow each robot's documentation:
- WeCom (企业微信): ``{"msgtype": "text", "text": {"content": ...}}`` or ``msgtype`` ``markdown``; content
  over 4096 bytes is refused, so it is clipped.
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

from gateway.notify.message import Message, Tone

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


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk's ``sign`` query value (already url-encoded)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """Feishu's ``sign`` body value."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def wecom_body(message: Message, rich: bool) -> dict[str, Any]:
    """WeCom group robot body (``rich``: Markdown)."""
    if rich:
        return {"msgtype": "markdown", "markdown": {"content": clip(message.markdown, WECOM_MAX)}}
    return {"msgtype": "text", "text": {"content": clip(message.text, WECOM_MAX)}}


def dingtalk_body(message: Message, rich: bool) -> dict[str, Any]:
    """DingTalk group robot body (``rich``: Markdown)."""
    if rich:
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown}}
    return {"msgtype": "text", "text": {"content": message.text}}


def dingtalk_url(url: str, secret: str | None, now_s: float) -> str:
    """The DingTalk URL, signed when there is a secret."""
    if not secret:
        return url
    ts = int(now_s * 1000)
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(ts, secret)}"


_CARD_COLOUR: dict[Tone, str] = {"critical": "red", "major": "orange", "minor": "yellow", "warning": "blue",
                                 "ok": "green", "info": "blue"}


def lark_md(message: Message) -> str:
    """The Markdown for a Feishu card's body: without the title (the card's header shows it) and without quote
    markers (``lark_md`` has no block elements, so ``>`` would show as it is)."""
    lines = message.markdown.split("\n")
    if lines and lines[0] == f"**{message.title}**":
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
    return "\n".join(line[2:] if line.startswith("> ") else line for line in lines)


def feishu_body(message: Message, rich: bool, secret: str | None, now_s: float) -> dict[str, Any]:
    """Feishu group robot body (``rich``: an interactive card), signed when there is a secret."""
    body: dict[str, Any]
    if rich:
        body = {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": message.title},
                       "template": _CARD_COLOUR[message.tone]},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": lark_md(message)}}],
        }}
    else:
        body = {"msg_type": "text", "content": {"text": message.text}}
    if secret:
        ts = int(now_s)
        body = {"timestamp": str(ts), "sign": feishu_sign(ts, secret), **body}
    return body


def generic_body(message: Message) -> dict[str, Any]:
    """Generic JSON: the message's ``fields`` (an alert's ``event`` and ``alert``, a report's ``event`` and
    ``report``) with its ``title``, ``text`` and ``markdown``."""
    return {**message.fields, "title": message.title, "text": message.text, "markdown": message.markdown}
