"""Every page of every role fits phones, tablets and desktops, in zh-CN and en, in headless Chromium.

The pages are the app's own GET routes (a new page is tested without editing this file; a new kind of
parameter fails until it gets a real value here), opened as each role that may open them, on a site with
data everywhere (``full_site``). At each width the page must not scroll sideways, the navigation must show
every page the role may open, and no text may be squeezed to one character per line. Screenshots of each
page at 390 and 1366 px in both languages go to ``artifacts/screens/`` (CI keeps them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from dashboard.app import api_routes
from dashboard.roles import ACCESS, ROLES, allowed
from dashboard.routes.common import nav_for
from tests.browser import chromium, login, require_chromium
from tests.dashboard.full_site import DAY, NOW, FullSite, full_site
from tests.dashboard.helpers import ROLE_USERS

SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
WIDTHS = (360, 390, 414, 768, 1024, 1366)
HEIGHTS = {360: 740, 390: 844, 414: 896, 768: 1024, 1024: 768, 1366: 900}
SHOT_AT = (390, 1366)
LANGS = ("zh", "en")

#: GET routes that are not pages (data, files, images, machine endpoints).
NOT_PAGES = re.compile(r"^/(api|static)(/|$)|\.(csv|css|json)$|^/(healthz|metrics)$|/photo$|/photos/|^/docs|^/redoc")
#: Real values of path parameters, by name (from the site's own records).
PARAMS = {"alert_id": lambda s: s.ids["cold"], "token": lambda s: s.token, "checklist_id": lambda s: "kitchen-daily"}
#: Pages shown for a chosen record rather than today (the day on the sheet with alerts and corrections).
QUERY = {"/cold/sheet": f"?day={DAY.isoformat()}", "/cold/sheet/print": f"?day={DAY.isoformat()}",
         "/cold/sheet/month": "?month=2026-01", "/cold/sheet/month/print": "?month=2026-01"}

#: What does not fit: sideways scrolling, nav links out of sight, text one character per line.
PROBLEMS = r"""() => {
  const out = [], vw = document.documentElement.clientWidth;
  const sw = document.documentElement.scrollWidth;
  if (sw > vw + 1) {
    const wide = Array.from(document.querySelectorAll('body *')).filter(e => {
      const r = e.getBoundingClientRect(); return r.width > 0 && r.right > vw + 1; });
    const outer = wide.filter(e => !wide.includes(e.parentElement)).slice(0, 4);
    out.push('page ' + sw + 'px wide: ' + outer.map(e => e.tagName.toLowerCase() +
      (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' ' +
      Math.round(e.getBoundingClientRect().width) + 'px').join(', '));
  }
  for (const a of document.querySelectorAll('nav.nav a')) {  // a shown bar (not on paper) shows every link
    const nav = a.closest('nav');
    if (!nav.getClientRects().length) continue;
    const r = a.getBoundingClientRect(), box = nav.getBoundingClientRect();
    if (r.width === 0 || r.left < -1 || r.right > vw + 1 || r.right > box.right + 1 || r.left < box.left - 1)
      out.push('nav link out of sight: ' + a.textContent.trim());
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.replace(/\s+/g, '');
    if (text.length < 2) continue;
    const el = n.parentElement;
    if (!el || seen.has(el)) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
    if (rects.length < 2) continue;
    const fs = parseFloat(getComputedStyle(el).fontSize) || 16;
    const tops = new Set(rects.map(r => Math.round(r.top)));
    const widest = Math.max(...rects.map(r => r.width));
    if (tops.size >= 2 && widest < 1.6 * fs && tops.size >= text.length * 0.6) {
      seen.add(el);
      out.push('squeezed to one character per line: <' + el.tagName.toLowerCase() + '> ' +
        JSON.stringify(text.slice(0, 24)) + ' ' + Math.round(el.getBoundingClientRect().width) + 'px wide');
    }
  }
  return out;
}"""


def pages_of(site: FullSite) -> dict[str, str]:
    """Every GET page route of the app (template -> URL with real ids); fails on a parameter it cannot fill."""
    pages: dict[str, str] = {}
    for route in api_routes(site.app.routes):
        if "GET" not in route.methods or NOT_PAGES.search(route.path):
            continue
        url = route.path
        for name in re.findall(r"{(\w+)}", route.path):
            assert name in PARAMS, f"{route.path}: give {name!r} a real value in PARAMS"
            url = url.replace("{" + name + "}", str(PARAMS[name](site)))
        pages[route.path] = url + QUERY.get(route.path, "")
    return pages


#: Pages whose record belongs to some roles only (the full site's checklist is the kitchen's: others get 403).
RECORD_ROLES = {"/checks/{checklist_id}": {"admin", "viewer", "kitchen"}}


def role_pages(pages: dict[str, str], role: str) -> dict[str, str]:
    """The pages ``role`` may open (public pages are tested without a login)."""
    return {p: u for p, u in pages.items() if allowed(role, "GET", p) and role in RECORD_ROLES.get(p, {role})}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullSite]:
    require_chromium()
    with full_site(tmp_path_factory.mktemp("every-page")) as s:
        yield s


@pytest.fixture(scope="module")
def browser(site: FullSite) -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_every_page_route_is_a_page_of_some_role_or_public(site: FullSite) -> None:
    pages = pages_of(site)
    assert "/gate/desk" in pages and "/cold/sheet/print" in pages and "/alerts/{alert_id}" in pages
    public = {"/login", "/v/{token}"}
    for path in pages:
        assert path in public or any(allowed(r, "GET", path) for r in ROLES), path
    assert {p for m, p in ACCESS if m == "GET" and not NOT_PAGES.search(p)} <= set(pages)


_shot: set[tuple[str, str, int]] = set()


def _check(page: Any, url: str, name: str, lang: str, problems: list[str]) -> None:
    resp = page.goto(url, wait_until="load")
    assert resp is not None and resp.status == 200, f"{url}: {resp.status if resp else 'no response'}"
    if page.locator(".chart").count():  # drawn, or saying it has no data
        expect(page.locator(".chart:not(:has(.uplot)):not(:has(p))")).to_have_count(0, timeout=10_000)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHTS[width]})
        found: list[str] = page.evaluate(PROBLEMS)
        problems += [f"{name} [{lang} {width}px]: {p}" for p in dict.fromkeys(found)]
        key = (name, lang, width)
        if width in SHOT_AT and key not in _shot:
            _shot.add(key)
            SCREENS.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "overview"
            # JPEG: a third of the time and size of PNG for a hundred full pages, text still readable
            page.screenshot(path=str(SCREENS / f"{slug}-{lang}-{width}.jpg"), full_page=True, type="jpeg",
                            quality=80, animations="disabled")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_fits_every_width(site: FullSite, browser: Any, role: str) -> None:
    problems: list[str] = []
    pages = role_pages(pages_of(site), role)
    for lang in LANGS:
        user = ROLE_USERS[role] + ("-zh" if lang == "zh" else "")
        ctx = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHTS[WIDTHS[0]]})
        page = ctx.new_page()
        page.clock.set_fixed_time(NOW)  # the browser's "last 24 hours" are the site's
        try:
            login(page, site.url, user, wait="load")
            for path, url in pages.items():
                page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHTS[WIDTHS[0]]})
                _check(page, site.url + url, path, lang, problems)
            # every page the role may open is in the navigation (directly or in the gate's own bar)
            page.goto(site.url + "/", wait_until="load")
            shown = set(page.eval_on_selector_all("nav.nav a", "as => as.map(a => a.getAttribute('href'))"))
            assert shown == {p for p, _ in nav_for(role)}
        finally:
            ctx.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])


def test_public_pages_fit_every_width(site: FullSite, browser: Any) -> None:
    problems: list[str] = []
    for lang in LANGS:
        ctx = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHTS[WIDTHS[0]]},
                                  locale="zh-CN" if lang == "zh" else "en-GB")
        page = ctx.new_page()
        try:
            for path, url in (("/login", "/login" + ("?lang=zh-CN" if lang == "zh" else "?lang=en")),
                              ("/v/{token}", f"/v/{site.token}")):
                page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHTS[WIDTHS[0]]})
                _check(page, site.url + url, path, lang, problems)
        finally:
            ctx.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])
