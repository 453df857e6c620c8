"""An agent in its own process for the kill -9 test, driven over stdin with mock pins and a manual clock.

Commands (one per line): ``pulses N`` drives N meter pulses, ``tick`` moves 10 s on and ticks; each
answers ``ok <journal total>`` on stdout once done.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from gateway.clock import ManualClock
from gateway.config import load_config
from gateway.mqtt_link import LinkSettings
from sensors.agent import Agent, AgentSettings
from sensors.hardware import GpiozeroPins


def main(config: str, state_dir: str, port: int) -> None:
    clock = ManualClock(time.time())
    factory = MockFactory()
    link = LinkSettings("127.0.0.1", port, "houqin-kg-agent-child", persistent=True, manual_ack=False,
                        reconnect_min_s=1, reconnect_max_s=2)
    agent = Agent(load_config(config), AgentSettings(Path(state_dir), "agent-child"), link_settings=link,
                  pins=GpiozeroPins(factory), clock=clock)
    agent.start()
    agent.link.wait_connected(10)
    meter = agent.parts.meters[0]
    pin = factory.pin(meter.settings.pin)
    agent.tick()
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, *arg = line.split()
        if cmd == "pulses":
            for _ in range(int(arg[0])):
                pin.drive_low()
                clock.advance(0.05)
                pin.drive_high()
                clock.advance(0.05)
        elif cmd == "tick":
            clock.advance(10)
            agent.tick()
        print(f"ok {meter.journal.total}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
