"""A whole gateway restarted mid-duration: readings published over a real Mosquitto, a real webhook receiver.

The fridge turns warm, 6 minutes later the gateway stops (SIGTERM-like ``stop()``), starts again on the same
data directory, and the 10-minute rule fires 10 minutes after the *first* warm reading, once.
"""

from __future__ import annotations

import time
from pathlib import Path

from gateway.app import build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from tests.alerts.test_e2e import raw_config
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto
from tests.notify.receivers import WebhookServer
from tests.waiting import wait_for


def test_gateway_restart_mid_duration_keeps_the_start_and_sends_once(tmp_path: Path, mosquitto: Mosquitto,
                                                                     hook: WebhookServer) -> None:
    cfg = parse_config(raw_config(tmp_path, mosquitto, hook))
    clock = ManualClock(round(time.time(), 3))
    pub = Publisher(mosquitto.port)
    try:
        gw = build_gateway(cfg, clock=clock)
        gw.start()
        try:
            pub.wait_gateway()
            t0 = clock.now()
            pub.state("kitchen-fridge", {"temperature": 9.1}, ts=t0)
            # The condition's start is committed to the events DB (what the restart must find again).
            wait_for(lambda: ("fridge-warm", "kitchen-fridge")
                     in gw.alerting.store.pending(), what="the pending condition")
            clock.advance(6 * 60)
        finally:
            gw.stop()
        assert hook.at("/kitchen") == []
        pub.gateway_online = False  # its will / clean stop said offline; wait for the new one's "online"

        again = build_gateway(cfg, clock=clock)
        again.start()
        try:
            pub.wait_gateway()
            clock.advance(3 * 60)  # 9 minutes warm: not yet
            pub.state("kitchen-fridge", {"temperature": 9.4}, ts=clock.now())
            wait_for(lambda: again.alerting.engine.stats().batches >= 1,
                     what="the warm reading after the restart evaluated")
            assert again.alerting.service.list() == []
            clock.advance(60)  # 10 minutes after the first warm reading; the scheduler ticks each second
            wait_for(lambda: len(hook.at("/kitchen")) == 1, what="the alert's webhook")
            [body] = [r.body for r in hook.at("/kitchen")]
            assert body["event"] == "opened" and abs(body["alert"]["since"] - t0) < 0.01
            [alert] = again.alerting.service.list()
            assert alert.state == "active" and abs(alert.since - t0) < 0.01
        finally:
            again.stop()
    finally:
        pub.close()
    assert len(hook.at("/kitchen")) == 1
