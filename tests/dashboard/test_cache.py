"""Results reused while no data changed: per-session parts stay per session, new data shows at once."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.cache import ResultCache, Versioned
from gateway.alerts import AlertService, AlertStore
from gateway.alerts.store import OpenRequest
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.model import BatchObserver, CommittedBatch, Reading
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok, make_config


def tokens(html: str) -> set[str]:
    """The CSRF tokens in a page's forms."""
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', html))


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_result_cache_version_ttl_bound_and_off() -> None:
    data, ticks = Versioned(), Ticks()
    cache = ResultCache(data, ttl=2.0, max_entries=2, clock=ticks)
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return f"{name}{len(calls)}"

    assert cache.get("a", lambda: compute("a")) == "a1"
    assert cache.get("a", lambda: compute("a")) == "a1"  # reused
    data.bump()
    assert cache.get("a", lambda: compute("a")) == "a2"  # new data: computed again
    ticks.now = 2.5
    assert cache.get("a", lambda: compute("a")) == "a3"  # too old even without new data
    cache.get("b", lambda: compute("b"))
    cache.get("c", lambda: compute("c"))  # bound of 2: "a" (least recently used) goes
    assert cache.get("a", lambda: compute("a")) == "a6"
    assert (cache.hits, cache.misses) == (1, 6)
    off = ResultCache(data, ttl=0)
    assert off.get("x", lambda: compute("x")) != off.get("x", lambda: compute("x"))


def test_shared_overview_keeps_sessions_apart_and_shows_new_alerts_and_readings_at_once(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    db = EventsDB(tmp_path / "data" / "events.db")
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    clock = ManualClock(1_790_000_000.0)
    alerts = AlertService(AlertStore(db), clock)
    observers: list[BatchObserver] = []
    services = dashboard_services(cfg, db, clock, store, alerts, add_alert_listener=alerts.add_listener,
                                 add_batch_observer=observers.append)
    app = create_app(services, cfg.dashboard, hasher=cheap_hasher())
    ctx = app.state.ctx
    assert ctx.cache.ttl > 0  # told of every change: caching is on
    ctx.accounts.add("wang", "guard", PASSWORD, display_name="王师傅")
    ctx.accounts.add("zhou", "guard", PASSWORD, display_name="<b>周</b>")
    try:
        with TestClient(app, base_url="http://127.0.0.1") as a, TestClient(app, base_url="http://127.0.0.1") as b:
            csrf_a, csrf_b = login_ok(a, "wang"), login_ok(b, "zhou")
            page_a, page_b = a.get("/").text, b.get("/").text
            hits = ctx.cache.hits
            assert b.get("/").text == page_b and ctx.cache.hits > hits  # the second view was not rendered again
            assert tokens(page_a) == {csrf_a} and tokens(page_b) == {csrf_b}
            assert f'content="{csrf_a}"' in page_a and csrf_a not in page_b
            assert "王师傅" in page_a and "王师傅" not in page_b
            assert "&lt;b&gt;周&lt;/b&gt;" in page_b and "<b>周</b>" not in page_b  # still escaped
            # an alert opened now is on the next view, though the cached page is younger than the TTL
            alerts.raise_alert(OpenRequest(rule="held", device="gate", kind="gate_held_open", severity="major",
                                           chain=None, metric="contact", value=1.0, detail="open 5 min",
                                           since=clock.now()))
            page = a.get("/").text
            assert "open 5 min" in page and 'action="/alerts/' in page and tokens(page) == {csrf_a}
            # a new reading invalidates the cached Overview at once
            ticks = Ticks()
            ctx.cache = ResultCache(ctx.hub.changes, ttl=2.0, clock=ticks)
            before = a.get("/").text
            store.write([Reading(clock.now() - 60, "fridge-1", "temperature", 4.0)])
            assert a.get("/").text == before  # not told yet: the cached page
            for obs in observers:
                obs.on_batch(CommittedBatch(readings=(Reading(clock.now() - 60, "fridge-1", "temperature", 4.0),)))
            misses = ctx.cache.misses
            assert a.get("/").text != before and ctx.cache.misses == misses + 1  # cold storage heard from
            # chart series are reused for the TTL even as readings arrive (the live stream appends them)
            url = f"/api/devices/fridge-1/readings?metric=temperature&start={clock.now() - 3600}"
            assert a.get(url).json()["values"] == [4.0]
            store.write([Reading(clock.now() - 30, "fridge-1", "temperature", 5.0)])
            for obs in observers:
                obs.on_batch(CommittedBatch(readings=(Reading(clock.now() - 30, "fridge-1", "temperature", 5.0),)))
            assert a.get(url).json()["values"] == [4.0]
            ticks.now = 2.0
            assert a.get(url).json()["values"] == [4.0, 5.0]
    finally:
        store.close()
        db.close()


def test_a_miss_is_computed_once_off_the_event_loop_for_everyone_waiting() -> None:
    import asyncio
    import threading

    data = Versioned()
    cache = ResultCache(data, ttl=2.0, clock=Ticks())
    release = threading.Event()
    threads: list[str] = []

    def slow() -> str:
        threads.append(threading.current_thread().name)
        assert release.wait(10)
        return "series"

    async def main() -> list[str]:
        loop_thread = threading.current_thread().name
        calls = [asyncio.create_task(cache.aget("k", slow, through_changes=True)) for _ in range(5)]
        ticks = 0
        while not threads:  # the loop keeps running while the query does
            await asyncio.sleep(0.01)
            ticks += 1
        await asyncio.sleep(0.05)
        release.set()
        got = await asyncio.gather(*calls)
        assert ticks >= 1 and threads and threads[0] != loop_thread
        return got

    assert asyncio.run(main()) == ["series"] * 5
    assert len(threads) == 1  # one computation for the five callers
    assert cache.get("k", slow, through_changes=True) == "series"  # and kept for the next

    def broken() -> str:
        raise RuntimeError("store gone")

    async def failing() -> None:
        results = await asyncio.gather(cache.aget("x", broken), cache.aget("x", broken), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) for r in results)

    asyncio.run(failing())
