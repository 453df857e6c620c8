"""The gate holds against forged MQTT messages, end to end: the real agent (gpiozero MockFactory pins), the gateway
and a real Mosquitto, either the locked one ``houqin mqtt setup`` writes or an open one (anonymous clients allowed,
as many guides set it up). Each attack of issue 13 is replayed by an attacker's client."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from gateway import contract
from gateway.app import Site, build_gateway
from gateway.cli import main
from gateway.clock import ManualClock
from gateway.config import Config, load_config
from gateway.model import CommittedBatch
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from sensors.agent import Agent, AgentSettings
from sensors.hardware import GpiozeroPins
from tests.mosquitto import Mosquitto
from tests.mosquitto_setup.broker import SiteBroker, free_port, logins
from tests.waiting import COMMIT_WINDOW, wait_for

CONTACT_PIN, RELAY_PIN, BUTTON_PIN = 22, 23, 24
SITE = "kg"


def _toml(tmp: Path, url: str, agent_url: str | None) -> Path:
    path = tmp / "houqin.toml"
    path.write_text(f"""
[site]
id = "{SITE}"
name = "Test KG"
locale = "zh-CN"
[mqtt]
url = "{url}"
client_id = "houqin-gw-signed"
{f'agent_url = "{agent_url}"' if agent_url else ''}
[storage]
dir = "{tmp / 'data'}"
commit_interval = "{COMMIT_WINDOW}"
[[devices]]
id = "gate"
kind = "gate"
name = "大门"
[[devices]]
id = "reader"
kind = "card_reader"
name = "门口读卡器"
[[devices]]
id = "exit"
kind = "exit_button"
name = "出门按钮"
[[devices]]
id = "kitchen-fridge"
kind = "fridge"
[[sensors]]
type = "contact"
device = "gate"
pin = {CONTACT_PIN}
[[sensors]]
type = "relay"
device = "gate"
pin = {RELAY_PIN}
[[sensors]]
type = "button"
device = "exit"
pin = {BUTTON_PIN}
[[sensors]]
type = "card_reader"
device = "reader"
reader = "serial"
path = "/dev/ttyUSB9"
[gate]
readers = [{{ device = "reader", relay = "gate" }}]
relay_seconds = "3s"
[[rules]]
id = "gate-forced"
kind = "gate_forced"
devices = ["gate"]
authorized_by = ["reader", "exit"]
severity = "critical"
""", encoding="utf-8")
    return path


class Attacker:
    """An MQTT client that sniffs ``houqin/#`` and publishes whatever it likes."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.link = MqttLink(LinkSettings("127.0.0.1", port, f"attacker-{username or 'anon'}", username=username,
                                          password=password, persistent=False, manual_ack=False),
                             on_message=self._on, subscriptions=[f"{contract.ROOT}/#"])
        self.link.start()
        assert self.link.wait_connected(10)

    def _on(self, msg: InboundMessage) -> None:
        with self._lock:
            self.seen.append((msg.topic, msg.payload))

    def sniffed(self, topic: str) -> list[bytes]:
        with self._lock:
            return [p for t, p in self.seen if t == topic]

    def send(self, topic: str, payload: bytes | dict[str, Any], retain: bool = False) -> None:
        data = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        assert self.link.publish(topic, data, qos=1, retain=retain, wait=5)

    def stop(self) -> None:
        self.link.stop()


