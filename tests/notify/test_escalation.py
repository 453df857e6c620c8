"""Escalation chains end to end: real HTTP receiver, real SMTP server, ManualClock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.alerts.service import AlertService
from gateway.alerts.store import AlertStore
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from tests.mosquitto import free_port
from tests.notify.receivers import SmtpServer, WebhookServer
from tests.rules.site import FRI_2AM, Site, config
from tests.waiting import wait_for

RULE = {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8.0, "clear_below": 7.0,
        "for": "10m", "severity": "critical", "notify": "kitchen"}


def kitchen_notify(hook: WebhookServer, smtp: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {
        "channels": {
            "kitchen-group": {"type": "webhook", "format": "generic", "url": hook.url("/kitchen")},
            "principal-mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                               "from": "houqin@kg.example", "to": ["principal@kg.example"]},
        },
        "chains": {"kitchen": {"steps": [{"after": "0m", "channels": ["kitchen-group"]},
                                         {"after": "15m", "channels": ["principal-mail"]}],
                               "repeat": "30m"}},
        "backoff": "0.01s",
        **extra,
    }


def events(hook: WebhookServer) -> list[str]:
    return [r.body["event"] for r in hook.at("/kitchen")]




def test_fridge_warm_escalates_repeats_ack_and_resolves(tmp_path: Path, hook: WebhookServer,
                                                         smtp: SmtpServer) -> None:
    site = Site(config(tmp_path, [RULE], kitchen_notify(hook, smtp)), ManualClock(FRI_2AM))
    try:
        for _ in range(11):  # warm for 11 minutes
            site.reading("kitchen-fridge", "temperature", 9.5)
            site.advance(60)
        wait_for(lambda: events(hook) == ["opened"], what="opened webhook")
        [alert] = site.service.list(open_only=True)
        site.advance(13 * 60)  # 24 min: the second step is not due before opened + 15 min
        assert smtp.messages == []
        site.advance(60)
        wait_for(lambda: len(smtp.messages) == 1, what="escalation e-mail")
        mail = smtp.messages[0]
        assert mail["To"] == "principal@kg.example" and mail["Subject"].startswith("[ESCALATED]")
        assert f"houqin ack {alert.id}" in mail.get_payload(decode=True).decode()
        site.advance(30 * 60)  # repeat: 30 min after the last message, to everyone told so far
        wait_for(lambda: events(hook) == ["opened", "repeated"] and len(smtp.messages) == 2, what="repeat")
        site.service.ack(alert.id, "Cook Zhang", "moved food to the spare fridge, called the repairman")
        site.advance(2 * 3600)
        assert events(hook) == ["opened", "repeated"] and len(smtp.messages) == 2  # ack stops repeats
        site.reading("kitchen-fridge", "temperature", 6.0)
        wait_for(lambda: events(hook)[-1:] == ["resolved"] and len(smtp.messages) == 3, what="resolved")
        resolved = hook.at("/kitchen")[-1].body
        assert resolved["alert"]["state"] == "cleared" and "Cook Zhang" in resolved["text"]
        assert smtp.messages[2]["Subject"].startswith("[RESOLVED]")
        site.advance(3600)
        assert len(hook.at("/kitchen")) == 3
    finally:
        site.close()
    whats = [e.what for e in site.service.timeline(alert.id)]
    assert whats[0] == "opened" and "acknowledged" in whats and "cleared" in whats
    assert whats.count("delivered") == 6


def test_restart_does_not_resend(tmp_path: Path, hook: WebhookServer, smtp: SmtpServer) -> None:
    cfg = config(tmp_path, [RULE], kitchen_notify(hook, smtp))
    clock = ManualClock(FRI_2AM)
    site = Site(cfg, clock)
    site.reading("kitchen-fridge", "temperature", 9.5)
    site.advance(10 * 60)
    wait_for(lambda: events(hook) == ["opened"], what="opened")
    site.close()
    again = Site(cfg, clock)  # same DB, same time: nothing is due, nothing is sent twice
    try:
        again.reading("kitchen-fridge", "temperature", 9.6)
        again.advance(14 * 60)
        assert events(hook) == ["opened"] and smtp.messages == []
        again.advance(60)  # the escalation step is still due 15 min after opening
        wait_for(lambda: len(smtp.messages) == 1, what="escalation after restart")
        assert events(hook) == ["opened"]
        assert len(again.service.list()) == 1
    finally:
        again.close()


def test_ack_from_another_process_is_seen_on_tick(tmp_path: Path, hook: WebhookServer, smtp: SmtpServer) -> None:
    cfg = config(tmp_path, [RULE], kitchen_notify(hook, smtp))
    site = Site(cfg, ManualClock(FRI_2AM))
    try:
        site.reading("kitchen-fridge", "temperature", 9.5)
        site.advance(10 * 60)
        [a] = site.service.list()
        # Like `houqin ack`: its own connection and service on the same database file.
        db = EventsDB(cfg.storage.path / "events.db")
        AlertService(AlertStore(db), site.clock).ack(a.id, "Guard Wang", "door was not closed")
        db.close()
        site.advance(3 * 3600)
        wait_for(lambda: len(hook.received) >= 1)
        assert events(hook) == ["opened"] and smtp.messages == []
    finally:
        site.close()


def test_a_channel_down_does_not_stop_another(tmp_path: Path, hook: WebhookServer, smtp: SmtpServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    notify = kitchen_notify(hook, smtp, attempts=3)
    notify["channels"]["dead-robot"] = {"type": "webhook", "format": "wecom", "url": dead, "timeout": 2}
    notify["channels"]["dead-mail"] = {"type": "email", "host": "127.0.0.1", "port": free_port(),
                                       "security": "none", "from": "a@b.c", "to": ["d@e.f"], "timeout": 2}
    notify["chains"]["kitchen"]["steps"][0]["channels"] = ["dead-robot", "dead-mail", "kitchen-group"]
    site = Site(config(tmp_path, [RULE], notify), ManualClock(FRI_2AM))
    try:
        site.reading("kitchen-fridge", "temperature", 9.5)
        site.advance(10 * 60)
        wait_for(lambda: events(hook) == ["opened"], what="the working channel")
        stats = site.alerting.dispatcher.stats()
        wait_for(lambda: site.alerting.dispatcher.stats()["dead-robot"].gave_up == 1, what="give up")
        wait_for(lambda: site.alerting.dispatcher.stats()["dead-mail"].gave_up == 1, what="give up")
        stats = site.alerting.dispatcher.stats()
        assert stats["kitchen-group"].sent == 1 and stats["kitchen-group"].failed_attempts == 0
        assert stats["dead-robot"].failed_attempts == 3 and stats["dead-robot"].retried == 2
        counters = site.alerting.stats()
        assert counters["notify_gave_up"] == {"kitchen-group": 0, "principal-mail": 0, "dead-robot": 1,
                                              "dead-mail": 1}
    finally:
        site.close()


def test_ingest_thread_is_not_blocked_by_a_slow_channel(tmp_path: Path, smtp: SmtpServer) -> None:
    import threading

    release = threading.Event()
    slow = WebhookServer(on_post=lambda _r: release.wait(10))
    try:
        notify = kitchen_notify(slow, smtp)
        site = Site(config(tmp_path, [{**RULE, "for": "0s"}], notify), ManualClock(FRI_2AM))
        try:
            # The webhook hangs until released; feeding (the ingest side) still returns.
            site.reading("kitchen-fridge", "temperature", 9.5)
            wait_for(lambda: len(slow.received) == 1, what="the hanging POST")
            site.reading("kitchen-fridge", "temperature", 5.0)
            assert site.service.list()[0].state == "cleared"
            release.set()
            wait_for(lambda: [r.body["event"] for r in slow.received] == ["opened", "resolved"], what="resolved")
        finally:
            release.set()
            site.close()
    finally:
        slow.close()
