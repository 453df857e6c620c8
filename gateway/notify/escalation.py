"""Escalation: walks each open alert along its chain, repeats until acknowledged, says "resolved".

Progress (steps sent, last sent, acknowledgement passed on, done) lives in the events database and
is written *before* messages are queued, so a restart never sends the same step twice. ``sync`` reads
that progress afresh, so an acknowledgement made by another process (``houqin ack``) is seen on the
next tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from gateway.alerts.model import Alert, AlertChange
from gateway.alerts.store import AlertStore, NotifyProgress
from gateway.clock import Clock
from gateway.listeners import Listeners
from gateway.notify.config import ChainSettings
from gateway.notify.dispatcher import Dispatcher
from gateway.notify.message import Message
from gateway.notify.messages import AlertEvent, Composer
from gateway.notify.output import OutputCommandChannel

log = logging.getLogger(__name__)

#: Seconds between "on" commands to a buzzer or LED an active alert still needs (below the agent's
#: ``max_seconds`` cap, 600 s by default, so the alarm does not fall silent before someone acknowledges).
OUTPUT_REFRESH_S = 60.0


class Escalator:
    """Decides what to send when; the dispatcher sends it."""

    def __init__(self, chains: Mapping[str, ChainSettings], store: AlertStore, dispatcher: Dispatcher,
                 composer: Composer, clock: Clock) -> None:
        self.chains = chains
        self.store = store
        self.dispatcher = dispatcher
        self.composer = composer
        self.clock = clock
        self._lock = threading.Lock()
        self._refreshed_at = clock.now()
        self._escalations: Listeners[[Alert, int]] = Listeners("escalation listener")
        self._route: Callable[[Alert, ChainSettings | None], ChainSettings | None] | None = None

    def route_with(self, route: Callable[[Alert, ChainSettings | None], ChainSettings | None]) -> None:
        """Let ``route(alert, its configured chain)`` choose the chain an alert walks (e.g. the person on duty
        first during a holiday); it must answer the same for the same alert every time (steps are counted)."""
        self._route = route

    def _chain(self, a: Alert) -> ChainSettings | None:
        chain = self.chains.get(a.chain or "")
        if self._route is None:
            return chain
        try:
            return self._route(a, chain)
        except Exception:  # a routing bug must not silence the alert: its own chain still works
            log.exception("routing alert %d failed; it walks its own chain", a.id)
            return chain

    def add_listener(self, listener: Callable[[Alert, int], None]) -> None:
        """Call ``listener(alert, step)`` when an alert goes on to step 2, 3, ... of its chain (quick, never raises)."""
        self._escalations.add(listener)

    def on_alert_change(self, change: AlertChange) -> None:
        """``AlertService`` listener: act on the change at once (the first step is usually immediate)."""
        if change.kind == "opened":
            self._opened(change.alert)
        else:
            self.sync()

    def _opened(self, a: Alert) -> None:
        # The fast path of a new alert: queue its immediate steps first and record them while the
        # message is already on its way, so the first notification does not wait for an fsync. Only
        # a crash in those few milliseconds could send it again after the restart.
        chain = self._chain(a)
        if chain is None:
            self.sync()
            return
        with self._lock:
            now = self.clock.now()
            due = [i for i, step in enumerate(chain.steps) if now >= a.opened_at + step.after]
            self._send_steps(a, chain, due)
            if due:
                try:
                    self.store.mark_sent(a.id, due[-1] + 1, now, "notified", self._steps_note(chain, due))
                except Exception:
                    log.exception("could not record the notification of alert %d", a.id)

    def restore(self) -> None:
        """At start: switch local alarms (buzzer, LED) and MQTT state back on for alerts still active
        and unacknowledged, in case the agent restarted meanwhile. People are not messaged again."""
        with self._lock:
            for p in self.store.notify_progress():
                a = p.alert
                chain = self._chain(a)
                if a.state != "active" or chain is None or not p.steps_sent:
                    continue
                channels = self.dispatcher.channels
                local = [ch for ch in self._channels(chain, p.steps_sent)
                         if ch in channels and channels[ch].mirrors_alerts]
                if local:
                    self._send("repeated", a, local)

    def tick(self, now: float | None = None) -> None:
        """Send what became due (delays, repeats), pass on changes made elsewhere, keep local alarms on."""
        self.sync(now)
        t = self.clock.now() if now is None else now
        if t - self._refreshed_at >= OUTPUT_REFRESH_S:
            self._refreshed_at = t
            for ch in self.dispatcher.channels.values():
                if isinstance(ch, OutputCommandChannel):
                    ch.refresh()

    def sync(self, now: float | None = None) -> None:
        """Bring every unfinished alert's notifications up to date."""
        with self._lock:
            t = self.clock.now() if now is None else now
            for p in self.store.notify_progress():
                try:
                    self._one(p, t)
                except Exception:  # one alert's trouble (e.g. a locked DB) must not stop the rest
                    log.exception("escalation of alert %d failed", p.alert.id)

    def _one(self, p: NotifyProgress, now: float) -> None:
        a = p.alert
        chain = self._chain(a)
        if chain is None:
            log.error("alert %d names chain %r, which is not in [notify.chains]; nobody is notified", a.id, a.chain)
            self.store.mark_done(a.id, now, "not notified", f"no chain {a.chain!r}")
            return
        told = self._channels(chain, p.steps_sent)
        if a.state == "cleared":
            if told and chain.resolved:
                self.store.mark_done(a.id, now, "notified", f"resolved: {', '.join(told)}")
                self._send("resolved", a, told)
            else:
                self.store.mark_done(a.id, now, None)
            return
        if a.state == "acknowledged":
            if not p.ack_handled:
                self.store.mark_ack_handled(a.id)
                self._send("acknowledged", a, told)
            return
        due = [i for i in range(p.steps_sent, len(chain.steps)) if now >= a.opened_at + chain.steps[i].after]
        if due:
            self.store.mark_sent(a.id, due[-1] + 1, now, "notified", self._steps_note(chain, due))
            self._send_steps(a, chain, due)
            return
        if chain.repeat and p.steps_sent and p.last_sent_at is not None and now - p.last_sent_at >= chain.repeat:
            self.store.mark_sent(a.id, p.steps_sent, now, "notified", f"repeated: {', '.join(told)}")
            self._send("repeated", a, told)

    @staticmethod
    def _channels(chain: ChainSettings, steps: int) -> list[str]:
        return list(dict.fromkeys(ch for step in chain.steps[:steps] for ch in step.channels))

    @staticmethod
    def _steps_note(chain: ChainSettings, steps: list[int]) -> str:
        return ", ".join(f"step {i + 1}: {', '.join(chain.steps[i].channels)}" for i in steps)

    def _send_steps(self, alert: Alert, chain: ChainSettings, steps: list[int]) -> None:
        for i in steps:
            self._send("opened" if i == 0 else "escalated", alert, list(dict.fromkeys(chain.steps[i].channels)))
            if i > 0:
                self._escalations.tell(alert, i + 1)

    def _send(self, event: AlertEvent, alert: Alert, channels: list[str]) -> None:
        message: Message = self.composer.compose(event, alert)
        for ch in channels:
            self.dispatcher.submit(ch, message)
