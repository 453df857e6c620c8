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
from gateway.notify.channel import Channel, DeliveryResult
from gateway.notify.message import Message

log = logging.getLogger(__name__)

#: Told after each message is delivered (``error`` None) or given up (``error`` says why).
ResultHook = Callable[[str, Message, str | None], None]
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
        self.queue: queue.Queue[Message | None] = queue.Queue(maxsize=size)
        self.sent = self.failed = self.retried = self.gave_up = self.dropped = 0
        self.thread: threading.Thread | None = None


class Dispatcher:
    """Delivers messages to channels in the background."""

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

    def submit(self, channel: str, message: Message) -> bool:
        """Queue ``message`` for ``channel``; False (and counted as dropped) when unknown or full.

        A message for nobody (``people`` False) goes only to channels that mirror alerts."""
        w = self._workers.get(channel)
        if w is None:
            log.error("notification channel %r is not configured; check [notify.channels]", channel)
            return False
        if not message.people and not w.channel.mirrors_alerts:
            return True
        try:
            w.queue.put_nowait(message)
        except queue.Full:
            w.dropped += 1
            log.error("channel %s: queue full (%d); %s message dropped", channel, w.queue.maxsize, message.about)
            return False
        return True

    def start(self) -> None:
        """Start one worker thread per channel."""
        self._stop.clear()
        for name, w in self._workers.items():
            w.thread = threading.Thread(target=self._run, args=(name, w), name=f"houqin-notify-{name}", daemon=True)
            w.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the queued messages (retries waiting for backoff are abandoned)."""
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
            message = w.queue.get()
            if message is None:
                return
            self._deliver(name, w, message)

    def _deliver(self, name: str, w: _Worker, message: Message) -> None:
        backoff = Backoff(self.backoff_s, max(self.backoff_s, MAX_BACKOFF_S))
        error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                result = w.channel.send(message)
            except Exception as e:  # a channel that raises anyway: a failed delivery too, never a crash
                result = DeliveryResult(name, str(e) or type(e).__name__)
            if result.error is not None:
                w.failed += 1
                error = result.error
                log.warning("channel %s: %s, attempt %d/%d failed: %s", name, message.about, attempt,
                            self.attempts, error)
                if attempt == self.attempts or backoff.wait(self._stop):
                    break
                w.retried += 1
                continue
            w.sent += 1
            log.info("channel %s: %s delivered", name, message.about)
            self._report(name, message, None)
            return
        w.gave_up += 1
        log.error("channel %s: gave up on %s: %s", name, message.about, error)
        self._report(name, message, error)

    def _report(self, name: str, message: Message, error: str | None) -> None:
        if self.on_result is None:
            return
        try:
            self.on_result(name, message, error)
        except Exception:
            log.exception("notification result hook failed")

    def stats(self) -> dict[str, ChannelStats]:
        """Counters per channel."""
        return {name: ChannelStats(w.sent, w.failed, w.retried, w.gave_up, w.dropped, w.queue.qsize())
                for name, w in self._workers.items()}
