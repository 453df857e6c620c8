"""The district service at scale: N sites × 30 devices writing every 10 s into a real VictoriaMetrics, every site's
status and some alerts on a real central Mosquitto (from ``houqin district mqtt-setup``), the district service
(``houqin district --config``, its own process) reading both, and 20 clients polling its Overview.

* points_per_s: readings the simulated sites' uplinks got accepted by VictoriaMetrics per second;
* central_lag_s: the worst time from a reading's timestamp until the district's store adapter sees it (what the
  Overview's "last reading" shows), over every tick but the first; the sites' uplinks run in a process of their
  own (``write_loop``). The first tick, which creates every series, is reported as new_series_lag_s;
* overview_p95_ms: ``GET /api/overview`` (every site, sorted) under ``--clients`` concurrent logged-in clients;
* rss_mb: the district service process's resident memory at the end.

Targets (issue 16): 500 sites, overview p95 <= 300 ms with 20 clients, lag <= 10 s. The default run is scaled down
(50 sites, 40 s); ``--full`` runs 500 sites. VictoriaMetrics runs with ``-search.latencyOffset=1s`` (its default,
30 s, hides newer points from queries: see docs/district.md). The last line printed is JSON.

    .venv/bin/python bench/district.py [--sites 50] [--full] [--seconds 40] [--clients 20]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from district.central_store import open_store  # noqa: E402
from gateway.district_settings import CentralStoreSettings  # noqa: E402
from gateway.uplink import messages  # noqa: E402
from tests.mosquitto import free_port  # noqa: E402
from tests.mosquitto_setup.broker import connect  # noqa: E402
from tests.uplink.central import CentralBroker  # noqa: E402
from tests.victoriametrics import VictoriaMetrics  # noqa: E402

DEVICES = 30
EVERY_S = 10.0
PASSWORD = "district bench password"


def site_ids(n: int) -> list[str]:
    return [f"kg-{i:03d}" for i in range(n)]


def lines_for(site: str, ts: float) -> str:
    ms = int(ts * 1000)
    out = []
    for d in range(DEVICES):
        kind, field, value = (("fridge", "temperature", 4.0 + d % 3) if d % 3 == 0 else
                              ("water_meter", "usage_l", 1.5) if d % 3 == 1 else ("power_meter", "usage_wh", 20.0))
        out.append(f"houqin,site={site},device=dev-{d:02d},kind={kind} {field}={value} {ms}")
    return "\n".join(out)


def publish_states(central: CentralBroker, sites: list[str]) -> None:
    """Every site's retained status and, for every tenth, an open critical alert (site logins, loopback listener)."""
    for i, site in enumerate(sites):
        user, pw = central.login(site)
        with connect(central.port, user, pw, client_id=f"bench-{site}") as c:
            assert c.rc == 0, f"{site}: refused ({c.rc})"
            out = [messages.status(site, messages.SiteStatus(True, True, DEVICES, ()), time.time())]
            if i % 10 == 0:
                from gateway.alerts.model import Alert
                a = Alert(id=1, rule="fridge-warm", device="dev-00", kind="threshold", severity="critical",
                          state="active", chain=None, metric="temperature", value=9.0, detail="",
                          since=time.time() - 600, opened_at=time.time() - 600)
                out.append(messages.transition(site, "opened", a, time.time()))
            for m in out:
                info = c.client.publish(m.topic, m.payload, qos=1, retain=m.retain)
                info.wait_for_publish(5)


