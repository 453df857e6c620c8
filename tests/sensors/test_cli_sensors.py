"""``houqin sensors`` as an installer runs it: clear errors, --check, run until SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.mosquitto import Mosquitto
from tests.sensors.helpers import Collector, FakeW1, states

ROOT = Path(__file__).resolve().parents[2]
PROBE = "28-0316a2799bff"


def houqin(*args: str, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GPIOZERO_PIN_FACTORY": "mock"}
    return subprocess.Popen([sys.executable, "-m", "gateway", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def write_config(tmp_path: Path, url: str, w1_root: Path, extra: str = "") -> Path:
    f = tmp_path / "houqin.toml"
    f.write_text(f"""
[site]
id = "kg"
[mqtt]
url = "{url}"
[storage]
dir = "{tmp_path / 'data'}"
[[devices]]
id = "fridge"
kind = "fridge"
[[devices]]
id = "gate"
kind = "gate"
[[sensors]]
type = "ds18b20"
probes = {{ "{PROBE}" = "fridge" }}
w1_root = "{w1_root}"
interval = "1s"
[[sensors]]
type = "contact"
device = "gate"
pin = 22
{extra}
""")
    return f


def test_bad_sensor_config_names_each_problem(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "mqtt://127.0.0.1:1", tmp_path / "w1", extra="""
[[sensors]]
type = "button"
device = "side-door"
pin = "GPIO22"
""")
    # the site reads Chinese; the words are checked in English
    p = houqin("--lang", "en", "sensors", "--config", str(cfg))
    _out, err = p.communicate(timeout=60)
    assert p.returncode == 1
    assert "'side-door' is not in [[devices]]" in err
    assert "pin GPIO22 is already used by sensors[1]" in err


def test_check_reports_a_missing_probe(tmp_path: Path) -> None:
    w1 = FakeW1(tmp_path / "w1")
    w1.set("28-0000000000aa", 4000)
    cfg = write_config(tmp_path, "mqtt://127.0.0.1:1", w1.root)
    p = houqin("sensors", "--config", str(cfg), "--check")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1
    assert f"probe {PROBE} (device 'fridge') is not in" in err and "28-0000000000aa" in err
    w1.set(PROBE, 4000)
    p = houqin("sensors", "--config", str(cfg), "--check")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "ok" in out


def test_runs_until_sigterm(tmp_path: Path, mosquitto: Mosquitto) -> None:
    w1 = FakeW1(tmp_path / "w1")
    w1.set(PROBE, 3500)
    cfg = write_config(tmp_path, mosquitto.url, w1.root)
    collector = Collector(mosquitto.port, ["houqin/kg/#"]).start()
    p = houqin("sensors", "--config", str(cfg), "--agent-id", "agent-cli")
    try:
        got = collector.wait_for(lambda m: len(states(m, "fridge")) >= 1 and len(states(m, "gate")) >= 1, 30)
        assert states(got, "fridge")[0]["temperature"] == 3.5
        assert states(got, "gate")[0]["contact"] == "open"  # mock pin pulled up, nothing wired: open
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert "sensor agent agent-cli running" in out
        collector.wait_for(lambda m: ("houqin/kg/gate/availability", "offline") in m
                           and ("houqin/kg/fridge/availability", "offline") in m)
        assert (tmp_path / "data" / "agent" / "spool.sqlite").exists()
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
        collector.stop()


def test_simulate_runs_the_simulated_site_through_the_agent(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = tmp_path / "houqin.toml"
    cfg.write_text(f"""
[site]
id = "kg"
[mqtt]
url = "{mosquitto.url}"
[storage]
dir = "{tmp_path / 'data'}"
""")
    collector = Collector(mosquitto.port, ["houqin/kg/#"]).start()
    p = houqin("sensors", "--config", str(cfg), "--simulate", "600", "--pin-factory", "mock")
    try:
        got = collector.wait_for(lambda m: len(states(m, "water-main")) >= 2 and len(states(m, "kitchen-freezer"))
                                 >= 1, 60)
        totals = [s["total_l"] for s in states(got, "water-main")]
        assert totals == sorted(totals)
        assert -25 < states(got, "kitchen-freezer")[0]["temperature"] < -10
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert "simulated site at 600x" in out
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
        collector.stop()
