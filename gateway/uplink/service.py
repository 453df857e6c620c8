"""The uplink component: alert transitions and status to the central broker, and alerts about the uplink itself.

Built by ``gateway.app`` when ``[uplink]`` names a central broker or store. It listens to the alert service
(opened, acknowledged, ended, cleared) and to the escalator (escalated), and checks every ``status_every``
whether the site's status changed. A listener runs after the alert's commit, so a gateway killed in between, or
an outbox that could not take the message (a full disk), would lose the change for the district: each check (and
the start) also catches up from the alerts' timeline, skipping the changes whose keys were queued (escalations
are not in the timeline as such: the district counts an unacknowledged alert late without them). A long outage
(the oldest unsent reading or message older than ``outage_alert_after``) opens an alert at the site; data
dropped from a full outbox opens a latched one.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gateway.alerts.model import Alert, AlertChange, Change
from gateway.alerts.store import OpenRequest
from gateway.clock import Clock
from gateway.store.influx import InfluxStore
from gateway.store.outbox import Outbox
from gateway.ticker import Ticker
from gateway.uplink import messages
from gateway.uplink.sender import MQTT_OUTBOX_NAME, MessageUplink

if TYPE_CHECKING:
    from gateway.config import Config

log = logging.getLogger(__name__)

#: The outbox's state: the id of the last timeline entry the catch-up has gone through.
CAUGHT_UP = "alerts_caught_up_to"
#: Keys of queued transitions are kept this long (the catch-up looks back one status check, or longer after a
#: failure; a key forgotten too soon only sends a transition twice, which the district drops by its key).
KEYS_KEPT_S = 7 * 86400.0
#: Changes read per check (a long backlog takes several checks; none is skipped).
CATCH_UP_PAGE = 1000
#: How often the catch-up's place is saved (also when it queued something, and at stop).
CATCH_UP_SAVE_S = 3600.0
RULE_OUTAGE = "uplink_outage"
RULE_DROPPED = "uplink_dropped"
DEVICE = "uplink"


class AlertSink(Protocol):
    """The part of ``gateway.alerts.service.AlertService`` used here."""

    def raise_alert(self, req: OpenRequest) -> Any:
        """Open the alert of (rule, device) unless it is open."""
        ...

    def end(self, rule: str, device: str, value: float | None = None) -> Any:
        """The condition of (rule, device) ended."""
        ...

    def changes_after(self, timeline_id: int, up_to: int | None = None, limit: int = 1000) -> list[Change]:
        """Changes recorded after ``timeline_id`` (and at or before ``up_to``), oldest first."""
        ...

    def in_order(self) -> AbstractContextManager[None]:
        """Hold other changes meanwhile."""
        ...

    def last_change_id(self) -> int:
        """The newest timeline entry's id."""
        ...

    def list(self, open_only: bool = False) -> list[Alert]:
        """Alerts, newest first (``open_only``: those not cleared)."""
        ...


@dataclass(frozen=True, slots=True)
class Backlog:
    """One outbox of the uplink: what waits, since when, what was dropped, the last error."""

    depth: int
    oldest_age_s: float | None
    dropped: int
    last_error: str


