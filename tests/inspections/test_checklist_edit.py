"""Checklists defined and edited by an admin on a page, over HTTP: a new one appears for its role and is done,
an edit changes the items, schedule and window as a new version while the runs saved before keep their
results, other roles are refused, a page-defined checklist not done by its window's end raises the alert."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.inspections.checklist_watch import OVERDUE_RULE
from tests.dashboard.helpers import login_ok
from tests.inspections.conftest import MONDAY, ts
from tests.inspections.test_checklists import Kitchen
from tests.inspections.test_checks_pages import web  # noqa: F401  (the fixture)

NEW = {"id": "", "name": "食堂消防检查", "schedule": "daily", "weekday": "mon", "day": "1", "role": "facilities",
       "start": "07:00", "end": "08:00", "item_id_1": "", "item_text_1": "灭火器在位", "item_dev_1__store-door": "1",
       "item_id_2": "", "item_text_2": "安全出口畅通", "item_id_3": "", "item_text_3": ""}


def test_an_admin_defines_and_edits_a_checklist(web: tuple[Kitchen, TestClient]) -> None:  # noqa: F811
    k, c = web
    token = login_ok(c, "ada")
    assert "/checklists/edit" in c.get("/checks").text
    made = c.post("/checklists/edit", data={"csrf_token": token, **NEW}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/checklists/edit?id=list-1&saved=1"
    form = c.get(made.headers["location"]).text
    assert "灭火器在位" in form and 'name="item_dev_1__store-door" value="1" checked' in form
    c.post("/logout", data={"csrf_token": token})

    # The 水电工 sees it among their checklists, with the door's evidence, and does it.
    token = login_ok(c, "zhao")
    assert "食堂消防检查" in c.get("/checks").text
    page = c.get("/checks/list-1").text
    assert "灭火器在位" in page and "库房门" in page
    done = c.post("/checks/list-1", data={"csrf_token": token, "result_item-1": "pass", "result_item-2": "fail",
                                          "note_item-2": "走廊堆放纸箱"}, follow_redirects=False)
    assert done.status_code == 303
    assert c.post("/checklists/edit", data={"csrf_token": token, **NEW}).status_code == 403
    c.post("/logout", data={"csrf_token": token})

    # The admin renames an item, removes one, adds one and moves the window: a new version.
    token = login_ok(c, "ada")
    edit = {**NEW, "id": "list-1", "end": "09:00", "item_id_1": "item-1", "item_text_1": "灭火器在位且在有效期内",
            "item_id_2": "item-2", "item_text_2": "", "item_text_3": "应急灯亮"}
    del edit["item_dev_1__store-door"]
    assert c.post("/checklists/edit", data={"csrf_token": token, **edit}, follow_redirects=False).status_code == 303
    now = k.checklists.checklist("list-1")
    assert now is not None and str(now.window) == "07:00-09:00"
    assert [(i.id, i.text, i.devices) for i in now.items] == [("item-1", "灭火器在位且在有效期内", []),
                                                              ("item-3", "应急灯亮", [])]
    (run,) = k.checklists.history("list-1")  # the record made before the edit is as it was
    assert [(r.item, r.passed, r.note) for r in run.results] == [("item-1", True, None),
                                                                 ("item-2", False, "走廊堆放纸箱")]
    assert len(k.checklists.versions("list-1")) == 2

    # What cannot be saved comes back with the reason, and nothing is saved.
    bad = c.post("/checklists/edit", data={"csrf_token": token, **{**edit, "start": "10:00", "name": ""}})
    assert bad.status_code == 400 and "checklist-error" in bad.text
    assert len(k.checklists.versions("list-1")) == 2


def test_a_page_defined_checklist_not_done_raises_the_alert(web: tuple[Kitchen, TestClient]) -> None:  # noqa: F811
    k, c = web
    token = login_ok(c, "ada")
    c.post("/checklists/edit", data={"csrf_token": token, **NEW})
    tuesday = MONDAY + timedelta(days=1)
    assert "list-1" not in k.watch.tick(ts(tuesday, 7, 59))
    assert "list-1" in k.watch.tick(ts(tuesday, 8, 1))
    assert [a.device for a in k.alerts.list(open_only=True, rule=OVERDUE_RULE)].count("list-1") == 1
