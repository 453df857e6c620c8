"""The sensor agent: builds the ``[[sensors]]`` hardware, ticks it, publishes through the outbox."""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gateway.clock import Clock, SystemClock
from gateway.config import Config
from gateway.contract import ID_PATTERN, cards_topic, gateway_alive_topic, parse_topic, set_topic
from gateway.file_modes import make_private
from gateway.link_settings import agent_link_settings
from gateway.mqtt_link import ConnectionChange, InboundMessage, LinkSettings, MqttLink
from gateway.signing import KeyFileError, SignatureError, Signer, Verifier, ensure_key, key_path, read_key
from sensors.cardcache import CACHE_NAME, CardCache
from sensors.cards import CardReader
from sensors.config import (
    ButtonSettings,
    CardReaderSettings,
    ContactSettings,
    Ds18b20Settings,
    OutputSettings,
    PulseSettings,
)
from sensors.errors import CommandError, SensorError
from sensors.gate import Contact, ExitButton
from sensors.hardware import GpiozeroPins, Pins
from sensors.journal import PulseJournal
from sensors.messages import Emitter
from sensors.outbox import Outbox
from sensors.outputs import Command, OutputChannel, parse_command
from sensors.pulse import PulseMeter
from sensors.spool import Spool
from sensors.w1 import Ds18b20Bus, read_text
from sensors.wills import DeviceWills

log = logging.getLogger(__name__)

#: The gateway counts as up while its signed heartbeat (every 5 s) arrived within this long.
GATEWAY_SILENT_S = 15.0
#: A signed command that is merely late this soon after a (re)connection was queued for us while we were away:
#: refused (a gate opened late is a hazard) but not reported as a forgery.
RECONNECT_GRACE_S = 10.0
#: The same kind of refusal at the same device is reported at most this often (a flood raises one alarm).
REPORT_EVERY_S = 10.0
#: A card accepted on the cached list that the gateway (online) has not answered with a relay pulse within
#: this long is released here: a hung gateway whose will has not fired yet must not keep people waiting.
GATEWAY_ANSWER_S = 2.0
#: How often the run loop ticks (the debounce of contacts and the beep cadence need ~10-20 ms).
TICK_S = 0.02


class _Ticker(Protocol):
    def tick(self, now: float) -> None: ...


