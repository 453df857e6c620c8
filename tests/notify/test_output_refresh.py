"""The buzzer keeps sounding while its alert is active: "on" again every minute, nothing once acknowledged.

The agent switches every output off after its ``max_seconds`` (600 s by default); without a refresh the
buzzer of an unacknowledged 2 a.m. fridge alert would fall silent after ten minutes. Real Mosquitto.
"""

from __future__ import annotations

import json
from pathlib import Path

from gateway import contract
from gateway.clock import ManualClock
from gateway.notify.escalation import OUTPUT_REFRESH_S
from tests.mosquitto import Mosquitto
from tests.notify.receivers import Collector, gateway_link
from tests.rules.site import FRI_2AM, Site, config
from tests.waiting import wait_for

RULE = {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8.0, "for": "0s",
        "notify": "local"}
NOTIFY = {"channels": {"buzzer": {"type": "buzzer", "device": "gate"}},
          "chains": {"local": {"steps": [{"channels": ["buzzer"]}]}}}  # no repeat: only the refresh says "on"


def test_buzzer_is_said_on_again_until_acknowledged(tmp_path: Path, mosquitto: Mosquitto) -> None:
    link = gateway_link(mosquitto.port)
    topic = contract.set_topic("kg", "gate")
    sub = Collector(mosquitto.port, topic, "sub-refresh")
    site = Site(config(tmp_path, [RULE], NOTIFY), ManualClock(FRI_2AM), publisher=link)

    def commands() -> list[dict[str, object]]:
        return [json.loads(p) for p in sub.on(topic)]

    try:
        site.advance(5 * 60)  # nothing sounding: no command at all
        site.reading("kitchen-fridge", "temperature", 9.0)
        wait_for(lambda: commands() == [{"buzzer": "on"}], what="buzzer on")
        site.advance(15 * 60, step=OUTPUT_REFRESH_S)  # past the agent's 600 s cap
        wait_for(lambda: len(commands()) >= 1 + 14, what="the refreshes")
        assert all(c == {"buzzer": "on"} for c in commands())
        [alert] = site.service.list(open_only=True)
        site.service.ack(alert.id, "Cook Zhang", "moved the food")
        wait_for(lambda: commands()[-1] == {"buzzer": "off"}, what="buzzer off")
        n = len(commands())
        site.advance(10 * 60, step=OUTPUT_REFRESH_S)
        # A marker published after the last tick arrives after anything those ticks might have sent.
        assert link.publish(topic, json.dumps({"marker": 1}), wait=5)
        wait_for(lambda: commands()[-1] == {"marker": 1}, what="marker")
        assert len(commands()) == n + 1  # acknowledged: the buzzer stays off
    finally:
        site.close()
        sub.close()
        link.stop()
