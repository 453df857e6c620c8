"""One progress line for long CLI commands: rewritten in place on a terminal, sparse in a log."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

#: In a log (not a terminal), a step of the same phase is written at most this often.
LOG_EVERY_S = 10.0


class ProgressLine:
    """Shows ``phase: detail`` messages.

    On a terminal one line is rewritten in place (cut to the terminal's width, since a wrapped line
    cannot be rewritten). In a log or a pipe a line is written when the phase (the text before the
    first ``:``) changes, at most every ``LOG_EVERY_S`` within a phase, and the last step at ``done()``.
    """

    def __init__(self, stream: TextIO, *, tty: bool | None = None, every_s: float = LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._every = every_s
        self._clock = clock
        self._phase: str | None = None
        self._last = 0.0
        self._unwritten: str | None = None
        self._shown = False

    def __call__(self, message: str) -> None:
        """Show one step."""
        if self._tty:
            width = max(20, shutil.get_terminal_size().columns - 1)
            self._stream.write(f"\r\033[K{message[:width]}")
            self._stream.flush()
            self._shown = True
            return
        phase = message.split(":", 1)[0]
        now = self._clock()
        if phase != self._phase or now - self._last >= self._every:
            if self._unwritten is not None and phase != self._phase:
                self._write(self._unwritten)  # how the last phase ended
            self._write(message)
            self._phase, self._last, self._unwritten = phase, now, None
        else:
            self._unwritten = message

    def done(self) -> None:
        """End the line (terminal) or write the last step not written yet (log)."""
        if self._tty:
            if self._shown:
                self._stream.write("\n")
                self._stream.flush()
        elif self._unwritten is not None:
            self._write(self._unwritten)
            self._unwritten = None

    def _write(self, message: str) -> None:
        self._stream.write(f"{message}\n")
        self._stream.flush()
