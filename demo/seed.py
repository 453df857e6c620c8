"""The demo's records of the logistics office, written through the inspections services as people would:
checklists done on the mornings of its history (one item failed, one weekly check not done), hazards (a
major one past its deadline, one closed), repairs (one open, one done), and the classrooms' UV lamp history
turned into the disinfection record by the gateway's own watch (the session too short, the lamp on in class).

Each record is stamped with the simulated moment it was made (a ``ManualClock`` handed to the services). A
demo run again on the same directory adds no second set (the daily round's history says it is there).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from demo.story import DemoStory
from gateway.clock import ManualClock
from gateway.inspections.checklists import ChecklistError, Checklists, ItemResult
from gateway.inspections.ledger import Ledger
from gateway.inspections.schedule import is_due
from gateway.model import CommittedBatch

if TYPE_CHECKING:
    from gateway.app import Site

#: Who does the demo's checks and repairs, and who reports faults (names as people read them).
HANDYMAN = "张师傅（水电工）"
HEAD = "王园长"
TEACHERS = ("陈老师", "张老师")
#: The daily round's item that failed once (it opens a hazard through the checklist, as on the page).
FAILED_ITEM = ("sockets", "中一班插座面板破裂")


def seed_inspections(gw: Site, story: DemoStory, start: float, now: float) -> None:
    """Turn the history in ``[start, now)`` into the disinfection record and write the demo's records once."""
    _disinfection(gw, story, start, now)
    clock = ManualClock(start)
    checklists = Checklists(gw.config, gw.core.events_db, clock, gw.store)
    if checklists.history("daily-round", 1):
        return  # an earlier run wrote them
    _checklists(checklists, clock, story, start, now)
    _ledger(Ledger(gw.config, gw.core.events_db, clock), clock, story, now)


def _at(day: date, hour: int, minute: int, tz: tzinfo) -> float:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).timestamp()


def _disinfection(gw: Site, story: DemoStory, start: float, now: float) -> None:
    """Tick the gateway's disinfection watch through the history (each morning it records the evening's sessions
    and judges the day before), and show it the readings of the morning a lamp was on in class."""
    watch, tz = gw.disinfection, gw.config.site.tz
    day = datetime.fromtimestamp(start, tz).date()
    today = datetime.fromtimestamp(now, tz).date()
    while day <= today:
        t = min(_at(day, 6, 0, tz), now)
        if t >= start:
            watch.tick(t)
        day += timedelta(days=1)
    watch.tick(now)
    a, b = _at(story.in_class_day, 7, 0, tz), _at(story.in_class_day, 18, 0, tz)
    if start <= a and b <= now:
        for room in gw.config.inspections.disinfection.rooms:
            if room.plug is not None:
                watch.on_batch(CommittedBatch(readings=tuple(gw.store.query(room.plug, "power_w", a, b))))


def _checklists(checklists: Checklists, clock: ManualClock, story: DemoStory, start: float, now: float) -> None:
    """Every due checklist done early in its window, except the latest weekly one; one item failed once."""
    tz = checklists.tz
    day = datetime.fromtimestamp(start, tz).date()
    today = checklists.today(now)
    failed_on = story.week + timedelta(days=1)
    while day <= today:
        for c in checklists.all():
            if c.schedule == "weekly" and day == story.missed_weekly:
                continue
            if not is_due(c, day, checklists.calendar, checklists.holidays):
                continue
            begin, _ = checklists.window(c, day)
            t = min(begin + 25 * 60, now)
            if t < start:
                continue
            clock.set(t)
            results = {i.id: ItemResult(True) for i in c.items}
            if c.id == "daily-round" and day == failed_on:
                results[FAILED_ITEM[0]] = ItemResult(False, FAILED_ITEM[1])
            try:
                checklists.submit(c.id, results, HANDYMAN, confirm=True, locale="zh-CN")
            except ChecklistError:
                continue  # not due at that moment after all (a calendar the demo does not know)
        day += timedelta(days=1)


def _ledger(ledger: Ledger, clock: ManualClock, story: DemoStory, now: float) -> None:
    """A major hazard past its deadline, a hazard closed by the head, an open repair and a done one."""
    tz = ledger.tz
    clock.set(_at(story.week, 10, 0, tz))
    ledger.report_hazard("户外活动场", "大型滑梯护栏松动，有坠落风险", "major", HANDYMAN, HEAD,
                         deadline=_at(story.week + timedelta(days=3), 18, 0, tz), locale="zh-CN")
    clock.set(_at(story.week + timedelta(days=1), 9, 30, tz))
    closed = ledger.report_hazard("二楼楼梯", "楼梯扶手松动", "general", HANDYMAN, TEACHERS[1], locale="zh-CN")
    clock.set(_at(story.week + timedelta(days=1), 15, 0, tz))
    ledger.hazard_step(closed.id, "close_requested", HANDYMAN, "facilities", note="已紧固扶手螺丝", locale="zh-CN")
    clock.set(_at(story.week + timedelta(days=2), 8, 30, tz))
    ledger.hazard_step(closed.id, "closed", HEAD, "admin", locale="zh-CN")
    clock.set(_at(story.week + timedelta(days=1), 11, 0, tz))
    done = ledger.report_repair("小一班活动室", "日光灯不亮", TEACHERS[1], locale="zh-CN")
    clock.set(_at(story.week + timedelta(days=1), 14, 0, tz))
    ledger.repair_step(done.id, "taken", HANDYMAN, locale="zh-CN")
    clock.set(_at(story.week + timedelta(days=1), 16, 0, tz))
    ledger.repair_step(done.id, "done", HANDYMAN, note="已更换灯管", locale="zh-CN")
    clock.set(max(now - 2 * 3600, _at(story.week, 8, 0, tz)))
    ledger.report_repair("中一班盥洗室", "水龙头关不紧，一直滴水", TEACHERS[0], locale="zh-CN")
