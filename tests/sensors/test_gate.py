from __future__ import annotations

import json
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.clock import ManualClock
from sensors.agent import Agent, AgentSettings
from sensors.errors import CommandError, SensorError
from sensors.hardware import GpiozeroPins
from sensors.outputs import parse_command
from tests.sensors.helpers import TEST_KEY, make_config, signed

DEVICES = [{"id": "gate", "kind": "gate"}, {"id": "exit", "kind": "exit_button"}]
SENSORS = [
    {"type": "contact", "device": "gate", "pin": 22},
    {"type": "button", "device": "exit", "pin": 23},
    {"type": "relay", "device": "gate", "pin": 24},
    {"type": "buzzer", "device": "gate", "pin": 25},
    {"type": "led", "device": "gate", "pin": 26, "active_high": False},
]


@pytest.fixture
def agent(tmp_path: Path, mock_factory: MockFactory) -> tuple[Agent, ManualClock, list[tuple[str, object]]]:
    clock = ManualClock(2000.0)
    cfg = make_config(SENSORS, DEVICES)
    a = Agent(cfg, AgentSettings(tmp_path / "state", "agent-test"), pins=GpiozeroPins(mock_factory), clock=clock,
              command_key=TEST_KEY)
    sent: list[tuple[str, object]] = []

    def capture(m: object) -> None:
        topic = m.topic  # type: ignore[attr-defined]
        payload = m.payload  # type: ignore[attr-defined]
        sent.append((topic.split("/", 2)[2], payload.decode() if topic.endswith("availability")
                     else json.loads(payload)))

    a.emitter._sink = capture  # capture instead of sending
    yield a, clock, sent
    a.stop()


def test_contact_bounce_publishes_each_change_once(agent: tuple[Agent, ManualClock, list]) -> None:  # type: ignore[type-arg]
    a, clock, sent = agent
    contact = a.parts.contacts[0]
    mock = a._pins.pin_factory.pin(22)  # type: ignore[attr-defined]
    assert contact.state == "open"  # pulled up and nothing wired: reads high, i.e. open
    mock.drive_low()  # the magnet closes the reed: the pin goes low
    clock.advance(0.06)
    a.tick()
    assert contact.state == "closed"
    sent.clear()
    start = clock.now()
    for _ in range(4):  # the gate swings open, the reed bounces
        mock.drive_high()
        clock.advance(0.003)
        mock.drive_low()
        clock.advance(0.003)
    mock.drive_high()
    clock.advance(0.06)
    a.tick()
    (opened,) = [b for t, b in sent if t == "gate/state"]
    assert opened["contact"] == "open" and opened["ts"] == round(start + 0.024, 3)
    clock.advance(5)
    mock.drive_low()
    clock.advance(0.01)
    mock.drive_high()  # a knock, not a close
    clock.advance(0.1)
    a.tick()
    mock.drive_low()
    clock.advance(0.06)
    a.tick()
    changes = [b["contact"] for t, b in sent if t == "gate/state"]  # type: ignore[index]
    assert changes == ["open", "closed"]


def test_button_press_is_one_event(agent: tuple[Agent, ManualClock, list]) -> None:  # type: ignore[type-arg]
    a, clock, sent = agent
    mock = a._pins.pin_factory.pin(23)  # type: ignore[attr-defined]
    mock.drive_high()
    a.tick()
    for _ in range(2):
        mock.drive_low()  # pressed (pulled up, button to ground)
        clock.advance(0.002)
        mock.drive_high()
        clock.advance(0.002)
    mock.drive_low()
    clock.advance(0.3)
    mock.drive_high()
    clock.advance(0.3)
    a.tick()
    evs = [b for t, b in sent if t == "exit/event"]
    assert len(evs) == 1 and evs[0]["type"] == "button"  # type: ignore[index]


def test_relay_pulse_and_buzzer_beep(agent: tuple[Agent, ManualClock, list]) -> None:  # type: ignore[type-arg]
    a, clock, _ = agent
    f = a._pins.pin_factory  # type: ignore[attr-defined]
    assert a.command("gate", signed("gate", b'{"relay": "pulse", "seconds": 3}', clock.now()))
    assert f.pin(24).state
    clock.advance(2.9)
    a.tick()
    assert f.pin(24).state
    clock.advance(0.2)
    a.tick()
    assert not f.pin(24).state
    assert a.command("gate", signed("gate", b'{"buzzer": "beep", "seconds": 2}', clock.now()))
    seen = set()
    for _ in range(20):
        clock.advance(0.05)
        a.tick()
        seen.add(bool(f.pin(25).state))
    assert seen == {True, False}
    clock.advance(2)
    a.tick()
    assert not f.pin(25).state
    assert a.command("gate", signed("gate", b'{"led": "on"}', clock.now()))
    assert not f.pin(26).state  # active low: on drives the pin low
    assert a.command("gate", signed("gate", b'{"led": "off"}', clock.now()))
    assert f.pin(26).state


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[1]", b'{"relay": "explode"}', b'{"relay": "pulse", "seconds": -1}', b'{"fan": "on"}', b"{}",
     b'{"relay": "pulse", "seconds": "3"}'],
)
def test_bad_commands_refused(payload: bytes) -> None:
    with pytest.raises(CommandError):
        parse_command(payload)


