"""Access decisions on card reads: look the card up, accept or refuse, log it, pulse the lock relay, tell
listeners (the guard's screen) at once; and keep the agent's cached card list current (retained MQTT)."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from gateway import contract
from gateway.clock import Clock
from gateway.eventsdb import EventsDB
from gateway.gate.card_rules import decide, normalise_uid
from gateway.gate.cards import CardRegistry
from gateway.gate.settings import GateSettings
from gateway.listeners import Listeners

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """The MQTT link as the gate uses it (``MqttLink.publish``)."""

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Queue a message; False when it could not be queued."""
        ...


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One decision on one card read, as logged and shown to the guard."""

    id: int
    ts: float
    reader: str
    uid: str
    holder: str
    kind: str
    accepted: bool
    reason: str
    direction: str
    decided: str
    relay: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


AccessListener = Callable[[AccessRecord], None]
_COLS = "id, ts, reader, uid, holder, kind, accepted, reason, direction, decided, relay"


def _record(row: tuple[Any, ...]) -> AccessRecord:
    return AccessRecord(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7], row[8], row[9], row[10])


def relay_command(seconds: float, now: float) -> bytes:
    """The ``set`` payload that pulses a lock relay (``ts`` lets the agent refuse it when it arrives late; the
    link seals it with the site key, ``gateway.signed_link``)."""
    return json.dumps({"relay": "pulse", "seconds": seconds, "ts": now}).encode()


#: How often the gateway says it is up on its signed heartbeat (agents count it gone after a few missed).
HEARTBEAT_S = 5.0


class AccessControl:
    """Decides card reads for ``[[gate.readers]]`` and logs every decision (any thread)."""

    def __init__(self, settings: GateSettings, site: str, tz: ZoneInfo, db: EventsDB, cards: CardRegistry,
                 clock: Clock, publisher: Publisher | None = None, command_key: bytes | None = None) -> None:
        self.settings = settings
        #: Keys the card digests of the agents' cached list (None: a key of this process only, for tests).
        self.command_key = command_key if command_key is not None else secrets.token_bytes(32)
        self._last_heartbeat = float("-inf")
        self.site = site
        self.tz = tz
        self.db = db
        self.cards = cards
        self.clock = clock
        self.publisher = publisher
        self._listeners: Listeners[[AccessRecord]] = Listeners("access listener")
        self._lock = threading.Lock()
        self._published_version: str | None = None

    def add_listener(self, listener: AccessListener) -> None:
        """Call ``listener(record)`` after each logged decision (be quick, never raise)."""
        self._listeners.add(listener)

    def _tell(self, rec: AccessRecord) -> None:
        self._listeners.tell(rec)

    def verdict(self, reader: str, uid: str, ts: float) -> bool | None:
        """Whether the gateway accepts ``uid`` at ``reader`` at ``ts``; None for a reader it does not decide for."""
        if self.settings.reader(reader) is None:
            return None
        card = self.cards.by_uid(normalise_uid(uid))
        return decide(card.rule if card else None, ts, self.tz)[0]

    def on_card(self, reader: str, uid: str, ts: float, data: dict[str, Any]) -> AccessRecord | None:
        """Decide one card read; returns the logged record (None when it was logged before: a redelivery)."""
        uid = normalise_uid(uid)
        rs = self.settings.reader(reader)
        direction = rs.direction if rs else "in"
        card = self.cards.by_uid(uid)
        now = self.clock.now()
        if data.get("offline") and isinstance(data.get("accepted"), bool):
            # The agent decided on its cached list while the gateway was away (and released the lock itself).
            accepted, reason = bool(data["accepted"]), str(data.get("reason") or
                                                           ("accepted" if data["accepted"] else "unknown"))
            decided, relay = "agent", (rs.relay if rs and accepted else None)
        elif rs is None and isinstance(data.get("accepted"), bool):
            # Not one of [[gate.readers]]: a controller that decides by itself (or the simulator) said.
            accepted = bool(data["accepted"])
            reason = str(data.get("reason") or ("accepted" if accepted else "refused"))
            decided, relay = "reader", None
        else:
            accepted, reason = decide(card.rule if card else None, ts, self.tz)
            decided, relay = "gateway", None
            if accepted and rs is not None and rs.relay is not None:
                if now - ts > self.settings.late_after:
                    reason = "late"  # the person has long gone; opening now would be a hazard
                else:
                    relay = rs.relay
        rec = self._log(ts, reader, uid, card.id if card else None, card.holder if card else "",
                        card.kind if card else "", accepted, reason, direction, decided, relay)
        if rec is None:
            return None
        if decided == "gateway" and relay is not None:
            self.pulse(relay)
        if accepted:
            log.info("card %s (%s) accepted at %s", uid, rec.holder, reader)
        else:
            log.warning("card %s refused at %s: %s", uid, reader, reason)
        self._tell(rec)
        return rec

    def _log(self, ts: float, reader: str, uid: str, card_id: int | None, holder: str, kind: str, accepted: bool,
             reason: str, direction: str, decided: str, relay: str | None) -> AccessRecord | None:
        conn = self.db.conn()
        cur = conn.execute(
            "INSERT OR IGNORE INTO gate_access (ts, reader, uid, card_id, holder, kind, accepted, reason, direction,"
            " decided, relay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ts, reader, uid, card_id, holder, kind, int(accepted), reason, direction, decided, relay))
        if cur.rowcount == 0:
            return None
        return AccessRecord(int(cur.lastrowid or 0), ts, reader, uid, holder, kind, accepted, reason, direction,
                            decided, relay)

    def refuse_forged(self, reader: str, uid: str, ts: float, why: str) -> AccessRecord | None:
        """Log a card read that is forged or replayed: it opens nothing and names no holder (it proves nobody came)."""
        rs = self.settings.reader(reader)
        rec = self._log(ts, reader, normalise_uid(uid), None, "", "", False, "forged", rs.direction if rs else "in",
                        "gateway", None)
        log.warning("card read %s at %s refused: %s", uid, reader, why)
        if rec is not None:
            self._tell(rec)
        return rec

    def pulse(self, relay_device: str, seconds: float | None = None) -> bool:
        """Send the relay pulse command to ``relay_device``; False when MQTT is not connected."""
        if self.publisher is None:
            log.warning("no MQTT link: cannot release %s", relay_device)
            return False
        now = self.clock.now()
        ok = self.publisher.publish(contract.set_topic(self.site, relay_device),
                                    relay_command(seconds or self.settings.relay_seconds, now), qos=1)
        if not ok:
            log.error("relay pulse for %s could not be sent (MQTT down)", relay_device)
        return ok

    def release(self, device: str, why: str) -> bool:
        """Open a gate for a visitor: pulse its relay and publish a ``release`` event (so gate_forced knows)."""
        ok = self.pulse(device)
        if self.publisher is not None:
            self.publisher.publish(contract.event_topic(self.site, device),
                                   contract.encode_event("release", ts=self.clock.now(), reason=why), qos=1)
        return ok

    # -- the agent's cached list -----------------------------------------------------------------
    def card_list_payload(self) -> bytes:
        """The retained card list: hashed numbers and rules, readers and their relays, zone and pulse time."""
        body = {
            "version": self.cards.version(),
            "ts": self.clock.now(),
            "timezone": self.tz.key,
            "relay_seconds": self.settings.relay_seconds,
            "readers": {r.device: r.relay for r in self.settings.readers},
            "cards": self.cards.cached_list(self.site, self.command_key),
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def publish_card_list(self, force: bool = False) -> bool:
        """Publish the list (retained) when it changed since the last publish; returns whether it was sent."""
        if self.publisher is None:
            return False
        version = self.cards.version()
        if not force and version == self._published_version:
            return False
        if self.publisher.publish(contract.cards_topic(self.site), self.card_list_payload(), qos=1, retain=True):
            self._published_version = version
            return True
        return False

    def heartbeat(self, now: float) -> bool:
        """Say the gateway is up (signed by the link) every ``HEARTBEAT_S``; whether one was sent."""
        if self.publisher is None or 0 <= now - self._last_heartbeat < HEARTBEAT_S:  # a clock set back: at once
            return False
        self._last_heartbeat = now
        return self.publisher.publish(contract.gateway_alive_topic(self.site), b'{"status":"online"}', qos=0)

    def goodbye(self) -> bool:
        """Say (signed) that the gateway is stopping, so agents decide cards on their list at once."""
        if self.publisher is None:
            return False
        self._last_heartbeat = float("-inf")
        return self.publisher.publish(contract.gateway_alive_topic(self.site), b'{"status":"offline"}', qos=1)

    # -- reading the log ---------------------------------------------------------------------------
    def recent(self, limit: int = 50, since: float | None = None, until: float | None = None) -> list[AccessRecord]:
        """Logged decisions, newest first."""
        sql, params = f"SELECT {_COLS} FROM gate_access WHERE 1 = 1", list[Any]()
        if since is not None:
            sql += " AND ts >= ?"
            params.append(since)
        if until is not None:
            sql += " AND ts < ?"
            params.append(until)
        try:
            rows = self.db.conn().execute(sql + " ORDER BY ts DESC, id DESC LIMIT ?", [*params, limit]).fetchall()
        except sqlite3.Error:
            log.exception("reading the access log failed")
            return []
        return [_record(r) for r in rows]

    def contractors_on_site(self) -> list[AccessRecord]:
        """Contractors whose last accepted read was at an ``in`` reader with no read at an ``out`` reader since
        (in without out), oldest first. A read at an ``out`` reader counts even when refused (a contractor
        leaving after their hours is refused there, and gone)."""
        rows = self.db.conn().execute(
            f"SELECT {_COLS} FROM gate_access a WHERE kind = 'contractor' AND accepted = 1 AND id = "
            "(SELECT b.id FROM gate_access b WHERE b.uid = a.uid AND (b.accepted = 1 OR b.direction = 'out')"
            " ORDER BY b.ts DESC, b.id DESC LIMIT 1) AND direction = 'in' ORDER BY ts").fetchall()
        return [_record(r) for r in rows]
