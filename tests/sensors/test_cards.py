from __future__ import annotations

import json
import threading
from collections.abc import Iterator

from gateway.clock import ManualClock
from sensors.cards import CardReader, KeyEvent, uids_from_keys, uids_from_lines
from sensors.config import CardReaderSettings
from sensors.messages import Emitter, Outgoing
from tests.waiting import wait_for


def typed(text: str, enter: str = "KEY_ENTER") -> list[KeyEvent]:
    """Key events a USB reader sends when it types ``text`` and Enter (down, up per key)."""
    out: list[KeyEvent] = []
    for ch in text:
        key = f"KEY_{ch.upper()}"
        if ch.isalpha():
            out.append(("KEY_LEFTSHIFT", 1))
        out += [(key, 1), (key, 0)]
        if ch.isalpha():
            out.append(("KEY_LEFTSHIFT", 0))
    return [*out, (enter, 1), (enter, 0)]


def test_keyboard_reader_uids() -> None:
    events = [*typed("0004123456"), *typed("04a1b2c3", enter="KEY_KPENTER")]
    assert list(uids_from_keys(events)) == ["0004123456", "04A1B2C3"]


def test_keypad_digits_repeats_and_stray_keys() -> None:
    events: list[KeyEvent] = [("KEY_KP1", 1), ("KEY_KP1", 2), ("KEY_KP2", 1), ("KEY_ENTER", 1)]
    assert list(uids_from_keys(events)) == ["12"]
    # a stray key (someone at the reader's keyboard) drops the partial number
    events = [("KEY_1", 1), ("KEY_2", 1), ("KEY_SPACE", 1), ("KEY_3", 1), ("KEY_ENTER", 1), ("KEY_ENTER", 1)]
    assert list(uids_from_keys(events)) == ["3"]
    assert list(uids_from_keys([("KEY_1", 1)] * 40 + [("KEY_ENTER", 1)])) == []


def test_serial_lines() -> None:
    assert list(uids_from_lines(["\x020A00123456\x03\r\n", "\r\n", "04 a1 b2 c3\n"])) == ["0A00123456", "04A1B2C3"]


def test_reader_thread_publishes_and_reopens() -> None:
    sent: list[Outgoing] = []
    emitter = Emitter("kg", sent.append, ManualClock())
    opened = threading.Semaphore(0)
    rounds = [typed("1234") + typed("5678"), typed("9")]

    def open_uids() -> Iterator[str]:
        opened.release()
        if not rounds:
            raise OSError("unplugged")
        return uids_from_keys(rounds.pop(0))

    settings = CardReaderSettings(type="card_reader", device="gate", reader="keyboard", path="/dev/input/x")
    reader = CardReader(settings, emitter, open_uids, retry_s=0.01)
    reader.start()
    wait_for(lambda: len(sent) >= 3, "three card messages", timeout=5)
    reader.stop()
    bodies = [json.loads(m.payload) for m in sent]
    assert [(b["type"], b["uid"]) for b in bodies] == [("card", "1234"), ("card", "5678"), ("card", "9")]
    assert all(m.topic == "houqin/kg/gate/event" for m in sent)


def test_junk_uid_refused() -> None:
    sent: list[Outgoing] = []
    settings = CardReaderSettings(type="card_reader", device="gate", reader="serial", path="/dev/ttyUSB0")
    reader = CardReader(settings, Emitter("kg", sent.append, ManualClock()), lambda: iter(()))
    assert not reader.handle("12;DROP")
    assert reader.handle("04A1B2C3")
    assert len(sent) == 1


def test_missing_library_is_a_clear_error() -> None:
    import sys

    import pytest

    from sensors.errors import SensorError
    from sensors.evdev_source import key_events

    with pytest.MonkeyPatch.context() as mp, pytest.raises(SensorError, match="pip install evdev"):
        mp.setitem(sys.modules, "evdev", None)  # `import evdev` fails whether or not it is installed here
        next(key_events("/dev/input/event0"))
