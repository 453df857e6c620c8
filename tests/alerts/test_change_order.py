"""Listeners hear an alert's transitions in the order they happened, even when another thread escalates it
while the listeners are still being told it opened (the district must never get "escalated" before "opened")."""

from __future__ import annotations

import threading
from pathlib import Path

from gateway.alerts.model import Alert, AlertChange
from gateway.alerts.store import OpenRequest
from gateway.clock import ManualClock
from tests.rules.site import FRI_2AM, Site, config

# Deliveries may fail: not the point here.
HOOK = {"type": "webhook", "format": "generic", "url": "http://127.0.0.1:9/nobody-listens"}


def test_an_escalation_waits_until_every_listener_heard_the_opening(tmp_path: Path) -> None:
    cfg = config(tmp_path, [], notify={"channels": {"kitchen": HOOK}, "chains": {"kitchen": {"steps": [
        {"channels": ["kitchen"]}, {"after": "5m", "channels": ["kitchen"]}]}}})
    clock = ManualClock(FRI_2AM)
    site = Site(cfg, clock)
    heard: list[str] = []
    inside, release = threading.Event(), threading.Event()

    def slow_listener(change: AlertChange) -> None:  # e.g. the uplink's, writing to its outbox
        if change.kind == "opened":
            inside.set()
            release.wait(10)
        heard.append(change.kind)

    def on_escalated(alert: Alert, step: int) -> None:
        heard.append(f"escalated to {step}")

    site.service.add_listener(slow_listener)
    site.alerting.escalator.add_listener(on_escalated)
    req = OpenRequest(rule="fridge-warm", device="kitchen-fridge", kind="threshold", severity="critical",
                      chain="kitchen", metric="temperature", value=9.5, since=clock.now(),
                      detail="9.5 °C")
    opener = threading.Thread(target=site.service.raise_alert, args=(req,))
    try:
        opener.start()
        assert inside.wait(10), "the alert did not open"
        clock.advance(301)  # step 2 is due; the scheduler ticks on its own thread
        ticker = threading.Thread(target=site.alerting.tick)
        ticker.start()
        ticker.join(1.0)  # the old code escalated here, before the listener was done with "opened"
        release.set()
        opener.join(10)
        ticker.join(10)
    finally:
        release.set()
        site.close()
    assert heard == ["opened", "escalated to 2"]
