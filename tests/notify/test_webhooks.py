"""Each robot's payload shape, DingTalk's and Feishu's signatures, against a real HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from gateway.clock import ManualClock
from tests.notify.receivers import WebhookServer
from tests.rules.site import FRI_2AM, Site, config
from tests.waiting import wait_for

RULE = {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8.0, "for": "10m",
        "severity": "critical", "notify": "kitchen"}


def channels(hook: WebhookServer) -> dict[str, Any]:
    return {
        "wecom-text": {"type": "webhook", "format": "wecom", "url": hook.url("/wecom-text")},
        "wecom-md": {"type": "webhook", "format": "wecom", "style": "markdown", "url": hook.url("/wecom-md")},
        "ding": {"type": "webhook", "format": "dingtalk", "style": "markdown", "secret_env": "TEST_DING_SECRET",
                 "url": hook.url("/ding") + "?access_token=abc"},
        "feishu-card": {"type": "webhook", "format": "feishu", "style": "interactive", "secret": "fs-secret",
                        "url": hook.url("/feishu-card")},
        "feishu-text": {"type": "webhook", "format": "feishu", "url": hook.url("/feishu-text")},
        "generic": {"type": "webhook", "format": "generic", "url": hook.url("/generic")},
    }


def warm_fridge(site: Site) -> None:
    site.reading("kitchen-fridge", "temperature", 9.4)
    site.advance(10 * 60)


def test_every_format_and_signature(tmp_path: Path, hook: WebhookServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DING_SECRET", "SEC-ding-123")
    notify = {"channels": channels(hook), "chains": {"kitchen": {"steps": [
        {"after": "0m", "channels": list(channels(hook))}]}}}
    site = Site(config(tmp_path, [RULE], notify, locale="en"), ManualClock(FRI_2AM))
    try:
        warm_fridge(site)
        wait_for(lambda: len(hook.received) == 6, what="six webhooks")
    finally:
        site.close()
    [alert] = site.service.list()

    [w] = hook.at("/wecom-text")
    assert set(w.body) == {"msgtype", "text"} and w.body["msgtype"] == "text"
    text = w.body["text"]["content"]
    assert "Kitchen fridge (kitchen)" in text and "temperature above 8.0 °C for 10m00s" in text
    assert "9.4 °C" in text and f"houqin ack {alert.id} --by NAME" in text and "2026-11-20 02:00" in text

    [w] = hook.at("/wecom-md")
    assert w.body["msgtype"] == "markdown" and w.body["markdown"]["content"].startswith("**[ALERT]")

    [d] = hook.at("/ding")
    assert d.body["msgtype"] == "markdown" and set(d.body["markdown"]) == {"title", "text"}
    assert d.query["access_token"] == ["abc"]
    ts = d.query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SEC-ding-123", f"{ts}\nSEC-ding-123".encode(), hashlib.sha256).digest())
    assert d.query["sign"] == [expected.decode()]  # parse_qs undid the url-encoding
    assert len(ts) == 13  # milliseconds

    [f] = hook.at("/feishu-card")
    assert f.body["msg_type"] == "interactive"
    card = f.body["card"]
    assert card["header"]["template"] == "red" and card["header"]["title"]["tag"] == "plain_text"
    assert card["elements"][0]["text"]["tag"] == "lark_md"
    fts = f.body["timestamp"]
    key = f"{fts}\nfs-secret".encode()
    assert f.body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    [f] = hook.at("/feishu-text")
    assert f.body == {"msg_type": "text", "content": {"text": f.body["content"]["text"]}}

    [g] = hook.at("/generic")
    assert g.body["event"] == "opened"
    assert g.body["alert"] == {"id": alert.id, "rule": "fridge-warm", "device": "kitchen-fridge",
                               "severity": "critical", "state": "active", "value": 9.4, "since": FRI_2AM}
    assert g.body["text"].startswith("[ALERT] Kitchen fridge")


def test_chinese_messages(tmp_path: Path, hook: WebhookServer) -> None:
    notify = {"channels": {"g": {"type": "webhook", "format": "wecom", "url": hook.url("/g")}},
              "chains": {"kitchen": {"steps": [{"channels": ["g"]}]}}}
    site = Site(config(tmp_path, [RULE], notify, locale="zh-CN"), ManualClock(FRI_2AM))
    try:
        warm_fridge(site)
        wait_for(lambda: len(hook.received) == 1, what="webhook")
    finally:
        site.close()
    text = hook.received[0].body["text"]["content"]
    assert text.startswith("[告警]") and "温度高于 8.0 °C 持续 10分钟" in text
    assert "级别：" in text and "houqin ack 1" in text


def test_robot_error_code_is_a_failure(tmp_path: Path, hook: WebhookServer) -> None:
    hook.reply = {"errcode": 310000, "errmsg": "sign not match"}
    notify = {"channels": {"d": {"type": "webhook", "format": "dingtalk", "url": hook.url("/d"), "secret": "x"}},
              "chains": {"kitchen": {"steps": [{"channels": ["d"]}]}}, "attempts": 2, "backoff": "0.01s"}
    site = Site(config(tmp_path, [RULE], notify), ManualClock(FRI_2AM))
    try:
        warm_fridge(site)
        wait_for(lambda: site.alerting.dispatcher.stats()["d"].gave_up == 1, what="give up")
    finally:
        site.close()
    st = site.alerting.dispatcher.stats()["d"]
    assert (st.sent, st.failed_attempts, st.retried) == (0, 2, 1)
    whats = [e.what for e in site.service.timeline(1)]
    assert "delivery failed" in whats


def test_silent_device_message(tmp_path: Path, hook: WebhookServer) -> None:
    rule = {"id": "silent", "kind": "stale", "devices": ["kitchen-freezer"], "for": "15m", "notify": "kitchen"}
    notify = {"channels": {"g": {"type": "webhook", "format": "generic", "url": hook.url("/g")}},
              "chains": {"kitchen": {"steps": [{"channels": ["g"]}]}}}
    site = Site(config(tmp_path, [rule], notify, locale="zh-CN"), ManualClock(FRI_2AM))
    try:
        site.advance(15 * 60)
        wait_for(lambda: len(hook.received) == 1, what="webhook")
    finally:
        site.close()
    body = hook.received[0].body
    assert body["alert"]["value"] is None
    # The freezer never spoke: the message says so rather than a "last heard of" time it never had.
    assert "15分钟 无数据" in body["text"] and "从未收到数据（自 2026-11-20 02:00 起监视）" in body["text"]
    assert "最后收到数据" not in body["text"]
