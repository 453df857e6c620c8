"""Soak: 200 MQTT messages/s into a running ``houqin demo`` with 5 live dashboard clients, for a long time.

The demo runs as its own process (embedded broker, simulated sensors, gateway, SQLite store, dashboard).
This process logs 5 clients in and holds the live event stream (``/api/live``) open on each, publishes
``--rate`` native readings per second (QoS 1) spread over the demo's fridges, and every ``--every``
seconds samples the demo's resident memory (VmRSS), its CPU share and the ingest lag (age of the oldest
message not yet acknowledged, from ``/metrics``). It prints one line per sample and, last, one JSON line
with the RSS trend over the last two-thirds of the run. Target (issue 15): RSS flat within ±3 MB over
the last two-thirds of a 30-minute run.

    .venv/bin/python bench/soak.py [--minutes 30] [--rate 200] [--clients 5] [--every 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.dashboard import login, rss_mb, start_demo

SITE = "demo-kg"
DEVICES = ("kitchen-fridge-1", "kitchen-fridge-2", "sample-fridge")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mqtt_port_of(base: Path) -> int:
    """The embedded broker's port from the config the demo wrote."""
    for path in base.rglob("*.toml"):
        m = re.search(r"embedded_port = (\d+)", path.read_text())
        if m:
            return int(m.group(1))
    raise SystemExit("no demo config with embedded_port found")


def publisher(port: int, rate: float, stop: threading.Event, sent: list[int]) -> None:
    """Publish ``rate`` readings per second (QoS 1) until ``stop``."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="houqin-soak")
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    start = time.monotonic()
    n = 0
    while not stop.is_set():
        due = int((time.monotonic() - start) * rate)
        while n < due:
            device = DEVICES[n % len(DEVICES)]
            c.publish(f"houqin/{SITE}/{device}/state", json.dumps({"temperature": 3.0 + (n % 20) / 10}), qos=1)
            n += 1
        sent[0] = n
        time.sleep(0.01)
    c.loop_stop()
    c.disconnect()


def metrics(base: str) -> dict[str, float]:
    """The demo's ``/metrics`` gauges by name (labelled series summed)."""
    out: dict[str, float] = {}
    text = httpx.get(base + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        name = name.split("{", 1)[0]
        try:
            out[name] = out.get(name, 0.0) + float(value)
        except ValueError:
            continue
    return out


async def live_clients(base: str, password: str, n: int, stop: asyncio.Event, events: list[int]) -> None:
    """``n`` logged-in clients holding the live stream open, counting events."""

    async def one(i: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30, read=None)) as c:
            await login(c, password)
            async with c.stream("GET", "/api/live") as r:
                async for line in r.aiter_lines():
                    if line.startswith("event:"):
                        events[i] += 1
                    if stop.is_set():
                        return

    await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minutes, MB)."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="houqin-soak-") as tmp:
        proc, base, password = start_demo(Path(tmp))
        try:
            port = mqtt_port_of(Path(tmp))
            stop_live = asyncio.Event()
            events = [0] * args.clients
            live = asyncio.create_task(live_clients(base, password, args.clients, stop_live, events))
            stop_pub = threading.Event()
            sent = [0]
            pub = threading.Thread(target=publisher, args=(port, args.rate, stop_pub, sent), daemon=True)
            pub.start()
            t0 = time.monotonic()
            cpu0 = cpu_seconds(proc.pid)
            samples: list[dict[str, float]] = []
            end = t0 + args.minutes * 60
            last_t, last_cpu = t0, cpu0
            while time.monotonic() < end:
                await asyncio.sleep(min(args.every, max(0.0, end - time.monotonic())))
                now = time.monotonic()
                cpu = cpu_seconds(proc.pid)
                m = await asyncio.to_thread(metrics, base)
                oldest = m.get("houqin_ingest_oldest_unacked", 0.0)
                wall = time.time()
                sample = {"minute": round((now - t0) / 60, 2), "rss_mb": round(rss_mb(proc.pid), 1),
                          "cpu_pct": round(100 * (cpu - last_cpu) / (now - last_t), 1),
                          "lag_s": round(wall - oldest, 2) if oldest else 0.0,
                          "sent": sent[0], "acked": m.get("houqin_ingest_acked", 0.0), "live_events": sum(events)}
                samples.append(sample)
                print(json.dumps(sample), flush=True)
                last_t, last_cpu = now, cpu
            stop_pub.set()
            stop_live.set()
            pub.join(timeout=10)
            live.cancel()
            tail = [s for s in samples if s["minute"] >= args.minutes / 3]
            rss = [s["rss_mb"] for s in tail] or [float("nan")]
            return {"minutes": args.minutes, "rate": args.rate, "clients": args.clients,
                    "rss_start_mb": samples[0]["rss_mb"] if samples else None,
                    "rss_end_mb": samples[-1]["rss_mb"] if samples else None,
                    "rss_last_two_thirds_min_mb": min(rss), "rss_last_two_thirds_max_mb": max(rss),
                    "rss_last_two_thirds_spread_mb": round(max(rss) - min(rss), 1),
                    "rss_slope_mb_per_min": round(slope_mb_per_min([(s["minute"], s["rss_mb"]) for s in tail]), 3),
                    "cpu_pct_mean": round(sum(s["cpu_pct"] for s in samples) / max(1, len(samples)), 1),
                    "lag_s_max": max((s["lag_s"] for s in samples), default=0.0),
                    "sent": sent[0], "acked": samples[-1]["acked"] if samples else 0,
                    "target_met": bool(tail) and max(rss) - min(rss) <= 6.0}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except Exception:
                proc.kill()


def main() -> None:
    """Parse the options, run the soak, print the samples and the JSON summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    p.add_argument("--rate", type=float, default=200.0, help="MQTT messages per second (default 200)")
    p.add_argument("--clients", type=int, default=5, help="live dashboard clients (default 5)")
    p.add_argument("--every", type=float, default=30.0, help="seconds between samples (default 30)")
    print(json.dumps(asyncio.run(run(p.parse_args())), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
