"""Gate inputs: the contact (reed switch) publishing open/closed, the exit button publishing events."""

from __future__ import annotations

from gateway.clock import Clock
from sensors.config import ButtonSettings, ContactSettings
from sensors.debounce import Debouncer
from sensors.hardware import InputLine
from sensors.messages import Emitter


class DebouncedInput:
    """An input pin read through a debouncer; subclasses publish the settled levels (``_publish``)."""

    def __init__(self, device: str, bounce: float, line: InputLine, emitter: Emitter, clock: Clock) -> None:
        self.device = device
        self._line = line
        self._emit = emitter
        self._clock = clock
        self._debounce = Debouncer(bounce, line.read(), clock.now())

    def listen(self) -> None:
        """Start taking the pin's edges (once the subclass is ready to publish them)."""
        self._line.on_change(self._edge)

    def _edge(self, active: bool) -> None:
        self._publish(self._debounce.edge(active, self._clock.now()))

    def _publish(self, levels: list[tuple[bool, float]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the pin."""
        self._line.close()


class Contact(DebouncedInput):
    """A gate or door contact; each debounced change is published at once as ``{"contact": ...}``."""

    def __init__(self, settings: ContactSettings, line: InputLine, emitter: Emitter, clock: Clock) -> None:
        super().__init__(settings.device, settings.bounce, line, emitter, clock)
        self.settings = settings
        self._next_heartbeat = clock.now() + settings.heartbeat
        self.listen()

    def is_open(self, active: bool) -> bool:
        """Map an input's active state to open/closed through the wiring (pull and ``open_when``)."""
        level_high = active != self.settings.pull_up
        return level_high == (self.settings.open_when == "high")

    @property
    def state(self) -> str:
        """``open`` or ``closed`` (debounced)."""
        return "open" if self.is_open(self._debounce.stable) else "closed"

    def tick(self, now: float) -> None:
        """Publish a change once the contact has been stable for ``bounce``; repeat it every ``heartbeat``."""
        self._publish(self._debounce.settle(now))
        hb = self.settings.heartbeat
        if hb > 0 and (now >= self._next_heartbeat or self._next_heartbeat - now > hb):  # or the clock went back
            self.announce()

    def announce(self) -> None:
        """Publish the current state (at start, and as the heartbeat)."""
        self._next_heartbeat = self._clock.now() + self.settings.heartbeat
        self._emit.state(self.device, {"contact": self.state})

    def _publish(self, levels: list[tuple[bool, float]]) -> None:
        for active, since in levels:
            self._next_heartbeat = since + self.settings.heartbeat
            self._emit.state(self.device, {"contact": "open" if self.is_open(active) else "closed"}, ts=since)


class ExitButton(DebouncedInput):
    """An exit (request-to-exit) button; each debounced press publishes ``{"type": "button"}``."""

    def __init__(self, settings: ButtonSettings, line: InputLine, emitter: Emitter, clock: Clock) -> None:
        super().__init__(settings.device, settings.bounce, line, emitter, clock)
        self.settings = settings
        self.listen()

    def tick(self, now: float) -> None:
        """Publish a press once it has been held for ``bounce``."""
        self._publish(self._debounce.settle(now))

    def _publish(self, levels: list[tuple[bool, float]]) -> None:
        for pressed, since in levels:
            if pressed:
                self._emit.event(self.device, "button", ts=since)
