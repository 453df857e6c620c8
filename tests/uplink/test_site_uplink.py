"""A site's gateway with [uplink]: alert transitions and status reach the central broker (TLS, the generated ACL)
in order, readings reach the central store (the v2 write path, receiver-tested), and no people's data leaves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import contract
from gateway.app import build_gateway
from gateway.cli import main
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.uplink.messages import alerts_topic, open_topic, status_topic
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto
from tests.store.influx_receiver import InfluxReceiver
from tests.uplink.central import CentralBroker, Recorder, transitions
from tests.waiting import COMMIT_WINDOW, wait_for

SITE = "kg"
VISITOR = {"name": "李小龙", "phone": "13800138000", "id_number": "110101199003071234"}
HOLDER, UID = "张三丰", "04A1B2C3"


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralBroker]:
    c = CentralBroker(tmp_path, [SITE, "other-kg"])
    c.start()
    yield c
    c.stop()


def site_raw(tmp_path: Path, mosquitto: Mosquitto, central: CentralBroker, store_url: str) -> dict[str, Any]:
    return {
        "site": {"id": SITE, "locale": "zh-CN"},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-uplink-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"enabled": False},
        "devices": [{"id": "fridge-1", "kind": "fridge"}, {"id": "gate", "kind": "gate"},
                    {"id": "reader", "kind": "card_reader"}],
        # Closed all week: every card read is after hours, so its alert is one whose detail could name the holder.
        "calendar": {"hours": {d: "" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
        "rules": [
            {"id": "fridge-warm", "kind": "threshold", "devices": ["fridge-1"], "above": 8, "clear_below": 7,
             "severity": "critical", "notify": "kitchen"},
            {"id": "night-access", "kind": "after_hours_access", "devices": ["reader"], "notify": "kitchen"},
        ],
        "notify": {"channels": {"buzzer": {"type": "buzzer", "device": "gate"}},
                   "chains": {"kitchen": {"steps": [{"channels": ["buzzer"]},
                                                    {"after": "5m", "channels": ["buzzer"]}]}}},
        "uplink": {"broker": central.uplink_broker(SITE),
                   "store": {"url": store_url, "org": "district", "bucket": "houqin", "token": "t0ken",
                             "backoff_initial": "1s", "backoff_max": "2s"}},
    }


def test_transitions_status_and_readings_reach_the_district_and_people_stay_at_school(
        tmp_path: Path, mosquitto: Mosquitto, central: CentralBroker, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = Recorder(central)
    with InfluxReceiver() as receiver:
        raw = site_raw(tmp_path, mosquitto, central, receiver.url)
        clock = ManualClock(round(time.time(), 3))
        site = build_gateway(parse_config(raw), clock=clock)
        site.start()
        pub = Publisher(mosquitto.port, client_id="uplink-test-pub")
        try:
            pub.wait_gateway()
            # People at the gate: a registered, approved and signed-in visitor, and a card holder reading a card.
            v = site.gate.register_visitor(host="王老师", **VISITOR)
            site.gate.decide_visitor(v.id, True, by="guard")
            site.gate.sign_in(v.id)
            site.gate.cards.add(UID, HOLDER)
            pub.send(contract.event_topic(SITE, "reader"), contract.encode_event("card", ts=clock.now(), uid=UID))
            # A warm fridge: opened, escalated after 5 min, acknowledged with a note, cleared.
            pub.state("fridge-1", {"temperature": 9.5}, ts=clock.now())
            wait_for(lambda: any(a.rule == "fridge-warm" for a in site.alerting.service.list(open_only=True)),
                     "the fridge alert")
            clock.advance(301)
            site.alerting.tick()
            fridge = next(a for a in site.alerting.service.list(open_only=True) if a.rule == "fridge-warm")
            site.alerting.service.ack(fridge.id, by="厨师长", note="门没关好，已关门")
            pub.state("fridge-1", {"temperature": 4.0}, ts=clock.now())
            got = recorder.wait(alerts_topic(SITE), lambda ps: (fridge.id, "cleared") in transitions(ps),
                                "the fridge alert's transitions at the district")
            assert [t for a, t in transitions(got) if a == fridge.id] == ["opened", "escalated", "acknowledged",
                                                                          "cleared"]
            ack = next(p for p in got if p["key"] == f"{fridge.id}:acknowledged")
            assert ack["alert"]["ack_note"] == "门没关好，已关门" and ack["site"] == SITE
            assert ack["alert"]["severity"] == "critical" and ack["alert"]["device"] == "fridge-1"
            assert any(p["alert"]["rule"] == "night-access" for p in got)
            assert next(p for p in got if p["transition"] == "escalated")["step"] == 2
            # The district learns the device's kind and the site's escalation time (the chain's second step).
            opened = next(p for p in got if p["key"] == f"{fridge.id}:opened")
            assert (opened["alert"]["device_kind"], opened["alert"]["escalate_after"]) == ("fridge", 300.0)
            # The open alerts follow every transition, retained: the fridge's is listed, then gone once cleared.
            lists = recorder.wait(open_topic(SITE), lambda ps: any(
                fridge.id in [a["id"] for a in p["alerts"]] for p in ps) and fridge.id not in [
                a["id"] for a in ps[-1]["alerts"]], "the open alerts without the cleared fridge alert")
            assert any(a["rule"] == "night-access" for a in lists[-1]["alerts"])
            assert all("detail" not in a and "acked_by" not in a for p in lists for a in p["alerts"])
            # Sent at start (before the local broker connected) and again when it changed.
            assert site.uplink is not None
            site.uplink.tick()
            status = recorder.wait(status_topic(SITE), lambda ps: ps and ps[-1]["health"]["local_broker"],
                                   "the site's status")[-1]
            assert status["health"] == {"local_broker": True, "store_writable": True}
            assert status["devices"]["configured"] == 3
            # Its opening hours, kept at the site, for the district's use while closed and school days.
            assert status["calendar"]["timezone"] == "Asia/Shanghai"
            assert status["calendar"]["hours"]["mon"] == "" and status["calendar"]["holidays"] == []
            pub.send(contract.availability_topic(SITE, "fridge-1"), "offline")
            uplink_part = site.uplink
            wait_for(lambda: any(p["devices"]["offline"] == ["fridge-1"] for p in recorder.on(status_topic(SITE))),
                     "the offline fridge in the status", tick=uplink_part.tick)
            assert (contract.gateway_availability_topic(SITE), b"online", False) in recorder.messages
            uplink = site.core.central_store
            assert uplink is not None
            wait_for(lambda: uplink.status().sent >= 2 and uplink.status().depth == 0, "readings at the centre")
            writes = receiver.writes()
            assert {w.path for w in writes} == {"/api/v2/write"}
            lines = [ln for w in writes for ln in w.lines]
            assert any(ln.startswith("houqin,device=fridge-1,kind=fridge,site=kg temperature=9.5 ") for ln in lines)
        finally:
            pub.close()
            site.stop()
        # Everything that left the site: the central broker's messages and every HTTP request to the central store.
        sent = recorder.raw() + b"\n".join(r.body + repr(r.query).encode() + repr(r.headers).encode()
                                            for r in receiver.requests)
        recorder.close()
    for secret in (*VISITOR.values(), HOLDER, UID):
        assert secret.encode() not in sent, f"{secret} left the site"
    assert b"110101" not in sent

    # `houqin uplink status` reads the outboxes the gateway left: nothing waits, nothing dropped.
    toml = tmp_path / "houqin.toml"
    toml.write_text(f'[site]\nid = "{SITE}"\n[storage]\ndir = "{tmp_path / "data"}"\n'
                    f'[uplink.broker]\nurl = "mqtts://127.0.0.1:{central.tls_port}"\n'
                    f'[uplink.store]\nurl = "{raw["uplink"]["store"]["url"]}"\napi = "v1"\ndatabase = "houqin"\n',
                    encoding="utf-8")
    capsys.readouterr()
    assert main(["uplink", "status", "--config", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "central store" in out and "central broker" in out and "waiting:       0 (none)" in out


def test_uplink_status_of_an_outbox_that_cannot_be_read_is_unknown_and_needs_attention(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "uplink-store.db").write_bytes(b"damaged " * 1000)
    toml = tmp_path / "houqin.toml"
    toml.write_text(f'[site]\nid = "{SITE}"\n[storage]\ndir = "{data}"\n'
                    '[uplink.store]\nurl = "http://127.0.0.1:9"\napi = "v1"\ndatabase = "houqin"\n', encoding="utf-8")
    assert main(["uplink", "status", "--config", str(toml)]) == 3
    out = capsys.readouterr().out
    assert "waiting:       cannot read" in out and "ATTENTION" in out


def test_an_alert_change_the_outbox_could_not_take_reaches_the_district_after_a_restart(
        tmp_path: Path, mosquitto: Mosquitto, central: CentralBroker) -> None:
    # The uplink hears of an alert change after its commit. Before, a change its outbox could not take (a full disk;
    # a kill between the two commits alike) never reached the district. Now the start (and every status check)
    # catches up from the alerts' timeline and skips what was queued, so nothing is sent twice either.
    recorder = Recorder(central)
    raw = site_raw(tmp_path, mosquitto, central, "http://127.0.0.1:9")
    clock = ManualClock(round(time.time(), 3))
    site = build_gateway(parse_config(raw), clock=clock)
    site.start()
    pub = Publisher(mosquitto.port, client_id="uplink-catch-up-pub")
    try:
        pub.wait_gateway()
        assert site.uplink is not None and site.uplink.sender is not None
        outbox = site.uplink.sender.outbox
        with outbox._lock:  # the test's stand-in for an outbox that fails: its connection may not write
            outbox._conn.execute("PRAGMA query_only = ON")
        pub.state("fridge-1", {"temperature": 9.5}, ts=clock.now())
        wait_for(lambda: any(a.rule == "fridge-warm" for a in site.alerting.service.list(open_only=True)),
                 "the fridge alert")
        alert = next(a for a in site.alerting.service.list(open_only=True) if a.rule == "fridge-warm")
        site.uplink.tick()  # the check fails too, and says so
        site.stop()  # as if killed: the change is committed at the site, and in no outbox
    finally:
        pub.close()

    site = build_gateway(parse_config(raw), clock=clock)  # a fresh connection writes again
    site.start()
    pub = Publisher(mosquitto.port, client_id="uplink-catch-up-pub")
    try:
        pub.wait_gateway()
        recorder.wait(alerts_topic(SITE), lambda ps: (alert.id, "opened") in transitions(ps), "the opened alert")
        pub.state("fridge-1", {"temperature": 4.0}, ts=clock.now() + 1)
        got = recorder.wait(alerts_topic(SITE), lambda ps: (alert.id, "cleared") in transitions(ps), "the cleared one")
        assert site.uplink is not None
        site.uplink.tick()  # caught up already: nothing is queued again
        pub.state("fridge-1", {"temperature": 9.5}, ts=clock.now() + 2)  # a later alert: what came before arrived
        recorder.wait(alerts_topic(SITE), lambda ps: any(p["key"] == f"{alert.id + 1}:opened" for p in ps),
                      "a later alert")
        keys = [p["key"] for p in recorder.on(alerts_topic(SITE)) if p["alert"]["id"] == alert.id]
        assert keys == [f"{alert.id}:opened", f"{alert.id}:cleared"], got
    finally:
        pub.close()
        site.stop()
        recorder.close()
