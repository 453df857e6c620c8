"""The outbox forwarder against a local HTTP receiver: backoff with jitter, bisecting bad points,
degraded on 401/403, and the v2 requests influxdb-client sends (bucket, org, precision, auth, body)."""

from __future__ import annotations

import json
import os
import random
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from gateway.clock import ManualClock
from gateway.deadletters import DeadLetters
from gateway.eventsdb import EventsDB
from gateway.model import Reading
from gateway.store.influx import InfluxStore, StoreStatus
from gateway.store.influx_settings import InfluxSettings
from tests.store.influx_receiver import InfluxReceiver, Request
from tests.waiting import wait_for

T0 = 1_790_000_000.0
V2 = {"org": "kg-org", "bucket": "houqin-bucket", "token": "test-token-123"}


@pytest.fixture
def receiver() -> Iterator[InfluxReceiver]:
    with InfluxReceiver() as r:
        yield r


def readings(n: int, device: str = "fridge-1", start: float = T0) -> list[Reading]:
    return [Reading(start + 60 * i, device, "temperature", 4.0 + i / 10) for i in range(n)]


def make(tmp_path: Path, url: str, clock: ManualClock, **settings: object) -> InfluxStore:
    s = InfluxSettings(url=url, **settings)  # type: ignore[arg-type]
    return InfluxStore(s, site="kg", outbox_path=tmp_path / "outbox.db", clock=clock, start=False,
                       kinds={"fridge-1": "fridge"}, rng=random.Random(7))


