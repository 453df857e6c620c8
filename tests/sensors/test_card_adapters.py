"""The card readers' device adapters: pyserial for real (a reader behind a serial-to-TCP converter), evdev faked.

evdev needs a kernel input device (and /dev/uinput to make one), which a test machine lacks; so the
evdev test hands the adapter a stand-in module playing a USB reader's key events.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.clock import ManualClock
from sensors.cards import CardReader, uids_from_keys
from sensors.config import CardReaderSettings
from sensors.errors import SensorError
from sensors.messages import Emitter, Outgoing
from tests.waiting import wait_for


class LineServer:
    """A TCP server on 127.0.0.1 that sends each client its batch of lines, then closes it."""

    def __init__(self, batches: list[bytes]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.batches = batches
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for batch in self.batches:
            conn, _ = self.sock.accept()
            with conn:
                time.sleep(0.3)  # a card is presented a moment after the reader connects (pyserial
                conn.sendall(batch)  # flushes its input when it opens the port)
                time.sleep(0.2)  # let the reader read before the line drops (a real reader unplugged)

    def close(self) -> None:
        self.sock.close()


def test_serial_reader_over_pyserial_reconnects() -> None:
    server = LineServer([b"\x020A00123456\x03\r\n04A1B2C3\r\n", b"DEADBEEF\r\n"])
    sent: list[Outgoing] = []
    settings = CardReaderSettings(type="card_reader", device="gate", reader="serial",
                                  path=f"socket://127.0.0.1:{server.port}")
    reader = CardReader(settings, Emitter("kg", sent.append, ManualClock()), retry_s=0.05)
    reader.start()
    try:
        wait_for(lambda: len(sent) >= 3, "three card messages", timeout=10)
    finally:
        reader.stop()
        server.close()
    assert [json.loads(m.payload)["uid"] for m in sent] == ["0A00123456", "04A1B2C3", "DEADBEEF"]


def test_serial_reader_bad_path_is_a_clear_error() -> None:
    from sensors.serial_source import read_lines

    with pytest.raises(SensorError, match="dialout"):
        next(read_lines("/dev/does-not-exist", 9600))


class _Event:
    def __init__(self, type_: int, code: int, value: int) -> None:
        self.type, self.code, self.value = type_, code, value


def fake_evdev(events: list[tuple[int, int, int]], grabbed: list[str]) -> types.ModuleType:
    """A stand-in for the evdev module: one input device that plays ``events`` (type, code, value)."""
    mod = types.ModuleType("evdev")
    keys = {2: "KEY_1", 3: "KEY_2", 4: "KEY_3", 28: "KEY_ENTER", 30: "KEY_A", 42: "KEY_LEFTSHIFT",
            113: ["KEY_MIN_INTERESTING", "KEY_MUTE"]}
    mod.ecodes = types.SimpleNamespace(EV_KEY=1, EV_MSC=4, KEY=keys)  # type: ignore[attr-defined]

    class InputDevice:
        def __init__(self, path: str) -> None:
            if not path.startswith("/dev/input/"):
                raise FileNotFoundError(path)
            self.path = path

        def grab(self) -> None:
            grabbed.append(self.path)

        def read_loop(self) -> Iterator[Any]:
            for e in events:
                yield _Event(*e)

        def close(self) -> None:
            pass

    mod.InputDevice = InputDevice  # type: ignore[attr-defined]
    return mod


def test_keyboard_reader_adapter_grabs_and_maps_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    grabbed: list[str] = []
    # what a USB reader sends: MSC_SCAN before each key, key down/up, Enter
    events = [(4, 4, 458782), (1, 2, 1), (1, 2, 0), (1, 42, 1), (1, 30, 1), (1, 30, 0), (1, 42, 0),
              (1, 4, 1), (1, 4, 0), (1, 113, 1), (1, 3, 1), (1, 28, 1), (1, 28, 0)]
    monkeypatch.setitem(sys.modules, "evdev", fake_evdev(events, grabbed))
    from sensors.evdev_source import key_events

    keys = list(key_events("/dev/input/by-id/usb-reader-event-kbd", grab=True))
    assert grabbed == ["/dev/input/by-id/usb-reader-event-kbd"]
    assert ("KEY_MIN_INTERESTING", 1) in keys  # a code with several names: the first
    assert list(uids_from_keys(keys)) == ["2"]  # the stray key dropped "1A3"
    keys = [k for k in key_events("/dev/input/event3", grab=False) if k[0] != "KEY_MIN_INTERESTING"]
    assert list(uids_from_keys(keys)) == ["1A32"]
    assert grabbed == ["/dev/input/by-id/usb-reader-event-kbd"]
    with pytest.raises(SensorError, match="'input' group"):
        next(key_events("/nope"))
