"""Footprint on a Pi: the resident memory of the full service, its start-up and its import time.

``houqin run`` is started as the service starts it (the real command with the systemd unit's environment, a
config with the SQLite store, rules and the dashboard on, 300 fridges) on a real Mosquitto. Measured: the time
from the command's start to the first stored reading (it includes the commit window, [storage] commit_interval);
then, while the fridges publish 30 msg/s (each at its own moment) and 5 logged-in dashboard clients hold the live
stream open, the gateway's RSS every few seconds (peak and last). Beside it, in the same run, the baseline: the
RSS of a bare paho subscriber with sqlite3 (what any Python gateway needs at least).
Import time: ``import`` of what ``houqin run`` loads, in a fresh interpreter, against an empty interpreter.
Modules a site does not use (the InfluxDB client, the embedded broker, cryptography) must not be loaded by
``houqin run``: the bench asks the interpreter that builds this site the same way. Target (issue 14): RSS ≤ 80 MB.

    .venv/bin/python bench/footprint.py [--seconds 120] [--rate 30] [--clients 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flash import PERIOD_S, Publisher, proc_rss_mb, stored_count, write_config  # noqa: E402
from bench.soak import live_clients  # noqa: E402
from tests.mosquitto import Mosquitto  # noqa: E402

TARGET_RSS_MB = 80.0
UNUSED = ("influxdb_client", "amqtt", "cryptography")
RULES = """
[[rules]]
id = "fridge-warm"
kind = "threshold"
devices = ["fridge-*"]
metric = "temperature"
above = 8
for = "10m"
severity = "critical"

[[rules]]
id = "fridge-silent"
kind = "stale"
devices = ["fridge-*"]
for = "30m"
"""
LOADED = """
import json, sys
from gateway.config import load_config
from gateway.app import build_gateway
from dashboard.component import serve_dashboard
import gateway.cli.run
site = build_gateway(load_config(sys.argv[1]))
serve_dashboard(site)
print(json.dumps([m for m in {unused!r} if m in sys.modules]))
"""
BASELINE = """
import sqlite3, sys, time
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
db = sqlite3.connect(sys.argv[2])
c = paho.Client(CallbackAPIVersion.VERSION2, client_id="footprint-baseline")
c.on_connect = lambda c, *_: c.subscribe("houqin/#", qos=1)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_start()
time.sleep(3600)
"""


def import_seconds(code: str, repeat: int = 5) -> float:
    """Median wall time of a fresh interpreter running ``code``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def unit_environment() -> dict[str, str]:
    """The ``Environment=`` settings of the systemd unit (deploy/systemd/houqin.service) but its config path."""
    env = {}
    for line in (ROOT / "deploy" / "systemd" / "houqin.service").read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            env[name] = value
    env.pop("HOUQIN_CONFIG", None)  # the bench passes its own --config
    return env


def add_user(config: Path, password: str) -> None:
    subprocess.run([sys.executable, "-m", "gateway", "user", "add", "demo", "--role", "admin", "--password-stdin",
                    "--config", str(config)], cwd=ROOT, input=password + "\n", text=True, check=True,
                   stdout=subprocess.DEVNULL)


def dashboard_url(config: Path) -> str:
    port = next(line.split("=")[1].strip() for line in config.read_text().splitlines() if line.startswith("port ="))
    return f"http://127.0.0.1:{port}"


def run(args: argparse.Namespace) -> dict[str, object]:
    devices = [f"fridge-{i:03d}" for i in range(round(args.rate * PERIOD_S))]
    with tempfile.TemporaryDirectory(prefix="houqin-footprint-") as tmp:
        work = Path(tmp)
        (work / "mq").mkdir()
        broker = Mosquitto(work / "mq")
        broker.start()
        data, config = work / "data", work / "houqin.toml"
        write_config(config, data, broker.port, devices, "sqlite", None, "", "")
        config.write_text(config.read_text() + RULES, encoding="utf-8")
        password = "footprint-" + str(time.time_ns())
        add_user(config, password)
        unused = json.loads(subprocess.run([sys.executable, "-c", LOADED.format(unused=UNUSED), str(config)],
                                           cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        base = subprocess.Popen([sys.executable, "-c", BASELINE, str(broker.port), str(work / "base.db")])
        pub = Publisher(broker.port, devices)
        log = (work / "run.log").open("ab")
        t_start = time.monotonic()
        # As the unit runs it: with the unit's environment (MALLOC_ARENA_MAX).
        gw = subprocess.Popen([sys.executable, "-m", "gateway", "run", "--config", str(config)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, **unit_environment()})
        try:
            if not pub.online.wait(60):
                raise RuntimeError(f"the gateway did not come online: see {work / 'run.log'}")
            # One reading now, on the publisher's client: start-up ends when it is stored.
            pub.client.publish(f"houqin/bench/{devices[0]}/state", json.dumps({"temperature": 4.0}), qos=1)
            while stored_count(data, "sqlite", None, "") < 1:
                if time.monotonic() - t_start > 120:
                    raise RuntimeError(f"no reading stored within 120 s: see {work / 'run.log'}")
                time.sleep(0.05)
            startup_s = time.monotonic() - t_start
            events = [0] * args.clients
            aio_stop = asyncio.Event()
            loop = asyncio.new_event_loop()
            clients = threading.Thread(target=loop.run_until_complete,
                                       args=(live_clients(dashboard_url(config), password, args.clients, aio_stop,
                                                          events),), daemon=True)
            clients.start()
            pub.start(args.seconds)
            samples: list[float] = []
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                time.sleep(min(args.every, max(0.0, deadline - time.monotonic())))
                samples.append(proc_rss_mb(gw.pid))
                print(json.dumps({"t_s": round(args.seconds - (deadline - time.monotonic())),
                                  "rss_mb": samples[-1], "live_events": sum(events)}), flush=True)
            base_rss = proc_rss_mb(base.pid)
            pub.join()
            loop.call_soon_threadsafe(aio_stop.set)
            sent = pub.sent
        finally:
            pub.close()
            for p in (gw, base):
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
            broker.stop()
            log.close()
        stored = stored_count(data, "sqlite", None, "")
    return {
        "rss_mb_peak": round(max(samples), 1),
        "rss_mb_last": round(samples[-1], 1),
        "baseline_rss_mb": round(base_rss, 1),
        "target_rss_mb": TARGET_RSS_MB,
        "startup_to_first_reading_s": round(startup_s, 2),
        "import_s": round(import_seconds("import gateway.cli.run, gateway.app, dashboard.component"), 3),
        "python_s": round(import_seconds("pass"), 3),
        "unused_modules_loaded": unused,
        "published": sent + 1,
        "stored": stored,
        "live_events": sum(events),
        "rate": args.rate,
        "clients": args.clients,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--rate", type=float, default=30.0, help="messages per second (devices = rate x 10 s)")
    ap.add_argument("--clients", type=int, default=5, help="logged-in dashboard clients on the live stream")
    ap.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    print(json.dumps(run(ap.parse_args())))


if __name__ == "__main__":
    main()
