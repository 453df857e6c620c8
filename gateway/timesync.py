"""A Pi has no real-time clock: after boot it runs on a guessed time until NTP sets it. Messages that arrive
before the clock is synchronised are held (not acknowledged, so nothing is lost) and handed to ingest once it
is, so nothing is stamped with a wrong time; a clock that jumps is logged; the last good time is kept in the
data directory, so after a reboot a clock still behind it is known to be wrong.

The probe (is the clock synchronised?) and the uptime are injected; the real ones ask systemd-timesyncd and
the kernel (``ntp_adjtime``, which chrony and ntpd keep current too).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gateway.clock import Clock
from gateway.mqtt_link import InboundMessage
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

#: The file in the data directory holding the last time the clock was known to be synchronised.
LAST_GOOD_NAME = "last-good-time"
#: How long after boot messages wait for the clock (then they go on, logged, unless the clock is provably wrong).
BOOT_WAIT_S = 600.0
#: A clock this far behind the last good time is wrong (smaller gaps: a restore of fake-hwclock's saved time).
BEHIND_S = 2 * 3600.0
#: A wall clock that moves this much more or less than the monotonic clock has jumped.
JUMP_S = 2.0
#: How often the last good time is saved while synchronised (rarely: an SD card wears out).
SAVE_EVERY_S = 600.0
#: How often the probe is asked (not at every message).
PROBE_EVERY_S = 1.0
#: Most messages held (the broker sends no more than its in-flight window anyway).
HOLD_MAX = 10_000

_TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")
_TIME_ERROR = 5  # ntp_adjtime's answer while the kernel's clock is not synchronised


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def system_synchronised() -> bool | None:
    """Whether the system clock is synchronised: systemd-timesyncd's flag file, else the kernel; None: unknown."""
    if _TIMESYNCD_FLAG.exists():
        return True
    try:
        buf = ctypes.create_string_buffer(512)  # struct timex with modes = 0: read only
        state = int(_libc().ntp_adjtime(buf))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != _TIME_ERROR


def system_uptime() -> float:
    """Seconds since boot."""
    try:
        return float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return time.monotonic()


class ClockWatch:
    """Decides whether the wall clock can be trusted now; remembers the last good time; logs jumps."""

    def __init__(self, clock: Clock, data_dir: Path, *, probe: Callable[[], bool | None] = system_synchronised,
                 uptime: Callable[[], float] = system_uptime, monotonic: Callable[[], float] = time.monotonic,
                 boot_wait: float = BOOT_WAIT_S) -> None:
        self.clock = clock
        self.path = data_dir / LAST_GOOD_NAME
        self._probe = probe
        self._uptime = uptime
        self._monotonic = monotonic
        self._boot_wait = boot_wait
        self._last_pair: tuple[float, float] | None = None
        self._saved_at = float("-inf")
        self._told = ""
        self._probed: tuple[float, bool | None] | None = None
        self._booted = False  # past the boot window: uptime only grows, so it stays past
        self.last_good = self._read()

    def _read(self) -> float | None:
        try:
            return float(self.path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            log.warning("last good time %s cannot be read (%s); it is written again once the clock is synchronised",
                        self.path, e)
            return None

    def _save(self, now: float) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(f"{now:.3f}\n", encoding="ascii")
            os.replace(tmp, self.path)
        except OSError as e:
            log.warning("last good time could not be saved to %s: %s", self.path, e)
            return
        self.last_good = now
        self._saved_at = now

    def _say(self, key: str, level: int, text: str, *args: object) -> None:
        if self._told != key:  # once per state, not per message
            self._told = key
            log.log(level, text, *args)

    def trusted(self) -> bool:
        """Whether messages may be stamped with the wall clock now (and keep the last good time current)."""
        now = self.clock.now()
        self._watch_jumps(now)
        mono = self._monotonic()
        if self._probed is None or mono - self._probed[0] >= PROBE_EVERY_S:
            # Both asked with the probe, never per message: reading /proc/uptime for every message was most
            # of the network thread's time on a Pi without NTP.
            self._probed = (mono, self._probe())
            self._booted = self._booted or self._uptime() >= self._boot_wait
        synced = self._probed[1]
        behind = self.last_good is not None and now < self.last_good - BEHIND_S
        if synced:
            if now - self._saved_at >= SAVE_EVERY_S or (self.last_good is not None and now < self.last_good):
                self._save(now)
            self._say("synced", logging.INFO, "the clock is synchronised")
            return True
        if behind:
            self._say("behind", logging.ERROR, "the clock (%s) is behind the last good time (%s): it is wrong; "
                      "messages wait until it is synchronised (check the network and `timedatectl "
                      "timesync-status`, or fit a real-time clock)", _Iso(now), _Iso(self.last_good or 0))
            return False
        if not self._booted:
            self._say("waiting", logging.WARNING, "the clock is not synchronised yet after boot: messages wait for "
                      "it (at most %.0f s after boot)", self._boot_wait)
            return False
        self._say("unsynced", logging.WARNING, "the clock is not synchronised (no NTP?): going on with the Pi's "
                  "clock, %s; check the network and `timedatectl timesync-status`", _Iso(now))
        return True

    def _watch_jumps(self, now: float) -> None:
        mono = self._monotonic()
        if self._last_pair is not None:
            wall0, mono0 = self._last_pair
            jump = (now - wall0) - (mono - mono0)
            if abs(jump) >= JUMP_S:
                log.warning("the clock jumped %s by %.1f s (to %s)", "forward" if jump > 0 else "back", abs(jump),
                            _iso(now))
        self._last_pair = (now, mono)

    def stop(self) -> None:
        """Save the last good time when the clock is synchronised (a clean shutdown)."""
        if self._probe():
            self._save(self.clock.now())


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


class _Iso:
    """A time written out only when logged: ``trusted`` runs for every message, its log line once per state."""

    __slots__ = ("ts",)

    def __init__(self, ts: float) -> None:
        self.ts = ts

    def __str__(self) -> str:
        return _iso(self.ts)


class ClockGate:
    """In front of ingest: holds messages (unacknowledged) while the clock cannot be trusted, then hands them on
    in order. A component: ``start`` ticks every second so held messages go on even when no new one comes."""

    def __init__(self, watch: ClockWatch, on_message: Callable[[InboundMessage], None],
                 tick_every_s: float = 1.0) -> None:
        self.watch = watch
        self._on_message = on_message
        self._held: list[InboundMessage] = []
        self._lock = threading.Lock()
        self._ticker = Ticker(self.tick, tick_every_s, "houqin-clock-gate")
        self.dropped = 0

    @property
    def held(self) -> int:
        """Messages waiting for the clock."""
        with self._lock:
            return len(self._held)

    def on_message(self, msg: InboundMessage) -> None:
        """The link's handler: pass on, or hold while the clock cannot be trusted."""
        with self._lock:
            if not self._held and self.watch.trusted():
                self._on_message(msg)
                return
            if len(self._held) >= HOLD_MAX:
                self.dropped += 1  # never acked: the broker delivers it again after a reconnect
                return
            self._held.append(msg)
        self.tick()

    def tick(self) -> None:
        """Hand the held messages on once the clock can be trusted (stamped then, with the right time)."""
        with self._lock:
            if not self._held or not self.watch.trusted():
                return
            held, self._held = self._held, []
            log.info("the clock can be trusted: %d held message(s) go on", len(held))
            for m in held:
                self._on_message(m)

    def start(self) -> None:
        """Start the one-second ticker."""
        self._ticker.start()

    def stop(self) -> None:
        """Stop the ticker; save the last good time."""
        self._ticker.stop()
        self.watch.stop()
