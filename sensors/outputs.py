"""Lock relay, buzzer and LED outputs driven by ``set`` commands, with timed pulses and beeps."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Literal

from gateway.clock import Clock
from sensors.config import OutputSettings
from sensors.errors import CommandError
from sensors.hardware import OutputLine

log = logging.getLogger(__name__)

OutputKind = Literal["relay", "buzzer", "led"]
Action = Literal["on", "off", "pulse", "beep", "blink"]

#: Actions each output accepts; ``beep`` and ``blink`` are the same thing for a buzzer or an LED.
ACTIONS: dict[str, tuple[str, ...]] = {
    "relay": ("pulse", "on", "off"),
    "buzzer": ("on", "off", "beep", "pulse"),
    "led": ("on", "off", "blink", "pulse"),
}
#: Seconds a ``pulse``/``beep``/``blink`` lasts when the command gives none.
DEFAULT_SECONDS = 3.0
#: Beep/blink cadence: on for BLINK_ON_S out of every BLINK_PERIOD_S.
BLINK_PERIOD_S = 0.5
BLINK_ON_S = 0.25


@dataclass(frozen=True, slots=True)
class Command:
    """One output action from a ``set`` payload."""

    output: OutputKind
    action: Action
    seconds: float | None


def parse_command(payload: bytes) -> list[Command]:
    """Parse ``{"relay": "pulse", "seconds": 3}`` / ``{"buzzer": "beep", "seconds": 5}`` / ``{"led": "on"}``.

    Raises CommandError naming what is wrong and what is accepted.
    """
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CommandError("not JSON; send e.g. {\"relay\": \"pulse\", \"seconds\": 3}") from None
    if not isinstance(body, dict):
        raise CommandError("not a JSON object; send e.g. {\"buzzer\": \"beep\", \"seconds\": 5}")
    seconds = body.get("seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float) or
                                not 0 < seconds < 1e6):
        raise CommandError(f"seconds = {seconds!r} must be a positive number")
    unknown = set(body) - {"relay", "buzzer", "led", "seconds", "ts", "seq", "nonce", "sig"}
    if unknown:
        raise CommandError(f"unknown key(s) {sorted(unknown)}; use relay, buzzer, led and seconds")
    out: list[Command] = []
    for output in ("relay", "buzzer", "led"):
        if output not in body:
            continue
        action = body[output]
        if action not in ACTIONS[output]:
            raise CommandError(f"{output} = {action!r}; use one of {', '.join(ACTIONS[output])}")
        out.append(Command(output, action, float(seconds) if seconds is not None else None))
    if not out:
        raise CommandError("names no output; send relay, buzzer or led")
    return out


class OutputChannel:
    """One relay/buzzer/LED; ``tick`` ends pulses and drives beeps against the injected clock."""

    def __init__(self, settings: OutputSettings, line: OutputLine, clock: Clock) -> None:
        self.settings = settings
        self.kind: OutputKind = settings.type
        self._line = line
        self._clock = clock
        self._lock = threading.Lock()
        self._until: float | None = None
        self._blink_from: float | None = None

    @property
    def is_on(self) -> bool:
        """Whether the output is on now."""
        return self._line.is_on

    def apply(self, cmd: Command) -> None:
        """Carry out a command (seconds capped at ``max_seconds``)."""
        now = self._clock.now()
        limit = self.settings.max_seconds
        seconds = cmd.seconds if cmd.seconds is not None else (
            DEFAULT_SECONDS if cmd.action in ("pulse", "beep", "blink") else limit)
        if seconds > limit:
            log.warning("%s %s of %s: %.0f s cut to max_seconds = %.0f", self.kind, cmd.action,
                        self.settings.device, seconds, limit)
            seconds = limit
        with self._lock:
            if cmd.action == "off":
                self._until = None
                self._blink_from = None
                self._line.set(False)
                return
            self._until = now + seconds
            self._blink_from = now if cmd.action in ("beep", "blink") else None
            self._line.set(True)

    def tick(self, now: float) -> None:
        """Switch off when the time is up; toggle while beeping or blinking."""
        with self._lock:
            if self._until is None:
                return
            # a wall clock that jumped back must not hold a lock relay open for longer than max_seconds
            if now >= self._until or self._until - now > self.settings.max_seconds:
                self._until = None
                self._blink_from = None
                self._line.set(False)
            elif self._blink_from is not None:
                on = (now - self._blink_from) % BLINK_PERIOD_S < BLINK_ON_S
                if on != self._line.is_on:
                    self._line.set(on)

    def close(self) -> None:
        """Switch off and release the pin."""
        self._line.close()
