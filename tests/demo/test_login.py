"""``demo.login.prepare``: the demo's login with a fresh random password each run."""

from __future__ import annotations

from pathlib import Path

from dashboard.accounts import Accounts
from dashboard.component import DashboardComponent
from dashboard.services import DashboardServices
from demo.login import DEMO_USER, prepare
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from tests.dashboard.helpers import make_config


def test_prepare_creates_and_resets_the_demo_login(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    cfg, clock = make_config(tmp_path, port=18123), ManualClock()
    web = DashboardComponent(DashboardServices(cfg, db, clock, gate=Gate(cfg, db, clock)))  # not started
    first = prepare(web)
    assert first[0] == "http://127.0.0.1:18123/"
    assert first[1] == f"user: {DEMO_USER}"
    password = first[2].removeprefix("password: ")
    assert len(password) >= 12
    accounts = Accounts(db)
    user = accounts.authenticate(DEMO_USER, password)
    assert user is not None and user.role == "admin"
    second = prepare(web)  # a new run: a new password, the old one stops working
    new_password = second[2].removeprefix("password: ")
    assert new_password != password
    assert accounts.authenticate(DEMO_USER, password) is None
    assert accounts.authenticate(DEMO_USER, new_password) is not None
    db.close()
