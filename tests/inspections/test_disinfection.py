"""The disinfection record over a generated week: sessions from the plug (normal, too short, during class,
across midnight), the daily schedule and its alerts, the safety alarm, lamp life, manual entries and the
monthly figures against hand-computed values."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.inspections.disinfection import DisinfectionError
from gateway.inspections.watch import LIFE_RULE, MISSED_RULE, OCCUPIED_RULE
from tests.inspections.conftest import MONDAY, UvSite, ts

MON, TUE, WED, THU, FRI, SAT = (MONDAY + timedelta(days=i) for i in range(6))
#: The week's lamp: normal Monday, too short Tuesday, on during class Wednesday (and no evening session),
#: Thursday 23:40 to Friday 00:30 (across midnight), normal Friday.
WEEK = [(ts(MON, 18, 30), ts(MON, 19, 10)), (ts(TUE, 18, 30), ts(TUE, 18, 50)), (ts(WED, 10, 0), ts(WED, 10, 20)),
        (ts(THU, 23, 40), ts(FRI, 0, 30)), (ts(FRI, 19, 0), ts(FRI, 19, 45))]


def alerts(uv: UvSite, rule: str) -> list[tuple[str, str, str]]:
    return [(a.device, a.state, a.detail) for a in reversed(uv.alerts.list(rule=rule))]


def test_a_week_of_sessions_the_schedule_and_the_safety_alarm(uv: UvSite) -> None:
    uv.run(ts(WED, 12, 0), WEEK)
    # Wednesday 10:00, class hours: the alarm was raised at once and stays until acknowledged.
    (occ,) = uv.alerts.list(rule=OCCUPIED_RULE)
    assert occ.device == "uv-1" and occ.severity == "critical" and occ.since == ts(WED, 10, 0)
    assert occ.detail == "小一班: UV lamp on (30 W) while children are in the room" and occ.state == "active"
    # Monday judged ok, Tuesday too short (15 of 30 min after the 5-minute warm-up), on Wednesday 03:00.
    (short,) = uv.alerts.list(rule=MISSED_RULE, device="uv-1")
    assert short.detail == "小一班: disinfection on 2026-11-03 too short: 15 of 30 min"
    assert short.opened_at == ts(WED, 3, 0) and short.state == "active"
    uv.alerts.ack(short.id, "zhao", "lamp timer fixed")
    uv.run(ts(SAT, 12, 0), WEEK)
    missed = [a for a in uv.alerts.list(rule=MISSED_RULE, device="uv-1") if a.id != short.id]
    assert [a.detail for a in missed] == ["小一班: no disinfection on 2026-11-04 (needs 30 min from 18:00-24:00)"]
    days = dict(((r[0], r[1]), r[2]) for r in uv.db.conn().execute("SELECT room, day, result FROM disinfection_days"))
    assert {d: v for (room, d), v in days.items() if room == "class-1"} == {
        "2026-11-02": "ok", "2026-11-03": "short", "2026-11-04": "missed", "2026-11-05": "ok", "2026-11-06": "ok"}
    # The session across midnight belongs to Thursday, with its 50 minutes.
    thu = uv.record.day(uv.cfg.inspections.disinfection.rooms[0], THU)
    assert [(e.start, e.end, e.on_s / 60, e.effective_s / 60) for e in thu.entries] == [
        (ts(THU, 23, 40), ts(FRI, 0, 30), 50, 45)]


def test_monthly_figures_match_hand_computed_values(uv: UvSite) -> None:
    uv.run(ts(SAT, 12, 0), WEEK)
    room = uv.cfg.inspections.disinfection.rooms[0]
    m = uv.record.month(room, 2026, 11)
    # By hand: 1 Nov (Sun) .. 7 Nov (Sat, today); sessions 40 + 20 + 20 + 50 + 45 = 175 min.
    assert [d.day.day for d in m.days] == [1, 2, 3, 4, 5, 6, 7]
    assert [d.verdict for d in m.days] == ["free", "ok", "short", "missed", "ok", "ok", "free"]
    assert m.sessions == 5 and m.on_minutes == 175
    assert (m.required, m.count("ok"), m.count("short"), m.count("missed")) == (5, 3, 1, 1)
    assert m.occupied_sessions == 1 and m.days[3].occupied_s == 20 * 60
    assert m.lamp_hours == pytest.approx(998 + 175 / 60)


def test_lamp_life_reminder_and_replacement(uv: UvSite) -> None:
    uv.run(ts(SAT, 12, 0), WEEK)
    # 998 h + 40 + 20 + 20 min = 999.33 h; the Thursday session passes 1000 h while it is still on.
    (life,) = uv.alerts.list(rule=LIFE_RULE)
    assert life.device == "uv-1" and ts(FRI, 0, 0) <= life.opened_at <= ts(FRI, 0, 30)
    assert life.detail.startswith("小一班: UV lamp has burnt 1000 h of its 1000 h")
    uv.record.lamp_replaced("class-1", "zhao", "new 30 W tube")
    uv.clock.advance(120)
    uv.watch.tick()
    assert uv.alerts.get(life.id).state == "cleared"
    assert uv.record.lamp_hours(uv.cfg.inspections.disinfection.rooms[0]) == 0


def test_manual_entries_count_for_rooms_without_a_plug(uv: UvSite) -> None:
    room = uv.cfg.inspections.disinfection.rooms[1]
    uv.clock.set(ts(TUE, 9, 0))
    uv.record.add_manual("class-2", "wipe", ts(MON, 18, 30), 40, "张老师", "含氯消毒液 500 mg/L")
    uv.record.add_manual("class-2", "spray", ts(TUE, 8, 0), 20, "张老师")
    with pytest.raises(DisinfectionError) as e:
        uv.record.add_manual("class-9", "fire", ts(TUE, 20, 0), 0, " ", locale="en")
    assert str(e.value).count(";") == 4  # room, method, duration, a time to come, who
    assert uv.record.day(room, MON).verdict == "ok"
    assert uv.record.day(room, TUE).verdict == "pending"  # judged after 03:00 Wednesday
    uv.clock.set(ts(WED, 3, 1))
    assert uv.record.day(room, TUE).verdict == "missed"  # 08:00 is outside the 18:00-24:00 window


def test_the_record_is_append_only(uv: UvSite) -> None:
    import sqlite3

    uv.clock.set(ts(TUE, 9, 0))
    entry = uv.record.add_manual("class-2", "uv", ts(MON, 18, 30), 40, "张老师")
    with pytest.raises(sqlite3.DatabaseError, match="never edited"):
        uv.db.conn().execute("UPDATE disinfection_sessions SET on_s = 1 WHERE id = ?", (entry.id,))
    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        uv.db.conn().execute("DELETE FROM disinfection_sessions")


def test_a_fresh_install_does_not_alert_about_the_days_before_it(tmp_path: object) -> None:
    site = UvSite(tmp_path)  # type: ignore[arg-type]
    try:
        site.clock.set(ts(THU, 9, 0))  # Monday to Wednesday passed before Houqin was switched on
        site.run(ts(THU, 12, 0), [])
        assert site.alerts.list(rule=MISSED_RULE) == []
    finally:
        site.close()
