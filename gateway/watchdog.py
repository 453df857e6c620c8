"""systemd's watchdog: ``READY=1`` once started, then ``WATCHDOG=1`` only while ingest makes progress.

A tiny ``sd_notify`` over ``$NOTIFY_SOCKET`` (stdlib ``socket``, no dependency). With ``Type=notify`` and
``WatchdogSec=`` in the unit, systemd restarts the gateway when the pings stop: when the process hangs, and
also when it lives but commits nothing while messages wait (a stuck writer, a store that never returns).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.clock import Clock

log = logging.getLogger(__name__)

NOTIFY_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"


def sd_notify(state: str, socket_path: str | None = None) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``) to systemd; False when not run by systemd or the send failed."""
    path = socket_path if socket_path is not None else os.environ.get(NOTIFY_ENV, "")
    if not path:
        return False
    if path.startswith("@"):  # an abstract socket name
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(path)
            s.sendall(state.encode())
    except OSError as e:
        log.warning("cannot notify systemd at %s: %s", path, e)
        return False
    return True


#: How much longer than its commit window (``[storage] commit_interval``) a message may wait for its commit
#: before ingest counts as making no progress.
STALL_MARGIN_S = 60.0


def stall_limit(commit_interval: float) -> float:
    """Seconds a message may wait for its commit before ingest makes no progress: its window and a margin."""
    return commit_interval + STALL_MARGIN_S


@dataclass(frozen=True, slots=True)
class Health:
    """Whether ingest makes progress, and why not."""

    ok: bool
    reason: str = ""


def ingest_health(stats: Mapping[str, Any], now: float, started: float | None, *, stall_after: float) -> Health:
    """Healthy unless a message waited ``stall_after`` s for its commit, or messages wait and nothing was committed
    for that long (since ``started`` when nothing was yet). The one definition of "ingest makes no progress": the
    watchdog and ``/healthz`` both use it.

    An idle site (nothing queued) is healthy however old its last commit: no sensor spoke, nothing to do.
    """
    oldest = stats.get("oldest_unacked")
    if oldest is not None and now - float(oldest) > stall_after:
        return Health(False, f"a message has waited {now - float(oldest):.0f} s for its commit (limit "
                             f"{stall_after:.0f} s): readings are not being stored")
    depth = int(stats.get("queue_depth") or 0)
    if depth == 0:
        return Health(True)
    last = stats.get("last_commit")
    since = float(last) if last is not None else started
    if since is None:
        return Health(True)
    age = now - since
    if age > stall_after:
        return Health(False, f"{depth} message(s) queued and no commit for {age:.0f} s: readings are not being stored")
    return Health(True)


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between pings: half of systemd's ``WatchdogSec`` (``$WATCHDOG_USEC``); None without a watchdog."""
    env = os.environ if env is None else env
    try:
        usec = int(env.get(WATCHDOG_USEC_ENV, ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


class Watchdog:
    """Tells systemd the gateway is ready, then pings it on every healthy tick; ``start()`` ticks in a thread."""

    def __init__(self, stats: Callable[[], Mapping[str, Any]], clock: Clock, *, every: float | None,
                 stall_after: float = 120.0, socket_path: str | None = None) -> None:
        self._stats = stats
        self._clock = clock
        self._every = every
        self._stall_after = stall_after
        self._socket = socket_path
        self._started = clock.now()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._was_ok = True

    def tick(self) -> Health:
        """Check ingest once; ping systemd when healthy (log once when it stops being healthy)."""
        health = ingest_health(self._stats(), self._clock.now(), self._started, stall_after=self._stall_after)
        if health.ok:
            sd_notify("WATCHDOG=1", self._socket)
        elif self._was_ok:
            log.error("ingest makes no progress (%s): not pinging systemd's watchdog, which restarts the service",
                      health.reason)
        self._was_ok = health.ok
        return health

    def start(self) -> None:
        """Send ``READY=1``, then ping in a thread when systemd asked for a watchdog."""
        sd_notify("READY=1", self._socket)
        if self._every is None:
            return
        self._thread = threading.Thread(target=self._run, name="houqin-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._every is not None
        while not self._stop.wait(self._every):
            try:
                self.tick()
            except Exception:  # a bug here must not kill the thread: systemd would restart a healthy gateway
                log.exception("watchdog check failed")

    def stop(self) -> None:
        """Tell systemd we are stopping and end the thread."""
        sd_notify("STOPPING=1", self._socket)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
