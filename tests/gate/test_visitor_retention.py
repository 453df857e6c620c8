"""After the retention a visitor's personal data is nowhere in the events database: not in the visitor
record, not in the handover snapshots that listed them on site (the notes themselves stay)."""

from __future__ import annotations

from pathlib import Path

from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from tests.gate.helpers import gate_config, local

NAME, PHONE, ORG = "钱七", "13712345678", "燃气公司"


def _dump(db: EventsDB) -> str:
    return "\n".join(db.conn().iterdump())


def test_visitor_gone_from_records_and_handover_snapshots_after_retention(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    clock = ManualClock(local(2026, 11, 18, 10))
    db = EventsDB(tmp_path / "data" / "events.db")
    try:
        gate = Gate(gate_config(tmp_path, retention="30d"), db, clock)
        v = gate.register_visitor(name=NAME, phone=PHONE, organisation=ORG, purpose="查燃气表", host="园长")
        gate.decide_visitor(v.id, True, "园长")
        gate.sign_in(v.id)
        h = gate.write_handover("wang", "来人检查燃气，尚未离园")
        assert [x["name"] for x in gate.handovers.get(h.id).snapshot["visitors"]] == [NAME]
        clock.advance(3600)
        gate.sign_out(v.id)
        later = gate.write_handover("zhang", "白班无事")  # a shift whose snapshot does not list the visitor

        clock.advance(29 * 86400)
        gate.tick()
        assert NAME in _dump(db) and PHONE in _dump(db)  # within the retention everything is kept

        clock.advance(2 * 86400)
        gate.tick()  # the hourly purge, from the gate's ticker
        dump = _dump(db)
        assert [line for line in dump.splitlines() if NAME in line or PHONE in line or ORG in line] == []
        kept = gate.handovers.get(h.id)
        assert kept.note == "来人检查燃气，尚未离园" and kept.by == "wang"
        assert kept.snapshot["visitors"] == [{"id": v.id, "status": "on_site"}]  # the count on the page stays
        assert gate.handovers.get(later.id).snapshot["visitors"] == []
    finally:
        db.close()
