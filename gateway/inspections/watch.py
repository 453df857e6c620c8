"""The disinfection watch: a gateway component and ingest observer over the rooms' UV lamp plugs.

- every reading of a plug drawing power while children are in the room raises the safety alarm at once
  (latched: someone must acknowledge it);
- every minute the plugs' recent readings become sessions, and ended ones are recorded;
- each day is judged against the room's schedule once its window is over (missed or too short: an alert);
- a lamp at its configured life raises a replacement reminder, cleared at the next scan after a new lamp
  is recorded.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.clock import Clock
from gateway.i18n import tr
from gateway.inspections.disinfection import DisinfectionRecord
from gateway.inspections.sessions import Session, sessions
from gateway.inspections.settings import RoomSettings
from gateway.model import CommittedBatch, Reading
from gateway.store.base import TimeSeriesStore
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

OCCUPIED_RULE = "uv-lamp-occupied"
MISSED_RULE = "disinfection-missed"
LIFE_RULE = "uv-lamp-life"
#: How far back each scan reads a plug's readings (a session longer than this is cut, and left unrecorded).
LOOKBACK = 36 * 3600.0
#: Seconds between scans of the plugs.
SCAN_EVERY = 60.0
#: How many past days are judged (a gateway down longer skips the older ones instead of alerting late).
JUDGE_DAYS = 2


class DisinfectionWatch:
    """Records sessions, judges days and raises the disinfection alerts; ``tick(now)`` is what time moves."""

    def __init__(self, record: DisinfectionRecord, store: TimeSeriesStore, alerts: AlertService | None, clock: Clock,
                 locale: str, every: float = 30.0) -> None:
        self.record = record
        self.settings = record.settings
        self.store = store
        self.alerts = alerts
        self.clock = clock
        self.locale = locale
        self._plugs = {r.plug: r for r in self.settings.rooms if r.plug is not None}
        self._running: dict[str, Session] = {}  # room -> session still on at the last scan
        self._scanned_at = float("-inf")
        self._first_tick: float | None = None
        self._lock = threading.Lock()
        self._ticker = Ticker(self.tick, every, "houqin-disinfection")

    def start(self) -> None:
        """Tick in a thread."""
        if self.settings.rooms:
            self._ticker.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._ticker.stop()

    # -- readings ----------------------------------------------------------------------------------
    def on_batch(self, batch: CommittedBatch) -> None:
        """``BatchObserver``: a room's lamp drawing power while children are in it is alarmed at once."""
        for r in batch.readings:
            if r.metric == "power_w" and r.device in self._plugs:
                try:
                    self.on_reading(r)
                except Exception:
                    log.exception("checking the UV lamp on %s failed", r.device)

    def on_reading(self, r: Reading) -> None:
        """Raise or end the safety alarm of the reading's room."""
        if self.alerts is None:
            return
        room = self._plugs[r.device]
        if r.value > self.settings.threshold_w and self.record.occupied(room, r.ts):
            self.alerts.raise_alert(OpenRequest(
                rule=OCCUPIED_RULE, device=r.device, kind="uv_lamp_occupied", severity=self.settings.safety_severity,
                chain=self.settings.notify, metric="power_w", value=r.value,
                detail=tr(self.locale, "{room}: UV lamp on ({watts:.0f} W) while children are in the room",
                          room=room.label, watts=r.value),
                since=r.ts, latch=True))
        elif r.value <= self.settings.threshold_w:
            self.alerts.end(OCCUPIED_RULE, r.device, r.value)

    # -- time --------------------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> None:
        """Scan the plugs (every minute), judge the days that are due, check the lamps' lives."""
        t = self.clock.now() if now is None else now
        if self._first_tick is None:
            self._first_tick = t
        if t - self._scanned_at >= SCAN_EVERY:
            self._scanned_at = t
            for job in (self.scan, self.judge, self.lamps):
                try:
                    job(t)
                except Exception:
                    log.exception("disinfection job %s failed", job.__name__)

    def scan(self, now: float) -> int:
        """Turn the plugs' recent readings into sessions and record the ended ones; returns how many were new."""
        new = 0
        s = self.settings
        for plug, room in self._plugs.items():
            readings = [(x.ts, x.value) for x in self.store.query(plug, "power_w", now - LOOKBACK, now + 1)]
            found = sessions(readings, s.threshold_w, s.max_gap, until=now)
            running = None
            for sess in found:
                if readings and sess.start == readings[0][0]:
                    continue  # began before the look-back: its start is unknown
                if sess.end is None:
                    running = sess
                elif self.record.add_plug_session(room.id, sess.start, sess.end, sess.peak_w):
                    new += 1
            with self._lock:
                if running is None:
                    self._running.pop(room.id, None)
                else:
                    self._running[room.id] = running
        return new

    def running(self, room_id: str) -> Session | None:
        """The room's session still on at the last scan."""
        with self._lock:
            return self._running.get(room_id)

    def judge(self, now: float) -> list[tuple[str, str, str]]:
        """Judge each room's days whose time has come; returns ``(room, day, verdict)`` of the newly judged."""
        out: list[tuple[str, str, str]] = []
        today = datetime.fromtimestamp(now, self.record.tz).date()
        db = self.record.db.conn()
        first = self._first_tick if self._first_tick is not None else now
        for room in self.settings.rooms:
            # A room never judged before (a fresh install, a new room) is judged from the first tick on, so
            # that switching Houqin on does not alert about days nobody recorded.
            new_room = db.execute("SELECT 1 FROM disinfection_days WHERE room = ? LIMIT 1",
                                  (room.id,)).fetchone() is None
            for back in range(JUDGE_DAYS, -1, -1):
                day = today - timedelta(days=back)
                due = self.record.judge_at(room, day)
                if now < due or (new_room and due < first):
                    continue
                rec = self.record.day(room, day, now)
                if rec.verdict not in ("ok", "short", "missed"):
                    continue
                cur = db.execute("INSERT OR IGNORE INTO disinfection_days (room, day, result, judged_at) "
                                 "VALUES (?, ?, ?, ?)", (room.id, day.isoformat(), rec.verdict, now))
                if cur.rowcount == 0:
                    continue
                out.append((room.id, day.isoformat(), rec.verdict))
                if rec.verdict != "ok":
                    self._alert_missed(room, day.isoformat(), rec.verdict, max(
                        (e.effective_s for e in rec.entries), default=0.0))
        return out

    def _alert_missed(self, room: RoomSettings, day: str, verdict: str, best_s: float) -> None:
        if self.alerts is None:
            return
        s = self.settings
        need = s.min_of(room) / 60
        if verdict == "missed":
            detail = tr(self.locale, "{room}: no disinfection on {day} (needs {need:.0f} min from {window})",
                        room=room.label, day=day, need=need, window=str(s.window_of(room)))
        else:
            detail = tr(self.locale, "{room}: disinfection on {day} too short: {got:.0f} of {need:.0f} min",
                        room=room.label, day=day, got=best_s / 60, need=need)
        device = room.plug or room.id
        self.alerts.raise_alert(OpenRequest(
            rule=MISSED_RULE, device=device, kind="disinfection_missed", severity=s.severity, chain=s.notify,
            metric=None, value=round(best_s / 60, 1), detail=detail, since=self.clock.now(), latch=True))
        self.alerts.end(MISSED_RULE, device)  # latched: stays until someone acknowledges it

    def lamps(self, now: float) -> list[str]:
        """Raise the replacement reminder of every lamp at its life; returns those rooms."""
        out = []
        s = self.settings
        reminded = ({a.device for a in self.alerts.list(open_only=True, rule=LIFE_RULE)}
                    if self.alerts is not None else set())
        for room in self.settings.rooms:
            if room.plug is None:
                continue
            running = self.running(room.id)
            hours = self.record.lamp_hours(room, now, running.on_s(now) if running else 0.0)
            if hours < s.lamp_life_h:
                if room.plug in reminded and self.alerts is not None:
                    self.alerts.end(LIFE_RULE, room.plug)  # a new lamp was recorded
                continue
            out.append(room.id)
            if self.alerts is not None:
                self.alerts.raise_alert(OpenRequest(
                    rule=LIFE_RULE, device=room.plug, kind="uv_lamp_life", severity=s.severity, chain=s.notify,
                    metric=None, value=round(hours, 1),
                    detail=tr(self.locale, "{room}: UV lamp has burnt {hours:.0f} h of its {life:.0f} h; replace it",
                              room=room.label, hours=hours, life=s.lamp_life_h),
                    since=now))
        return out
