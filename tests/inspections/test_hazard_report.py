"""The hazard ledger's weekly summary and monthly report: counts by level and status, found, closed and
overdue, checked against hand-computed values; printed on A4 and as CSV over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.inspections.hazard_report import build
from gateway.inspections.ledger import Ledger
from tests.dashboard.helpers import login_ok
from tests.inspections.conftest import ts
from tests.inspections.test_checklists import Kitchen
from tests.inspections.test_checks_pages import app_for


@pytest.fixture
def k(tmp_path: Path) -> Iterator[Kitchen]:
    kitchen = Kitchen(tmp_path)
    yield kitchen
    kitchen.close()


def fill(k: Kitchen) -> Ledger:
    """A: general, 20 Oct, due 25 Oct, never touched. B: major, 2 Nov, closed 4 Nov. C: general, immediate on
    3 Nov, started but not closed. D: general, 10 Nov, due at the end of the year."""
    ledger = Ledger(k.cfg, k.db, k.clock)
    k.clock.set(ts(date(2026, 10, 20), 9))
    ledger.report_hazard("操场", "地垫翘起", "general", "zhao", "ada", deadline=ts(date(2026, 10, 25), 18))
    k.clock.set(ts(date(2026, 11, 2), 9))
    b = ledger.report_hazard("配电房", "电缆破损", "major", "zhao", "ada", deadline=ts(date(2026, 11, 5), 18))
    k.clock.set(ts(date(2026, 11, 3), 9))
    c = ledger.report_hazard("厨房", "灭火器过期", "general", "zhao", "ada")
    ledger.hazard_step(c.id, "started", "zhao", "facilities")
    k.clock.set(ts(date(2026, 11, 4), 9))
    ledger.hazard_step(b.id, "close_requested", "zhao", "facilities", note="已更换电缆")
    ledger.hazard_step(b.id, "closed", "ada", "admin")
    k.clock.set(ts(date(2026, 11, 10), 9))
    ledger.report_hazard("门卫室", "插座松动", "general", "zhao", "ada", deadline=ts(date(2026, 12, 31), 18))
    k.clock.set(ts(date(2026, 12, 2), 9))
    return ledger


def test_monthly_and_weekly_figures(k: Kitchen) -> None:
    ledger = fill(k)
    month = build(ledger, "month", date(2026, 11, 15))
    assert month.label == "2026-11" and (month.first, month.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert {key: n for key, n in month.counts.items() if n} == {
        ("general", "open"): 2, ("general", "in_progress"): 1, ("major", "closed"): 1}
    assert [h.place for h in month.found] == ["配电房", "厨房", "门卫室"]
    assert [h.place for h in month.closed] == ["配电房"]
    assert [h.place for h in month.overdue] == ["操场", "厨房"]
    week = build(ledger, "week", date(2026, 11, 4))
    assert week.label == "2026-W45" and (week.first, week.last) == (date(2026, 11, 2), date(2026, 11, 8))
    assert {key: n for key, n in week.counts.items() if n} == {
        ("general", "open"): 1, ("general", "in_progress"): 1, ("major", "closed"): 1}
    assert [h.place for h in week.found] == ["配电房", "厨房"] and [h.place for h in week.overdue] == ["操场", "厨房"]
    # the October ledger as it stood then: A open and overdue since 25 October
    october = build(ledger, "month", date(2026, 10, 1))
    assert {key: n for key, n in october.counts.items() if n} == {("general", "open"): 1}
    assert [h.place for h in october.overdue] == ["操场"] and october.closed == []


def test_printed_and_csv(k: Kitchen) -> None:
    fill(k)
    with TestClient(app_for(k)) as c:
        login_ok(c, "zhao")
        page = c.get("/hazards/report", params={"period": "month", "day": "2026-11-15"})
        assert page.status_code == 200 and "Monthly hazard report" in page.text and "<nav" not in page.text
        r = c.get("/hazards/report.csv", params={"period": "week", "day": "2026-11-04"})
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[1:4] == [["level", "open", "in_progress", "closing", "closed"], ["general", "1", "1", "0", "0"],
                             ["major", "0", "0", "0", "1"]]
        assert [(x[0], x[2]) for x in rows[6:]] == [("overdue", "操场"), ("overdue", "厨房"), ("found", "配电房"),
                                                  ("found", "厨房"), ("closed", "配电房")]
        assert c.get("/hazards/report", params={"period": "year"}).status_code == 400


def test_a_zh_cn_sites_csv_reads_as_words(k: Kitchen) -> None:
    """The export follows the site's locale: titles, statuses, levels and sections in Chinese, no keys."""
    fill(k)
    k.cfg = k.cfg.model_copy(update={"site": k.cfg.site.model_copy(update={"locale": "zh-CN"})})
    with TestClient(app_for(k)) as c:
        login_ok(c, "zhao")  # reads English pages: the export is the site's all the same
        r = c.get("/hazards/report.csv", params={"period": "week", "day": "2026-11-04"})
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:4] == [["等级", "未整改", "整改中", "待销号确认", "已销号"], ["一般", "1", "1", "0", "0"],
                         ["重大", "0", "0", "0", "1"]]
    assert [(x[0], x[2], x[4]) for x in rows[6:]] == [("已超时", "操场", "一般"), ("已超时", "厨房", "一般"),
                                                      ("本期新发现", "配电房", "重大"), ("本期新发现", "厨房", "一般"),
                                                      ("本期销号", "配电房", "重大")]
    for key in ("open", "in_progress", "general", "major", "overdue", "found", "closed", "section", "level"):
        assert key not in text, key
