"""Hours past midnight: a night guard on weekdays with 20:00-08:00 is let in at 02:00 on Saturday (Friday's
shift) and not at 02:00 on Monday (no shift on Sunday night); validity follows the shift's first day. The
agent's cached list decides the same."""

from __future__ import annotations

from pathlib import Path

from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.card_rules import decide
from gateway.gate.service import Gate
from sensors.cardcache import CACHE_NAME, CardCache
from tests.gate.helpers import WED_10, gate_config, local, sealed_list


def test_night_shift_belongs_to_the_evening_it_began(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    try:
        gate = Gate(gate_config(tmp_path), db, ManualClock(WED_10))
        card = gate.cards.add("N1", "Night guard", "guard", days="12345", hours="20:00-08:00",
                              valid_until="2026-11-27")  # the last shift begins Friday 27 Nov
        cases = {
            local(2026, 11, 20, 23): (True, "accepted"),  # Friday evening
            local(2026, 11, 21, 2): (True, "accepted"),  # Saturday 02:00: still Friday's shift
            local(2026, 11, 21, 21): (False, "out_of_hours"),  # Saturday evening: no shift
            local(2026, 11, 23, 2): (False, "out_of_hours"),  # Monday 02:00: Sunday night, no shift
            local(2026, 11, 23, 21): (True, "accepted"),  # Monday evening
            local(2026, 11, 23, 12): (False, "out_of_hours"),  # midday
            local(2026, 11, 28, 7, 59): (True, "accepted"),  # the end of the last valid shift
            local(2026, 11, 30, 21): (False, "expired"),
        }
        assert {ts: decide(card.rule, ts, gate.tz) for ts in cases} == cases
        cache = CardCache("kg", tmp_path / CACHE_NAME, gate.access.command_key)
        assert cache.update(sealed_list(gate))
        for ts, expected in cases.items():
            d = cache.decide("reader", "N1", ts)
            assert d is not None and (d.accepted, d.reason) == expected
        day = gate.cards.add("D1", "Cook", "staff", days="12345", hours="06:00-14:00")
        assert decide(day.rule, local(2026, 11, 21, 7), gate.tz) == (False, "out_of_hours")  # Saturday
        assert decide(day.rule, local(2026, 11, 20, 7), gate.tz) == (True, "accepted")
    finally:
        db.close()
