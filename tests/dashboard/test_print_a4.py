"""The printed records an inspector asks for, from Chromium's own PDF: the day's cold-storage sheet of a site
with nine cold units, three of them with alerts and corrective actions, on one A4 portrait page in zh-CN and en,
no column squeezed to one character per line; the month of sheets, the weekly report, the sample ledger and
the gate's roll call fit the paper's width. PDFs and screenshots go to ``artifacts/print/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium, login, require_chromium
from tests.dashboard.full_site import COLD, DAY, FullSite, full_site
from tests.dashboard.test_every_page_fits import PROBLEMS

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "print"
#: The printable width of A4 portrait with the reports' 12 mm side margins, in CSS pixels (96 dpi).
PAPER = {"width": round((210 - 24) / 25.4 * 96), "height": round((297 - 28) / 25.4 * 96)}
#: On paper nothing scrolls: a table cut off at the edge of its box is lost.
CLIPPED = """() => Array.from(document.querySelectorAll('.scroll-x, .table-wrap')).filter(e =>
  e.scrollWidth > e.clientWidth + 1).map(e => 'cut off on paper: ' + e.firstElementChild.className)"""


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF, counted from its page objects."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullSite]:
    require_chromium()
    with full_site(tmp_path_factory.mktemp("print")) as s:
        yield s


@pytest.fixture(scope="module")
def browser(site: FullSite) -> Iterator[Any]:
    with chromium() as b:
        yield b


def _printed(browser: Any, site: FullSite, user: str, path: str, name: str) -> tuple[bytes, list[str], str]:
    ctx = browser.new_context(viewport=PAPER)
    page = ctx.new_page()
    try:
        login(page, site.url, user, wait="load")
        page.emulate_media(media="print")
        resp = page.goto(site.url + path, wait_until="load")
        assert resp is not None and resp.status == 200
        problems: list[str] = page.evaluate(PROBLEMS)
        problems += page.evaluate(CLIPPED)
        pdf: bytes = page.pdf(format="A4", print_background=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        return pdf, problems, page.content()
    finally:
        ctx.close()


@pytest.mark.parametrize("user", ["li", "li-zh"])
def test_the_day_sheet_prints_on_one_a4_page(site: FullSite, browser: Any, user: str) -> None:
    assert len(COLD) >= 8
    pdf, problems, html = _printed(browser, site, user, f"/cold/sheet/print?day={DAY.isoformat()}", f"sheet-{user}")
    assert html.count('class="alert-line"') >= 3 and html.count('class="correction"') >= 2  # a day with trouble
    assert pdf[:5] == b"%PDF-" and pdf_pages(pdf) == 1, f"{pdf_pages(pdf)} pages"
    assert problems == []


@pytest.mark.parametrize(("name", "path"), [("sheet-month", "/cold/sheet/month/print?month=2026-01"),
                                            ("weekly", "/reports/weekly/print?week=2026-W01"),
                                            ("samples", "/samples/print?month=2026-01"),
                                            ("rollcall", "/gate/rollcall")])
def test_month_sheet_weekly_report_ledger_and_roll_call_fit_the_paper(site: FullSite, browser: Any, name: str,
                                                           path: str) -> None:
    for user in ("ada", "ada-zh"):
        pdf, problems, _ = _printed(browser, site, user, path, f"{name}-{user}")
        assert pdf_pages(pdf) >= 1 and problems == [], (user, problems)
