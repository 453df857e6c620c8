"""Who is on site for the roll call: a contractor who leaves after their hours is refused at the exit reader,
and is gone all the same; one refused at the entrance never came in."""

from __future__ import annotations

from pathlib import Path

from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from tests.gate.helpers import gate_config, local


def test_contractor_leaving_after_hours_is_not_on_site(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    try:
        clock = ManualClock(local(2026, 11, 18, 9))
        gate = Gate(gate_config(tmp_path), db, clock)
        gate.cards.add("CC01", "Plumber Zhao", "contractor", hours="08:00-17:00")
        gate.cards.add("CC02", "Painter Qian", "contractor", hours="08:00-17:00")
        gate.on_card("reader", "CC01", clock.now())  # in at 09:00
        gate.on_card("reader", "CC02", clock.now() + 1)
        assert [c["holder"] for c in gate.on_site()["contractors"]] == ["Plumber Zhao", "Painter Qian"]
        clock.set(local(2026, 11, 18, 17, 30))
        rec = gate.on_card("exit-reader", "CC01", clock.now())  # out after hours: refused, but out
        assert rec is not None and (rec.accepted, rec.reason, rec.direction) == (False, "out_of_hours", "out")
        assert [c["holder"] for c in gate.on_site()["contractors"]] == ["Painter Qian"]
        clock.set(local(2026, 11, 18, 18))
        gate.on_card("reader", "CC01", clock.now())  # back at the entrance after hours: refused, not let in
        assert [c["holder"] for c in gate.on_site()["contractors"]] == ["Painter Qian"]
    finally:
        db.close()