class Events:
    """Every event the gateway committed."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def on_batch(self, batch: CommittedBatch) -> None:
        self.events.extend((e.device, e.type, dict(e.data)) for e in batch.events)

    def forged(self) -> set[tuple[str, str]]:
        return {(d["what"], d["reason"]) for _, t, d in self.events if t == "forged"}


def _highs(factory: MockFactory, pin: int) -> int:
    """How many times the pin went high (gpiozero's MockPin keeps every change)."""
    return sum(1 for s in factory.pin(pin).states[1:] if s.state)


def _start(cfg: Config, tmp: Path, clock: ManualClock, factory: MockFactory) -> tuple[Site, Agent, Events]:
    gw = build_gateway(cfg, clock=clock)
    events = Events()
    gw.core.add_observer(events)
    gw.start()
    agent = Agent(cfg, AgentSettings(tmp / "agent", "agent-gate"), pins=GpiozeroPins(factory), clock=clock,
                  card_openers={"reader": lambda: iter(())})
    agent.start()
    assert agent.link.wait_connected(10)
    return gw, agent, events


def _card_opens(gw: Site, agent: Agent, factory: MockFactory, clock: ManualClock) -> None:
    """A registered card pulses the lock relay by the gateway's signed command."""
    gw.gate.tick()  # the card list and the heartbeat
    wait_for(lambda: agent.card_cache.loaded and agent.gateway_reachable(), "the signed card list and heartbeat")
    before = _highs(factory, RELAY_PIN)
    agent.parts.readers[0].handle("AA01")
    wait_for(lambda: _highs(factory, RELAY_PIN) == before + 1, "the lock relay released for the card")
    clock.advance(3.1)
    agent.tick()
    assert factory.pin(RELAY_PIN).state == 0
    rec = gw.gate.access.recent(1)[0]
    assert (rec.uid, rec.holder, rec.accepted, rec.relay) == ("AA01", "Teacher Li", True, "gate")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(round(time.time(), 3))


def test_locked_broker_a_card_opens_and_a_device_login_cannot_command_the_relay(
        tmp_path: Path, mock_factory: MockFactory, clock: ManualClock) -> None:
    files, port = tmp_path / "broker-files", free_port()
    broker = SiteBroker(tmp_path, files)
    toml = _toml(tmp_path, f"mqtt://127.0.0.1:{port}", None)
    assert main(["mqtt", "setup", "--config", str(toml), "--dir", str(files), "--port", str(port), "--tls-port",
                 str(free_port()), "--host", "127.0.0.1", "--pid-file", str(broker.pid_file)]) == 0
    creds = logins(files)
    gw_login, agent_login = creds["gateway"], creds["local"]
    toml = _toml(tmp_path, f"mqtt://{gw_login['username']}:{gw_login['password']}@127.0.0.1:{port}",
                 f"mqtt://{agent_login['username']}:{agent_login['password']}@127.0.0.1:{port}")
    cfg = load_config(toml)
    broker.start(port)
    gw, agent, events = _start(cfg, tmp_path, clock, mock_factory)
    assert agent.link.settings.username == agent_login["username"]  # the agent's own login, not the gateway's
    gw.gate.cards.add("AA01", "Teacher Li", "staff")
    fridge = creds["kitchen-fridge"]
    attacker = Attacker(port, fridge["username"], fridge["password"])
    try:
        _card_opens(gw, agent, mock_factory, clock)
        highs = _highs(mock_factory, RELAY_PIN)
        # A device's valid login: every forged set is dropped by the broker's ACL, and so is a card list.
        attacker.send(contract.set_topic(SITE, "gate"), {"relay": "on", "seconds": 600})
        attacker.send(contract.cards_topic(SITE), {"cards": {}, "readers": {"reader": "gate"}}, retain=True)
        # what it may send arrives after them (one client's messages keep their order)
        attacker.send(contract.state_topic(SITE, "kitchen-fridge"), contract.encode_state({"temperature": 4.0}))
        wait_for(lambda: any(s.metric == "temperature" for s in gw.core.store.series("kitchen-fridge")),
                 "the fridge's own reading")
        agent.tick()
        assert _highs(mock_factory, RELAY_PIN) == highs
        assert not events.forged()  # the agent never saw them: nothing to refuse
    finally:
        attacker.stop()
        agent.stop()
        gw.stop()
        broker.stop()


@pytest.fixture
def open_site(tmp_path: Path, mosquitto: Mosquitto, mock_factory: MockFactory,
              clock: ManualClock) -> Iterator[tuple[Site, Agent, Events, Attacker]]:
    cfg = load_config(_toml(tmp_path, mosquitto.url, None))
    gw, agent, events = _start(cfg, tmp_path, clock, mock_factory)
    gw.gate.cards.add("AA01", "Teacher Li", "staff")
    attacker = Attacker(mosquitto.port)  # anonymous: the broker lets anyone in
    try:
        yield gw, agent, events, attacker
    finally:
        attacker.stop()
        agent.stop()
        gw.stop()


def _forgery_alarm(gw: Site) -> list[str]:
    return [a.detail for a in gw.alerting.service.list(open_only=True) if a.rule == "gate-forgery"]


def test_open_broker_forged_altered_replayed_and_stale_commands_open_nothing_and_raise_the_alarm(
        open_site: tuple[Site, Agent, Events, Attacker], mock_factory: MockFactory, clock: ManualClock) -> None:
    gw, agent, events, attacker = open_site
    _card_opens(gw, agent, mock_factory, clock)
    relay_set = contract.set_topic(SITE, "gate")
    wait_for(lambda: bool(attacker.sniffed(relay_set)), "the attacker sniffing the gateway's relay command")
    genuine = attacker.sniffed(relay_set)[-1]
    highs = _highs(mock_factory, RELAY_PIN)

    attacker.send(relay_set, {"relay": "on", "seconds": 600})  # unsigned
    attacker.send(relay_set, genuine.replace(b'"seconds":3.0', b'"seconds":600'))  # altered
    attacker.send(relay_set, genuine)  # replayed as sniffed
    wait_for(lambda: {("set", "unsigned"), ("set", "altered"), ("set", "replayed")} <= events.forged(),
             "the agent refusing them")
    clock.advance(120)
    attacker.send(relay_set, genuine)  # two minutes later: stale
    wait_for(lambda: {("set", "unsigned"), ("set", "altered"), ("set", "replayed"), ("set", "stale")}
             <= events.forged(), "every refusal reported by the agent")
    agent.tick()
    assert _highs(mock_factory, RELAY_PIN) == highs
    wait_for(lambda: bool(_forgery_alarm(gw)), "the gate alarm")
    alarm = next(a for a in gw.alerting.service.list(open_only=True) if a.rule == "gate-forgery")
    assert (alarm.device, alarm.severity) == ("gate", "critical")
    assert "大门" in alarm.detail and "开门指令" in alarm.detail


def test_open_broker_replayed_card_event_opens_nothing_and_is_logged_as_such(
        open_site: tuple[Site, Agent, Events, Attacker], mock_factory: MockFactory, clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    gw, agent, _events, attacker = open_site
    _card_opens(gw, agent, mock_factory, clock)
    card_topic = contract.event_topic(SITE, "reader")
    wait_for(lambda: bool(attacker.sniffed(card_topic)), "the attacker sniffing the card event")
    sniffed = json.loads(attacker.sniffed(card_topic)[-1])
    highs = _highs(mock_factory, RELAY_PIN)
    clock.advance(60)
    # with a fresh ts and seq (the signature covers ts: altered) and with only a new seq (its nonce: replayed)
    attacker.send(card_topic, {**sniffed, "ts": clock.now(), "seq": sniffed["seq"] + 1000})
    wait_for(lambda: gw.gate.access.recent(1)[0].reason == "forged", "the read logged as forged")
    rec = gw.gate.access.recent(1)[0]
    assert (rec.accepted, rec.holder, rec.relay) == (False, "", None)  # names nobody, opens nothing
    attacker.send(card_topic, {**sniffed, "seq": sniffed["seq"] + 2000})
    wait_for(lambda: "its nonce was seen before (a replay)" in caplog.text, "the replay logged as such")
    assert [(r.holder, r.reason) for r in gw.gate.access.recent(5)] == [("", "forged"), ("Teacher Li", "accepted")]
    agent.tick()
    assert _highs(mock_factory, RELAY_PIN) == highs
    wait_for(lambda: bool(_forgery_alarm(gw)), "the gate alarm")
    assert any("刷卡记录" in d for d in _forgery_alarm(gw))


def test_open_broker_fake_exit_button_excuses_no_forced_opening(
        open_site: tuple[Site, Agent, Events, Attacker], mock_factory: MockFactory, clock: ManualClock) -> None:
    gw, agent, events, attacker = open_site
    contact = mock_factory.pin(CONTACT_PIN)
    contact.drive_low()  # the gate is closed
    clock.advance(0.1)
    agent.tick()
    wait_for(lambda: any(s.metric == "contact" for s in gw.core.store.series("gate")), "the gate closed")
    attacker.send(contract.event_topic(SITE, "exit"), contract.encode_event("button", ts=clock.now(), seq=1))
    wait_for(lambda: ("exit", "button") in {(d, t) for d, t, _ in events.events}, "the fake button at the gateway")
    contact.drive_high()  # forced open just after
    clock.advance(0.1)
    agent.tick()
    clock.advance(3)
    wait_for(lambda: any(a.rule == "gate-forced" for a in gw.alerting.service.list(open_only=True)),
             "the forced-entry alarm")
    assert _forgery_alarm(gw)  # and the fake button itself is reported


def test_open_broker_forged_card_list_and_fake_gateway_offline_let_no_unknown_card_in(
        open_site: tuple[Site, Agent, Events, Attacker], mock_factory: MockFactory, clock: ManualClock) -> None:
    gw, agent, events, attacker = open_site
    _card_opens(gw, agent, mock_factory, clock)
    # the attacker's card in a list digested the old (unkeyed) way, and the gateway said to be offline
    digest = hashlib.sha256(f"houqin-card:{SITE}:EE66".encode()).hexdigest()[:32]
    forged = {"version": "x", "ts": clock.now() + 10, "timezone": "Asia/Shanghai", "relay_seconds": 600,
              "readers": {"reader": "gate"}, "cards": {digest: {"days": "1234567", "hours": ""}}}
    attacker.send(contract.cards_topic(SITE), forged, retain=True)
    attacker.send(contract.gateway_availability_topic(SITE), b"offline", retain=True)
    attacker.send(contract.gateway_alive_topic(SITE), {"status": "offline"})
    wait_for(lambda: ("cards", "unsigned") in events.forged() and ("heartbeat", "unsigned") in events.forged(),
             "the forged list and heartbeat refused")
    highs = _highs(mock_factory, RELAY_PIN)
    gw.stop()  # now the gateway really is away: the agent decides on its own (genuine) list
    wait_for(lambda: not agent.gateway_reachable(), "the agent noticing the gateway's signed goodbye")
    agent.parts.readers[0].handle("EE66")
    assert _highs(mock_factory, RELAY_PIN) == highs
    agent.parts.readers[0].handle("AA01")  # a registered card still opens, on the cached list
    assert _highs(mock_factory, RELAY_PIN) == highs + 1
