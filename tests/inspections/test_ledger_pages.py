"""Hazard ledger and repairs through HTTP: a hazard reported, rectified by its owner, confirmed by the head;
a leak alert turned into a repair with one tap; a guard reports a fault, the 水电工 takes and closes it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.alerts.store import OpenRequest
from tests.dashboard.helpers import PASSWORD, login_ok
from tests.inspections.test_checklists import PNG, Kitchen
from tests.inspections.test_checks_pages import app_for


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Kitchen, TestClient]]:
    k = Kitchen(tmp_path)
    with TestClient(app_for(k)) as c:
        yield k, c
    k.close()


def relogin(c: TestClient, name: str) -> str:
    c.post("/logout", data={"csrf_token": c.get("/api/me").json()["csrf_token"]})
    return login_ok(c, name)


def test_a_hazard_from_report_to_closed(web: tuple[Kitchen, TestClient]) -> None:
    _k, c = web
    token = login_ok(c, "ada")
    bad = c.post("/hazards", data={"csrf_token": token, "place": "", "description": "", "level": "general",
                                   "owner": "zhao"})
    assert bad.status_code == 400 and "place: say where it is" in bad.text
    r = c.post("/hazards", data={"csrf_token": token, "place": "二楼楼梯", "description": "扶手松动",
                                 "level": "major", "owner": "zhao", "deadline": "2026-11-05"}, follow_redirects=False)
    assert r.status_code == 303
    (h,) = c.get("/api/hazards").json()
    assert (h["status"], h["level"], h["owner"], h["overdue"]) == ("open", "major", "zhao", False)
    token = relogin(c, "zhao")  # the owner, who reads English here
    page = c.get("/hazards").text
    assert "扶手松动" in page and "Rectified: ask to close" in page
    assert c.post(f"/hazards/{h['id']}/close_requested", data={"csrf_token": token, "note": "已加固"},
                  follow_redirects=False).status_code == 303
    assert c.post(f"/hazards/{h['id']}/closed", data={"csrf_token": token}).status_code == 409  # not the head
    token = relogin(c, "ada")
    assert 'id="close-' in c.get("/hazards").text
    assert c.post(f"/hazards/{h['id']}/closed", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert c.get("/api/hazards").json()[0]["status"] == "closed"


def test_one_tap_repair_from_a_leak_alert(web: tuple[Kitchen, TestClient]) -> None:
    k, c = web
    leak = k.alerts.raise_alert(OpenRequest(rule="night-leak", device="water", kind="continuous_flow",
                                            severity="major", chain=None, metric="flow_lpm", value=3.0,
                                            detail="持续用水超过 2小时（疑似漏水）", since=k.clock.now()))
    other = k.alerts.raise_alert(OpenRequest(rule="too-warm", device="fridge-1", kind="threshold", severity="major",
                                             chain=None, metric="temperature", value=9.0, detail="9 °C",
                                             since=k.clock.now()))
    token = login_ok(c, "li")  # the kitchen saw the leak: one tap
    page = c.get("/repairs").text
    assert "一键报修" in page and f"repair-alert-{leak.id}" in page and f"repair-alert-{other.id}" not in page
    r = c.post(f"/repairs/from-alert/{leak.id}", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    again = c.post(f"/repairs/from-alert/{leak.id}", data={"csrf_token": token}, follow_redirects=False)
    assert again.headers["location"] == r.headers["location"]  # one repair per alert
    (rep,) = c.get("/api/repairs").json()
    assert (rep["place"], rep["what"], rep["alert_id"], rep["reported_by"]) == (
        "总水表", "持续用水超过 2小时（疑似漏水）", leak.id, "李阿姨")
    assert f"repair-alert-{leak.id}" not in c.get("/repairs").text
    assert c.post(f"/repairs/from-alert/{other.id}", data={"csrf_token": token}).status_code == 409
    assert c.post(f"/repairs/{rep['id']}/taken", data={"csrf_token": token}).status_code == 403


def test_a_guard_reports_the_fixer_takes_and_closes(web: tuple[Kitchen, TestClient]) -> None:
    _k, c = web
    token = login_ok(c, "wang")
    assert c.get("/hazards").status_code == 403
    r = c.post("/repairs", data={"csrf_token": token, "place": "门卫室", "what": "灯不亮"}, follow_redirects=False)
    assert r.status_code == 303
    (rep,) = c.get("/api/repairs").json()
    token = relogin(c, "zhao")
    assert c.post(f"/repairs/{rep['id']}/taken", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert c.post(f"/repairs/{rep['id']}/done", data={"csrf_token": token}).status_code == 409  # no note
    assert c.post(f"/repairs/{rep['id']}/done", data={"csrf_token": token, "note": "更换灯管"},
                  follow_redirects=False).status_code == 303
    (done,) = c.get("/api/repairs").json()
    assert (done["status"], done["taken_by"], done["steps"][-1]["note"]) == ("done", "zhao", "更换灯管")


def test_a_repair_from_an_alert_that_does_not_exist(web: tuple[Kitchen, TestClient]) -> None:
    _k, c = web
    token = login_ok(c, "zhao")
    assert c.post("/repairs/from-alert/424242", data={"csrf_token": token}).status_code == 404


def test_rectifying_is_started_from_the_page(web: tuple[Kitchen, TestClient]) -> None:
    _k, c = web
    c.app.state.ctx.accounts.add("sun", "facilities", PASSWORD, display_name="孙师傅", locale="zh-CN")  # type: ignore[attr-defined]
    token = login_ok(c, "ada")
    for owner in ("sun", "ada"):
        assert c.post("/hazards", data={"csrf_token": token, "place": "厨房", "description": f"插座松动 {owner}",
                                        "level": "general", "owner": owner}, follow_redirects=False).status_code == 303
    suns, heads = (h["id"] for h in c.get("/api/hazards").json())
    token = relogin(c, "wang")  # a guard, owning neither: the step is refused
    assert c.post(f"/hazards/{suns}/started", data={"csrf_token": token}).status_code == 409
    token = relogin(c, "zhao")  # the facilities staff start any hazard
    assert f'id="start-{heads}"' in c.get("/hazards").text
    assert c.post(f"/hazards/{heads}/started", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    token = relogin(c, "sun")  # the owner, on a Chinese page
    assert "开始整改" in c.get("/hazards").text
    r = c.post(f"/hazards/{suns}/started", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert f'id="start-{suns}"' not in page and "整改中" in page and "已整改，申请销号" in page
    assert c.post(f"/hazards/{suns}/close_requested", data={"csrf_token": token, "note": "已更换插座"},
                  follow_redirects=False).status_code == 303
    token = relogin(c, "ada")
    assert c.post(f"/hazards/{suns}/closed", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    steps = {h["id"]: [s["what"] for s in h["steps"]] for h in c.get("/api/hazards").json()}
    assert steps == {suns: ["started", "close_requested", "closed"], heads: ["started"]}


def test_open_and_overdue_repairs_on_the_facilities_page(web: tuple[Kitchen, TestClient]) -> None:
    k, c = web
    c.app.state.ctx.accounts.add("sun", "facilities", PASSWORD, display_name="孙师傅", locale="zh-CN")  # type: ignore[attr-defined]
    ledger = k.checklists.ledger
    old = ledger.report_repair("小一班卫生间", "水龙头关不紧", by="李阿姨")
    k.clock.advance(4 * 86400)
    fresh = ledger.report_repair("厨房", "排风扇异响", by="李阿姨")
    ledger.repair_step(fresh.id, "taken", by="孙师傅")
    done = ledger.report_repair("大门", "门铃不响", by="王保安")
    ledger.repair_step(done.id, "done", by="孙师傅", note="已更换电池")
    login_ok(c, "sun")
    page = c.get("/utilities").text
    assert f'id="open-repair-{old.id}"' in page and f'id="open-repair-{fresh.id}"' in page
    assert "门铃不响" not in page
    assert "未完成的维修 2" in page and "已超时 1" in page and "维修中 · 孙师傅" in page
    relogin(c, "yuan")  # a viewer sees them too
    assert "Open repairs 2" in c.get("/utilities").text


def test_hazard_and_repair_steps_through_the_json_api(web: tuple[Kitchen, TestClient]) -> None:
    k, c = web
    png = base64.b64encode(PNG).decode()
    token = login_ok(c, "ada")
    assert c.post("/api/hazards", json={"place": "操场", "description": "滑梯螺丝松动", "level": "major",
                                        "owner": "zhao"}).status_code == 403  # no CSRF token
    r = c.post("/api/hazards", headers={"X-CSRF-Token": token},
               json={"place": "操场", "description": "滑梯螺丝松动", "level": "major", "owner": "zhao", "photo": png})
    assert r.status_code == 201, r.text
    h = r.json()
    assert h["status"] == "open" and h["photo"] and c.get(f"/checks/photos/{h['photo']}").content == PNG
    token = relogin(c, "zhao")
    step = c.post(f"/api/hazards/{h['id']}/started", headers={"X-CSRF-Token": token}, json={})
    assert step.status_code == 200 and step.json()["status"] == "in_progress"
    assert c.post(f"/api/hazards/{h['id']}/close_requested", headers={"X-CSRF-Token": token},
                  json={}).status_code == 409  # neither a note nor a photo
    closing = c.post(f"/api/hazards/{h['id']}/close_requested", headers={"X-CSRF-Token": token}, json={"photo": png})
    assert closing.status_code == 200 and closing.json()["steps"][-1]["photo"] == h["photo"]
    assert c.post(f"/api/hazards/{h['id']}/closed", headers={"X-CSRF-Token": token}, json={}).status_code == 409
    assert c.post("/api/hazards/999/started", headers={"X-CSRF-Token": token}, json={}).status_code == 404
    token = relogin(c, "ada")
    assert c.post(f"/api/hazards/{h['id']}/closed", headers={"X-CSRF-Token": token},
                  json={}).json()["status"] == "closed"

    token = relogin(c, "li")  # the kitchen reports a fault, but takes no repair jobs
    fault = c.post("/api/repairs", headers={"X-CSRF-Token": token}, json={"place": "厨房", "what": "排风扇异响"}).json()
    assert c.post(f"/api/repairs/{fault['id']}/taken", headers={"X-CSRF-Token": token}, json={}).status_code == 403
    token = relogin(c, "zhao")
    taken = c.post(f"/api/repairs/{fault['id']}/taken", headers={"X-CSRF-Token": token}, json={})
    assert taken.status_code == 200 and (taken.json()["status"], taken.json()["taken_by"]) == ("taken", "zhao")
    assert c.post(f"/api/repairs/{fault['id']}/done", headers={"X-CSRF-Token": token}, json={}).status_code == 409
    done = c.post(f"/api/repairs/{fault['id']}/done", headers={"X-CSRF-Token": token}, json={"note": "更换轴承"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert c.post("/api/repairs/999/done", headers={"X-CSRF-Token": token}, json={"note": "x"}).status_code == 404
    assert [s["what"] for s in k.checklists.ledger.repair(fault["id"]).as_dict(False)["steps"]] == ["taken", "done"]
