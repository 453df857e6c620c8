"""Headless Chromium (Debian's, through Playwright) for the browser tests: launch, log in, screenshot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright_sync
import pytest

from tests.dashboard.helpers import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}


def require_chromium() -> None:
    """Fail (not skip) when Chromium is missing: scripts/test installs it."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed; run scripts/test (it installs it with apt-get)")


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium ``Browser``, closed on exit."""
    require_chromium()
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def login(page: Any, url: str, user: str, password: str = PASSWORD, wait: str = "networkidle") -> None:
    """Sign in through the dashboard's login form and check it let us in."""
    page.goto(url + "/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_load_state(wait)
    assert "/login" not in page.url


def shot(page: Any, name: str, directory: Path = SCREENSHOTS) -> Path:
    """Save a full-page screenshot as ``<directory>/<name>.png`` and check it is not blank-small."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    return path
