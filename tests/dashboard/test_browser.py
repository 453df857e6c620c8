"""The dashboard in headless Chromium (Debian's, through Playwright) on a real gateway and broker.

Logs in, watches a live reading change, receives a gate alert without a reload, acknowledges it,
switches language, and saves screenshots of every page at phone and desktop sizes under
``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import playwright.sync_api as playwright_sync
import pytest

from dashboard.component import DashboardComponent, serve_dashboard
from gateway.app import Site, build_gateway
from gateway.config import parse_config
from gateway.model import Reading
from tests.browser import PHONE, chromium, login, require_chromium, shot
from tests.dashboard.helpers import PASSWORD
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for

DESKTOP = {"width": 1366, "height": 900}
PAGES = {"overview": "/", "gate": "/gate", "cold": "/cold", "utilities": "/utilities", "alerts": "/alerts",
         "devices": "/devices", "admin": "/admin", "account": "/account"}

WIDEST = """Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right >
  document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' +
  Math.round(e.getBoundingClientRect().right))"""

DEVICES = [
    {"id": "kitchen-fridge", "kind": "fridge", "name": "厨房冰箱", "location": "Kitchen"},
    {"id": "sample-fridge", "kind": "sample_fridge", "name": "留样冰箱", "location": "Kitchen"},
    {"id": "freezer", "kind": "freezer", "name": "冷冻柜"},
    {"id": "gate", "kind": "gate", "name": "大门"},
    {"id": "reader", "kind": "card_reader", "name": "门禁读卡器"},
    {"id": "water", "kind": "water_meter", "name": "总水表"},
    {"id": "power", "kind": "power_meter", "name": "总电表"},
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    (tmp / "mosquitto").mkdir(exist_ok=True)
    broker = Mosquitto(tmp / "mosquitto")
    broker.start()
    cfg = parse_config({
        "site": {"id": "kg", "name": "阳光幼儿园", "locale": "en"},
        "mqtt": {"url": broker.url, "client_id": "houqin-browser-gw"},
        "storage": {"dir": str(tmp / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "devices": DEVICES,
        "rules": [
            {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge", "sample-fridge"],
             "above": 8.0, "for": "10m", "severity": "major"},
            {"id": "gate-held-open", "kind": "gate_held_open", "devices": ["gate"], "for": "1s",
             "severity": "major", "name": "Gate held open"},
        ],
    })
    gw: Site = build_gateway(cfg)
    component: DashboardComponent = serve_dashboard(gw)
    gw.start()
    pub = Publisher(broker.port)
    try:
        pub.wait_gateway()
        assert component.server is not None
        accounts = component.server.context.accounts
        accounts.add("ada", "admin", PASSWORD, display_name="Ada")
        accounts.add("wang", "guard", PASSWORD, display_name="王师傅")
        _seed(gw)
        with chromium() as browser:
            yield {"gw": gw, "web": component, "pub": pub, "url": component.server.url, "browser": browser}
    finally:
        pub.close()
        gw.stop()
        broker.stop()


def _seed(gw: Site) -> None:
    """A day of history so charts and figures have something to show."""
    now = time.time()
    rows = []
    for i in range(0, 24 * 12):
        ts = now - 86400 + i * 300
        rows.append(Reading(ts, "kitchen-fridge", "temperature", 3.5 + (i % 24) * 0.08))
        rows.append(Reading(ts, "sample-fridge", "temperature", 2.8 + (i % 18) * 0.05))
        rows.append(Reading(ts, "freezer", "temperature", -19.5 + (i % 10) * 0.1))
        hour = (i * 5 // 60) % 24
        rows.append(Reading(ts, "water", "usage_l", 2.0 if hour < 6 else 25.0 + (i % 7)))
        rows.append(Reading(ts, "power", "usage_wh", 300.0 if hour < 6 else 1500.0 + (i % 5) * 40))
    for d in range(1, 14):
        rows.append(Reading(now - d * 86400 - 7200, "water", "usage_l", 4000.0 + d * 37))
        rows.append(Reading(now - d * 86400 - 7200, "power", "usage_wh", 25000.0 + d * 400))
    rows += [Reading(now - 30, "water", "flow_lpm", 4.2), Reading(now - 30, "power", "power_w", 1830.0),
             Reading(now - 30, "kitchen-fridge", "battery_pct", 81)]
    gw.store.write(rows)


def _live(page: Any) -> None:
    page.wait_for_selector("body[data-live-ready='1']", timeout=10_000)


def test_live_reading_changes_without_reload(site: dict[str, Any]) -> None:
    ctx = site["browser"].new_context(viewport=DESKTOP)
    page = ctx.new_page()
    login(page, site["url"], "ada")
    page.goto(site["url"] + "/cold")
    _live(page)
    page.evaluate("window.__notReloaded = true")
    value = page.locator("span.value[data-device='kitchen-fridge'][data-metric='temperature']")
    site["pub"].state("kitchen-fridge", {"temperature": 6.3})
    playwright_sync.expect(value).to_have_text("6.3", timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True
    ctx.close()


def test_guard_receives_alert_acknowledges_and_switches_language(site: dict[str, Any]) -> None:
    ctx = site["browser"].new_context(viewport={"width": 1024, "height": 768})  # the gate tablet
    page = ctx.new_page()
    login(page, site["url"], "wang")
    assert page.url.endswith("/gate")
    _live(page)
    page.evaluate("window.__notReloaded = true")
    site["pub"].state("gate", {"contact": "open"})
    page.wait_for_selector(".gate-state.is-open", timeout=15_000)
    # held open past 1 s: the rule fires, the alert appears and sounds without a reload
    card = page.wait_for_selector("#alert-list .alert.state-active", timeout=20_000)
    assert card is not None
    assert page.evaluate("window.__notReloaded") is True
    assert page.is_visible("#live-banner")
    assert "Gate held open" in (page.text_content("#live-banner") or "")
    assert int(page.evaluate("document.body.dataset.beeps || '0'")) >= 1
    shot(page, "gate-alert-tablet")
    alert_id = int(card.get_attribute("data-alert-id") or 0)
    note = f"[data-alert-id='{alert_id}'] input[name='note']"
    page.click(f"[data-alert-id='{alert_id}'] button.primary")  # no note yet: the browser asks for one
    assert page.eval_on_selector(note, "e => e.validity.valueMissing") is True
    assert page.url.endswith("/gate") and site["gw"].alerting.service.get(alert_id).state == "active"
    page.fill(note, "送货车，已关门")
    page.click(f"[data-alert-id='{alert_id}'] button.primary")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/gate")
    alert = site["gw"].alerting.service.get(alert_id)
    # the name people read, not the login (issue 12)
    assert alert.state in ("acknowledged", "cleared") and alert.acked_by == "王师傅"
    assert alert.ack_note == "送货车，已关门"
    site["pub"].state("gate", {"contact": "closed"})
    # switch to Chinese
    page.click("#lang-switch")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "门岗告警" in page.content()
    assert page.text_content("nav a[aria-current='page']") == "门岗"
    shot(page, "gate-zh-tablet")
    ctx.close()


@pytest.mark.parametrize(("size", "lang"), [("phone", "en"), ("desktop", "en"), ("phone", "zh"), ("desktop", "zh")])
def test_screenshots_of_every_page(site: dict[str, Any], size: str, lang: str) -> None:
    # most users read Chinese first: every page is also shot in Chinese (``<page>-zh-<size>.png``)
    user, suffix = ("ada", size) if lang == "en" else ("ada-zh", f"zh-{size}")
    if lang == "zh":
        _add_user(site, "ada-zh", "admin", locale="zh-CN")
    viewport = PHONE if size == "phone" else DESKTOP
    ctx = site["browser"].new_context(viewport=viewport, device_scale_factor=2 if size == "phone" else 1)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site["url"] + ("/login" if lang == "en" else "/login?lang=zh-CN"))
    shot(page, f"login-{suffix}")
    login(page, site["url"], user)
    for name, path in PAGES.items():
        page.goto(site["url"] + path)
        page.wait_for_load_state("networkidle")
        if path in ("/cold", "/utilities"):
            page.wait_for_selector(".chart .uplot", timeout=10_000)
        # nothing wider than the screen on a phone
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(WIDEST) if width > viewport["width"] + 1 else []
        assert width <= viewport["width"] + 1, f"{path} is {width}px wide on a {viewport['width']}px screen: {wide}"
        shot(page, f"{name}-{suffix}")
    assert not errors, errors  # no CSP violations, no script errors
    ctx.close()


def _add_user(site: dict[str, Any], name: str, role: str, locale: str | None = None) -> None:
    accounts = site["web"].server.context.accounts
    if accounts.get(name) is None:
        accounts.add(name, role, PASSWORD, locale=locale)


def test_live_alert_offers_acknowledge_only_to_roles_that_may(site: dict[str, Any]) -> None:
    _add_user(site, "yuan", "viewer")
    viewer_ctx = site["browser"].new_context(viewport=DESKTOP)
    admin_ctx = site["browser"].new_context(viewport=DESKTOP)
    viewer, admin = viewer_ctx.new_page(), admin_ctx.new_page()
    login(viewer, site["url"], "yuan")
    login(admin, site["url"], "ada")
    filtered = admin_ctx.new_page()  # the admin also watches only the kitchen's alerts in another tab
    for page, path in ((viewer, "/alerts"), (admin, "/alerts"), (filtered, "/alerts?area=cold_storage")):
        page.goto(site["url"] + path)
        _live(page)
    site["pub"].state("gate", {"contact": "open"})  # held open past 1 s: a new gate alert, pushed live
    try:
        fresh = "#alert-list .alert.fresh.state-active"
        admin.wait_for_selector(fresh, timeout=20_000)
        viewer.wait_for_selector(fresh, timeout=20_000)
        playwright_sync.expect(filtered.locator("#live-banner")).to_be_visible(timeout=20_000)  # it arrived there too
        assert filtered.locator("#alert-list .alert.fresh").count() == 0  # but a gate alert is not in its filter
        assert admin.locator(f"{fresh} form.ack").count() == 1  # the admin may acknowledge it
        assert viewer.locator(f"{fresh} form.ack").count() == 0  # a viewer gets no form the server would refuse
        assert viewer.locator(f"{fresh} [data-ago]").count() == 1
    finally:
        site["pub"].state("gate", {"contact": "closed"})
        viewer_ctx.close()
        admin_ctx.close()


@pytest.mark.parametrize(("user", "words"), [("ada", "hour ago"), ("wang", "小时前")])
def test_last_seen_keeps_counting_in_the_users_language(site: dict[str, Any], user: str, words: str) -> None:
    ctx = site["browser"].new_context(viewport=DESKTOP)
    page = ctx.new_page()
    login(page, site["url"], user)
    page.clock.install()
    page.goto(site["url"] + "/devices")
    seen = page.locator("[data-seen='water'][data-ago]")
    assert words not in (seen.text_content() or "")
    page.clock.fast_forward("01:00:00")  # an hour later, without a reload
    playwright_sync.expect(seen).to_contain_text(words, timeout=10_000)
    ctx.close()


def test_a_lost_live_stream_is_shown_until_it_is_back(site: dict[str, Any]) -> None:
    ctx = site["browser"].new_context(viewport=DESKTOP)
    page = ctx.new_page()
    login(page, site["url"], "ada")
    page.route("**/api/live", lambda route: route.abort())
    page.goto(site["url"] + "/gate")
    banner = page.locator("#live-banner")
    playwright_sync.expect(banner).to_be_visible(timeout=10_000)
    playwright_sync.expect(banner).to_contain_text("Live updates paused")
    page.unroute("**/api/live")  # the browser's own retry gets through: the banner goes
    _live(page)
    playwright_sync.expect(banner).to_be_hidden(timeout=10_000)
    ctx.close()


SUSPENDED_AUDIO = """
window.AudioContext = function () { this.state = "suspended"; this.currentTime = 0; this.destination = {}; };
window.AudioContext.prototype.resume = function () {
  this.state = "running"; if (this.onstatechange) this.onstatechange(); return Promise.resolve();
};
"""


def test_guard_is_told_when_the_alarm_sound_is_off(site: dict[str, Any]) -> None:
    # a browser that has not been touched since the page loaded keeps sound off (autoplay policy)
    ctx = site["browser"].new_context(viewport={"width": 1024, "height": 768})
    ctx.add_init_script(SUSPENDED_AUDIO)
    page = ctx.new_page()
    login(page, site["url"], "wang")  # lands on the gate page, in Chinese (chosen earlier)
    button = page.locator("#sound-on")
    playwright_sync.expect(button).to_be_visible(timeout=10_000)
    assert "报警声音未开启" in (button.text_content() or "")
    page.goto(site["url"] + "/alerts")  # pages nobody watches for alarms do not nag
    assert page.locator("#sound-on").count() == 0
    page.go_back()
    page.click("#sound-on")
    playwright_sync.expect(page.locator("#sound-on")).to_have_count(0, timeout=5_000)
    ctx.close()


def test_usage_bars_start_at_zero(site: dict[str, Any]) -> None:
    ctx = site["browser"].new_context(viewport=DESKTOP)
    page = ctx.new_page()
    login(page, site["url"], "ada")
    page.goto(site["url"] + "/utilities")
    # every bar chart drawn (no wait_for_function: its string is an eval the page's CSP refuses)
    playwright_sync.expect(page.locator(".chart[data-bars][data-y-min]")).to_have_count(4, timeout=10_000)
    mins = page.eval_on_selector_all(".chart[data-bars]", "ns => ns.map(n => Number(n.dataset.yMin))")
    assert len(mins) == 4 and all(m == 0 for m in mins), mins  # per hour and per day, water and power
    ctx.close()


def test_an_alert_raised_while_the_stream_was_down_still_arrives(site: dict[str, Any]) -> None:
    ctx = site["browser"].new_context(viewport={"width": 1024, "height": 768})
    page = ctx.new_page()
    login(page, site["url"], "wang")
    page.route("**/api/live", lambda route: route.abort())  # the tablet's Wi-Fi is down
    page.goto(site["url"] + "/gate")
    playwright_sync.expect(page.locator("#live-banner")).to_be_visible(timeout=10_000)
    before = {a.id for a in site["gw"].alerting.service.list(open_only=True)}
    site["pub"].state("gate", {"contact": "open"})  # held open past 1 s while nobody could push it
    try:
        wait_for(lambda: any(a.device == "gate" and a.id not in before
                             for a in site["gw"].alerting.service.list(open_only=True)), "the held-open alert", 20)
        [new] = [a for a in site["gw"].alerting.service.list(open_only=True) if a.id not in before]
        assert page.locator(f"#alert-list [data-alert-id='{new.id}']").count() == 0
        page.unroute("**/api/live")  # back: the page catches up without a reload
        page.wait_for_selector(f"#alert-list [data-alert-id='{new.id}']", timeout=15_000)
        assert int(page.evaluate("document.body.dataset.beeps || '0'")) >= 1
    finally:
        site["pub"].state("gate", {"contact": "closed"})
        ctx.close()


def test_overview_lights_follow_a_new_alert_without_reload(site: dict[str, Any]) -> None:
    ctx = site["browser"].new_context(viewport=DESKTOP)
    page = ctx.new_page()
    login(page, site["url"], "ada")
    page.goto(site["url"] + "/")
    _live(page)
    gate = page.locator(".area[data-area='gate']")
    assert "light-red" not in (gate.get_attribute("class") or "")
    page.evaluate("window.__notReloaded = true")
    site["pub"].state("gate", {"contact": "open"})  # held open: a major gate alert
    try:
        playwright_sync.expect(gate).to_have_class(re.compile(r"\blight-red\b"), timeout=20_000)
        assert page.evaluate("window.__notReloaded") is True
    finally:
        site["pub"].state("gate", {"contact": "closed"})
        ctx.close()
