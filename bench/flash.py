"""Bytes written to flash per stored reading: ``houqin run`` on a real Mosquitto vs one commit per reading.

For each rate (30 devices every 10 s = 3 msg/s, 300 devices every 10 s = 30 msg/s) a fresh gateway is
started exactly as ``houqin run`` starts it (a subprocess of the real command, with a config pointing
at a real Mosquitto), and fridges publish at QoS 1, each at its own moment (a random phase within the
period). Beside it, on the same stream, a baseline subscriber does the naive thing: one INSERT and one
commit per reading into a SQLite file in WAL mode. Measured per process from ``/proc/PID/io``
``write_bytes`` (what the process dirtied for the disk) at the start and, at the end, from the
``wait4`` rusage of the exited process (``ru_oublock``, the same counter, so the shutdown's last
commit and checkpoint count too): bytes per stored reading, the broker's bytes, CPU ms per reading,
RSS, and readings stored against published. A run of minutes sees no timed fold of the store's inbox (hourly,
``[storage] fold_interval``): its cost per reading is measured in the same run on a store with a day of
history for as many devices (``bench/flash_fold.py``) and added, so ``bytes_per_reading_*`` is what the
card takes per reading in the long run. The last line printed is JSON.

    .venv/bin/python bench/flash.py [--seconds 600] [--backend sqlite|influxdb|both] [--rates 3,30]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import flash_fold  # noqa: E402
from gateway.store.sqlite import FOLD_GRACE_S  # noqa: E402
from tests.mosquitto import Mosquitto, free_port  # noqa: E402

SITE = "bench"
PERIOD_S = 10.0
#: Seconds of publishing before measuring: one commit window (at most 60 s) and the acks.
STEADY_S = 75.0
CARD_TBW_GB = 16_000  # assumed rated endurance of a typical 32 GB card: ~500 full writes (16 TB written)
SECONDS_PER_YEAR = 365 * 86400


def proc_io(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        k, v = line.split(":")
        out[k] = int(v)
    return out


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reap(proc: subprocess.Popen[bytes], timeout: float = 60) -> tuple[int, float]:
    """SIGTERM, wait; returns (write_bytes over its whole life, CPU seconds) from its rusage."""
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while True:
        pid, _, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = 0
            return ru.ru_oublock * 512, ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.05)


# -- the baseline: one INSERT + commit per reading ------------------------------------------------
def role_baseline(port: int, path: str) -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS raw (device TEXT, ts REAL, value REAL, PRIMARY KEY (device, ts))")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def on_message(c: paho.Client, u: object, msg: paho.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        device = msg.topic.split("/")[2]
        db.execute("BEGIN")
        db.execute("INSERT OR REPLACE INTO raw VALUES (?, ?, ?)", (device, body["ts"], body["temperature"]))
        db.execute("COMMIT")

    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="flash-baseline", clean_session=False)
    c.on_connect = lambda c, *_: c.subscribe(f"houqin/{SITE}/+/state", qos=1)
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    stop.wait()
    c.loop_stop()
    db.close()


# -- the publisher: every device at its own moment -----------------------------------------------
class Publisher:
    """Publishes ``{"temperature", "ts", "seq"}`` for each device every PERIOD_S, at a random phase."""

    def __init__(self, port: int, devices: list[str]) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.online = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="flash-publisher")
        self.client.max_inflight_messages_set(10_000)
        self.client.on_connect = lambda c, *_: c.subscribe(f"houqin/{SITE}/gateway/availability", qos=1)
        self.client.on_message = lambda c, u, m: self.online.set() if m.payload == b"online" else None
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.devices = devices
        self.sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, seconds: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        self._thread.start()

    def _run(self, seconds: float) -> None:
        rng = random.Random(14)
        t0 = time.monotonic()
        heap = [(t0 + rng.uniform(0, PERIOD_S), d, 0) for d in self.devices]
        heapq.heapify(heap)
        end = t0 + seconds
        while heap and not self._stop.is_set():
            at, device, seq = heapq.heappop(heap)
            if at >= end:
                break
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            payload = json.dumps({"temperature": round(4 + rng.gauss(0, 0.3), 2), "ts": round(time.time(), 3),
                                  "seq": seq + 1})
            self.client.publish(f"houqin/{SITE}/{device}/state", payload, qos=1)
            self.sent += 1
            heapq.heappush(heap, (at + PERIOD_S, device, seq + 1))

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        self._stop.set()
        self.client.loop_stop()
        self.client.disconnect()


def write_config(path: Path, data: Path, port: int, devices: list[str], backend: str,
                 influx_url: str | None, db: str, extra: str) -> None:
    lines = ["[site]", f'id = "{SITE}"', "", "[mqtt]", f'url = "mqtt://127.0.0.1:{port}"',
             'client_id = "houqin-flash"', "", "[storage]", f'dir = "{data}"', f'timeseries = "{backend}"', extra, "",
             "[dashboard]", 'bind = "127.0.0.1"', f"port = {free_port()}", ""]
    if backend == "influxdb":
        lines += ["[influxdb]", f'url = "{influx_url}"', 'api = "v1"', f'database = "{db}"', ""]  # stored_count's
    for d in devices:
        lines += ["[[devices]]", f'id = "{d}"', 'kind = "fridge"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def stored_count(data: Path, backend: str, influx: Any, db: str) -> int:
    if backend == "sqlite":
        conn = sqlite3.connect(f"file:{data / 'timeseries.db'}?mode=ro", uri=True)
        try:
            # Folded rows and those still in the inbox (see gateway.store.sqlite), each once.
            return int(conn.execute("SELECT count(*) FROM (SELECT series_id, ts FROM raw UNION"
                                    " SELECT series_id, ts FROM inbox) AS u JOIN series ON series.id = u.series_id"
                                    " WHERE metric = 'temperature'").fetchone()[0])
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()
    return int(influx.count(db, "houqin", "temperature"))


def clear_of_the_fold(span: float) -> None:
    """Wait, if need be, until the next ``span`` seconds hold no timed fold of the SQLite store.

    The fold runs just after each hour turns (``FOLD_GRACE_S``) and its bytes are measured apart, on a store
    with history (``bench/flash_fold.py``), and added: one inside the run counted them twice, for a few
    minutes of readings (a run across 21:00 measured 361 bytes per reading where the others measured 254).
    """
    while True:
        now = time.time()
        fold = now - now % 3600 + FOLD_GRACE_S  # this hour's, then the next one's
        if fold < now - 5:
            fold += 3600
        if fold > now + span:
            return
        print(f"waiting {fold + 10 - now:.0f} s: the hourly fold would fall inside the run", flush=True)
        time.sleep(fold + 10 - now)


def run_rate(rate: float, seconds: float, backend: str, influx: Any, extra: str, warmup: float) -> dict[str, Any]:
    if backend == "sqlite":
        clear_of_the_fold(warmup + STEADY_S + seconds + 120)  # and the last window's commit, the stop
    n_devices = round(rate * PERIOD_S)
    devices = [f"fridge-{i:03d}" for i in range(n_devices)]
    db = f"flash{n_devices}"
    if influx is not None:
        influx.query(f"CREATE DATABASE {db}")
    with tempfile.TemporaryDirectory(prefix="houqin-flash-") as tmp:
        work = Path(tmp)
        (work / "mq").mkdir()
        broker = Mosquitto(work / "mq")
        broker.start()
        assert broker.proc is not None
        data = work / "data"
        config = work / "houqin.toml"
        write_config(config, data, broker.port, devices, backend, influx.url if influx else None, db, extra)
        log = (work / "run.log").open("ab")
        gw = subprocess.Popen([sys.executable, "-m", "gateway", "run", "--config", str(config)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=log)
        base = subprocess.Popen([sys.executable, __file__, "--role-baseline", str(broker.port),
                                 str(work / "baseline.db")], stdout=subprocess.DEVNULL)
        pub = Publisher(broker.port, devices)
        try:
            if not pub.online.wait(60):
                raise RuntimeError(f"the gateway did not come online: see {work / 'run.log'}")
            # Start-up writes are not the steady state: migrations and schema at once, then on a new data dir
            # the cold sheet's past week (about 30 s after start) and the first nightly maintenance (a
            # minute after start). Their bytes are printed apart (startup_bytes).
            time.sleep(warmup)
            # What the start-up wrote is still in the WAL files, and the gateway's stop would copy it into the
            # databases: copy it now (counted with the start-up), so the stop's bytes are the run's own.
            settled = proc_io(os.getpid())["write_bytes"]
            for name in ("events.db", "timeseries.db", "outbox.db"):
                if not (data / name).exists():
                    continue
                with sqlite3.connect(data / name) as conn:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            settled = proc_io(os.getpid())["write_bytes"] - settled
            # The devices' first readings make their series, and the first commit to each database after a
            # checkpoint starts its WAL file (and the WAL's index) afresh: once per store's life or per hour, not
            # per reading. A device's availability (committed at once, to the events database) and one commit
            # window of readings before measuring.
            pub.client.publish(f"houqin/{SITE}/{devices[0]}/availability", "online", qos=1)
            pub.start(STEADY_S + seconds)
            time.sleep(STEADY_S)
            io0 = {p.pid: proc_io(p.pid)["write_bytes"] for p in (gw, base, broker.proc)}
            cpu0 = {p.pid: proc_cpu_s(p.pid) for p in (gw, base)}
            stored0 = stored_count(data, backend, influx, db)
            base0 = sqlite3.connect(str(work / "baseline.db")).execute("SELECT count(*) FROM raw").fetchone()[0]
            rss = 0.0
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
                rss = max(rss, proc_rss_mb(gw.pid))
                if os.environ.get("FLASH_DEBUG"):
                    print("io", round(time.monotonic() - deadline), proc_io(gw.pid)["write_bytes"] - io0[gw.pid],
                          flush=True)
            pub.join()
            sent = pub.sent
            # Let the last commit window close and the acks travel before stopping.
            wait_until = time.monotonic() + 30
            while time.monotonic() < wait_until and stored_count(data, backend, influx, db) < sent:
                time.sleep(0.5)
            broker_bytes = proc_io(broker.proc.pid)["write_bytes"] - io0[broker.proc.pid]
            if os.environ.get("FLASH_DEBUG"):
                subprocess.run(["ls", "-la", str(data), str(work)])
                subprocess.run(["tail", "-5", str(work / "run.log")])
            live = proc_io(gw.pid)["write_bytes"]  # before the stop: the commits, saves and checkpoints of the run
            gw_bytes, gw_cpu = reap(gw)
            base_bytes, base_cpu = reap(base)
            stored = stored_count(data, backend, influx, db)
            base_db = sqlite3.connect(str(work / "baseline.db"))
            base_stored = int(base_db.execute("SELECT count(*) FROM raw").fetchone()[0])
            base_db.close()
        finally:
            pub.close()
            for p in (gw, base):
                if p.returncode is None and p.poll() is None:
                    p.kill()
                    p.wait()
            broker.stop()
            log.close()
        gw_written = gw_bytes - io0[gw.pid]
        base_written = base_bytes - io0[base.pid]
        measured, base_measured = stored - stored0, base_stored - base0  # committed while measured
        fold = flash_fold.measure(n_devices, 1.0, [60.0])[60.0] if backend == "sqlite" else 0.0
        result = {
            "rate": rate,
            "backend": backend,
            "startup_bytes": io0[gw.pid] + settled,
            "published": sent,
            "stored": stored,
            "measured": measured,
            "lost": max(0, sent - stored),
            # the run's own bytes, and the hourly fold's (see the module docstring)
            "bytes_per_reading": round(gw_written / max(measured, 1) + fold, 1),
            "run_bytes_per_reading": round(gw_written / max(measured, 1), 1),
            "fold_bytes_per_reading": fold,
            # of the run's, the stop (the checkpoints of both databases at close): once per process life
            "stop_bytes_per_reading": round((gw_bytes - live) / max(measured, 1), 1),
            "broker_bytes_per_reading": round(broker_bytes / max(sent, 1), 1),
            "cpu_ms_per_reading": round((gw_cpu - cpu0[gw.pid]) * 1000 / max(measured, 1), 3),
            "rss_mb": round(rss, 1),
            "baseline_bytes_per_reading": round(base_written / max(base_measured, 1), 1),
            "baseline_stored": base_stored,
            "baseline_cpu_ms_per_reading": round((base_cpu - cpu0[base.pid]) * 1000 / max(base_measured, 1), 3),
        }
        print(f"{backend} at {rate:g} msg/s for {seconds:g} s: {json.dumps(result)}", flush=True)
        return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--role-baseline":
        role_baseline(int(sys.argv[2]), sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Ten minutes: the stop (its last commit and last-seen save, once per process life, which a gateway spreads
    # over days) weighs a third of a 180 s run's bytes at 3 msg/s (354 against 289 bytes per reading).
    ap.add_argument("--seconds", type=float, default=600, help="measured publishing time per rate (at least 180)")
    ap.add_argument("--rates", default="3,30", help="messages per second, comma-separated")
    ap.add_argument("--backend", choices=("sqlite", "influxdb", "both"), default="both")
    ap.add_argument("--storage", default="", help='extra [storage] lines, e.g. \'commit_interval = "2s"\'')
    ap.add_argument("--warmup", type=float, default=75.0, help="seconds after start not measured (see run_rate)")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    backends = ["sqlite", "influxdb"] if args.backend == "both" else [args.backend]
    results: dict[str, dict[float, dict[str, Any]]] = {}
    influx = None
    tmp = tempfile.TemporaryDirectory(prefix="houqin-flash-influx-")
    try:
        if "influxdb" in backends:
            from tests.influxdb import Influxd, influxd_binary

            if influxd_binary() is None:
                print("influxd is not installed: skipping the InfluxDB backend", flush=True)
                backends.remove("influxdb")
            else:
                influx = Influxd(Path(tmp.name))
                influx.start()
        for backend in backends:
            for rate in rates:
                results.setdefault(backend, {})[rate] = run_rate(rate, args.seconds, backend, influx, args.storage,
                                                                 args.warmup)
    finally:
        if influx is not None:
            influx.stop()
        tmp.cleanup()
    out: dict[str, Any] = {}
    for backend, per_rate in results.items():
        prefix = "" if backend == "sqlite" else "influx_"
        for rate, r in per_rate.items():
            k = f"{rate:g}"
            out[f"{prefix}bytes_per_reading_{k}"] = r["bytes_per_reading"]
            out[f"{prefix}broker_bytes_per_reading_{k}"] = r["broker_bytes_per_reading"]
            out[f"{prefix}cpu_ms_per_reading_{k}"] = r["cpu_ms_per_reading"]
            if backend == "sqlite":
                out[f"baseline_bytes_per_reading_{k}"] = r["baseline_bytes_per_reading"]
    first = next(iter(results.values()), {})
    if 3.0 in first:
        r3 = first[3.0]
        per_year = r3["bytes_per_reading"] * 3 * SECONDS_PER_YEAR
        out["gb_per_year_3"] = round(per_year / 1e9, 2)
        out["card_years_3"] = round(CARD_TBW_GB * 1e9 / per_year, 1) if per_year else None
    out["rss_mb"] = max((r["rss_mb"] for per in results.values() for r in per.values()), default=0.0)
    out["lost"] = sum(r["lost"] for per in results.values() for r in per.values())
    out["seconds"] = args.seconds
    print(json.dumps(out))


if __name__ == "__main__":
    main()