class Uplink:
    """Sends the site's alert transitions and status to the district and watches its own backlog."""

    def __init__(self, config: Config, clock: Clock, alerts: AlertSink, *, central_store: InfluxStore | None,
                 site_status: Callable[[], messages.SiteStatus], rng: random.Random | None = None) -> None:
        self.settings = config.uplink
        self.site = config.site.id
        self._clock = clock
        self._alerts = alerts
        self._site_status = site_status
        self._kinds = {d.id: d.kind for d in config.devices}
        self._chains = config.notify.chains
        self.central_store = central_store
        self.sender: MessageUplink | None = None
        if self.settings.broker is not None:
            self.sender = MessageUplink(self.settings.broker, self.site, Path(config.storage.path) / MQTT_OUTBOX_NAME,
                                        clock, max_messages=self.settings.outbox_max_messages,
                                        ack_timeout=self.settings.ack_timeout, rng=rng)
        self._last_status: dict[str, Any] | None = None
        self._outage = False
        self._dropped = self._dropped_total()  # drops before this start were alerted (or not) back then
        self._lock = threading.Lock()
        self._ticker = Ticker(self.tick, self.settings.status_every, "houqin-uplink-status")
        self._queue_failing = False
        self._caught_up = self._init_catch_up() if self.sender is not None else 0
        self._caught_up_saved_at = clock.now()

    # -- listeners -----------------------------------------------------------------------------------
    def on_alert_change(self, change: AlertChange) -> None:
        """``AlertService`` listener: queue the transition (on the changing thread; quick, never raises)."""
        if self.sender is None or self._own(change.alert):
            return  # the uplink's own trouble is the site's business, and sending it would feed the backlog
        now = self._clock.now()
        # The open alerts follow the transition in the same commit, so a district service that starts later (or
        # lost its session) finds them retained, in step with the transitions before them.
        self._queue(messages.transition(self.site, change.kind, change.alert, now, facts=self.facts(change.alert)),
                    self._open_alerts(now), keys=(messages.transition_key(change.alert.id, change.kind),))

    def on_escalated(self, alert: Alert, step: int) -> None:
        """Escalator listener: the alert went to chain step ``step`` (2, 3, ...) unacknowledged."""
        self._queue(messages.transition(self.site, "escalated", alert, self._clock.now(), step=step,
                                        facts=self.facts(alert)))

    @staticmethod
    def _own(alert: Alert) -> bool:
        return alert.rule in (RULE_OUTAGE, RULE_DROPPED)

    def facts(self, alert: Alert) -> messages.AlertFacts:
        """The alert's device kind and the site's escalation time for it (its chain's second step)."""
        chain = self._chains.get(alert.chain or "")
        after = chain.steps[1].after if chain is not None and len(chain.steps) > 1 else None
        return messages.AlertFacts(device_kind=self._kinds.get(alert.device or "", ""), escalate_after=after)

    def _open_alerts(self, now: float) -> messages.Outgoing | None:
        try:
            alerts = [a for a in self._alerts.list(open_only=True) if not self._own(a)]
        except Exception:
            log.exception("could not list the open alerts for the central broker")
            return None
        return messages.open_alerts(self.site, [(a, self.facts(a)) for a in reversed(alerts)], now)

    def _queue(self, *msgs: messages.Outgoing | None, keys: Sequence[str] = ()) -> bool:
        if self.sender is None:
            return False
        try:
            self.sender.put([m for m in msgs if m is not None], keys)
        except Exception as e:  # an alert change left out is caught up at a later check (catch_up)
            # Once per failure, not every minute while the disk stays full.
            log.log(logging.DEBUG if self._queue_failing else logging.ERROR,
                    "could not queue a message for the central broker (%s); alert changes are caught up once it "
                    "can", e)
            self._queue_failing = True
            return False
        if self._queue_failing:
            self._queue_failing = False
            log.warning("messages for the central broker are queued again")
        return True

    def _init_catch_up(self) -> int:
        """Where the catch-up starts: the stored place, or, at the first start with a central broker, the newest
        change (earlier alerts are history, not a backlog). Read before the listener hears anything."""
        assert self.sender is not None
        outbox = self.sender.outbox
        newest = self._alerts.last_change_id()
        stored = outbox.state().get(CAUGHT_UP)
        if stored is not None and int(stored) <= newest:
            return int(stored)
        if stored is not None:  # the events database was restored from a backup: its ids run again
            log.warning("the alerts' timeline is behind what the uplink went through (a restored events database?); "
                        "the district is sent the alert changes from now on")
        try:
            outbox.forget_keys(float("inf"))
            outbox.set_state(**{CAUGHT_UP: str(newest)})
        except Exception as e:  # kept in memory; saved with the next catch-up's save
            log.warning("could not save where the alerts' catch-up starts: %s", e)
        return newest

    def catch_up(self) -> None:
        """Queue the alert changes the district was not sent (see the module), in order, with the open alerts."""
        if self.sender is None:
            return
        try:
            # Other changes wait meanwhile: one committed but not yet told would look missed and go twice.
            with self._alerts.in_order():
                self._catch_up(self.sender.outbox)
        except Exception as e:  # the outbox or the events database failing: the next check tries again
            log.log(logging.DEBUG if self._queue_failing else logging.WARNING,
                    "could not check which alert changes the district was sent: %s; trying again at the next check", e)

    def _catch_up(self, outbox: Outbox) -> None:
        newest = self._alerts.last_change_id()
        if newest <= self._caught_up:
            return
        changes = self._alerts.changes_after(self._caught_up, up_to=newest, limit=CATCH_UP_PAGE)
        wanted = [(c, messages.transition_key(c.alert.id, c.kind)) for c in changes if not self._own(c.alert)]
        queued = outbox.queued_keys([k for _, k in wanted])
        missing = [(c, k) for c, k in wanted if k not in queued]
        if missing:
            if not self._queue(*[messages.transition(self.site, c.kind, c.alert, c.ts, facts=self.facts(c.alert))
                                 for c, _ in missing], self._open_alerts(self._clock.now()),
                               keys=[k for _, k in missing]):
                return  # the next check tries again from the same place
            log.warning("%d alert change(s) had not been queued for the district (the gateway stopped in between, "
                        "or the outbox failed); queued now", len(missing))
        # Past the timeline's other lines too (notifications), unless a page ended early.
        self._caught_up = changes[-1].id if len(changes) == CATCH_UP_PAGE else newest
        now = self._clock.now()
        # The place is kept in memory and saved now and then (each save is a synchronous commit on the SD card):
        # one saved late only makes the next start look again at changes whose keys say they went.
        if missing or now - self._caught_up_saved_at >= CATCH_UP_SAVE_S:
            self._save_catch_up(now)

    def _save_catch_up(self, now: float) -> None:
        assert self.sender is not None
        self.sender.outbox.set_state(**{CAUGHT_UP: str(self._caught_up)})
        self.sender.outbox.forget_keys(now - KEYS_KEPT_S)
        self._caught_up_saved_at = now

    # -- status and backlog --------------------------------------------------------------------------
    def tick(self) -> None:
        """Send the site's status if it changed; raise or end the outage alert; alert on new drops."""
        with self._lock:
            self.catch_up()
            self._send_status()
            self._check_backlog()

    def _send_status(self) -> None:
        if self.sender is None:
            return
        st = self._site_status()
        doc = st.doc()
        if doc != self._last_status:
            self._queue(messages.status(self.site, st, self._clock.now()))
            self._last_status = doc

    def backlogs(self) -> dict[str, Backlog]:
        """The central store's and the central broker's outboxes, by name."""
        out = {}
        now = self._clock.now()
        if self.central_store is not None:
            s = self.central_store.status()
            out["store"] = Backlog(s.depth, s.oldest_age_s, s.dropped, s.last_error)
        if self.sender is not None:
            c = self.sender.counts()
            age = None if c.oldest_queued_at is None else max(0.0, now - c.oldest_queued_at)
            out["broker"] = Backlog(c.depth, age, c.dropped, self.sender.forwarder.last_error)
        return out

    def _dropped_total(self) -> int:
        return sum(b.dropped for b in self.backlogs().values())

    def _check_backlog(self) -> None:
        backlogs = self.backlogs()
        late = {name: b for name, b in backlogs.items()
                if b.oldest_age_s is not None and b.oldest_age_s >= self.settings.outage_alert_after}
        if late and not self._outage:
            oldest = max(b.oldest_age_s or 0.0 for b in late.values())
            errors = "; ".join(f"{n}: {b.last_error}" for n, b in late.items() if b.last_error)
            self._alerts.raise_alert(OpenRequest(
                rule=RULE_OUTAGE, device=DEVICE, kind=RULE_OUTAGE, severity="major", chain=self.settings.alert_chain,
                metric=None, value=None, since=self._clock.now(),
                detail=(f"{sum(b.depth for b in late.values())} item(s) wait for the district, the oldest for "
                        f"{oldest / 3600:.1f} h; last error: {errors}")))
        elif not late and self._outage:
            self._alerts.end(RULE_OUTAGE, DEVICE)
        self._outage = bool(late)
        dropped = sum(b.dropped for b in backlogs.values())
        if dropped > self._dropped:
            # Latched: what was dropped never reaches the district, so someone must acknowledge it.
            self._alerts.raise_alert(OpenRequest(
                rule=RULE_DROPPED, device=DEVICE, kind=RULE_DROPPED, severity="major", chain=self.settings.alert_chain,
                metric=None, value=float(dropped), since=self._clock.now(), latch=True,
                detail=f"{dropped} item(s) dropped: the uplink's outbox was full while the district was unreachable"))
            self._alerts.end(RULE_DROPPED, DEVICE, float(dropped))
            self._dropped = dropped

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to the central broker, send the status, and check every ``status_every``."""
        if self.sender is not None:
            self._queue(self._open_alerts(self._clock.now()))
            self.sender.start()
        self.tick()
        self._ticker.start()

    def stop(self) -> None:
        """Stop checking and sending; what is unsent stays in the outboxes."""
        self._ticker.stop()
        if self.sender is not None:
            try:
                self._save_catch_up(self._clock.now())
            except Exception as e:  # the next start looks again from the last saved place
                log.warning("could not save where the alerts' catch-up is: %s", e)
            self.sender.stop()
