"""The simulated site: realistic, deterministic device models, and their native MQTT payloads."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from demo.sim.base import EventObs, Observation, StateObs
from demo.sim.cold import FRIDGE, ColdStore
from demo.sim.schedule import SchoolDay
from demo.simulator import SITE_DEVICES, SimulatedSite, Simulator
from gateway.clock import ManualClock
from gateway.contract import METRICS, parse_topic, state_value
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_MIDNIGHT = datetime(2026, 11, 16, 0, 0, tzinfo=TZ).timestamp()
SATURDAY_MIDNIGHT = datetime(2026, 11, 21, 0, 0, tzinfo=TZ).timestamp()


def states(obs: list[Observation], device: str, metric: str) -> list[tuple[float, float | int | str | bool]]:
    return [(o.ts, o.metrics[metric]) for o in obs if isinstance(o, StateObs) and o.device == device
            and metric in o.metrics]


def between(series: list[tuple[float, float]], start_h: float, end_h: float, day0: float) -> list[float]:
    return [v for t, v in series if day0 + start_h * 3600 <= t < day0 + end_h * 3600]


@pytest.fixture(scope="module")
def school_day() -> list[Observation]:
    """One Monday of the site, seed 7."""
    return SimulatedSite(start=MONDAY_MIDNIGHT, seed=7).advance(86400)


def test_same_seed_same_site_and_chunking_does_not_matter() -> None:
    a = SimulatedSite(start=MONDAY_MIDNIGHT, seed=3).advance(4 * 3600)
    b_site = SimulatedSite(start=MONDAY_MIDNIGHT, seed=3)
    b: list[Observation] = []
    for step in [7.0, 88.0, 1.5, 3.5] * 144:  # 100 s chunks, not multiples of the tick
        b.extend(b_site.advance(step))
    assert b_site.t == MONDAY_MIDNIGHT + 4 * 3600
    assert a == b
    c = SimulatedSite(start=MONDAY_MIDNIGHT, seed=4).advance(4 * 3600)
    assert a != c


def test_refuses_going_back_in_time() -> None:
    with pytest.raises(ValueError, match="forward"):
        SimulatedSite(start=MONDAY_MIDNIGHT).advance(-1)


def test_fridges_cycle_between_3_and_6(school_day: list[Observation]) -> None:
    for dev in ("kitchen-fridge-1", "kitchen-fridge-2"):
        temps = [float(v) for _, v in states(school_day, dev, "temperature")]
        assert len(temps) == 24 * 60  # one reading a minute
        assert 2.5 <= min(temps) <= 3.5
        assert 5.5 <= max(temps) <= 8.0
        # compressor cycles: the temperature turns from rising to falling many times a day
        turns = sum(1 for x, y, z in zip(temps, temps[1:], temps[2:], strict=False) if y > x and y > z and y > 5.0)
        assert turns >= 10, turns


def test_door_opening_warms_the_fridge_briefly() -> None:
    day = SchoolDay()
    shut, opened = ColdStore("f", FRIDGE, 1), ColdStore("f", FRIDGE, 1)
    for s in (shut, opened):
        s.temperature, s.compressor_on = 4.0, False
    opened.door_open_until = MONDAY_MIDNIGHT + 60
    t = MONDAY_MIDNIGHT
    for _ in range(12):  # 60 s at 03:00 on a Monday, when nobody opens doors by chance
        t += 5
        shut.step(t + 3 * 3600, 5, day)
        opened.step(t, 5, day)
    assert opened.temperature - shut.temperature > 0.5
    assert not opened.door_open


def test_freezer_and_sample_fridge(school_day: list[Observation]) -> None:
    freezer = [float(v) for _, v in states(school_day, "kitchen-freezer", "temperature")]
    assert -19.5 < sum(freezer) / len(freezer) < -16.5
    assert max(freezer) < -14.0
    sample = [float(v) for _, v in states(school_day, "sample-fridge", "temperature")]
    assert min(sample) >= 0.5 and max(sample) <= 5.0


def test_water_follows_the_school_day(school_day: list[Observation]) -> None:
    totals = [(t, float(v)) for t, v in states(school_day, "water-main", "total_l")]
    assert all(b >= a for (_, a), (_, b) in itertools.pairwise(totals))  # cumulative, never back
    night = between(totals, 0.0, 5.0, MONDAY_MIDNIGHT)
    assert night[-1] - night[0] == 0.0  # nothing flows at night without a leak
    morning = between(totals, 7.0, 9.0, MONDAY_MIDNIGHT)
    lunch = between(totals, 11.0, 13.0, MONDAY_MIDNIGHT)
    nap = between(totals, 13.25, 14.0, MONDAY_MIDNIGHT)
    assert morning[-1] - morning[0] > 1500  # arrival peak: ~20 L/min
    assert lunch[-1] - lunch[0] > 2000
    assert (nap[-1] - nap[0]) / 45 < (lunch[-1] - lunch[0]) / 120  # nap time is quieter than lunch
    day_use = totals[-1][1] - totals[0][1]
    assert 5_000 < day_use < 20_000  # a kindergarten uses some 10 m³ a day
    first = next(o for o in school_day if isinstance(o, StateObs) and o.device == "water-main")
    assert set(first.metrics) == {"total_l", "flow_lpm"}


def test_leak_adds_a_slow_night_flow() -> None:
    site = SimulatedSite(start=MONDAY_MIDNIGHT, seed=7)
    site.set_leak()
    obs = site.advance(5 * 3600)
    totals = [float(v) for _, v in states(obs, "water-main", "total_l")]
    flows = [float(v) for _, v in states(obs, "water-main", "flow_lpm")]
    assert 80 < totals[-1] - totals[0] < 200  # ~0.4 L/min for 5 h
    assert min(flows) > 0.0


def test_weekend_is_quiet() -> None:
    obs = SimulatedSite(start=SATURDAY_MIDNIGHT, seed=7).advance(86400)
    totals = [float(v) for _, v in states(obs, "water-main", "total_l")]
    assert totals[-1] - totals[0] < 1000
    assert not [o for o in obs if isinstance(o, EventObs) and o.type == "card"]


def test_electricity(school_day: list[Observation]) -> None:
    energy = [float(v) for _, v in states(school_day, "power-main", "energy_wh")]
    power = [(t, float(v)) for t, v in states(school_day, "power-main", "power_w")]
    assert all(b >= a for a, b in itertools.pairwise(energy))
    assert 30_000 < energy[-1] - energy[0] < 150_000  # Wh in a day
    night = between(power, 1.0, 5.0, MONDAY_MIDNIGHT)
    day = between(power, 9.0, 11.0, MONDAY_MIDNIGHT)
    assert max(night) < 700 < min(day)
    site = SimulatedSite(start=MONDAY_MIDNIGHT, seed=7)
    site.set_left_on()
    left_on = [float(v) for _, v in states(site.advance(3 * 3600), "power-main", "power_w")]
    assert min(left_on) > 1500


def test_gate_cards_button_and_visitor(school_day: list[Observation]) -> None:
    events = [o for o in school_day if isinstance(o, EventObs)]
    cards = [e for e in events if e.type == "card"]
    assert all(e.device == "gate-reader" for e in cards)
    assert len(cards) > 30
    assert all(len(str(e.data["uid"])) == 8 and int(str(e.data["uid"]), 16) >= 0 for e in cards)
    assert any(e.data["accepted"] is True for e in cards)
    buttons = [e for e in events if e.type == "button"]
    assert buttons and all(e.device == "gate-button" for e in buttons)
    releases = [e for e in events if e.type == "release"]
    assert [e.data["reason"] for e in releases] == ["visitor", "visitor_leaves"]
    assert releases[0].data["visitor"] == releases[1].data["visitor"]
    # the contact alternates open/closed (heartbeats repeat the current state), every opening has a reason
    contact = [(o.ts, o.metrics["contact"]) for o in school_day if isinstance(o, StateObs) and o.device == "gate"]
    opened_at = [t for (t, v), (_, prev) in zip(contact[1:], contact, strict=False) if v == "open" and prev == "closed"]
    assert len(opened_at) > 30
    reasons = {e.ts for e in events if e.type in ("button", "release") or e.data.get("accepted") is True}
    assert all(t in reasons for t in opened_at)
    # nothing happens at the gate at 02:00
    assert not [e for e in events if e.ts < MONDAY_MIDNIGHT + 5 * 3600]


def test_broken_compressor_warms_the_fridge() -> None:
    site = SimulatedSite(start=MONDAY_MIDNIGHT, seed=7)
    site.fail_compressor("kitchen-fridge-2")
    temps = [float(v) for _, v in states(site.advance(4 * 3600), "kitchen-fridge-2", "temperature")]
    assert temps[-1] > 10.0
    with pytest.raises(ValueError, match="cold store"):
        site.fail_compressor("gate")


def test_payloads_are_native_with_seq_per_device() -> None:
    sim = Simulator("sunshine-kg", LinkSettings("127.0.0.1", 1, "unused"), seed=5, clock=ManualClock(MONDAY_MIDNIGHT))
    messages = sim.advance(86400)
    seqs: dict[str, list[int]] = {}
    for m in messages:
        parts = parse_topic(m.topic)
        assert parts is not None and parts.site == "sunshine-kg" and parts.device == m.device
        body = json.loads(m.payload)
        assert body["ts"] <= MONDAY_MIDNIGHT + 86400  # speed 1: simulated time is stamped
        seqs.setdefault(m.device, []).append(body.pop("seq"))
        body.pop("ts")
        if parts.channel == "state":
            for metric, value in body.items():
                spec = METRICS[metric]
                num = state_value(metric, value) if spec.states else float(value)
                assert spec.low <= num <= spec.high
        else:
            assert parts.channel == "event" and body["type"] in ("card", "button", "release")
    assert set(seqs) == {d.id for d in SITE_DEVICES}
    assert all(s == list(range(1, len(s) + 1)) for s in seqs.values())
    fast = Simulator("sunshine-kg", LinkSettings("127.0.0.1", 1, "unused"), speed=60,
                     clock=ManualClock(MONDAY_MIDNIGHT))
    assert all("ts" not in json.loads(m.payload) for m in fast.advance(600))


class Inbox:
    def __init__(self) -> None:
        self.items: list[InboundMessage] = []
        self.lock = threading.Lock()

    def __call__(self, m: InboundMessage) -> None:
        with self.lock:
            self.items.append(m)

    def wait(self, pred: object, timeout: float = 10.0) -> list[InboundMessage]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                snap = list(self.items)
            if pred(snap) or time.monotonic() > deadline:  # type: ignore[operator]
                return snap
            time.sleep(0.02)


def test_publishes_through_a_real_broker_with_availability(mosquitto: Mosquitto) -> None:
    inbox = Inbox()
    watcher = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "watcher", manual_ack=False, persistent=False),
                       on_message=inbox, subscriptions=["houqin/sunshine-kg/#"])
    watcher.start()
    assert watcher.wait_connected(10)
    clock = ManualClock(MONDAY_MIDNIGHT + 7.5 * 3600)
    sim = Simulator("sunshine-kg", LinkSettings("127.0.0.1", mosquitto.port, "x"), seed=2, clock=clock)
    try:
        assert sim.connect(10)
        online = inbox.wait(lambda ms: len({m.topic for m in ms if m.payload == b"online"}) == len(SITE_DEVICES))
        assert {m.topic for m in online if m.payload == b"online"} == {
            f"houqin/sunshine-kg/{d.id}/availability" for d in SITE_DEVICES}
        sent = sim.advance(1800)  # half an hour of the morning rush
        assert any(m.topic.endswith("/event") for m in sent)
        got = inbox.wait(lambda ms: len([m for m in ms if not m.topic.endswith("availability")]) >= len(sent))
        data = [(m.topic, m.payload) for m in got if not m.topic.endswith("availability")]
        assert sorted(data) == sorted((m.topic, m.payload) for m in sent)
        assert sim.stats()["published"] == len(sent) and sim.stats()["not_sent"] == 0
    finally:
        sim.disconnect()
    offline = inbox.wait(lambda ms: len({m.topic for m in ms if m.payload == b"offline"}) == len(SITE_DEVICES))
    assert len({m.topic for m in offline if m.payload == b"offline"}) == len(SITE_DEVICES)
    watcher.stop()


def test_run_follows_the_clock_times_the_speed() -> None:
    clock = ManualClock(MONDAY_MIDNIGHT)
    sim = Simulator("kg", LinkSettings("127.0.0.1", 1, "unused"), clock=clock, speed=60)
    stop = threading.Event()
    runner = threading.Thread(target=sim.run, args=(stop, 0.01))
    runner.start()
    try:
        clock.advance(10.0)  # ten seconds of wall clock at 60x: ten minutes of site time
        wait_for(lambda: sim.site.t >= MONDAY_MIDNIGHT + 600, "ten minutes of site time", timeout=10)
    finally:
        stop.set()
        runner.join(5)
    assert sim.site.t == MONDAY_MIDNIGHT + 600
    assert not runner.is_alive()


def test_meters_continue_from_stored_totals_and_never_go_back() -> None:
    site = SimulatedSite(start=MONDAY_MIDNIGHT, seed=7)
    site.continue_totals({"water-main": 250_000.5, "power-main": 1.0})
    obs = site.advance(120)
    assert float(states(obs, "water-main", "total_l")[0][1]) >= 250_000.5
    assert float(states(obs, "power-main", "energy_wh")[0][1]) > 9_000_000  # a lower stored total is ignored
