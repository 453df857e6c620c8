"""A message that is not about an alert (a visitor approval, a report) through the same channel objects the
alerts use: each robot's body and signature from the one builder, and the buzzer and MQTT channels refusing it
with an error that says what to use instead."""

from __future__ import annotations

import base64
import hashlib
import hmac

from gateway.notify.build import build_channels
from gateway.notify.config import NotifySettings
from gateway.notify.message import Message
from gateway.notify.send import nobody_reached, send_now
from tests.mosquitto import Mosquitto
from tests.notify.receivers import WebhookServer, gateway_link

APPROVAL = Message("Visitor for 园长: 钱七", "Visitor for 园长: 钱七\nVisiting: 园长\nApprove or refuse: https://kg.local/v/t",
                   "**Visitor for 园长: 钱七**\n\n> Visiting: 园长\n\n[Approve or refuse](https://kg.local/v/t)",
                   fields={"event": "report", "report": "visitor_approval"})


def test_one_message_through_every_channel(hook: WebhookServer, mosquitto: Mosquitto) -> None:
    settings = NotifySettings.model_validate({"channels": {
        "wecom": {"type": "webhook", "format": "wecom", "style": "markdown", "url": hook.url("/wecom")},
        "ding": {"type": "webhook", "format": "dingtalk", "secret": "SEC", "url": hook.url("/ding")},
        "feishu": {"type": "webhook", "format": "feishu", "style": "interactive", "url": hook.url("/feishu")},
        "generic": {"type": "webhook", "format": "generic", "url": hook.url("/generic")},
        "buzzer": {"type": "buzzer", "device": "gate"},
        "bus": {"type": "mqtt"},
    }})
    link = gateway_link(mosquitto.port)
    try:
        channels = build_channels(settings.channels, "kg", link)
        results = send_now(channels, [*channels, "nope"], APPROVAL)
    finally:
        link.stop()
    assert {name for name, err in results.items() if err is None} == {"wecom", "ding", "feishu", "generic"}
    assert results["buzzer"] == "buzzer: a buzzer channel carries alerts only; use a webhook or e-mail"
    assert results["bus"] == "bus: an mqtt channel carries alert state only; use a webhook or e-mail"
    assert results["nope"] == "nope: no such channel in [notify.channels]"
    assert not nobody_reached(results)

    assert hook.at("/wecom")[0].body == {"msgtype": "markdown", "markdown": {"content": APPROVAL.markdown}}
    [d] = hook.at("/ding")
    assert d.body == {"msgtype": "text", "text": {"content": APPROVAL.text}}
    ts = d.query["timestamp"][0]
    digest = hmac.new(b"SEC", f"{ts}\nSEC".encode(), hashlib.sha256).digest()
    assert d.query["sign"] == [base64.b64encode(digest).decode()]
    card = hook.at("/feishu")[0].body["card"]
    assert card["header"] == {"title": {"tag": "plain_text", "content": "Visitor for 园长: 钱七"}, "template": "blue"}
    # The header carries the title; lark_md shows no quote blocks, so the "> " goes.
    assert card["elements"][0]["text"]["content"] == "Visiting: 园长\n\n[Approve or refuse](https://kg.local/v/t)"
    assert hook.at("/generic")[0].body == {"event": "report", "report": "visitor_approval", "title": APPROVAL.title,
                                            "text": APPROVAL.text, "markdown": APPROVAL.markdown}


def test_nobody_reached() -> None:
    assert nobody_reached({"a": "down", "b": "down"})
    assert not nobody_reached({})
    assert not nobody_reached({"a": "down", "b": None})
