"""Delivery through the real receivers of the alert tests: the weekly report to WeCom, DingTalk, Feishu
and generic webhooks and as an HTML e-mail with PNG charts (aiosmtpd), sent once by the scheduler at its
time, a compromised sample alerted through a notify chain at once, and the 48-hour reminder."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date
from email.message import Message
from pathlib import Path
from typing import Any

from gateway.alerting import Alerting
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.reports.samples import SampleWatch
from gateway.reports.scheduler import ReportScheduler
from gateway.reports.service import Reports
from gateway.store.sqlite import SqliteStore
from tests.notify.receivers import SmtpServer, WebhookServer
from tests.reports.series import local_ts, make_config
from tests.reports.test_samples import LUNCH
from tests.reports.test_weekly import TZ, build_site
from tests.waiting import wait_for


def channels(hook: WebhookServer, smtp: SmtpServer) -> dict[str, Any]:
    return {
        "wecom": {"type": "webhook", "format": "wecom", "style": "markdown", "url": hook.url("/wecom")},
        "ding": {"type": "webhook", "format": "dingtalk", "style": "markdown", "secret": "SEC-d",
                 "url": hook.url("/ding") + "?access_token=t"},
        "feishu": {"type": "webhook", "format": "feishu", "style": "interactive", "url": hook.url("/feishu")},
        "generic": {"type": "webhook", "format": "generic", "url": hook.url("/generic")},
        "mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                 "from": "houqin@kg.example", "to": ["head@kg.example"]},
    }


def test_weekly_report_sent_once_at_its_time(tmp_path: Path, hook: WebhookServer, smtp: SmtpServer) -> None:
    notify = {"channels": channels(hook, smtp)}
    weekly = {"day": "mon", "at": "08:00", "channels": list(notify["channels"]), "link": "http://houqin.local:8080"}
    cfg, store = build_site(tmp_path, reports={"weekly": weekly}, notify=notify)
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 1, 5), 7, 59, TZ))
    try:
        sched = ReportScheduler(Reports(cfg, store, db, clock), clock)
        sched.tick()
        assert hook.received == [] and smtp.messages == []
        clock.set(local_ts(date(2026, 1, 5), 8, 0, TZ))
        sched.tick()
        wait_for(lambda: len(hook.received) == 4 and len(smtp.messages) == 1, what="four webhooks and a mail")
        sched.tick()
        # A restarted gateway (new scheduler) does not send the same week again.
        clock.advance(3600)
        ReportScheduler(Reports(cfg, store, db, clock), clock).tick()
    finally:
        store.close()
        db.close()
    assert len(hook.received) == 4 and len(smtp.messages) == 1

    [w] = hook.at("/wecom")
    md = w.body["markdown"]["content"]
    assert w.body["msgtype"] == "markdown" and md.startswith("**Sunshine KG · Weekly utility report 2026-W01**")
    assert "> 1. Water main used on Sunday 4 Jan: 2.1 m³ (¥6.26), school closed" in md
    assert "**Water main**: 9.76 m³, ¥38.12, ▲ 23% vs last week" in md
    assert "(http://houqin.local:8080/reports/weekly?week=2026-W01)" in md

    [d] = hook.at("/ding")
    assert d.body["msgtype"] == "markdown" and d.body["markdown"]["text"] == md
    ts = d.query["timestamp"][0]
    sign = base64.b64encode(hmac.new(b"SEC-d", f"{ts}\nSEC-d".encode(), hashlib.sha256).digest()).decode()
    assert d.query["sign"] == [sign]
    [f] = hook.at("/feishu")
    card = f.body["card"]
    assert card["header"]["title"]["content"] == "Sunshine KG · Weekly utility report 2026-W01"
    # The header shows the title; lark_md has no block quotes, so the findings lose their "> ".
    assert card["elements"][0]["text"] == {"tag": "lark_md", "content": md.split("\n", 1)[1].replace("\n> ", "\n")}
    assert "\n1. Water main used on Sunday 4 Jan" in card["elements"][0]["text"]["content"]
    [g] = hook.at("/generic")
    assert g.body["event"] == "report" and g.body["report"] == "weekly" and "Water main" in g.body["text"]

    [mail] = smtp.messages
    assert mail["To"] == "head@kg.example" and "Weekly utility report 2026-W01" in str(mail["Subject"])
    parts = list(mail.walk())
    html = next(p for p in parts if p.get_content_type() == "text/html")
    text = next(p for p in parts if p.get_content_type() == "text/plain")
    images: list[Message] = [p for p in parts if p.get_content_type() == "image/png"]
    body = html.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Water used" not in body and "Water main used on Sunday 4 Jan" in body
    assert len(images) == 4  # per-day and per-hour charts of two meters
    for img in images:
        cid = str(img["Content-ID"]).strip("<>")
        assert f'src="cid:{cid}"' in body
        assert img.get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[index]
    assert "9.76 m³" in text.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_failed_channels_are_retried_later(tmp_path: Path, hook: WebhookServer, smtp: SmtpServer) -> None:
    hook.status = 500
    notify = {"channels": {"wecom": channels(hook, smtp)["wecom"]}}
    cfg, store = build_site(tmp_path, reports={"weekly": {"channels": ["wecom"]}}, notify=notify)
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 1, 5), 9, 0, TZ))
    try:
        sched = ReportScheduler(Reports(cfg, store, db, clock), clock)
        assert sched.weekly_due(clock.now()) == {"wecom": "wecom: HTTP 500 from the webhook"}
        clock.advance(60)
        assert sched.weekly_due(clock.now()) is None  # waits before trying again
        hook.status = 200
        clock.advance(600)
        assert sched.weekly_due(clock.now()) == {"wecom": None}
        assert sched.weekly_due(clock.now()) is None
    finally:
        store.close()
        db.close()
    assert len(hook.received) == 2


def test_sample_alert_through_a_chain_and_the_48h_reminder(tmp_path: Path, hook: WebhookServer,
                                                           smtp: SmtpServer) -> None:
    notify = {"channels": {"kitchen": {"type": "webhook", "format": "wecom", "url": hook.url("/kitchen")},
                           "reminders": {"type": "webhook", "format": "wecom", "style": "markdown",
                                         "url": hook.url("/remind")}},
              "chains": {"kitchen": {"steps": [{"channels": ["kitchen"]}]}}}
    reports = {"samples": {"notify": "kitchen", "remind_channels": ["reminders"]}}
    cfg = make_config(tmp_path, tz=TZ, notify=notify, reports=reports)
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 11, 19), 12, 0, TZ))
    alerting = Alerting(cfg, db, clock)
    alerting.dispatcher.start()
    try:
        rep = Reports(cfg, store, db, clock, alerting.service)
        watch = SampleWatch(rep.ledger, alerting.service, "en")
        sample, _ = rep.ledger.register("2026-11-19", "lunch", LUNCH, "sample-fridge", "王师傅", by="li")
        from gateway.model import CommittedBatch, Reading

        for minute in range(30):
            r = Reading(clock.now(), "sample-fridge", "temperature", 4.0 if minute < 5 else 9.2)
            store.write([r])
            watch.on_batch(CommittedBatch((r,)))
            alerting.tick()
            clock.advance(60)
        wait_for(lambda: len(hook.at("/kitchen")) == 1, what="the sample alert")
        text = hook.at("/kitchen")[0].body["text"]["content"]
        assert "sample-fridge" in text.lower() or "Sample fridge" in text
        assert "food-sample" not in text and "9.2 °C" in text  # what it is about, never the rule id (issue 12)

        sched = ReportScheduler(rep, clock)
        clock.set(sample.taken_at + 48 * 3600 - 60)
        assert sched.samples_due(clock.now()) == []
        clock.advance(120)
        assert sched.samples_due(clock.now()) == [sample.id]
        assert sched.samples_due(clock.now()) == []
        [m] = hook.at("/remind")
        md = m.body["markdown"]["content"]
        assert md.startswith("**Food samples may be discarded**") and f"#{sample.id} 2026-11-19 lunch" in md
    finally:
        alerting.dispatcher.stop()
        store.close()
        db.close()


def test_long_markdown_is_clipped_for_wecom() -> None:
    from gateway.notify.robots import WECOM_MAX, clip

    text = "\n".join(f"- **水表 {i}**: 1.23 m³, ¥4.56, ▲ 7% vs last week" for i in range(300))
    out = clip(text, WECOM_MAX)
    assert len(out.encode()) <= WECOM_MAX and out.endswith("…") and out.startswith("- **水表 0**")
    assert clip("short", WECOM_MAX) == "short"
