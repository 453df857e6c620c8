"""Visitors, watch list, purge, patrols and handover on a real events DB, a real SQLite store, a real
webhook receiver for the alert chain, and the injected clock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.alerting import Alerting
from gateway.clock import ManualClock
from gateway.config import Config
from gateway.errors import ConfigError
from gateway.eventsdb import EventsDB
from gateway.gate import links
from gateway.gate.crypto import mask_id
from gateway.gate.handover import HandoverError
from gateway.gate.service import Gate
from gateway.gate.visitors import VisitorError
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.gate.helpers import WED_10, gate_config, local
from tests.notify.receivers import WebhookServer
from tests.waiting import wait_for

KEY = "11" * 32
ID = "110101199003071234"


def _gate(tmp_path: Path, cfg: Config, clock: ManualClock, alerting: Alerting | None = None,
          store: SqliteStore | None = None) -> tuple[Gate, EventsDB]:
    (tmp_path / "data").mkdir(exist_ok=True)
    db = EventsDB(tmp_path / "data" / "events.db")
    return Gate(cfg, db, clock, alerts=alerting.service if alerting else None, store=store), db


def test_visitor_lifecycle_encrypted_id_and_purge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOUQIN_ID_KEY", KEY)
    clock = ManualClock(WED_10)
    gate, db = _gate(tmp_path, gate_config(tmp_path, id_numbers="encrypted"), clock)
    v = gate.register_visitor(name="张三", phone="138 0000 0000", organisation="自来水公司", purpose="抄表",
                              host="Principal Wang", id_number=ID, by="wang")
    assert v.status == "pending" and v.id_masked == "110***********1234" == mask_id(ID)
    assert ID not in str(v.as_dict())
    raw = db.conn().execute("SELECT id_cipher FROM gate_visitors WHERE id = ?", (v.id,)).fetchone()[0]
    assert ID.encode() not in bytes(raw) and gate.visitors.id_number(v.id) == ID
    with pytest.raises(VisitorError, match="only an approved visitor"):
        gate.sign_in(v.id)
    token = gate.approval_token(v.id)
    assert gate.visitor_for_link(token).id == v.id
    with pytest.raises(links.LinkError, match="not valid"):
        gate.decide_by_link(token[:-2] + "xx", True)
    v = gate.decide_by_link(token, True)
    assert (v.status, v.decided_by) == ("approved", "Principal Wang")
    with pytest.raises(VisitorError, match="already approved"):
        gate.decide_by_link(token, False)
    v = gate.sign_in(v.id)
    stay = gate.register_visitor(name="李四", host="Teacher Li", by="wang")
    gate.decide_visitor(stay.id, True, "Teacher Li")
    gate.sign_in(stay.id)
    assert [x["name"] for x in gate.on_site()["visitors"]] == ["张三", "李四"]
    clock.advance(3600)
    gate.sign_out(v.id)
    assert [x["name"] for x in gate.on_site()["visitors"]] == ["李四"]

    clock.advance(89 * 86400)
    gate.tick()  # the hourly purge runs from the gate's ticker
    assert gate.visitors.get(v.id).status == "left"
    clock.advance(2 * 86400)
    gate.tick()  # 91 days after the visit ended: deleted; the visitor still on site stays
    with pytest.raises(VisitorError, match="no visitor"):
        gate.visitors.get(v.id)
    assert gate.visitors.get(stay.id).status == "on_site"
    db.close()


def test_expired_link_and_missing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock(WED_10)
    gate, db = _gate(tmp_path, gate_config(tmp_path, approval_ttl="30m"), clock)
    v = gate.register_visitor(name="A", host="B", id_number=ID)
    assert db.conn().execute("SELECT id_cipher FROM gate_visitors").fetchone()[0] is None  # not stored at all
    token = gate.approval_token(v.id)
    clock.advance(31 * 60)
    with pytest.raises(links.LinkError, match="expired"):
        gate.decide_by_link(token, True)
    db.close()
    monkeypatch.delenv("HOUQIN_ID_KEY", raising=False)
    with pytest.raises(ConfigError, match="HOUQIN_ID_KEY"):
        _gate(tmp_path, gate_config(tmp_path, id_numbers="encrypted"), clock)


def test_watch_list_warns_on_name_phone_or_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOUQIN_ID_KEY", KEY)
    clock = ManualClock(WED_10)
    gate, db = _gate(tmp_path, gate_config(tmp_path, id_numbers="encrypted"), clock)
    gate.visitors.add_watch("王五", "court order: not to approach children", "ada", phone="139-1111-2222",
                            id_number=ID)
    assert gate.register_visitor(name="Someone", host="X").watch is None
    by_id = gate.register_visitor(name="Another name", host="X", id_number=ID.lower())
    by_phone = gate.register_visitor(name="Z", host="X", phone="13911112222")
    by_name = gate.register_visitor(name="王 五", host="X")
    for v in (by_id, by_phone, by_name):
        assert v.watch is not None and v.watch.reason.startswith("court order")
    assert ID not in str(db.conn().execute("SELECT * FROM gate_watch").fetchall())
    db.close()


def test_approval_request_carries_a_working_link(tmp_path: Path, hook: WebhookServer) -> None:
    notify = {"channels": {"office": {"type": "webhook", "format": "generic", "url": hook.url()}},
              "chains": {"guards": {"steps": [{"channels": ["office"]}]}}}
    cfg = gate_config(tmp_path, notify=notify, approval_channels=["office"], public_url="https://kg.local:8080")
    clock = ManualClock(WED_10)
    gate, db = _gate(tmp_path, cfg, clock)
    v = gate.register_visitor(name="Visitor A", host="Teacher Li", purpose="parent meeting")
    wait_for(lambda: len(hook.received) == 1, "the approval request")
    text = hook.received[0].body["text"]
    assert "Visitor A" in text and "Teacher Li" in text
    url = next(w for w in text.split() if w.startswith("https://kg.local:8080/v/"))
    assert gate.decide_by_link(url.rsplit("/", 1)[1], True).status == "approved"
    assert v.id == gate.visitors.find(("approved",))[0].id
    db.close()


def test_patrol_rounds_checkins_with_readings_and_alerts_through_the_chain(tmp_path: Path,
                                                                         hook: WebhookServer) -> None:
    notify = {"channels": {"guard-robot": {"type": "webhook", "format": "wecom", "url": hook.url()}},
              "chains": {"guards": {"steps": [{"channels": ["guard-robot"]}]}}}
    cfg = gate_config(tmp_path, notify=notify)
    clock = ManualClock(local(2026, 11, 18, 21))
    (tmp_path / "data").mkdir(exist_ok=True)
    db = EventsDB(tmp_path / "data" / "events.db")
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    alerting = Alerting(cfg, db, clock)
    alerting.start()
    gate = Gate(cfg, db, clock, alerts=alerting.service, store=store)
    try:
        gate.cards.add("G001", "Guard Zhang", "guard")
        gate.tick()  # judging starts now
        store.write([Reading(local(2026, 11, 18, 22, 5), "kitchen-fridge", "temperature", 4.5)])
        clock.set(local(2026, 11, 18, 22, 10))
        gate.on_card("kitchen-reader", "G001", clock.now())
        clock.set(local(2026, 11, 18, 22, 20))
        gate.on_card("any-reader", "tag0001", clock.now())  # the meter-room tag, read anywhere
        ins = gate.patrols.check_ins(local(2026, 11, 18, 0))
        assert [(c.checkpoint, c.by) for c in ins] == [("kitchen", "Guard Zhang"), ("meter-room", "")]
        assert ins[0].readings == [{"device": "kitchen-fridge", "metric": "temperature", "value": 4.5,
                                    "ts": local(2026, 11, 18, 22, 5)}]
        clock.set(local(2026, 11, 18, 23, 1))
        gate.tick()
        assert alerting.service.list(open_only=True) == []  # complete round

        # the next night only the kitchen is visited: incomplete; the night after nothing: missed
        clock.set(local(2026, 11, 19, 22, 30))
        gate.on_card("kitchen-reader", "G001", clock.now())
        clock.set(local(2026, 11, 19, 23, 0, ) + 1)
        gate.tick()
        alerting.tick()
        [alert] = alerting.service.list(open_only=True)
        assert (alert.rule, alert.device, alert.kind, alert.chain) == ("patrol-night", "kitchen-reader",
                                                                      "patrol_missed", "guards")
        assert "incomplete" in alert.detail and "Meter room" in alert.detail
        wait_for(lambda: len(hook.received) >= 1, "the alert through the chain")
        told = hook.received[0].body["text"]["content"]
        assert "Night round" in told and "patrol-night" not in told  # the route's name, never the rule id
        alerting.service.ack(alert.id, "Guard Zhang", "meter room door was locked; checked at 23:10")
        clock.set(local(2026, 11, 20, 23, 5))
        gate.tick()
        [missed] = alerting.service.list(open_only=True)
        assert "missed" in missed.detail
        statuses = [r.status for r in gate.patrols.rounds(local(2026, 11, 18, 0), clock.now())]
        assert statuses[:3] == ["complete", "incomplete", "missed"]
    finally:
        alerting.stop()
        store.close()
        db.close()


def test_handover_prefilled_and_acknowledged_by_the_next_guard(tmp_path: Path) -> None:
    clock = ManualClock(local(2026, 11, 18, 19))
    (tmp_path / "data").mkdir(exist_ok=True)
    db = EventsDB(tmp_path / "data" / "events.db")
    alerting = Alerting(gate_config(tmp_path), db, clock)
    gate = Gate(gate_config(tmp_path), db, clock, alerts=alerting.service)
    gate.cards.add("AA01", "Teacher Li", "staff", hours="07:00-18:00")
    gate.cards.add("CC01", "Plumber Zhao", "contractor")
    gate.on_card("reader", "AA01", clock.now())  # out of hours
    gate.on_card("reader", "CC01", clock.now())  # contractor in
    v = gate.register_visitor(name="Inspector", host="Principal")
    gate.decide_visitor(v.id, True, "Principal")
    gate.sign_in(v.id)
    from gateway.alerts.store import OpenRequest
    alerting.service.raise_alert(OpenRequest("gate-forced", "gate", "gate_forced", "major", None, "contact", 1.0,
                                             "forced open", clock.now()))
    pre = gate.handover_prefill()
    assert [a["rule"] for a in pre["alerts"]] == ["gate-forced"]
    assert [x["name"] for x in pre["visitors"]] == ["Inspector"]
    assert [x["holder"] for x in pre["contractors"]] == ["Plumber Zhao"]
    assert [(a["uid"], a["reason"]) for a in pre["access"]] == [("AA01", "out_of_hours"), ("CC01", "accepted")]
    with pytest.raises(HandoverError, match="note"):
        gate.write_handover("wang", "  ")
    h = gate.write_handover("wang", "Quiet evening; plumber still in the boiler room", "gate alarm open")
    assert h.snapshot["visitors"][0]["name"] == "Inspector"
    assert gate.handovers.pending() == h
    with pytest.raises(HandoverError, match="next guard"):
        gate.ack_handover(h.id, "wang")
    clock.advance(60)
    assert gate.ack_handover(h.id, "zhang").acked_by == "zhang"
    assert gate.handovers.pending() is None
    # the contractor leaves through the exit reader: no longer on site; the next shift starts at the handover
    gate.on_card("exit-reader", "CC01", clock.now())
    assert gate.on_site()["contractors"] == []
    assert gate.handovers.shift_start() == h.created_at
    alerting.store.close()
    db.close()


def test_config_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        gate_config(tmp_path, readers=[{"device": "nope", "relay": "gate"}], approval_channels=["robot"],
                    release_on_approval="missing")
    text = str(e.value)
    assert "'nope' is not in [[devices]]" in text and "'robot' is not in [notify.channels]" in text
    assert "'missing' is not in [[devices]]" in text
    with pytest.raises(ConfigError, match="HH:MM-HH:MM"):
        gate_config(tmp_path, patrols=[{"id": "x", "rounds": ["late"], "checkpoints": [{"id": "a", "tag": "T"}]}])


def test_card_registry_checks(tmp_path: Path) -> None:
    from gateway.gate.card_rules import decide
    from gateway.gate.cards import CardError

    clock = ManualClock(WED_10)
    gate, db = _gate(tmp_path, gate_config(tmp_path), clock)
    with pytest.raises(CardError, match="already registered"):
        gate.cards.add("aa-01", "A")
        gate.cards.add("AA01", "B")
    with pytest.raises(CardError, match="days"):
        gate.cards.add("X1", "A", days="89")
    c = gate.cards.add("N1", "Night guard", "guard", hours="20:00-08:00", valid_until="2026-11-30")
    assert decide(c.rule, local(2026, 11, 18, 23), gate.tz) == (True, "accepted")
    assert decide(c.rule, local(2026, 11, 19, 7, 59), gate.tz) == (True, "accepted")
    assert decide(c.rule, local(2026, 11, 19, 12), gate.tz) == (False, "out_of_hours")
    assert decide(c.rule, local(2026, 12, 1, 23), gate.tz) == (False, "expired")
    # a reader outside [[gate.readers]] that decides by itself (a third-party controller, the demo's simulator)
    rec = gate.on_card("side-door", "N1", WED_10, {"accepted": False})
    assert rec is not None and (rec.accepted, rec.reason, rec.decided, rec.holder) == (False, "refused", "reader",
                                                                                       "Night guard")
    with pytest.raises(sqlite3.Error):
        db.conn().execute("INSERT INTO gate_cards (uid, holder, kind, updated_at) VALUES ('N1', 'x', 'staff', 0)")
    db.close()
