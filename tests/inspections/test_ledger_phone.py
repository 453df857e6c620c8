"""The hazard ledger and repairs in Chromium on a 360 px phone: a hazard reported with a photo, started and
asked to close with a photo by its owner, confirmed by the head; a fault reported with a photo from the phone
(a large, noisy one: scaled in the browser, then bigger than an ordinary form body)."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.server import DashboardServer
from tests.browser import chromium, login, require_chromium
from tests.inspections.conftest import MONDAY, ts
from tests.inspections.test_checklists import Kitchen
from tests.inspections.test_checks_pages import ARTIFACTS, app_for

NARROW = {"width": 360, "height": 780}


def noisy_png(width: int = 900, height: int = 700) -> bytes:
    """A real PNG of noise: its JPEG stays large after scaling to 800 px."""
    rnd = random.Random(17)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + rnd.randbytes(width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kitchen, str, Path]]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("ledger-phone")
    k = Kitchen(tmp)
    k.clock.set(ts(MONDAY, 7, 45))
    photo = tmp / "crack.png"
    photo.write_bytes(noisy_png())
    server = DashboardServer(app_for(k), k.cfg.dashboard)
    server.start()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield k, server.url, photo
    server.stop()
    k.close()


def phone(browser: Any) -> Any:
    return browser.new_context(viewport=NARROW, device_scale_factor=2, is_mobile=True, has_touch=True)


def test_a_hazard_with_photos_from_the_phone(served: tuple[Kitchen, str, Path]) -> None:
    k, url, photo = served
    ledger = k.checklists.ledger
    with chromium() as browser:
        ctx = phone(browser)
        page = ctx.new_page()
        try:
            login(page, url, "ada", wait="load")
            page.goto(url + "/hazards")
            page.fill("#hazard-form input[name=place]", "二楼楼梯")
            page.fill("#hazard-form input[name=description]", "扶手松动")
            page.select_option("#hazard-form select[name=owner]", "zhao")
            page.set_input_files("#hazard-photo", str(photo))
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
            page.click("#hazard-form button[type=submit]")
            page.wait_for_url("**#hazard-*")
            (h,) = ledger.hazards()
            assert h.photo is not None and h.photo.endswith(".jpg") and h.status == "open"
            page.screenshot(path=str(ARTIFACTS / "hazard-photo-phone.png"), full_page=True)
        finally:
            ctx.close()
        ctx = phone(browser)
        page = ctx.new_page()
        try:
            login(page, url, "zhao", wait="load")  # the owner
            page.goto(url + "/hazards")
            page.set_input_files(f"#close-photo-{h.id}", str(photo))
            page.click(f"#hazard-{h.id} form[action$=close_requested] button[type=submit]")
            page.wait_for_selector(f"#hazard-{h.id} form", state="detached")  # now the head's to confirm
            assert ledger.hazard(h.id).status == "closing"
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
        finally:
            ctx.close()
    step = ledger.hazard(h.id).steps[-1]
    assert step.what == "close_requested" and step.photo is not None and step.note is None
    path = ledger.photos.path(step.photo)
    assert path is not None and path.read_bytes()[:3] == b"\xff\xd8\xff"  # scaled to a JPEG in the browser


def test_a_fault_with_a_photo_from_the_phone(served: tuple[Kitchen, str, Path]) -> None:
    k, url, photo = served
    with chromium() as browser:
        ctx = phone(browser)
        page = ctx.new_page()
        try:
            login(page, url, "li", wait="load")
            page.goto(url + "/repairs")
            page.fill("#repair-form input[name=place]", "小一班卫生间")
            page.fill("#repair-form input[name=what]", "水龙头关不紧")
            page.set_input_files("#repair-photo", str(photo))
            page.click("#repair-form button[type=submit]")
            page.wait_for_selector("#repairs article")
            assert "水龙头关不紧" in page.inner_text("#repairs")
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
            page.screenshot(path=str(ARTIFACTS / "repair-photo-phone.png"), full_page=True)
        finally:
            ctx.close()
    (r,) = k.checklists.ledger.repairs()
    assert r.photo is not None and r.reported_by == "李阿姨"
    path = k.checklists.ledger.photos.path(r.photo)
    assert path is not None and path.stat().st_size > 64 * 1024  # more than an ordinary form body may carry