def test_bad_commands_ignored_by_agent(agent: tuple[Agent, ManualClock, list]) -> None:  # type: ignore[type-arg]
    a, clock, sent = agent
    f = a._pins.pin_factory  # type: ignore[attr-defined]
    assert not a.command("gate", signed("gate", b'{"relay": "explode"}', clock.now()))
    assert not a.command("exit", signed("exit", b'{"relay": "pulse"}', clock.now()))  # no output on that device
    assert not a.command("gate", signed("gate", b'{"relay": "pulse"}', clock.now()), retained=True)
    assert not f.pin(24).state
    assert not [b for t, b in sent if t == "gate/event"]  # mistakes, not forgeries: no alarm
    assert a.command("gate", signed("gate", {"relay": "pulse"}, clock.now() - 1))
    assert f.pin(24).state


def test_forged_commands_open_nothing_and_are_reported(agent: tuple[Agent, ManualClock, list]) -> None:  # type: ignore[type-arg]
    a, clock, sent = agent
    f = a._pins.pin_factory  # type: ignore[attr-defined]
    a._connected_at = clock.now() - 3600  # long connected: a stale command is not one queued while away
    good = signed("gate", {"relay": "pulse", "seconds": 3}, clock.now())
    altered = good.replace(b'"seconds":3', b'"seconds":600')
    forged = {
        "unsigned": b'{"relay": "on", "seconds": 600}',
        "altered": altered,
        "stale": signed("gate", {"relay": "pulse"}, clock.now() - 600),
        "other key": signed("gate", {"relay": "pulse"}, clock.now(), key=b"\x01" * 32),
        "other device": signed("exit", {"relay": "pulse"}, clock.now()),
    }
    for why, payload in forged.items():
        assert not a.command("gate", payload), why
        assert not f.pin(24).state, why
    assert a.command("gate", good)
    assert f.pin(24).state
    clock.advance(3.1)
    a.tick()
    assert not a.command("gate", good)  # the same signed command again: a replay
    assert not f.pin(24).state
    reasons = [(b["what"], b["reason"]) for t, b in sent if t == "gate/event" and b["type"] == "forged"]  # type: ignore[index]
    assert reasons == [("set", "unsigned"), ("set", "altered"), ("set", "stale"), ("set", "replayed")]


def test_pin_in_use_is_a_clear_error(tmp_path: Path, mock_factory: MockFactory) -> None:
    from gpiozero import DigitalInputDevice

    held = DigitalInputDevice(22, pin_factory=mock_factory)
    try:
        with pytest.raises(SensorError, match="GPIO22 is already in use"):
            Agent(make_config(SENSORS, DEVICES), AgentSettings(tmp_path / "s", "agent-test"),
                  pins=GpiozeroPins(mock_factory), clock=ManualClock(), command_key=TEST_KEY)
    finally:
        held.close()
    # everything the failed start opened was released again
    a = Agent(make_config(SENSORS, DEVICES), AgentSettings(tmp_path / "s", "agent-test"),
              pins=GpiozeroPins(mock_factory), clock=ManualClock(), command_key=TEST_KEY)
    a.stop()


def test_contact_heartbeat_repeats_unchanged_state(agent: tuple[Agent, ManualClock, list]) -> None:  # type: ignore[type-arg]
    a, clock, sent = agent
    mock = a._pins.pin_factory.pin(22)  # type: ignore[attr-defined]
    mock.drive_low()
    clock.advance(0.06)
    a.tick()
    clock.advance(200)
    a.tick()
    assert [b["contact"] for t, b in sent if t == "gate/state"] == ["closed"]  # type: ignore[index]
    clock.advance(101)
    a.tick()
    a.tick()
    assert [b["contact"] for t, b in sent if t == "gate/state"] == ["closed", "closed"]  # type: ignore[index]


def test_clock_jumping_back_does_not_hold_the_relay(agent: tuple[Agent, ManualClock, list]) -> None:  # type: ignore[type-arg]
    a, clock, _ = agent
    f = a._pins.pin_factory  # type: ignore[attr-defined]
    assert a.command("gate", signed("gate", b'{"relay": "pulse", "seconds": 3}', clock.now()))
    clock.advance(-3600)  # NTP corrects a clock that was an hour fast
    a.tick()
    assert not f.pin(24).state
