"""Words, not machine text (issue 12): every page (as each role), every notification and every report of a
site with data, in zh-CN, shows no configured id, metric key, ``key=value`` debug format or English word
where Chinese belongs; and English pages show no Chinese but the names people configured.

Ids in URLs and attributes are fine: only the visible text is read (tags, scripts, styles and attribute
values stripped).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.context import DashboardContext
from dashboard.roles import ACCESS
from gateway.alerts import AlertService, AlertStore
from gateway.alerts.store import OpenRequest
from gateway.clock import ManualClock
from gateway.config import Config
from gateway.contract import METRICS
from gateway.eventsdb import EventsDB
from gateway.notify.messages import AlertEvent, Composer
from gateway.reports.render import sheet_csv, weekly_csv
from gateway.reports.service import Reports
from gateway.reports.weekly import parse_week
from gateway.store.sqlite import SqliteStore
from tests.dashboard.full_site import INSPECTIONS
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok
from tests.reports.series import DEVICES, local_ts, write_temps
from tests.reports.test_weekly import TZ, build_site

DAY = date(2026, 1, 5)
USERS = {"admin": "ada", "kitchen": "kitchen", "facilities": "zhao", "viewer": "yuan", "guard": "wang"}
NAMES = {"kitchen": "张阿姨", "ada": "周园长", "zhao": "赵师傅", "yuan": "杨老师", "wang": "王保安"}
#: The meters and fridges of build_site's series, named as a Chinese site names them.
SITE_DEVICES = [{**d, "name": {"water": "总水表", "power": "总电表", "fridge": "厨房冰箱", "sample-fridge": "留样冰箱",
                               "freezer": "冷冻柜"}[d["id"]]} for d in DEVICES]
MORE_DEVICES: list[dict[str, Any]] = [
    {"id": "kitchen-fridge-1", "kind": "fridge", "name": "厨房冷藏柜"},
    {"id": "front-gate", "kind": "gate", "name": "大门"},
    {"id": "gate-reader", "kind": "card_reader", "name": "大门读卡器"},
    {"id": "kitchen-leak", "kind": "leak", "name": "厨房漏水"},
    {"id": "uv-1", "kind": "uv_lamp", "name": "小一班紫外线消毒灯"},  # the disinfection's plug
]
RULES: list[dict[str, Any]] = [
    {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge-1", "fridge"], "above": 8.0,
     "for": "10m", "notify": "kitchen-chain"},
    {"id": "fridge-silent", "kind": "stale", "devices": ["kitchen-fridge-1"], "for": "15m",
     "notify": "kitchen-chain"},
    {"id": "night-water", "kind": "continuous_flow", "devices": ["water"], "for": "2h", "notify": "office"},
    {"id": "closed-water", "kind": "closed_hours_use", "devices": ["water"], "allowance": 5, "notify": "office"},
    {"id": "gate-held", "kind": "gate_held_open", "devices": ["front-gate"], "for": "2m", "notify": "office"},
    {"id": "gate-forced", "kind": "gate_forced", "devices": ["front-gate"], "notify": "office"},
    {"id": "after-hours", "kind": "after_hours_access", "devices": ["gate-reader"], "notify": "office"},
    {"id": "kitchen-leak-rule", "kind": "water_leak", "devices": ["kitchen-leak"], "notify": "office"},
]
CHANNELS: dict[str, Any] = {
    "kitchen-wecom": {"type": "webhook", "format": "wecom", "url": "http://127.0.0.1:9/wecom"},
    "alerts-mqtt": {"type": "mqtt"},
    "office-mail": {"type": "email", "host": "127.0.0.1", "port": 9, "security": "none",
                    "from": "houqin@kg.example", "to": ["head@kg.example"]},
}
CHAINS: dict[str, Any] = {
    "kitchen-chain": {"steps": [{"after": "0s", "channels": ["kitchen-wecom", "alerts-mqtt"]},
                                {"after": "10m", "channels": ["office-mail"]}], "repeat": "30m"},
    "office": {"steps": [{"after": "0s", "channels": ["office-mail"]}]},
}
GATE: dict[str, Any] = {
    "readers": [{"device": "gate-reader", "relay": "front-gate", "direction": "in"}],
    "patrols": [{"id": "patrol-night", "name": "夜间巡逻", "rounds": ["22:00-23:00"], "notify": "office",
                 "checkpoints": [{"id": "cp-kitchen", "name": "厨房", "reader": "gate-reader"},
                                 {"id": "cp-power", "name": "配电房", "tag": "TAG0001"}]}],
}

#: Words that must be Chinese on a zh-CN screen (seen in the trial and their kin).
ENGLISH = ["escalated", "silent", "forced open", "peak", "valley", "acknowledged", "not acknowledged", "step",
           "opened", "cleared", "notified", "delivered", "delivery failed", "resolved", "offline", "online",
           "never", "leak", "open", "closed", "alert", "rule", "lunch", "dinner", "breakfast", "snack", "due",
           "kept", "discarded", "missed", "incomplete", "complete", "data unavailable", "none", "unknown"]
KEY_VALUE = re.compile(r"\b[a-z][a-z_]*=[^\s,;]")


@dataclass
class TextSite:
    config: Config
    store: SqliteStore
    db: EventsDB
    clock: ManualClock
    alerts: AlertService
    client_app: Any
    ids: set[str]
    token: str = ""

    @property
    def ctx(self) -> DashboardContext:
        ctx: DashboardContext = self.client_app.state.ctx
        return ctx


def _raise(alerts: AlertService, clock: ManualClock, rule: str, device: str, kind: str, metric: str | None,
           value: float | None, detail: str) -> int:
    chain = "kitchen-chain" if "fridge" in rule else "office"
    return alerts.raise_alert(OpenRequest(rule, device, kind, "major", chain, metric, value, detail,
                                          clock.now() - 600)).id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TextSite]:
    tmp_path = tmp_path_factory.mktemp("words")
    cfg, store = build_site(tmp_path, locale="zh-CN", notify={"channels": CHANNELS, "chains": CHAINS}, extra={
        "dashboard": {"bind": "127.0.0.1", "port": 0}, "devices": [*SITE_DEVICES, *MORE_DEVICES], "rules": RULES,
        "gate": GATE, "inspections": INSPECTIONS})  # the tariffs of build_site: a peak/valley power tariff
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(DAY, 10, 30, TZ))
    alerts = AlertService(AlertStore(db), clock)
    write_temps(store, "fridge", local_ts(DAY, 0, 0, TZ), local_ts(date(2026, 1, 8), 0, 0, TZ),
                lambda ts: 9.5 if local_ts(DAY, 10, 0, TZ) <= ts < local_ts(DAY, 10, 20, TZ) else 3.5)
    write_temps(store, "sample-fridge", local_ts(DAY, 0, 0, TZ), local_ts(date(2026, 1, 8), 0, 0, TZ), lambda ts: 3.0)
    write_temps(store, "kitchen-fridge-1", local_ts(DAY, 0, 0, TZ), local_ts(DAY, 1, 0, TZ), lambda ts: 3.0)
    ids = {d["id"] for d in [*DEVICES, *MORE_DEVICES]} | {r["id"] for r in RULES} | set(CHANNELS) | set(CHAINS)
    ids |= {"patrol-night", "cp-kitchen", "cp-power", "food-sample", *USERS.values()}
    ids |= {c["id"] for c in INSPECTIONS["checklists"]} | {r["id"] for r in INSPECTIONS["disinfection"]["rooms"]}
    ids |= {i["id"] for c in INSPECTIONS["checklists"] for i in c["items"]}
    made = [
        _raise(alerts, clock, "fridge-warm", "fridge", "threshold", "temperature", 9.5, "above"),
        _raise(alerts, clock, "fridge-warm", "kitchen-fridge-1", "threshold", "temperature", 8.1, "temperature=8.1"),
        _raise(alerts, clock, "fridge-silent", "kitchen-fridge-1", "stale", None, None, "silent"),
        _raise(alerts, clock, "night-water", "water", "continuous_flow", "usage_l", 6.0, "flow"),
        _raise(alerts, clock, "closed-water", "water", "closed_hours_use", "usage_l", 22.0, "22 L in 2026-01-04 21"),
        _raise(alerts, clock, "gate-held", "front-gate", "gate_held_open", "contact", 1.0, "open"),
        _raise(alerts, clock, "gate-forced", "front-gate", "gate_forced", "contact", 1.0, "forced open"),
        _raise(alerts, clock, "after-hours", "gate-reader", "after_hours_access", None, None, "card 04A1B2C3"),
        _raise(alerts, clock, "kitchen-leak-rule", "kitchen-leak", "water_leak", "water_leak", 1.0, "leak"),
        _raise(alerts, clock, "patrol-night", "gate-reader", "patrol_missed", None, 1.0,
               '{"route": "夜间巡逻", "start": 1767535200, "end": 1767538800, "status": "incomplete", '
               '"visited": 1, "total": 2, "missing": ["配电房"]}'),
        _raise(alerts, clock, "food-sample", "sample-fridge", "sample_excursion", "temperature", 9.2,
               '{"samples": [[1, "2026-01-05", "lunch"]], "peak": 9.2, "minutes": 12, "start": 1767578400}'),
    ]
    # The escalation's and the deliveries' records, as the escalator and the dispatcher write them.
    alerts.store.mark_sent(made[0], 2, clock.now(), "notified",
                           "step 1: kitchen-wecom, alerts-mqtt, step 2: office-mail")
    alerts.store.add_timeline(made[0], clock.now(), "delivered", "kitchen-wecom: escalated")
    alerts.store.add_timeline(made[0], clock.now(), "delivery failed", "office-mail: opened: connection refused")
    alerts.store.mark_sent(made[0], 2, clock.now(), "notified", "repeated: kitchen-wecom, alerts-mqtt")
    reports = Reports(cfg, store, db, clock, alerts)
    reports.ledger.register(DAY.isoformat(), "lunch", [("番茄炒蛋", "150")], "sample-fridge", "王师傅", by="kitchen")
    services = dashboard_services(cfg, db, clock, store, alerts)
    app = create_app(services, cfg.dashboard, hasher=cheap_hasher())
    from gateway.inspections.ledger import Ledger
    Ledger(cfg, db, clock).report_hazard("配电房", "插座松动", "general", "zhao", "wang")  # the ledger keeps logins
    visitor = services.gate.register_visitor(name="张先生", phone="13800138000", organisation="区疾控中心",
                                             purpose="食品安全检查", host="周园长", by="wang")
    s = TextSite(cfg, store, db, clock, alerts, app, ids)
    for role, name in USERS.items():
        s.ctx.accounts.add(name, role, PASSWORD, display_name=NAMES[name])
    with TestClient(app) as c:  # 张阿姨 acknowledges through the dashboard, as the kitchen does
        csrf = login_ok(c, "kitchen")
        assert c.post(f"/alerts/{made[0]}/ack", data={"csrf_token": csrf, "note": "已关门", "back": ""}
                      ).status_code in (200, 303)
    clock.set(local_ts(date(2026, 1, 7), 14, 0, TZ))
    s.token = services.gate.approval_token(visitor.id)  # the link the person visited receives, still valid
    yield s
    store.close()
    db.close()


def visible(page: str) -> str:
    """The text a person sees: no scripts, styles, tags or attribute values; entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def machine_text(text: str, ids: set[str], english: bool = True) -> list[str]:
    """Every id, metric key, ``key=value`` and English word found in ``text``."""
    found = [f"id {i!r}" for i in sorted(ids) if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]
    found += [f"metric {m!r}" for m in METRICS if re.search(rf"(?<![\w-]){re.escape(m)}(?![\w-])", text)]
    found += [f"debug {m!r}" for m in KEY_VALUE.findall(text)]
    if english:
        found += [f"English {w!r}" for w in ENGLISH if re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", text, re.I)]
    return found


#: Real values for the routes' path parameters (as tests/dashboard/test_every_page_fits.py fills them).
PARAMS: dict[str, Any] = {
    "alert_id": lambda s: [a.id for a in s.alerts.list()],
    "checklist_id": lambda s: [c.id for c in s.config.inspections.checklists],
}
#: Routes that are not text a person reads: JSON, style sheets, photos.
NOT_TEXT = re.compile(r"/api/|\.css$|/photos?\b")
#: The record a page or export shows: the day, week and month with data.
QUERY = {"/reports/weekly": "?week=2026-W01", "/reports/weekly.csv": "?week=2026-W01",
         "/cold/sheet": f"?day={DAY.isoformat()}", "/cold/sheet/print": f"?day={DAY.isoformat()}",
         "/cold/sheet.csv": f"?day={DAY.isoformat()}", "/cold/sheet/month": "?month=2026-01",
         "/cold/sheet/month/print": "?month=2026-01", "/samples.csv": "?month=2026-01",
         "/disinfection.csv": "?month=2026-01", "/hazards/report.csv": f"?period=week&day={DAY.isoformat()}"}
#: CSV columns kept as ids on purpose, for joining exports: the rest of each row is read.
ID_COLUMNS = {"设备编号"}


def pages(site: TextSite) -> list[tuple[str, str]]:
    """Every GET page and CSV export a role may open, path parameters filled with real ids, as (role, url)."""
    out = []
    for (method, path), roles in sorted(ACCESS.items()):
        if method != "GET" or NOT_TEXT.search(path):
            continue
        urls = [path]
        for name in re.findall(r"{(\w+)}", path):
            assert name in PARAMS, f"{path}: give {name!r} real values in PARAMS"
            urls = [u.replace("{" + name + "}", str(v)) for u in urls for v in PARAMS[name](site)]
        out += [(role, url + QUERY.get(path, "")) for role in sorted(roles) for url in urls]
    return out


def csv_text(body: str) -> str:
    """A CSV's cells as text, without its id columns."""
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    keep = [i for i, head in enumerate(rows[0] if rows else []) if head not in ID_COLUMNS]
    return "\n".join(",".join(row[i] for i in keep if i < len(row)) for row in rows)


def test_zh_cn_pages_show_words_not_machine_text(site: TextSite) -> None:
    problems: dict[str, list[str]] = {}
    clients: dict[str, TestClient] = {}
    urls = pages(site)
    assert any(u.startswith("/checks/kitchen-daily") for _, u in urls)
    assert {u.split("?")[0] for _, u in urls if ".csv" in u} == {p for m, p in ACCESS if p.endswith(".csv")}
    try:
        for role, url in [*urls, ("public", f"/v/{site.token}")]:
            if role not in clients:
                clients[role] = TestClient(site.client_app)
                clients[role].__enter__()
                if role != "public":
                    login_ok(clients[role], USERS[role])
            r = clients[role].get(url)
            path = url.split("?")[0]
            if r.status_code == 403 and path.startswith("/checks/"):
                continue  # a checklist is for its role (and the admin), not for every role of /checks
            assert r.status_code == 200, (role, url, r.status_code)
            if path.endswith(".csv"):
                found = machine_text(csv_text(r.text), site.ids)
            else:
                # The admin's user table lists logins, and the devices page names each id for the installer
                # (in <code>): those two pages may show ids, nothing else may.
                installer = path in ("/devices", "/admin")
                page = re.sub(r"<code\b.*?</code>", " ", r.text, flags=re.S) if installer else r.text
                found = machine_text(visible(page), set() if installer else site.ids)
            if found:
                problems[f"{role} {url}"] = found
    finally:
        for c in clients.values():
            c.__exit__(None, None, None)
    assert problems == {}, problems


def test_the_acknowledgement_names_the_person_not_the_login(site: TextSite) -> None:
    with TestClient(site.client_app) as c:
        login_ok(c, "yuan")
        text = visible(c.get("/alerts").text)
    assert "张阿姨" in text and "由 kitchen" not in text


@pytest.mark.parametrize("event", ["opened", "escalated", "repeated", "acknowledged", "resolved"])
def test_zh_cn_notifications_show_words(site: TextSite, event: AlertEvent) -> None:
    composer = Composer({r.id: r for r in site.config.rules}, {d.id: d.label for d in site.config.devices},
                        "zh-CN", site.config.site.tz)
    problems = {}
    for a in site.alerts.list():
        m = composer.compose(event, a)
        # The acknowledge command names the CLI's own words (houqin ack ... --by --note): not the screen's.
        said = re.sub(r"houqin ack \d+ --by NAME --note \"[^\"]*\"", "", f"{m.text}\n{m.markdown}")
        found = machine_text(said, site.ids)
        if found:
            problems[f"{a.rule}/{a.device}"] = found
    assert problems == {}


def test_zh_cn_reports_show_words(site: TextSite) -> None:
    reports = Reports(site.config, site.store, site.db, site.clock, site.alerts)
    r = reports.renderer("zh-CN")
    report = reports.weekly(parse_week("2026-W01", site.config.site.tz), "zh-CN")
    checks = site.config.reports.sheet.check_labels
    lines = reports.sheet_day(DAY)
    samples, verdicts = reports.samples_month(2026, 1, "zh-CN")
    outputs = {
        "weekly html": visible(r.weekly_html(report)),
        "weekly markdown": r.weekly_markdown(report, "http://houqin.local"),
        "sheet html": visible(r.sheet_html(lines, DAY, checks)),
        # The CSV keeps a device-id column (titled 设备编号) for joining exports: every other cell is read.
        "sheet csv": "\n".join(",".join(row[:1] + row[2:]) for row in csv.reader(io.StringIO(
            sheet_csv(lines, site.config.site.tz, checks, "zh-CN").lstrip("\ufeff")))),
        "samples html": visible(r.samples_html(samples, verdicts, 2026, 1, site.clock.now(), 0.0,
                                               {d.id: d.label for d in site.config.devices})),
    }
    # The weekly CSV keeps its device-id column too (the second, 设备编号); the rest is read.
    outputs["weekly csv"] = "\n".join(",".join(row[:1] + row[2:]) for row in csv.reader(io.StringIO(
        weekly_csv(report, "zh-CN").lstrip("\ufeff"))))
    problems = {name: found for name, text in outputs.items() if (found := machine_text(
        re.sub(r"\(http://houqin\.local[^)]*\)", "", text), site.ids))}
    assert problems == {}


def test_english_pages_show_no_chinese_but_configured_names(site: TextSite) -> None:
    configured = {d.label for d in site.config.devices} | {"夜间巡逻", "厨房", "配电房", "番茄炒蛋", "王师傅", "已关门"}
    configured |= set(NAMES.values()) | {"后勤", "中文"}  # the product's name and the language switch
    with TestClient(site.client_app) as c:
        csrf = login_ok(c, "ada")
        c.post("/account/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
        problems = {}
        for path in ["/alerts", *[f"/alerts/{a.id}" for a in site.alerts.list()], "/cold/sheet?day=2026-01-05",
                     "/gate/handover"]:
            text = visible(c.get(path).text)
            for name in sorted(configured, key=len, reverse=True):
                text = text.replace(name, " ")
            chinese = re.findall(r"[\u4e00-\u9fff]+", text)
            if chinese:
                problems[path] = chinese
    assert problems == {}

