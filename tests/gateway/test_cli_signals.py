"""SIGTERM/SIGINT as the long-running commands' stop event, with the previous handlers restored."""

from __future__ import annotations

import os
import signal
import threading

from gateway.cli.signals import stop_on_signals


def test_sigterm_sets_the_event_and_the_old_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with stop_on_signals() as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_off_the_main_thread_no_handler_is_installed() -> None:
    seen: list[bool] = []

    def body() -> None:
        with stop_on_signals() as stop:
            seen.append(stop.is_set())
            stop.set()
            seen.append(stop.is_set())

    t = threading.Thread(target=body)
    t.start()
    t.join(5)
    assert seen == [False, True]
