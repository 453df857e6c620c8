"""The rule engine: feeds committed batches and clock ticks to every rule's evaluator.

Ingest calls ``on_batch`` on its writer thread; once ``start()``-ed the engine only queues the batch
(bounded) and evaluates on its own thread, so ingest never waits on alert writes or notifications.
Without ``start()`` (tests) it evaluates inline. ``Alerting``'s scheduler calls ``tick`` every ``RULE_TICK_S``;
tests call ``tick()`` themselves after moving a ``ManualClock``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.alerts.model import AlertChange
from gateway.alerts.service import AlertService
from gateway.calendar import SchoolCalendar
from gateway.clock import Clock
from gateway.model import CommittedBatch, Event
from gateway.rules.base import Evaluator, RuleContext
from gateway.rules.kinds import evaluator_for
from gateway.rules.settings import RuleBase

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EngineStats:
    """Counters of the engine."""

    batches: int
    dropped_batches: int
    errors: int
    queued: int


class RuleEngine:
    """Evaluates every configured rule against committed data and the clock."""

    def __init__(self, rules: Sequence[RuleBase], service: AlertService, calendar: SchoolCalendar, clock: Clock,
                 devices: Sequence[str] = (), last_seen: Callable[[str], float | None] | None = None,
                 queue_size: int = 10_000, lock_relays: Mapping[str, str] | None = None,
                 event_only: Iterable[str] = ()) -> None:
        self.clock = clock
        self.service = service
        self._ctx = RuleContext(service, calendar, clock, tuple(devices), last_seen, dict(lock_relays or {}),
                                event_only=frozenset(event_only))
        pending = service.store.pending()
        self.evaluators: list[Evaluator] = [evaluator_for(r)(r, self._ctx, pending) for r in rules]
        self._by_id = {e.id: e for e in self.evaluators}
        self._lock = threading.RLock()
        self._queue: queue.Queue[CommittedBatch | None] = queue.Queue(maxsize=queue_size)
        self._worker: threading.Thread | None = None
        self._batches = self._dropped = self._errors = 0
        service.add_listener(self._on_alert_change)

    def add_card_decider(self, decider: Callable[[str, str, float], bool | None]) -> None:
        """Let ``decider`` say whether a card read with no ``accepted`` flag was accepted (see RuleContext)."""
        self._ctx.card_deciders.append(decider)

    def add_event_check(self, check: Callable[[Event], bool]) -> None:
        """Let ``check`` refuse events that are not authentic (see RuleContext)."""
        self._ctx.event_checks.append(check)

    # -- input -------------------------------------------------------------------------------------
    def on_batch(self, batch: CommittedBatch) -> None:
        """``BatchObserver``: queue the batch (started) or evaluate it now (not started). Never raises."""
        if self._worker is None:
            self.process(batch)
            return
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self._dropped += 1
            log.error("rule engine queue full (%d batches); a batch was not evaluated", self._queue.maxsize)

    def process(self, batch: CommittedBatch) -> None:
        """Evaluate one batch on the calling thread."""
        with self._lock:
            self._batches += 1
            for r in batch.readings:
                for ev in self.evaluators:
                    if ev.watches(r.device):
                        self._guard(ev, ev.on_reading, r)
            for e in batch.events:
                for ev in self.evaluators:
                    if ev.watches(e.device):
                        self._guard(ev, ev.on_event, e)
            for a in batch.availability:
                for ev in self.evaluators:
                    if ev.watches(a.device):
                        self._guard(ev, ev.on_availability, a)

    def tick(self, now: float | None = None) -> None:
        """Let time-based conditions fire (durations, silence, calendar changes)."""
        t = self.clock.now() if now is None else now
        with self._lock:
            for ev in self.evaluators:
                self._guard(ev, ev.tick, t)

    def _guard(self, ev: Evaluator, fn: Callable[[Any], None], arg: object) -> None:
        try:
            fn(arg)
        except Exception:  # one broken rule (or a full disk) must not stop the others or ingest
            self._errors += 1
            log.exception("rule %s failed on %r", ev.id, arg)

    def _on_alert_change(self, change: AlertChange) -> None:
        if change.kind == "cleared":
            ev = self._by_id.get(change.alert.rule)
            if ev is not None:
                ev.forget_cleared(change.alert.device)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Evaluate batches on a worker thread from now on."""
        self._worker = threading.Thread(target=self._work, name="houqin-rules", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Finish queued batches and stop the worker."""
        if self._worker is None:
            return
        self._queue.put(None)
        self._worker.join(timeout=10)
        self._worker = None

    def _work(self) -> None:
        while True:
            batch = self._queue.get()
            try:
                if batch is None:
                    return
                self.process(batch)
            finally:
                self._queue.task_done()

    def stats(self) -> EngineStats:
        """Counters: batches evaluated, dropped (queue full), evaluator errors, queued now."""
        return EngineStats(self._batches, self._dropped, self._errors, self._queue.qsize())
