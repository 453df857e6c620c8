"""``Listeners``: every listener is told in order; one that raises is logged and does not stop the rest."""

from __future__ import annotations

import logging

import pytest

from gateway.listeners import Listeners


def test_listeners_are_told_in_order_and_a_failing_one_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[tuple[str, int]] = []
    ls: Listeners[[str, int]] = Listeners("test listener")

    def broken(kind: str, n: int) -> None:
        raise RuntimeError("bug")

    ls.add(lambda kind, n: heard.append((kind, n)))
    ls.add(broken)
    ls.add(lambda kind, n: heard.append((kind.upper(), n)))
    with caplog.at_level(logging.ERROR, "gateway.listeners"):
        ls.tell("a", 1)
        ls.tell("b", 2)
    assert heard == [("a", 1), ("A", 1), ("b", 2), ("B", 2)]
    assert len(ls) == 3
    assert sum("test listener" in r.getMessage() for r in caplog.records) == 2


def test_log_once_logs_a_failing_listener_once(caplog: pytest.LogCaptureFixture) -> None:
    ls: Listeners[[int]] = Listeners("observer", log_once=True)

    def broken(n: int) -> None:
        raise RuntimeError("bug")

    ls.add(broken)
    with caplog.at_level(logging.ERROR, "gateway.listeners"):
        for n in range(3):
            ls.tell(n)
    assert len([r for r in caplog.records if "further failures" in r.getMessage()]) == 1
