"""Lines from a serial card reader through pyserial (imported here only, when a reader is opened)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from sensors.errors import SensorError


def read_lines(path: str, baudrate: int) -> Iterator[str]:
    """Yield each line the reader sends (a card per line)."""
    try:
        serial = importlib.import_module("serial")
    except ImportError:
        raise SensorError("serial card readers need the pyserial package: .venv/bin/pip install pyserial "
                          "(or apt install python3-serial)") from None
    try:
        # serial_for_url takes device paths and also "socket://host:port" / "rfc2217://..." for readers
        # behind a serial-to-network converter
        port = serial.serial_for_url(path, baudrate=baudrate, timeout=1.0)
    except (OSError, ValueError) as e:
        raise SensorError(f"cannot open {path}: {e}; check the path (ls /dev/serial/by-id) and that the "
                          "agent's user is in the 'dialout' group") from None
    try:
        while True:
            raw = port.readline()
            if raw:
                yield raw.decode("ascii", errors="replace")
            elif not getattr(port, "is_open", True):
                return
    finally:
        port.close()
