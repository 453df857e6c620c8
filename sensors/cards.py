"""Card readers: USB readers that type the number as a keyboard, and serial readers sending a line per card.

The device reading sits behind ``open_uids`` (a callable returning an iterator of card numbers), so
tests feed key-event sequences or serial lines; evdev and pyserial are imported only by their adapters
(``sensors.evdev_source``, ``sensors.serial_source``), lazily, so the agent runs without them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from sensors.config import CardReaderSettings
from sensors.messages import Emitter

log = logging.getLogger(__name__)

#: A key event as Linux reports it: the key's name (``KEY_4``) and its value (1 down, 0 up, 2 repeat).
KeyEvent = tuple[str, int]
#: Longest card number accepted; longer input is junk (a stuck key, a person typing).
MAX_UID_LEN = 32
_UID = re.compile(r"^[0-9A-Z]{1,32}$")
_ENTER = frozenset({"KEY_ENTER", "KEY_KPENTER"})


def _char(key: str) -> str | None:
    name = key.removeprefix("KEY_")
    if name.startswith("KP") and len(name) == 3 and name[2].isdigit():
        return name[2]
    if len(name) == 1 and name.isalnum():
        return name.upper()
    return None


def uids_from_keys(events: Iterable[KeyEvent]) -> Iterator[str]:
    """Card numbers from key events: characters on key-down, the number complete at Enter.

    Key-ups, auto-repeats and modifier keys are ignored; anything but digits and letters discards the
    partial number, so stray keys cannot glue two reads together.
    """
    buf: list[str] = []
    overflow = False
    for key, value in events:
        if value != 1:
            continue
        if key in _ENTER:
            if buf and not overflow:
                yield "".join(buf)
            buf.clear()
            overflow = False
            continue
        ch = _char(key)
        if ch is not None:
            buf.append(ch)
            if len(buf) > MAX_UID_LEN:
                if not overflow:
                    log.warning("card reader typed over %d characters without Enter; discarded", MAX_UID_LEN)
                overflow = True  # discard up to the next Enter
                buf.clear()
        elif "SHIFT" not in key:
            buf.clear()


def uids_from_lines(lines: Iterable[str]) -> Iterator[str]:
    """Card numbers from serial lines: control characters (STX/ETX framing) and spaces stripped."""
    for line in lines:
        uid = "".join(ch for ch in line if ch.isprintable() and not ch.isspace()).upper()
        if uid:
            yield uid


def default_opener(settings: CardReaderSettings) -> Callable[[], Iterator[str]]:
    """The real device behind a ``[[sensors]] type = "card_reader"`` entry."""
    if settings.reader == "keyboard":
        def keyboard() -> Iterator[str]:
            from sensors.evdev_source import key_events

            return uids_from_keys(key_events(settings.path, grab=settings.grab))
        return keyboard

    def serial() -> Iterator[str]:
        from sensors.serial_source import read_lines

        return uids_from_lines(read_lines(settings.path, settings.baudrate))
    return serial


class CardReader:
    """Reads cards on its own thread and publishes ``{"type": "card", "uid": ...}`` for each."""

    def __init__(self, settings: CardReaderSettings, emitter: Emitter,
                 open_uids: Callable[[], Iterator[str]] | None = None, retry_s: float = 5.0,
                 decide: Callable[[str, str], Mapping[str, Any]] | None = None) -> None:
        self.settings = settings
        #: The agent's card-list decision (sensors/cardcache.py): extra event fields, e.g. ``accepted``.
        self._decide = decide
        self.device = settings.device
        self._emit = emitter
        self._open = open_uids or default_opener(settings)
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def handle(self, uid: str) -> bool:
        """Publish one read; refuses (logs) a number that is not 1-32 letters or digits."""
        if not _UID.match(uid):
            log.warning("card reader %s sent %r, which is not a card number; ignored", self.settings.path, uid)
            return False
        extra: Mapping[str, Any] = {}
        if self._decide is not None:
            try:
                extra = self._decide(self.device, uid)
            except Exception:  # a decision bug must not lose the read itself
                log.exception("card decision for %s failed", self.device)
        self._emit.event(self.device, "card", uid=uid, **extra)
        return True

    def start(self) -> None:
        """Start the reading thread."""
        self._thread = threading.Thread(target=self._run, name=f"card-{self.device}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for uid in self._open():
                    if self._stop.is_set():
                        return
                    self.handle(uid)
                if self._stop.is_set():
                    return
                log.warning("card reader %s closed; reopening in %.0f s", self.settings.path, self._retry_s)
            except Exception as e:  # unplugged, no permission, library missing: keep the rest running
                log.error("card reader %s (%s): %s; retrying in %.0f s", self.settings.path, self.device, e,
                          self._retry_s)
            self._stop.wait(self._retry_s)

    def stop(self) -> None:
        """Ask the thread to stop (a blocked read ends with the process; the thread is a daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
