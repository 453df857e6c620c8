"""DS18B20 temperature probes read from the Linux 1-Wire sysfs tree (``28-*/w1_slave``)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sensors.config import Ds18b20Settings
from sensors.errors import ProbeReadError
from sensors.messages import Emitter

log = logging.getLogger(__name__)

_TEMP = re.compile(r"\bt=(-?\d+)\s*$")
_SCRATCH = re.compile(r"^((?:[0-9a-f]{2} ){9}):")
#: The value a DS18B20 reports before its first conversion (or after a brown-out): never a reading.
POWER_ON_MILLI = 85000
#: 0x7FF: what a probe short of power (parasite mode without a strong pull-up) reports.
LOW_POWER_MILLI = range(127937, 127941)


def parse_w1_slave(text: str) -> float:
    """Temperature in °C from a ``w1_slave`` file; ProbeReadError(reason) when it must not be trusted.

    Reasons: ``format`` (not two kernel lines), ``crc`` (``crc=.. NO``), ``no_data`` (all-zero scratchpad,
    whose CRC is also zero), ``power_on`` (85.000), ``low_power`` (127.94), ``out_of_range``.
    """
    lines = [ln.strip() for ln in text.strip().splitlines()]
    if len(lines) < 2:
        raise ProbeReadError("format", f"expected two lines, got {len(lines)}")
    first, second = lines[0], lines[1]
    if not first.endswith("YES"):
        raise ProbeReadError("crc", "CRC check failed (crc=.. NO): noise or a loose wire on the bus")
    scratch = _SCRATCH.match(first)
    if scratch and set(scratch.group(1).split()) == {"00"}:
        raise ProbeReadError("no_data", "all-zero scratchpad: the data line is held low")
    m = _TEMP.search(second)
    if not m:
        raise ProbeReadError("format", "no t=NNNNN on the second line")
    milli = int(m.group(1))
    if milli == POWER_ON_MILLI:
        raise ProbeReadError("power_on", "85.000 is the power-on value: the probe reset or lost power")
    if milli in LOW_POWER_MILLI:
        raise ProbeReadError("low_power", "127.94 means the probe lacks power; check the 4.7 kΩ pull-up and 3V3")
    if not -55000 <= milli <= 125000:
        raise ProbeReadError("out_of_range", f"{milli / 1000} °C is outside the DS18B20's -55..125 °C")
    return milli / 1000.0


def read_text(path: Path) -> str:
    """Read a sysfs file (the real reader; tests may inject another)."""
    return path.read_text(encoding="ascii", errors="replace")


@dataclass(slots=True)
class _Probe:
    probe: str
    device: str
    failures: int = 0
    faulted: bool = False
    online: bool | None = None


class Ds18b20Bus:
    """Polls the probes of one ``[[sensors]] type = "ds18b20"`` entry every ``interval`` seconds.

    Reads happen on a worker thread (each read takes ~750 ms on real hardware) so pulses, the gate and
    card readers are never held up. A probe that vanishes, or fails ``fail_after`` reads in a row,
    publishes a ``fault`` event and goes offline instead of publishing a number.
    """

    def __init__(self, settings: Ds18b20Settings, emitter: Emitter,
                 reader: Callable[[Path], str] = read_text) -> None:
        self.settings = settings
        self.root = Path(settings.w1_root)
        self._emit = emitter
        self._reader = reader
        self._probes = [_Probe(p, d) for p, d in settings.probes.items()]
        self._next_poll: float | None = None
        self._busy = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def devices(self) -> list[str]:
        """Device ids of the probes on this bus."""
        return [p.device for p in self._probes]

    def is_online(self, device: str) -> bool:
        """Whether the probe of ``device`` has read well since it last failed (False before its first read)."""
        return any(p.device == device and p.online is True for p in self._probes)

    def problems(self) -> list[str]:
        """Start-up checks: the 1-Wire tree exists and every configured probe is on it."""
        if self._reader is not read_text:
            return []  # another backend (the simulator) stands in for sysfs; there is no tree to check
        if not self.root.is_dir():
            return [f"1-Wire directory {self.root} does not exist: enable 1-Wire (dtoverlay=w1-gpio in "
                    "/boot/firmware/config.txt, then reboot) or fix w1_root"]
        found = sorted(p.name for p in self.root.glob("28-*"))
        return [f"DS18B20 probe {p.probe} (device {p.device!r}) is not in {self.root}; found: "
                f"{', '.join(found) or 'no probes'}; check its wiring or the id in [[sensors]]"
                for p in self._probes if not (self.root / p.probe).exists()]

    def tick(self, now: float) -> None:
        """Start a poll on the worker thread when one is due and the last one has finished."""
        if self._next_poll is not None and self._next_poll - self.settings.interval <= now < self._next_poll:
            return  # not due (a clock that jumped back makes it due at once rather than much later)
        if not self._busy.acquire(blocking=False):
            return  # the previous poll is still reading (slow bus); skip rather than pile up
        self._next_poll = now + self.settings.interval
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="w1")
        self._pool.submit(self._poll_locked)

    def _poll_locked(self) -> None:
        try:
            self.poll()
        except Exception:  # a bug here must not stop later polls
            log.exception("1-Wire poll failed")
        finally:
            self._busy.release()

    def poll(self) -> None:
        """Read every probe once now, on the calling thread, and publish the outcome."""
        for p in self._probes:
            path = self.root / p.probe / "w1_slave"
            try:
                try:
                    text = self._reader(path)
                except FileNotFoundError:
                    raise ProbeReadError("missing", f"{path} is gone: the probe dropped off the bus") from None
                except OSError as e:
                    raise ProbeReadError("io", f"{path}: {e}") from None
                value = parse_w1_slave(text)
            except ProbeReadError as e:
                self._failed(p, e)
                continue
            self._ok(p, value)

    def _ok(self, p: _Probe, value: float) -> None:
        if p.faulted:
            log.info("DS18B20 %s (%s) reads again", p.probe, p.device)
        p.failures = 0
        p.faulted = False
        if p.online is not True:
            p.online = True
            self._emit.availability(p.device, True)
        self._emit.state(p.device, {"temperature": value})

    def _failed(self, p: _Probe, e: ProbeReadError) -> None:
        p.failures += 1
        log.warning("DS18B20 %s (%s): reading refused (%s), %d in a row", p.probe, p.device, e, p.failures)
        if p.faulted:
            return
        if e.reason == "missing" or p.failures >= self.settings.fail_after:
            p.faulted = True
            self._emit.event(p.device, "fault", reason=e.reason, detail=e.detail, probe=p.probe)
            if p.online is not False:
                p.online = False
                self._emit.availability(p.device, False)

    def close(self) -> None:
        """Stop the worker thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