class _Closer(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """Where the agent keeps its state and how it names itself on the broker."""

    state_dir: Path
    agent_id: str
    spool_max: int = 100_000
    ack_timeout: float = 10.0


def default_agent_id() -> str:
    """``agent-<hostname>``, made safe for a topic level."""
    host = re.sub(r"[^a-z0-9_-]+", "-", socket.gethostname().lower()).strip("-_") or "pi"
    return f"agent-{host}"[:63]


@dataclass(slots=True)
class _Parts:
    buses: list[Ds18b20Bus] = field(default_factory=list)
    meters: list[PulseMeter] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    buttons: list[ExitButton] = field(default_factory=list)
    outputs: dict[str, dict[str, OutputChannel]] = field(default_factory=dict)
    readers: list[CardReader] = field(default_factory=list)


class Agent:
    """Reads every ``[[sensors]]`` entry and publishes native payloads; ``start``, ``tick``/``run``, ``stop``."""

    def __init__(
        self,
        config: Config,
        settings: AgentSettings,
        *,
        link_settings: LinkSettings | None = None,
        pins: Pins | None = None,
        clock: Clock | None = None,
        w1_reader: Callable[[Path], str] = read_text,
        card_openers: dict[str, Callable[[], Iterator[str]]] | None = None,
        command_key: bytes | None = None,
    ) -> None:
        if not ID_PATTERN.match(settings.agent_id):
            raise SensorError(f"agent id {settings.agent_id!r} must be lower-case letters, digits, '-' or '_'")
        self.config = config
        self.settings = settings
        self.site = config.site.id
        self.clock: Clock = clock or SystemClock()
        self._pins = pins or GpiozeroPins()
        self._w1_reader = w1_reader
        self._connected_at = float("-inf")
        self._gateway_heard = float("-inf")
        self._reported: dict[tuple[str, str, str], float] = {}
        self._card_openers = card_openers or {}
        self._stop = threading.Event()
        self._run_done = threading.Event()
        self._running = False
        self._started = False
        make_private(settings.state_dir)  # 0700, its files 0600: card hashes and spooled readings
        self.spool = Spool(settings.state_dir / "spool.sqlite", settings.spool_max)
        ls = link_settings or agent_link_settings(config, settings.agent_id)
        self.parts = _Parts()
        self._devices: list[str] = []
        has_readers = any(isinstance(s, CardReaderSettings) for s in config.sensors)
        has_outputs = any(isinstance(s, OutputSettings) for s in config.sensors)
        has_buttons = any(isinstance(s, ButtonSettings) for s in config.sensors)
        key = command_key if command_key is not None else self._load_key(has_readers or has_outputs or has_buttons)
        #: Opens the gateway's signed commands, card list and heartbeat (``gateway.signing``).
        self.verifier = Verifier(key, config.gate.command_max_age)
        #: The gateway's card list, to decide reads while the gateway is unreachable (gateway/gate).
        self.card_cache = CardCache(self.site, settings.state_dir / CACHE_NAME, key)
        self._awaiting: dict[str, tuple[float, float]] = {}  # relay device -> (deadline, pulse seconds)
        self._awaiting_lock = threading.Lock()
        try:
            self._open_outputs()
            self.link = MqttLink(
                ls,
                on_message=self._on_message,
                on_connection=self._on_connection,
                subscriptions=[set_topic(self.site, d) for d in self.parts.outputs]
                + ([cards_topic(self.site), gateway_alive_topic(self.site)] if has_readers else []),
            )
            self.outbox = Outbox(self.link, self.spool, ack_timeout=settings.ack_timeout)
            self.emitter = Emitter(self.site, self.outbox.put, self.clock, self.spool.next_epoch(), Signer(key))
            self._open_inputs()
            self.wills = DeviceWills(ls, self.site, self.devices, self._device_up)
        except BaseException:
            self._close_parts()
            self.spool.close()
            raise

    # -- building -----------------------------------------------------------------------------------
    def _load_key(self, needed: bool) -> bytes:
        """The site's gate command key; an agent with no relay, reader or button needs none (a throwaway key)."""
        path = key_path(self.config.gate.command_key_file, self.config.storage.path)
        if not needed:
            return os.urandom(32)
        try:
            # The default file is in the gateway's data directory, so on one Pi whoever starts first makes it; a
            # configured file is the installer's copy (another board), and a missing one is their mistake.
            return read_key(path) if self.config.gate.command_key_file else ensure_key(path)
        except KeyFileError as e:
            raise SensorError(f"{e}. The agent obeys only commands signed with the gateway's key: on the gateway's "
                              "Pi both use the same file; on another board copy it there and set [gate] "
                              "command_key_file") from None

    def _open_outputs(self) -> None:
        for s in self.config.sensors:
            if isinstance(s, OutputSettings):
                line = self._pins.output(s.pin, s.type, s.active_high)
                self.parts.outputs.setdefault(s.device, {})[s.type] = OutputChannel(s, line, self.clock)

    def _open_inputs(self) -> None:
        for s in self.config.sensors:
            if isinstance(s, Ds18b20Settings):
                self.parts.buses.append(Ds18b20Bus(s, self.emitter, self._w1_reader))
            elif isinstance(s, PulseSettings):
                factor = self._factor(s)
                journal = self._journal(s)
                try:
                    line = self._pins.input(s.pin, s.pull_up)
                except BaseException:
                    journal.close()
                    raise
                self.parts.meters.append(PulseMeter(s, factor, line, journal, self.emitter, self.clock))
            elif isinstance(s, ContactSettings):
                line = self._pins.input(s.pin, s.pull_up)
                self.parts.contacts.append(Contact(s, line, self.emitter, self.clock))
            elif isinstance(s, ButtonSettings):
                line = self._pins.input(s.pin, s.pull_up)
                self.parts.buttons.append(ExitButton(s, line, self.emitter, self.clock))
            elif isinstance(s, CardReaderSettings):
                self.parts.readers.append(CardReader(s, self.emitter, self._card_openers.get(s.device),
                                                     decide=self._card_decision))
            if not isinstance(s, Ds18b20Settings) and s.device not in self._devices:
                self._devices.append(s.device)

    def _factor(self, s: PulseSettings) -> float:
        dev = self.config.device(s.device)
        if s.meter == "water":
            f = s.litres_per_pulse or (dev.litres_per_pulse if dev else None)
        else:
            f = s.wh_per_pulse or (dev.wh_per_pulse if dev else None)
        if f is None:  # config validation already refuses this; keep the agent honest anyway
            raise SensorError(f"meter {s.device!r} has no litres_per_pulse / wh_per_pulse")
        return f

    def _journal(self, s: PulseSettings) -> PulseJournal:
        return PulseJournal(self.settings.state_dir / "pulses" / f"{s.device}.journal", sync_every=s.sync_every)

    def problems(self) -> list[str]:
        """Hardware problems found at start (1-Wire not enabled, configured probes missing)."""
        return [p for bus in self.parts.buses for p in bus.problems()]

    # -- running ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Announce devices, connect and start the sender and card-reader threads."""
        for p in self.problems():
            log.error("%s", p)
        for c in self.parts.contacts:
            c.announce()
        self.outbox.start()
        self.link.start()
        self.wills.start()
        for r in self.parts.readers:
            r.start()
        self._started = True

    def tick(self) -> None:
        """One step: settle inputs, end output pulses, poll probes and publish meters when due."""
        now = self.clock.now()
        tickers: list[_Ticker] = [*self.parts.contacts, *self.parts.buttons, *self.parts.meters,
                                  *self.parts.buses]
        tickers += [ch for chans in self.parts.outputs.values() for ch in chans.values()]
        for t in tickers:
            try:
                t.tick(now)
            except Exception:  # one broken part must not stop the others
                log.exception("sensor %r failed", t)
        self._release_unanswered(now)

    def _release_unanswered(self, now: float) -> None:
        with self._awaiting_lock:
            due = [(d, secs) for d, (deadline, secs) in self._awaiting.items() if now >= deadline]
            for d, _ in due:
                del self._awaiting[d]
        for device, secs in due:
            relay = self.parts.outputs.get(device, {}).get("relay")
            if relay is not None:
                relay.apply(Command("relay", "pulse", secs))
                log.warning("the gateway did not answer an accepted card within %.0f s; %s released on the "
                            "cached list", GATEWAY_ANSWER_S, device)

    def run(self) -> None:
        """Tick until ``stop()`` (real time)."""
        if not self._started:
            self.start()
        self._running = True
        try:
            while not self._stop.wait(TICK_S):
                self.tick()
        finally:
            self._run_done.set()

    def stop(self, flush_timeout: float = 5.0) -> None:
        """Stop reading, mark devices offline, flush or spool what is queued, close everything."""
        self._stop.set()
        if self._running:
            self._run_done.wait(5)
        for r in self.parts.readers:
            r.stop()
        if self._started:
            for m in self.parts.meters:
                m.publish(self.clock.now())
            for d in self.devices:
                self.emitter.availability(d, False)
            self.outbox.stop(flush_timeout)
            self.wills.stop()
            self.link.stop()
        self._close_parts()
        self.spool.close()
        self._started = False

    def _close_parts(self) -> None:
        closers: list[_Closer] = [*self.parts.buses, *self.parts.meters, *self.parts.contacts,
                                  *self.parts.buttons]
        closers += [c for chans in self.parts.outputs.values() for c in chans.values()]
        for closer in closers:
            try:
                closer.close()
            except Exception:
                log.exception("closing %r failed", closer)

    @property
    def devices(self) -> list[str]:
        """Every device id this agent publishes for."""
        return self._devices + [d for b in self.parts.buses for d in b.devices if d not in self._devices]

    def _device_up(self, device: str) -> None:
        """A device's will link (re)connected: say it is online, unless it is a probe that is failing."""
        for bus in self.parts.buses:
            if device in bus.devices and not bus.is_online(device):
                return
        self.emitter.availability(device, True)

    # -- MQTT ---------------------------------------------------------------------------------------
    def _on_connection(self, change: ConnectionChange) -> None:
        if change.connected:
            self._connected_at = self.clock.now()
            log.info("agent %s connected; %d message(s) spooled", self.settings.agent_id, len(self.spool))

    def _on_message(self, msg: InboundMessage) -> None:
        if msg.topic == cards_topic(self.site):
            try:
                self.card_cache.update(msg.payload)
            except SignatureError as e:
                self._refused(self._gate_device(), "cards", e)
            return
        if msg.topic == gateway_alive_topic(self.site):
            try:
                body = self.verifier.open(msg.topic, msg.payload, self.clock.now())
            except SignatureError as e:
                self._refused(self._gate_device(), "heartbeat", e)
                return
            # a signed goodbye (a clean stop) ends it at once; a crash is noticed when the heartbeat stops
            self._gateway_heard = self.clock.now() if body.get("status") != "offline" else float("-inf")
            return
        parts = parse_topic(msg.topic)
        if parts is None or parts.channel != "set" or parts.site != self.site:
            return
        self.command(parts.device, msg.payload, retained=msg.retain)

    def gateway_reachable(self) -> bool:
        """Connected, and the gateway's signed heartbeat is recent (then the gateway decides cards)."""
        return self.link.connected and 0 <= self.clock.now() - self._gateway_heard <= GATEWAY_SILENT_S

    def _gate_device(self) -> str:
        """The device a refused card list or heartbeat is reported under: this agent's first card reader."""
        for r in self.parts.readers:
            return r.settings.device
        return next(iter(self.parts.outputs), self._devices[0] if self._devices else self.settings.agent_id)

    def _refused(self, device: str, what: str, e: SignatureError) -> None:
        """Log a refused signed message and report it (a ``forged`` event the gateway turns into a gate alarm)."""
        now = self.clock.now()
        late = e.reason == "stale" and now - self._connected_at <= RECONNECT_GRACE_S
        log.warning("refused %s for %s: %s%s", what, device, e,
                    " (queued while the agent was away)" if late else "; reported as a forgery")
        if late:
            return
        key = (device, what, e.reason)
        if now - self._reported.get(key, float("-inf")) < REPORT_EVERY_S:
            return
        self._reported[key] = now
        self.emitter.event(device, "forged", what=what, reason=e.reason)

    def _card_decision(self, reader: str, uid: str) -> dict[str, object]:
        """Extra fields of a card event from the cached list; offline, an accepted card releases the lock here."""
        d = self.card_cache.decide(reader, uid, self.clock.now())
        if d is None:
            return {}  # no list yet: the gateway decides when it gets the event
        extra: dict[str, object] = {"accepted": d.accepted, "reason": d.reason}
        if self.gateway_reachable():
            if d.accepted and d.relay in self.parts.outputs:
                with self._awaiting_lock:
                    self._awaiting[d.relay] = (self.clock.now() + GATEWAY_ANSWER_S, d.seconds)
            return extra
        extra["offline"] = True
        relay = self.parts.outputs.get(d.relay or "", {}).get("relay")
        if d.accepted and relay is not None:
            relay.apply(Command("relay", "pulse", d.seconds))
            log.info("gateway unreachable: card at %s accepted on the cached list; %s released", reader, d.relay)
        elif not d.accepted:
            log.warning("gateway unreachable: card at %s refused on the cached list (%s)", reader, d.reason)
        return extra

    def command(self, device: str, payload: bytes, retained: bool = False) -> bool:
        """Carry out a ``set`` payload for ``device``; a bad one is logged and ignored (returns False)."""
        if device in self.parts.outputs:
            try:
                self.verifier.open(set_topic(self.site, device), payload, self.clock.now())
            except SignatureError as e:
                self._refused(device, "set", e)
                return False
        try:
            if retained:
                raise CommandError("it is a retained message; commands must not be retained (they would "
                                   "replay at every reconnect)")
            outputs = self.parts.outputs.get(device)
            if outputs is None:
                raise CommandError("this agent drives no output for that device")
            cmds = parse_command(payload)
            for c in cmds:
                if c.output not in outputs:
                    raise CommandError(f"no {c.output} is wired for this device; it has {', '.join(outputs)}")
        except CommandError as e:
            log.warning("ignored set command for %s (%r): %s", device, payload[:200], e)
            return False
        for c in cmds:
            outputs[c.output].apply(c)
            if c.output == "relay":
                with self._awaiting_lock:
                    self._awaiting.pop(device, None)  # the gateway answered
        log.info("set %s: %s", device, ", ".join(f"{c.output} {c.action}" for c in cmds))
        return True
