"""Dashboard under load: a running ``houqin demo``, 50 concurrent clients from this (second) process.

The demo runs as its own process (embedded broker, simulated sensors, gateway, SQLite store,
dashboard). This process logs ``--clients`` users in (one session each), connects ``--live`` clients
to the live event stream (``/api/live``, what an open browser tab holds), then for each endpoint
sends ``--requests`` requests from ``--clients`` concurrent connections and records each latency:

* baseline: ``GET /api/ping``, a trivial authenticated endpoint of the same app (auth, session
  lookup, headers, JSON), under the same load;
* overview: ``GET /`` (the Overview page, server-rendered);
* api: ``GET /api/devices/kitchen-fridge-1/readings`` (24 h of a fridge, raw readings).

It reports p50/p95/p99 and throughput per endpoint and the resident memory (VmRSS) of the demo
process with the live clients connected. Targets (issue 6): p95 <= 100 ms, RSS <= 120 MB.
The last line printed is JSON.

    .venv/bin/python bench/dashboard.py [--clients 50] [--live 20] [--requests 2000] [--warmup 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOUQIN = [sys.executable, "-m", "gateway"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_demo(base: Path, speed: float = 1.0) -> tuple[subprocess.Popen[str], str, str]:
    port, mqtt = free_port(), free_port()
    proc = subprocess.Popen([*HOUQIN, "demo", "--dir", str(base), "--port", str(port), "--mqtt-port", str(mqtt),
                             "--speed", str(speed)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    password = ""
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"password: (\S+)", line)
        if m:
            password = m.group(1)
            break
    if not password:
        proc.kill()
        raise SystemExit("the demo did not print a dashboard password; is the dashboard installed?")
    # keep draining its output so it never blocks on a full pipe
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stdout or []], daemon=True).start()
    return proc, f"http://127.0.0.1:{port}", password


async def login(client: httpx.AsyncClient, password: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no login form"
    r = await client.post("/login", data={"csrf_token": token.group(1), "username": "demo", "password": password})
    assert r.status_code == 303, f"login failed: {r.status_code}"


async def live_client(base: str, password: str, ready: asyncio.Event, stop: asyncio.Event,
                      counts: list[int], i: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30, read=None)) as c:
        await login(c, password)
        async with c.stream("GET", "/api/live") as r:
            ready.set()
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    counts[i] += 1
                if stop.is_set():
                    break


class RawClient:
    """A minimal keep-alive HTTP/1.1 GET client on asyncio streams.

    httpx costs more CPU per request than the server under test, and both share the machine's
    cores; this client keeps the load generator's share small so the figures measure the server.
    """

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nCookie: {self.cookie}\r\n"
                          "Accept: */*\r\n\r\n".encode())
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            if k.lower() == "content-length":
                length = int(v)
            elif k.lower() == "transfer-encoding" and "chunked" in v:
                chunked = True
        if chunked:
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def hammer(clients: list[RawClient], path: str, total: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def worker(c: RawClient) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            t0 = time.perf_counter()
            status = await c.get(path)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    return latencies, time.perf_counter() - t0, errors


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


async def run(args: argparse.Namespace, base: str, password: str, pid: int) -> dict[str, Any]:
    host, port = base.removeprefix("http://").split(":")
    clients = []
    for _ in range(args.clients):  # sequential: each login is a deliberate argon2id check on the server
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            await login(c, password)
            clients.append(RawClient(host, int(port), f"houqin_session={c.cookies['houqin_session']}"))
    stop = asyncio.Event()
    counts = [0] * args.live
    readies = [asyncio.Event() for _ in range(args.live)]
    live = [asyncio.create_task(live_client(base, password, readies[i], stop, counts, i)) for i in range(args.live)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in readies)), 60)
    now = time.time()
    endpoints = {
        "baseline": "/api/ping",
        "overview": "/",
        "api": f"/api/devices/kitchen-fridge-1/readings?metric=temperature&start={now - 86400}",
    }
    results: dict[str, Any] = {}
    for name, path in endpoints.items():
        await hammer(clients, path, args.warmup * args.clients // 10 or 1)
        lat, elapsed, errors = await hammer(clients, path, args.requests)
        results[name] = {"p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99),
                         "rps": len(lat) / elapsed, "errors": errors}
    async with httpx.AsyncClient(base_url=base) as c:
        health = (await c.get("/healthz")).json()
    results["rss_mb"] = rss_mb(pid)
    results["live_clients"] = health.get("live_clients")
    results["live_events_received"] = sum(counts)
    stop.set()
    for t in live:
        t.cancel()
    await asyncio.gather(*live, return_exceptions=True)
    for rc in clients:
        await rc.close()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--live", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--speed", type=float, default=1.0,
                    help="the demo's simulated seconds per real second (1: the message rate of a real site)")
    ap.add_argument("--settle", type=float, default=15.0, help="seconds of demo traffic before measuring")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="houqin-bench-dash-") as tmp:
        proc, base, password = start_demo(Path(tmp), args.speed)
        try:
            time.sleep(args.settle)
            idle_rss = rss_mb(proc.pid)
            res = asyncio.run(run(args, base, password, proc.pid))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"demo process: RSS {idle_rss:.1f} MB before load, {res['rss_mb']:.1f} MB with {res['live_clients']} live "
          f"clients after the load ({res['live_events_received']} live events received)")
    print(f"{'endpoint':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>6}   "
          f"({args.clients} concurrent clients, {args.requests} requests each)")
    for name in ("baseline", "overview", "api"):
        r = res[name]
        print(f"{name:<10} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['p99_ms']:8.1f} {r['rps']:8.0f} {r['errors']:6d}")
    b = res["baseline"]["p95_ms"]
    print(f"overview p95 = {res['overview']['p95_ms'] / b:.1f}x baseline; api p95 = {res['api']['p95_ms'] / b:.1f}x "
          f"baseline (targets: p95 <= 100 ms, RSS <= 120 MB; cores: {os.cpu_count()}, client and server share them)")
    print(json.dumps({"overview_p95_ms": round(res["overview"]["p95_ms"], 1),
                      "api_p95_ms": round(res["api"]["p95_ms"], 1), "rss_mb": round(res["rss_mb"], 1),
                      "baseline_p95_ms": round(b, 1), "overview_rps": round(res["overview"]["rps"]),
                      "api_rps": round(res["api"]["rps"]), "baseline_rps": round(res["baseline"]["rps"]),
                      "idle_rss_mb": round(idle_rss, 1), "live_clients": res["live_clients"],
                      "clients": args.clients,
                      "errors": sum(res[n]["errors"] for n in ("baseline", "overview", "api"))}))


if __name__ == "__main__":
    main()