def test_v2_writes_carry_bucket_org_precision_token_and_line_protocol(
        receiver: InfluxReceiver, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    store = make(tmp_path, receiver.url, clock, **V2)
    try:
        store.write([*readings(3), Reading(T0, "wm 1", "total_l", 12.5)])
        assert store.forwarder.pump() > 0
        [req] = receiver.writes()
        assert req.method == "POST"
        assert req.path == "/api/v2/write"
        assert req.query == {"org": "kg-org", "bucket": "houqin-bucket", "precision": "ms"}
        assert req.headers["authorization"] == "Token test-token-123"
        assert req.lines == [
            "houqin,device=fridge-1,kind=fridge,site=kg temperature=4.0 1790000000000",
            "houqin,device=fridge-1,kind=fridge,site=kg temperature=4.1 1790000060000",
            "houqin,device=fridge-1,kind=fridge,site=kg temperature=4.2 1790000120000",
            r"houqin,device=wm\ 1,site=kg total_l=12.5 1790000000000",
        ]
        st = store.status()
        assert (st.api, st.version, st.depth, st.sent, st.reachable) == ("v2", "2.7.4", 0, 4, True)
    finally:
        store.close()


def test_v1_writes_go_to_write_with_database_and_basic_auth(tmp_path: Path) -> None:
    with InfluxReceiver(version="1.6.7~rc0") as receiver:
        store = make(tmp_path, receiver.url, ManualClock(T0), database="houqin", username="gw", password="pw",
                     retention_policy="autogen")
        try:
            store.write(readings(2))
            store.forwarder.pump()
            [req] = receiver.writes()
            assert req.path == "/write"
            assert req.query == {"db": "houqin", "precision": "ms", "rp": "autogen"}
            assert req.headers["authorization"] == "Basic Z3c6cHc="
            assert len(req.lines) == 2
            assert store.status().api == "v1"
        finally:
            store.close()


def test_v2_reads_send_influxql_to_query_with_the_token_and_dbrp_database(
        receiver: InfluxReceiver, tmp_path: Path) -> None:
    receiver.query_answer = json.dumps({"results": [{"statement_id": 0, "series": [
        {"name": "houqin", "columns": ["time", "temperature"], "values": [[1790000000000, 4], [1790000060500, 4.5]]}
    ]}]})
    store = make(tmp_path, receiver.url, ManualClock(T0), database="houqin_dbrp", **V2)
    try:
        got = store.query("fridge-1", "temperature", T0, T0 + 3600)
        assert got == [Reading(T0, "fridge-1", "temperature", 4.0), Reading(T0 + 60.5, "fridge-1", "temperature", 4.5)]
        [req] = receiver.queries()
        form = {k: v[-1] for k, v in parse_qs(req.body.decode()).items()}
        assert req.method == "POST" and req.headers["authorization"] == "Token test-token-123"
        assert form["db"] == "houqin_dbrp" and form["epoch"] == "ms"
        assert form["q"] == ('SELECT "temperature" FROM "houqin" WHERE "site" = \'kg\' AND "device" = \'fridge-1\' '
                             "AND time >= 1790000000000ms AND time < 1790003600000ms ORDER BY time ASC")
    finally:
        store.close()


def test_failures_back_off_exponentially_with_jitter_then_resume(receiver: InfluxReceiver, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    receiver.responder = lambda _r: (503, "overloaded")
    store = make(tmp_path, receiver.url, clock, backoff_initial="2s", backoff_max="20s", **V2)
    try:
        store.write(readings(5))
        delays = []
        for attempt in range(6):
            delay = store.forwarder.pump()
            assert len(receiver.writes()) == attempt + 1
            delays.append(delay)
            # Before the delay is up nothing is sent again.
            clock.advance(delay * 0.9)
            assert store.forwarder.pump() == pytest.approx(delay * 0.1)
            assert len(receiver.writes()) == attempt + 1
            clock.advance(delay * 0.1 + 0.001)
        for i, d in enumerate(delays):
            full = min(20.0, 2.0 * 2**i)
            assert full / 2 <= d <= full, (i, d)
        assert len(set(delays)) == len(delays)  # jittered, not in lock step
        st = store.status()
        assert st.depth == 5 and st.reachable is True and not st.degraded
        assert st.last_error.startswith("503: overloaded")
        receiver.responder = lambda _r: (204, "")
        store.forwarder.pump()
        assert store.status().depth == 0
        assert store.status().last_success_at == clock.now()
    finally:
        store.close()


def test_unreachable_server_keeps_points_and_says_so(tmp_path: Path) -> None:
    with InfluxReceiver() as gone:
        url = gone.url
    store = make(tmp_path, url, ManualClock(T0), database="h", timeout="2s")
    try:
        store.write(readings(3))
        assert store.forwarder.pump() > 0
        st = store.status()
        assert st.reachable is False and st.depth == 3 and "no answer" in st.last_error
    finally:
        store.close()


def test_auth_refusal_marks_storage_degraded_and_clears_on_success(
        receiver: InfluxReceiver, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    seen: list[StoreStatus] = []
    receiver.responder = lambda _r: (401, "unauthorized access")
    store = make(tmp_path, receiver.url, clock, **V2)
    store.add_listener(seen.append)
    try:
        store.write(readings(2))
        delay = store.forwarder.pump()
        st = store.status()
        assert st.degraded and "401" in st.degraded_reason and "token" in st.degraded_reason
        assert seen and seen[-1].degraded
        assert st.depth == 2  # nothing is lost while the token is wrong
        receiver.responder = lambda _r: (204, "")
        clock.advance(delay)
        store.forwarder.pump()
        assert not store.status().degraded
        assert not seen[-1].degraded and seen[-1].depth == 0
    finally:
        store.close()


def test_a_bad_point_is_bisected_out_and_dead_lettered(receiver: InfluxReceiver, tmp_path: Path) -> None:
    def refuse_bad(req: Request) -> tuple[int, str]:
        if any("device=bad" in ln for ln in req.lines):
            return 400, "partial write: field type conflict"
        return 204, ""

    receiver.responder = refuse_bad
    clock = ManualClock(T0)
    events = EventsDB(tmp_path / "events.db")
    dead = DeadLetters(events, clock)
    s = InfluxSettings(url=receiver.url, batch_size=1000, **V2)  # type: ignore[arg-type]
    store = InfluxStore(s, site="kg", outbox_path=tmp_path / "outbox.db", clock=clock, start=False, dead_letters=dead)
    try:
        good = readings(40)
        store.write([*good[:23], Reading(T0, "bad", "temperature", 1.0), *good[23:]])
        store.forwarder.pump()
        # Lines of the requests InfluxDB accepted: every good point exactly once, the bad one never.
        accepted = [ln for r in receiver.writes() if not any("device=bad" in x for x in r.lines) for ln in r.lines]
        assert len(accepted) == len(set(accepted)) == 40
        assert all("device=fridge-1" in ln for ln in accepted)
        assert len(receiver.writes()) <= 2 * 6 + 1  # log2(41) levels of halves, not one request per point
        st = store.status()
        assert (st.depth, st.rejected, st.sent) == (0, 1, 40)
        assert dead.counts() == {"influx_rejected": 1}
        row = events.conn().execute("SELECT topic, device, reason, detail FROM dead_letters").fetchone()
        assert row == ("influxdb/write", "bad", "influx_rejected", "400: partial write: field type conflict")
    finally:
        store.close()
        events.close()


def test_unwritable_values_are_dead_lettered_at_once(receiver: InfluxReceiver, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    events = EventsDB(tmp_path / "events.db")
    dead = DeadLetters(events, clock)
    s = InfluxSettings(url=receiver.url, **V2)  # type: ignore[arg-type]
    store = InfluxStore(s, site="kg", outbox_path=tmp_path / "outbox.db", clock=clock, start=False, dead_letters=dead)
    try:
        store.write([Reading(T0, "f", "temperature", float("nan")), Reading(T0, "f", "humidity_pct", 50.0)])
        assert store.status().depth == 1
        assert dead.counts() == {"influx_unwritable": 1}
    finally:
        store.close()
        events.close()


def test_the_forwarder_thread_sends_after_a_write(receiver: InfluxReceiver, tmp_path: Path) -> None:
    s = InfluxSettings(url=receiver.url, **V2)  # type: ignore[arg-type]
    store = InfluxStore(s, site="kg", outbox_path=tmp_path / "outbox.db")
    try:
        store.write(readings(10))
        wait_for(lambda: store.status().depth == 0, what="the forwarder to empty the outbox", timeout=10)
        assert sum(len(r.lines) for r in receiver.writes()) == 10
    finally:
        store.close()


V2_ENV = "HOUQIN_TEST_INFLUXDB_V2_URL"


@pytest.mark.skipif(not os.environ.get(V2_ENV), reason=f"{V2_ENV} (+ _TOKEN, _ORG, _BUCKET) not set: no InfluxDB 2.x "
                    "server to test against; the local receiver tests cover the requests")
def test_real_v2_server_round_trip(tmp_path: Path) -> None:
    env = {k: os.environ.get(f"HOUQIN_TEST_INFLUXDB_V2_{k.upper()}", "") for k in ("token", "org", "bucket")}
    missing = [k for k, v in env.items() if not v]
    if missing:
        pytest.fail(f"{V2_ENV} is set but HOUQIN_TEST_INFLUXDB_V2_{missing[0].upper()} is not")
    url = os.environ[V2_ENV]
    with urllib.request.urlopen(f"{url}/ping", timeout=5):
        pass
    s = InfluxSettings(url=url, api="v2", **env)  # type: ignore[arg-type]
    site = f"test-{int(time.time() * 1000)}"
    store = InfluxStore(s, site=site, outbox_path=tmp_path / "outbox.db", start=False)
    try:
        now = time.time() // 60 * 60
        store.write(readings(5, start=now - 600))
        store.forwarder.pump()
        assert store.status().depth == 0 and store.status().api == "v2"
        # Reads go through /query, which 2.x answers for a bucket with a DBRP mapping.
        got = store.query("fridge-1", "temperature", now - 3600, now + 60)
        assert [r.value for r in got] == [r.value for r in readings(5)]
    finally:
        store.close()


def test_only_one_store_forwards_an_outbox(receiver: InfluxReceiver, tmp_path: Path) -> None:
    # The gateway forwards; a `houqin query` opened on the same storage dir meanwhile only reads.
    gateway = make(tmp_path, receiver.url, ManualClock(T0), **V2)
    reader = make(tmp_path, receiver.url, ManualClock(T0), **V2)
    try:
        assert gateway.forwarding and not reader.forwarding
        gateway.write(readings(3))
        reader.query("fridge-1", "temperature", T0, T0 + 3600)  # no catch-up send from the reader
        assert receiver.writes() == []
    finally:
        gateway.close()
        reader.close()
    again = make(tmp_path, receiver.url, ManualClock(T0), **V2)
    try:
        assert again.forwarding
        again.forwarder.pump()
        assert sum(len(r.lines) for r in receiver.writes()) == 3
    finally:
        again.close()


def test_without_a_dead_letter_table_refused_points_stay_in_the_outbox_file(
        receiver: InfluxReceiver, tmp_path: Path) -> None:
    receiver.responder = lambda req: (400, "unable to parse") if any("wm" in x for x in req.lines) else (204, "")
    store = make(tmp_path, receiver.url, ManualClock(T0), **V2)
    try:
        store.write([*readings(3), Reading(T0, "wm", "total_l", 5.0)])
        store.forwarder.pump()
        [(_, device, line_, status, detail)] = store.outbox.rejected()
        assert (device, status, detail) == ("wm", 400, "unable to parse")
        assert "total_l=5.0" in line_
        assert store.status().depth == 0
    finally:
        store.close()
