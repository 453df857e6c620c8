"""Webhook channel: POSTs JSON to a group robot or a generic receiver (stdlib HTTP client)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from gateway.notify import robots
from gateway.notify.channel import DeliveryError, DeliveryResult, attempt
from gateway.notify.config import WebhookChannel
from gateway.notify.message import Message


class WebhookDelivery:
    """Sends messages to one webhook URL in one format."""

    mirrors_alerts = False

    def __init__(self, name: str, settings: WebhookChannel, wall: Callable[[], float] = time.time) -> None:
        self.name = name
        self.settings = settings
        # Signatures need the real time: the robots refuse timestamps more than an hour off.
        self._wall = wall

    def request(self, message: Message) -> tuple[str, dict[str, Any]]:
        """The URL and JSON body for ``message``."""
        s = self.settings
        secret = s.signing_secret()
        if s.secret_env and not secret:
            raise DeliveryError(f"{self.name}: environment variable {s.secret_env} (secret_env) is not set")
        # The settings allow markdown (WeCom, DingTalk) or interactive (Feishu); a report prefers Markdown.
        rich = s.style != "text" or (message.prefer_markdown and s.format in ("wecom", "dingtalk", "feishu"))
        if s.format == "wecom":
            return s.url, robots.wecom_body(message, rich)
        if s.format == "dingtalk":
            return robots.dingtalk_url(s.url, secret, self._wall()), robots.dingtalk_body(message, rich)
        if s.format == "feishu":
            return s.url, robots.feishu_body(message, rich, secret, self._wall())
        return s.url, robots.generic_body(message)

    def send(self, message: Message) -> DeliveryResult:
        """POST once; a network error, a non-2xx status or a robot's error code is a failed delivery."""
        return attempt(self.name, self._post, message)

    def _post(self, message: Message) -> None:
        url, body = self.request(message)
        data = json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=self.settings.timeout) as resp:
                reply = resp.read(65536)
        except urllib.error.HTTPError as e:
            raise DeliveryError(f"{self.name}: HTTP {e.code} from the webhook") from None
        except (urllib.error.URLError, OSError) as e:
            raise DeliveryError(f"{self.name}: cannot reach the webhook: {getattr(e, 'reason', e)}") from None
        if self.settings.format != "generic":
            self._check_reply(reply)

    def _check_reply(self, reply: bytes) -> None:
        # The robots answer HTTP 200 with an error code in the body (e.g. a bad signature).
        try:
            obj = json.loads(reply or b"{}")
        except ValueError:
            return
        if not isinstance(obj, dict):
            return
        code = obj.get("errcode", obj.get("code", obj.get("StatusCode", 0)))
        if code not in (0, None):
            msg = obj.get("errmsg") or obj.get("msg") or obj.get("StatusMessage") or ""
            raise DeliveryError(f"{self.name}: the {self.settings.format} robot refused the message: {code} {msg}")
