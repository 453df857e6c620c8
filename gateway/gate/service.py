"""The gate as one gateway component: ingest observer for card reads, the API the dashboard uses, and a
ticker that judges patrol rounds, keeps the agents' card list current and purges old visitor records."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.clock import Clock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.gate import links
from gateway.gate.access import AccessControl, AccessRecord, Publisher
from gateway.gate.authentic import EventAuthenticity
from gateway.gate.cards import CardRegistry
from gateway.gate.crypto import IdCipher, load_key
from gateway.gate.handover import Handover, HandoverBook
from gateway.gate.patrols import Patrols
from gateway.gate.visitors import Visitor, VisitorBook
from gateway.i18n import gettext, tr
from gateway.listeners import Listeners
from gateway.model import CommittedBatch, Event
from gateway.notify.build import message_channels
from gateway.notify.channel import Channel
from gateway.notify.message import Message
from gateway.notify.send import nobody_reached, send_now
from gateway.secret_files import APPROVAL_LINK_KEY, read_or_create, write_new
from gateway.ticker import Ticker

if TYPE_CHECKING:
    from gateway.store.base import TimeSeriesStore

log = logging.getLogger(__name__)

#: The alert raised when someone forges a gate command, card list, card read or exit-button press.
FORGERY_RULE = "gate-forgery"
#: What was forged, as the agent and the gate name it -> words for people (msgids).
FORGED_WHAT = {"set": "an opening command", "cards": "the card list", "heartbeat": "the gateway's heartbeat",
               "card": "a card read", "button": "an exit-button press"}
#: Why it was refused -> words for people (msgids).
FORGED_WHY = {"unsigned": "not signed", "altered": "signature does not match", "stale": "too old",
              "replayed": "replayed"}

#: How often visitor records past the retention are looked for.
PURGE_EVERY_S = 3600.0

GateListener = Callable[[str, dict[str, Any]], None]


class Gate:
    """Cards, access, visitors, patrols and handover for one site (see the package docstring)."""

    def __init__(self, config: Config, db: EventsDB, clock: Clock, *, publisher: Publisher | None = None,
                 alerts: AlertService | None = None, store: TimeSeriesStore | None = None,
                 channels: Mapping[str, Channel] | None = None, tick_every_s: float = 1.0,
                 command_key: bytes | None = None) -> None:
        self.config = config
        #: Where approval requests go: the gateway's channels when handed over, else webhooks and e-mail.
        self.channels = message_channels(config.notify.channels) if channels is None else channels
        self.settings = config.gate
        self.site = config.site.id
        self.tz = config.site.tz
        self.db = db
        self.clock = clock
        self.alerts = alerts
        self.store = store
        s = self.settings
        cipher = IdCipher(load_key(s.id_key_env, s.id_key_file)) if s.id_numbers == "encrypted" else None
        self.cards = CardRegistry(db, clock)
        self.access = AccessControl(s, self.site, self.tz, db, self.cards, clock, publisher, command_key)
        agent_inputs = [x.device for x in config.sensors if x.type in ("card_reader", "button")]
        #: Tells signed card and button events from forged ones (the rules ask it too).
        self.authenticity = EventAuthenticity(self.access.command_key, self.site, [*agent_inputs, *s.signed_devices])
        self.visitors = VisitorBook(db, clock, cipher)
        default_dev = s.readers[0].device if s.readers else None
        self.patrols = Patrols(s, self.tz, db, clock, alerts, self.nearby_readings, default_dev,
                               locale=config.site.locale)
        self.handovers = HandoverBook(db, clock)
        self._listeners: Listeners[[str, dict[str, Any]]] = Listeners("gate listener")
        self._lock = threading.Lock()
        self._ticker = Ticker(self.tick, tick_every_s, "houqin-gate-tick")
        self._last_purge = float("-inf")
        self._link_key: str | None = None
        self.access.add_listener(lambda rec: self._tell("access", rec.as_dict()))

    # -- listeners (the dashboard's live updates) ---------------------------------------------------
    def add_listener(self, listener: GateListener) -> None:
        """Call ``listener(kind, data)`` on ``access``, ``visitor``, ``checkin``, ``handover`` changes."""
        self._listeners.add(listener)

    def _tell(self, kind: str, data: dict[str, Any]) -> None:
        self._listeners.tell(kind, data)

    # -- ingest ------------------------------------------------------------------------------------
    def on_batch(self, batch: CommittedBatch) -> None:
        """``BatchObserver``: decide card reads, record patrol check-ins (never raises)."""
        for e in batch.events:
            if e.type == "forged":
                self.forgery(e.device, str(e.data.get("what", "")), str(e.data.get("reason", "")), e.ts)
                continue
            refusal = self.authenticity.refusal(e, self.clock.now())
            if refusal is not None:
                self._forged_event(e, refusal.reason, str(refusal))
                continue
            if e.type != "card":
                continue
            uid = e.data.get("uid")
            if not isinstance(uid, str) or not uid:
                continue
            try:
                self.on_card(e.device, uid, e.ts, dict(e.data))
            except Exception:
                log.exception("card read %s at %s could not be handled", uid, e.device)

    def _forged_event(self, e: Event, reason: str, why: str) -> None:
        uid = e.data.get("uid")
        if e.type == "card" and isinstance(uid, str) and uid:
            self.access.refuse_forged(e.device, uid, e.ts, why)
        else:
            log.warning("%s event at %s refused: %s", e.type, e.device, why)
        self.forgery(e.device, e.type, reason, e.ts)

    def forgery(self, device: str, what: str, reason: str, ts: float) -> None:
        """Raise the gate alarm: someone forged a command, the card list, a card read or a button press."""
        loc = self.config.site.locale
        detail = tr(loc, "{what} at {device} refused: {why}", what=gettext(loc, FORGED_WHAT.get(what, what)),
                    device=self._device_label(device), why=gettext(loc, FORGED_WHY.get(reason, reason)))
        log.warning("gate alarm: %s", detail)
        self._tell("forged", {"device": device, "what": what, "reason": reason, "ts": ts})
        if self.alerts is None:
            return
        self.alerts.raise_alert(OpenRequest(
            rule=FORGERY_RULE, device=device, kind="gate_forgery", severity="critical",
            chain=self.settings.forgery_notify, metric=None, value=None, detail=detail, since=ts, latch=True))
        # Latched: it stays until the guard acknowledges it, however many times the forgery is repeated.
        self.alerts.end(FORGERY_RULE, device)

    def _device_label(self, device: str) -> str:
        d = self.config.device(device)
        return d.label if d is not None else device

    def on_card(self, reader: str, uid: str, ts: float, data: dict[str, Any] | None = None) -> AccessRecord | None:
        """One card read: a checkpoint tag checks in; a card is decided (and a guard's card may check in)."""
        data = data or {}
        if self.patrols.is_tag(uid):
            for route, cp in self.patrols.checkpoints_for(reader, uid, ""):
                self._check_in(route.id, cp.id, ts, "", uid)
            return None
        rec = None
        if self.settings.reader(reader) is not None or not self.patrols.checkpoints_for(reader, uid, "guard"):
            rec = self.access.on_card(reader, uid, ts, data)
        card = self.cards.by_uid(uid)
        if card is not None and card.kind == "guard" and not card.rule.disabled:
            for route, cp in self.patrols.checkpoints_for(reader, uid, "guard"):
                self._check_in(route.id, cp.id, ts, card.holder, card.uid)
        return rec

    def _check_in(self, route: str, checkpoint: str, ts: float, by: str, uid: str) -> None:
        ci = self.patrols.check_in(route, checkpoint, ts, by, uid)
        if ci is not None:
            self._tell("checkin", ci.as_dict())

    def nearby_readings(self, devices: list[str]) -> list[dict[str, Any]]:
        """Latest reading of every metric of ``devices`` (what a check-in records)."""
        if self.store is None:
            return []
        out = []
        for d in devices:
            for s in self.store.series(d):
                out.append({"device": s.device, "metric": s.metric, "value": s.last_value, "ts": s.last_ts})
        return out

    # -- visitors ----------------------------------------------------------------------------------
    def register_visitor(self, **fields: Any) -> Visitor:
        """Register a visitor and send the approval request (link) to ``approval_channels``."""
        v = self.visitors.register(**fields)
        self._tell("visitor", v.as_dict())
        if self.settings.approval_channels:
            threading.Thread(target=self.send_approval_request, args=(v,), name="houqin-gate-approval",
                             daemon=True).start()
        return v

    def link_key(self) -> str:
        """The approval-link signing key, in its own 0600 file in the data directory (never in the config, a
        database other tools read, or the repo); a key an older version kept in the events DB moves there."""
        if self._link_key is None:
            path = self.config.storage.path / APPROVAL_LINK_KEY
            conn = self.db.conn()
            row = conn.execute("SELECT value FROM gate_state WHERE key = 'link_key'").fetchone()
            if row is not None and not path.exists():
                write_new(path, str(row[0]))  # links already sent stay valid
            self._link_key = read_or_create(path)
            if row is not None:
                conn.execute("DELETE FROM gate_state WHERE key = 'link_key'")
        return self._link_key

    def approval_token(self, visitor_id: int) -> str:
        """A signed token valid for ``approval_ttl`` to approve or refuse this visitor."""
        return links.sign(self.link_key(), visitor_id, self.clock.now() + self.settings.approval_ttl)

    def approval_url(self, visitor_id: int) -> str:
        """The full link for messages (``public_url`` + ``/v/<token>``)."""
        return f"{self.settings.public_url}/v/{self.approval_token(visitor_id)}"

    def send_approval_request(self, v: Visitor) -> dict[str, str | None]:
        """Send the approval request to each approval channel; channel -> None (sent) or the error."""
        loc = self.config.site.locale
        url = self.approval_url(v.id)
        lines = [tr(loc, "Visitor at the gate: {name}", name=v.name),
                 tr(loc, "Organisation: {org}", org=v.organisation or "—"),
                 tr(loc, "Purpose: {purpose}", purpose=v.purpose or "—"),
                 tr(loc, "Visiting: {host}", host=v.host)]
        if v.watch is not None:
            lines.append(tr(loc, "WARNING: matches the watch list ({reason})", reason=v.watch.reason))
        lines.append(tr(loc, "Approve or refuse: {url}", url=url))
        title = tr(loc, "Visitor for {host}: {name}", host=v.host, name=v.name)
        text = title + "\n" + "\n".join(lines)
        markdown = f"**{title}**\n\n" + "\n".join(f"> {ln}" for ln in lines[:-1]) + \
                   f"\n\n[{tr(loc, 'Approve or refuse')}]({url})"
        message = Message(title, text, markdown, fields={"event": "report", "report": "visitor_approval"})
        results = send_now(self.channels, self.settings.approval_channels, message)
        if nobody_reached(results):
            # Nobody was asked: the desk says so, so the guard phones the person visited instead of waiting.
            self.visitors.unsent[v.id] = "; ".join(str(err) for err in results.values())
            self._tell("visitor", self.visitors.get(v.id).as_dict())
        return results

    def decide_visitor(self, visitor_id: int, approve: bool, by: str, note: str = "") -> Visitor:
        """Approve or refuse; an approval releases the gate when ``release_on_approval`` is set."""
        v = self.visitors.decide(visitor_id, approve, by, note)
        self.visitors.unsent.pop(visitor_id, None)
        if approve and self.settings.release_on_approval:
            self.access.release(self.settings.release_on_approval, f"visitor {v.id}")
        self._tell("visitor", v.as_dict())
        return v

    def decide_by_link(self, token: str, approve: bool, note: str = "") -> Visitor:
        """Decide through a signed link (LinkError when forged or expired), in the name of the person it was
        sent to (the visitor's host): whoever holds the link cannot put the decision in someone else's name."""
        claim = links.verify(self.link_key(), token, self.clock.now())
        host = self.visitors.get(claim.visitor_id).host
        return self.decide_visitor(claim.visitor_id, approve, host, note)

    def visitor_for_link(self, token: str) -> Visitor:
        """The visitor a valid link is about."""
        claim = links.verify(self.link_key(), token, self.clock.now())
        return self.visitors.get(claim.visitor_id)

    def sign_in(self, visitor_id: int) -> Visitor:
        """The approved visitor enters."""
        v = self.visitors.sign_in(visitor_id)
        self._tell("visitor", v.as_dict())
        return v

    def sign_out(self, visitor_id: int) -> Visitor:
        """The visitor leaves."""
        v = self.visitors.sign_out(visitor_id)
        self._tell("visitor", v.as_dict())
        return v

    def on_site(self) -> dict[str, Any]:
        """Who is on site now: visitors signed in and not out, contractors' cards in without out."""
        return {"visitors": [v.as_dict() for v in self.visitors.on_site()],
                "contractors": [r.as_dict() for r in self.access.contractors_on_site()],
                "ts": self.clock.now()}

    def purge(self) -> int:
        """Delete visitor records past the retention now (and their names in older handover snapshots)."""
        self.handovers.forget_visitors(self.clock.now() - self.settings.retention)
        return self.visitors.purge(self.settings.retention)

    # -- handover ----------------------------------------------------------------------------------
    def handover_prefill(self) -> dict[str, Any]:
        """What the handover page starts with: open alerts, visitors on site, the shift's gate events."""
        start = self.handovers.shift_start()
        now = self.clock.now()
        alerts = [a.as_dict() for a in self.alerts.list(open_only=True)] if self.alerts is not None else []
        access = [r.as_dict() for r in reversed(self.access.recent(500, since=start, until=now + 1))]
        rounds = [r.as_dict() for r in self.patrols.rounds(start, now) if r.start <= now]
        return {"shift_start": start, "now": now, "alerts": alerts,
                "visitors": [v.as_dict() for v in self.visitors.on_site()],
                "contractors": [r.as_dict() for r in self.access.contractors_on_site()],
                "access": access, "rounds": rounds,
                "visitors_today": len(self.visitors.find(since=start, limit=10_000))}

    def write_handover(self, by: str, note: str, open_issues: str = "") -> Handover:
        """Save the handover with the pre-filled snapshot of this moment."""
        snap = self.handover_prefill()
        h = self.handovers.write(by, note, open_issues, snap, snap["shift_start"])
        self._tell("handover", {"id": h.id, "by": h.by})
        return h

    def ack_handover(self, handover_id: int, by: str) -> Handover:
        """The next guard acknowledges."""
        h = self.handovers.acknowledge(handover_id, by)
        self._tell("handover", {"id": h.id, "acked_by": h.acked_by})
        return h

    # -- component ---------------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> None:
        """Judge ended patrol rounds, republish a changed card list, purge once an hour."""
        now = self.clock.now() if now is None else now
        for r in self.patrols.judge(now):
            self._tell("round", r.as_dict())
        self.access.publish_card_list()
        self.access.heartbeat(now)
        if now - self._last_purge >= PURGE_EVERY_S:
            self._last_purge = now
            self.purge()

    def start(self) -> None:
        """Move the link key out of the events DB (older versions kept it there); start the one-second ticker."""
        self.link_key()
        self._ticker.start()

    def stop(self) -> None:
        """Stop the ticker and tell the agents the gateway is going."""
        self._ticker.stop()
        self.access.goodbye()
