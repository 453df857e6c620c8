"""Delivery workers: one bounded queue and thread per channel, retries with backoff, counters.

A slow or dead channel only delays its own queue: ingest, rules and other channels never wait.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.backoff import Backoff
from gateway.notify.channel import Channel
from gateway.notify.messages import Notice

log = logging.getLogger(__name__)

#: Told after each notice is delivered (``error`` None) or given up (``error`` says why).
ResultHook = Callable[[str, Notice, str | None], None]
MAX_BACKOFF_S = 300.0


@dataclass(frozen=True, slots=True)
class ChannelStats:
    """Counters of one channel."""

    sent: int = 0
    failed_attempts: int = 0
    retried: int = 0
    gave_up: int = 0
    dropped: int = 0
    queued: int = 0


class _Worker:
    def __init__(self, channel: Channel, size: int) -> None:
        self.channel = channel
        self.queue: queue.Queue[Notice | None] = queue.Queue(maxsize=size)
        self.sent = self.failed = self.retried = self.gave_up = self.dropped = 0
        self.thread: threading.Thread | None = None


class Dispatcher:
    """Delivers notices to channels in the background."""

    def __init__(self, channels: Mapping[str, Channel], attempts: int = 6, backoff_s: float = 2.0,
                 queue_size: int = 1000, on_result: ResultHook | None = None) -> None:
        self._workers = {name: _Worker(ch, queue_size) for name, ch in channels.items()}
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.on_result = on_result
        self._stop = threading.Event()

    @property
    def channels(self) -> dict[str, Channel]:
        """Channels by name."""
        return {name: w.channel for name, w in self._workers.items()}

    def submit(self, channel: str, notice: Notice) -> bool:
        """Queue ``notice`` for ``channel``; False (and counted as dropped) when unknown or full."""
        w = self._workers.get(channel)
        if w is None:
            log.error("notification channel %r is not configured; check [notify.channels]", channel)
            return False
        if notice.event not in w.channel.events:
            return True
        try:
            w.queue.put_nowait(notice)
        except queue.Full:
            w.dropped += 1
            log.error("channel %s: queue full (%d); alert %d %s message dropped", channel, w.queue.maxsize,
                      notice.alert.id, notice.event)
            return False
        return True

    def start(self) -> None:
        """Start one worker thread per channel."""
        self._stop.clear()
        for name, w in self._workers.items():
            w.thread = threading.Thread(target=self._run, args=(name, w), name=f"houqin-notify-{name}", daemon=True)
            w.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the queued notices (retries waiting for backoff are abandoned)."""
        self._stop.set()
        for w in self._workers.values():
            if w.thread is not None:
                with contextlib.suppress(queue.Full):
                    w.queue.put(None, timeout=timeout)
        for w in self._workers.values():
            if w.thread is not None:
                w.thread.join(timeout)
                w.thread = None

    def _run(self, name: str, w: _Worker) -> None:
        while True:
            notice = w.queue.get()
            if notice is None:
                return
            self._deliver(name, w, notice)

    def _deliver(self, name: str, w: _Worker, notice: Notice) -> None:
        backoff = Backoff(self.backoff_s, max(self.backoff_s, MAX_BACKOFF_S))
        error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                w.channel.deliver(notice)
            except Exception as e:  # any failure of a channel is a failed delivery, never a crash
                w.failed += 1
                error = str(e) or type(e).__name__
                log.warning("channel %s: alert %d %s, attempt %d/%d failed: %s", name, notice.alert.id,
                            notice.event, attempt, self.attempts, error)
                if attempt == self.attempts or backoff.wait(self._stop):
                    break
                w.retried += 1
                continue
            w.sent += 1
            log.info("channel %s: alert %d %s delivered", name, notice.alert.id, notice.event)
            self._report(name, notice, None)
            return
        w.gave_up += 1
        log.error("channel %s: gave up on alert %d %s: %s", name, notice.alert.id, notice.event, error)
        self._report(name, notice, error)

    def _report(self, name: str, notice: Notice, error: str | None) -> None:
        if self.on_result is None:
            return
        try:
            self.on_result(name, notice, error)
        except Exception:
            log.exception("notification result hook failed")

    def stats(self) -> dict[str, ChannelStats]:
        """Counters per channel."""
        return {name: ChannelStats(w.sent, w.failed, w.retried, w.gave_up, w.dropped, w.queue.qsize())
                for name, w in self._workers.items()}
