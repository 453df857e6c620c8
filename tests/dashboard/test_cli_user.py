"""``houqin user``: the first admin from the command line, passwords from stdin, sessions ended."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dashboard.accounts import Accounts
from dashboard.passwords import verify
from dashboard.sessions import Sessions
from gateway.cli import main
from gateway.clock import SystemClock
from gateway.eventsdb import EventsDB


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    p = tmp_path / "houqin.toml"
    p.write_text(f'[site]\nid = "kg"\nlocale = "en"\n\n[storage]\ndir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return p


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str],
         stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_first_admin_and_the_account_lifecycle(cfg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(monkeypatch, capsys, ["user", "list", "--config", str(cfg)])
    assert code == 0 and "no users yet" in out
    code, out, _ = _run(monkeypatch, capsys, ["user", "add", "boss", "--role", "admin", "--password-stdin",
                                              "--config", str(cfg)], "a very long secret\n")
    assert code == 0 and "created" in out
    db = EventsDB(tmp_path / "data" / "events.db")
    accounts = Accounts(db)
    assert accounts.authenticate("boss", "a very long secret") is not None
    row = db.conn().execute("SELECT password_hash FROM dashboard_users").fetchone()
    assert row[0].startswith("$argon2id$")
    # a duplicate, an unknown role, a weak password: refused with a reason
    code, _, err = _run(monkeypatch, capsys, ["user", "add", "boss", "--role", "admin", "--password-stdin",
                                              "--config", str(cfg)], "another long secret\n")
    assert code == 1 and "already exists" in err
    code, _, err = _run(monkeypatch, capsys, ["user", "add", "x", "--role", "guard", "--password-stdin",
                                              "--config", str(cfg)], "short\n")
    assert code == 1 and "at least 10" in err
    with pytest.raises(SystemExit):
        main(["user", "add", "y", "--role", "superuser", "--password-stdin", "--config", str(cfg)])
    capsys.readouterr()
    # passwd ends the user's sessions
    sessions = Sessions(db, SystemClock(), 3600, 86400)
    user = accounts.get("boss")
    assert user is not None
    sessions.create(user.id)
    code, out, _ = _run(monkeypatch, capsys, ["user", "passwd", "boss", "--password-stdin", "--config", str(cfg)],
                        "the new long secret\n")
    assert code == 0 and "1 session(s) ended" in out
    assert sessions.count() == 0
    stored = db.conn().execute("SELECT password_hash FROM dashboard_users").fetchone()[0]
    assert verify(accounts.hasher, stored, "the new long secret")
    # the last admin cannot be disabled; another user can
    code, _, err = _run(monkeypatch, capsys, ["user", "disable", "boss", "--config", str(cfg)])
    assert code == 1 and "last enabled admin" in err
    _run(monkeypatch, capsys, ["user", "add", "wang", "--role", "guard", "--password-stdin", "--config", str(cfg)],
         "guard's long secret\n")
    code, _, _ = _run(monkeypatch, capsys, ["user", "disable", "wang", "--config", str(cfg)])
    assert code == 0
    assert accounts.authenticate("wang", "guard's long secret") is None
    code, out, _ = _run(monkeypatch, capsys, ["user", "list", "--config", str(cfg)])
    assert "boss" in out and "disabled" in out
    db.close()


def test_prompt_needs_a_terminal(cfg: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, ["user", "add", "boss", "--role", "admin", "--config", str(cfg)])
    assert code == 1 and "--password-stdin" in err
