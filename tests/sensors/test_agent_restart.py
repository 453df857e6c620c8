"""The agent killed with SIGKILL mid-stream and restarted: the meter total stays exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.mosquitto import Mosquitto
from tests.sensors.helpers import Collector, states

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, broker: Mosquitto) -> Path:
    f = tmp_path / "houqin.toml"
    f.write_text(f"""
[site]
id = "kg"
[mqtt]
url = "{broker.url}"
[[devices]]
id = "power"
kind = "power_meter"
wh_per_pulse = 1.0
[[sensors]]
type = "pulse"
device = "power"
pin = 27
meter = "electricity"
interval = "10s"
sync_every = 1000
""")
    return f


class Child:
    def __init__(self, config: Path, state: Path, port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.sensors.agent_child", str(config), str(state),
                                      str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=ROOT, env=env)
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            raise AssertionError(f"agent child exited with {self.proc.wait(5)}")
        return line

    def send(self, cmd: str) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return int(self.readline().split()[1])

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def test_kill_9_mid_stream_keeps_totals_exact(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config = _config(tmp_path, mosquitto)
    state = tmp_path / "state"
    collector = Collector(mosquitto.port, ["houqin/kg/power/state", "houqin/kg/power/availability"]).start()
    try:
        child = Child(config, state, mosquitto.port)
        try:
            assert child.send("pulses 25") == 25
            assert child.send("tick") == 25
            collector.wait_for(lambda m: any(s["energy_wh"] == 25 for s in states(m, "power")))
            # pulses counted but neither synced (sync_every = 1000) nor published: then SIGKILL
            assert child.send("pulses 7") == 32
            child.kill9()
        finally:
            child.close()
        # the broker fires the device's last will: the meter is offline while no agent reads it
        collector.wait_for(lambda m: m[-1] == ("houqin/kg/power/availability", "offline"))
        child = Child(config, state, mosquitto.port)
        try:
            assert child.send("tick") == 32
            assert child.send("pulses 5") == 37
            assert child.send("tick") == 37
            got = collector.wait_for(lambda m: any(s["energy_wh"] == 37 for s in states(m, "power"))
                                     and ("houqin/kg/power/availability", "online") in m[m.index(
                                         ("houqin/kg/power/availability", "offline")):])
        finally:
            child.close()
    finally:
        collector.stop()
    totals = [s["energy_wh"] for s in states(got, "power")]
    assert totals == sorted(totals), "a total went backwards"
    assert 32 in totals and totals[-1] == 37


def test_kill_9_during_a_pulse_train_never_double_counts(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config = _config(tmp_path, mosquitto)
    state = tmp_path / "state"
    for _ in range(3):
        child = Child(config, state, mosquitto.port)
        before = child.send("tick")
        assert child.proc.stdin is not None
        child.proc.stdin.write("pulses 400\n")  # killed while counting
        child.proc.stdin.flush()
        child.kill9()
        child.close()
        child = Child(config, state, mosquitto.port)
        after = child.send("tick")
        child.close()
        assert before <= after <= before + 400
    journal = state / "pulses" / "power.journal"
    assert journal.exists()