def write_loop(vm_url: str, sites: list[str], stop: Any, out: Any) -> None:
    """The sites' uplinks, in a process of their own: every ``EVERY_S`` each site's batch of ``DEVICES`` points (8 at
    a time), then the tick's lag: until the district's store adapter sees the last site's batch. Puts
    ``{"written", "lags", "errors"}`` on ``out`` when ``stop`` is set.

    Its own process, because in the bench's process the writer shared one interpreter lock with the 20 clients
    (each parsing 500 sites' JSON as fast as it came): 500 posts per tick then took seconds, and the "lag" measured
    the load generator, 5.6 s in one run and 15.7 s in another."""
    http = httpx.Client(base_url=vm_url, timeout=10)
    pool = ThreadPoolExecutor(8)
    store = open_store(CentralStoreSettings(kind="victoriametrics", url=vm_url))
    written, errors = 0, 0
    lags: list[float] = []
    first_lag: float | None = None
    lock = threading.Lock()

    def post(site: str, ts: float) -> None:
        nonlocal written, errors
        r = http.post("/write?db=houqin&precision=ms", content=lines_for(site, ts))
        with lock:
            if r.status_code == 204:
                written += DEVICES
            else:
                errors += 1

    def lag(tick: float) -> float | None:
        # until the district's adapter sees this tick's readings of the last site written (asked for the last
        # seconds only: a week's window over every site, 5 times a second, would load the store)
        while not stop.is_set():
            seen = store.last_readings(tick - 1, time.time() + 1).get(sites[-1], 0.0)
            if seen >= int(tick * 1000) / 1000:
                return time.time() - tick
            time.sleep(0.2)
        return None

    try:
        while not stop.is_set():
            tick = time.time()
            list(pool.map(post, sites, [tick] * len(sites)))
            took = lag(tick)
            if took is not None:
                # The first tick creates every series: VictoriaMetrics makes a new series searchable up to ~10 s
                # after its first point (measured here: 8.7-10 s for a single new series, 0.7 s for a known one).
                # Sites' series exist at the centre from their first day on, so it is reported apart.
                if first_lag is None:
                    first_lag = took
                else:
                    lags.append(took)
            stop.wait(max(0.0, EVERY_S - (time.time() - tick)))
    finally:
        pool.shutdown()
        http.close()
        store.close()
        out.put({"written": written, "lags": lags, "first_lag": first_lag, "errors": errors})


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=50)
    ap.add_argument("--full", action="store_true", help="500 sites (the issue's target)")
    ap.add_argument("--seconds", type=float, default=40.0, help="how long the load runs")
    ap.add_argument("--clients", type=int, default=20)
    args = ap.parse_args()
    n = 500 if args.full else args.sites
    sites = site_ids(n)
    tmp = Path(tempfile.mkdtemp(prefix="houqin-district-bench-"))
    (tmp / "vm").mkdir()
    vm = VictoriaMetrics(tmp / "vm", ("-search.latencyOffset=1s",))
    vm.start()
    central = CentralBroker(tmp, sites)
    central.start()
    service: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    try:
        port = free_port()
        reader = central.credentials["reader"]
        toml = tmp / "district-service.toml"
        toml.write_text(f'data_dir = "{tmp / "data"}"\n' + central.toml.read_text(encoding="utf-8") +
                        f'\n[broker]\nurl = "mqtt://127.0.0.1:{central.port}"\nusername = "{reader["username"]}"\n'
                        f'password = "{reader["password"]}"\n\n[web]\nbind = "127.0.0.1"\nport = {port}\n'
                        "login_max_failures_address = 1000\n\n"
                        f'[store]\nkind = "victoriametrics"\nurl = "{vm.url}"\n', encoding="utf-8")
        houqin = [sys.executable, "-m", "gateway"]
        subprocess.run([*houqin, "district", "user", "add", "bench", "--role", "viewer", "--config", str(toml),
                        "--password-stdin"], input=(PASSWORD + "\n").encode(), check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        service = subprocess.Popen([*houqin, "district", "--config", str(toml)], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=(tmp / "service.log").open("wb"))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or service.poll() is not None:
                    raise SystemExit(f"the district service did not start; see {tmp / 'service.log'}") from None
                time.sleep(0.2)
        publish_states(central, sites)

        latencies: list[float] = []
        lock = threading.Lock()

        def logged_in() -> httpx.Client:
            c = httpx.Client(base_url=base, timeout=30)
            token = c.get("/login").cookies["houqin_login_csrf"]
            r = c.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token},
                       headers={"Origin": base})
            if r.status_code != 303:
                raise SystemExit(f"login refused: HTTP {r.status_code}")
            return c

        def client(c: httpx.Client) -> None:
            # closed loop: each client asks again as soon as it has its answer (harder than screens polling
            # every 3 s, as district.js does)
            try:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    resp = c.get("/api/overview")
                    dt = (time.perf_counter() - t0) * 1000
                    # counted, not parsed: parsing 500 sites' JSON in 20 threads would slow the clients' own timing
                    if resp.status_code != 200 or resp.content.count(b'"urgency":') != n:
                        print(f"overview: HTTP {resp.status_code} {resp.text[:200]}", file=sys.stderr)
                        return
                    with lock:
                        latencies.append(dt)
            finally:
                c.close()

        clients = [logged_in() for _ in range(args.clients)]  # one session each, before the load
        ctx = multiprocessing.get_context("spawn")
        writer_stop, results = ctx.Event(), ctx.Queue()
        writer = ctx.Process(target=write_loop, args=(vm.url, sites, writer_stop, results), name="bench-writer")
        threads = [threading.Thread(target=client, args=(c,)) for c in clients]
        t_start = time.time()
        writer.start()
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        writer_stop.set()
        for t in threads:
            t.join(60)
        got = results.get(timeout=60)
        writer.join(30)
        elapsed = time.time() - t_start
        written, lags, write_errors, first_lag = got["written"], got["lags"], got["errors"], got["first_lag"]
        rss = rss_mb(service.pid)
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies or [0.0])
        print(json.dumps({"sites": n, "points_per_s": round(written / elapsed, 1),
                          "central_lag_s": round(max(lags), 2) if lags else None,
                          "overview_p95_ms": round(p95, 1), "rss_mb": round(rss, 1),
                          "overview_requests": len(latencies), "write_errors": write_errors,
                          "new_series_lag_s": round(first_lag, 2) if first_lag is not None else None,
                          "ticks": len(lags),
                          "target": {"sites": 500, "points_per_s": 1500, "overview_p95_ms": 300,
                                     "central_lag_s": 10}}))
    finally:
        stop.set()
        if service is not None and service.poll() is None:
            os.kill(service.pid, signal.SIGTERM)
            service.wait(30)
        central.stop()
        vm.stop()


if __name__ == "__main__":
    main()
