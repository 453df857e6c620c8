"""The simulated site: a small kindergarten's fridges, meters and gate publishing native MQTT payloads.

Two layers, kept apart so the sensor agent can reuse the device models as one more hardware backend:

- ``SimulatedSite``: the device models (``demo/sim/``), moved by ``advance(seconds)`` which returns
  what the devices reported (``StateObs`` / ``EventObs``), deterministic for a seed; no MQTT.
- ``Simulator``: publishes those observations as native payloads (``gateway.contract``) through one
  ``MqttLink`` per device (each device's availability is its link's retained birth and last will), at
  real time multiplied by a speed-up factor (``run()``), or step by step (``advance()``) for tests.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from demo.sim.base import DeviceModel, EventObs, Observation, StateObs
from demo.sim.cold import FREEZER, FRIDGE, SAMPLE_FRIDGE, ColdStore
from demo.sim.gate import Gate
from demo.sim.meters import PowerMeter, WaterMeter
from demo.sim.schedule import SchoolDay
from demo.sim.uv import UvLamp
from demo.story import IN_CLASS_ROOM, SHORT_ROOM
from gateway.clock import Clock, SystemClock
from gateway.contract import (
    OFFLINE,
    ONLINE,
    availability_topic,
    encode_event,
    encode_state,
    event_topic,
    set_topic,
    state_topic,
)
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink, Will

if TYPE_CHECKING:
    from demo.story import DemoStory

log = logging.getLogger(__name__)

#: Simulated time moves in fixed ticks, so results do not depend on how ``advance`` is chunked.
TICK_S = 5.0


@dataclass(frozen=True, slots=True)
class SimDevice:
    """A device of the simulated site, as it appears in ``[[devices]]``."""

    id: str
    kind: str
    name: str
    location: str = ""


#: The simulated kindergarten. Ids match glob-friendly rule targets (``*fridge*``, ``gate*``).
SITE_DEVICES: tuple[SimDevice, ...] = (
    SimDevice("kitchen-fridge-1", "fridge", "厨房冷藏冰箱 1号", "厨房"),
    SimDevice("kitchen-fridge-2", "fridge", "厨房冷藏冰箱 2号", "厨房"),
    SimDevice("kitchen-freezer", "freezer", "厨房冷冻柜", "厨房"),
    SimDevice("sample-fridge", "sample_fridge", "留样冰箱", "厨房"),
    SimDevice("water-main", "water_meter", "总水表", "锅炉房"),
    SimDevice("power-main", "power_meter", "总电表", "配电间"),
    SimDevice("gate", "gate", "大门", "门卫室"),
    SimDevice("gate-reader", "card_reader", "大门刷卡器", "门卫室"),
    SimDevice("gate-button", "exit_button", "大门出门按钮", "门卫室"),
    *(SimDevice(f"uv-{room}", "uv_lamp", f"{name}紫外灯", name) for room, name in (
        ("class-1", "小一班"), ("class-2", "中一班"), ("class-3", "大一班"))),
)
#: The classrooms with a UV lamp on a plug: (room id, room name, plug device id), in ``SITE_DEVICES``' order.
CLASSROOMS: tuple[tuple[str, str, str], ...] = tuple(
    (d.id.removeprefix("uv-"), d.location, d.id) for d in SITE_DEVICES if d.kind == "uv_lamp")


class SimulatedSite:
    """The device models of the simulated kindergarten, moved together through simulated time."""

    def __init__(self, *, start: float, seed: int = 1, timezone: str = "Asia/Shanghai",
                 story: DemoStory | None = None, lamps: bool = True) -> None:
        self.day = SchoolDay(timezone, story.holidays if story is not None else ())
        self.seed = seed
        self.t = float(start)
        self._carry = 0.0
        self.fridges = {d: ColdStore(d, FRIDGE, seed) for d in ("kitchen-fridge-1", "kitchen-fridge-2")}
        self.freezer = ColdStore("kitchen-freezer", FREEZER, seed)
        self.sample_fridge = ColdStore("sample-fridge", SAMPLE_FRIDGE, seed)
        self.water = WaterMeter("water-main", seed)
        self.power = PowerMeter("power-main", seed)
        self.gate = Gate("gate", "gate-reader", "gate-button", seed)
        short = frozenset({story.short_day}) if story is not None else frozenset()
        in_class = frozenset({story.in_class_day}) if story is not None else frozenset()
        #: The classrooms' UV lamps (none with ``lamps=False``: a sped-up live demo would light them in the
        #: wall clock's class hours, since the gateway stamps its readings on arrival).
        self.lamps = [UvLamp(plug, seed, i, short if i == SHORT_ROOM else frozenset(),
                             in_class if i == IN_CLASS_ROOM else frozenset())
                      for i, (_, _, plug) in enumerate(CLASSROOMS)] if lamps else []
        self._models: list[DeviceModel] = [
            *self.fridges.values(), self.freezer, self.sample_fridge, self.water, self.power, self.gate, *self.lamps,
        ]

    @property
    def devices(self) -> tuple[SimDevice, ...]:
        """Every device this site reports as."""
        lit = {m.device for m in self.lamps}
        return tuple(d for d in SITE_DEVICES if d.kind != "uv_lamp" or d.id in lit)

    def advance(self, seconds: float) -> list[Observation]:
        """Move simulated time forward by ``seconds``; return what the devices reported, in time order."""
        if seconds < 0:
            raise ValueError(f"cannot advance by {seconds} s; simulated time only moves forward")
        total = self._carry + seconds
        ticks = int(total // TICK_S)
        self._carry = total - ticks * TICK_S
        out: list[Observation] = []
        for _ in range(ticks):
            self.t += TICK_S
            for model in self._models:
                out.extend(model.step(self.t, TICK_S, self.day))
        return out

    # -- things going wrong, for demos and rule tests --------------------------------------------
    def set_leak(self, on: bool = True) -> None:
        """Start (or stop) a slow leak on the water meter: flow all night."""
        self.water.leak = on

    def set_left_on(self, on: bool = True) -> None:
        """Leave (or switch off) lights and air conditioning after school."""
        self.power.left_on = on

    def continue_totals(self, totals: Mapping[str, float]) -> None:
        """Resume meters from stored totals (device id -> last ``total_l``/``energy_wh``), never going back.

        A real meter keeps counting while the demo is stopped; a restarted simulation must not report a
        total below the last one, or the gateway would refuse it as ``total_backwards``.
        """
        if "water-main" in totals:
            self.water.total_l = max(self.water.total_l, float(totals["water-main"]))
        if "power-main" in totals:
            self.power.energy_wh = max(self.power.energy_wh, float(totals["power-main"]))

    def use_lock_relay(self, on: bool = True) -> None:
        """Wire the gate's lock to a relay: cards only open it when the gateway pulses the relay (``command``)."""
        self.gate.relay = on

    def command(self, device: str, payload: Mapping[str, object]) -> bool:
        """Apply a ``set`` command (``{"relay": "pulse", "seconds": 3}`` to the gate); False if not understood."""
        if device == self.gate.device and payload.get("relay") == "pulse":
            seconds = payload.get("seconds", 3.0)
            self.gate.pulse(float(seconds) if isinstance(seconds, int | float) else 3.0)
            return True
        return False

    def fail_compressor(self, device: str, failed: bool = True) -> None:
        """Break (or mend) the compressor of a fridge, freezer or sample fridge."""
        stores = {**self.fridges, self.freezer.device: self.freezer, self.sample_fridge.device: self.sample_fridge}
        if device not in stores:
            raise ValueError(f"{device!r} is not a cold store of the simulated site; use one of {sorted(stores)}")
        stores[device].compressor_failed = failed


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One MQTT message the simulator publishes."""

    device: str
    topic: str
    payload: bytes
    retain: bool = False


LinkFactory = Callable[..., MqttLink]


class Simulator:
    """Publishes a ``SimulatedSite`` to a broker: per-device links, ``seq`` per device, a speed-up.

    With ``speed == 1`` payloads carry the simulated ``ts``; faster than that, the simulated day runs
    ahead of the wall clock, so payloads carry no ``ts`` and the gateway stamps them on arrival (it
    refuses timestamps in the future).
    """

    def __init__(
        self,
        site_id: str,
        link: LinkSettings,
        *,
        seed: int = 1,
        speed: float = 1.0,
        clock: Clock | None = None,
        timezone: str = "Asia/Shanghai",
        stamp_ts: bool | None = None,
        site: SimulatedSite | None = None,
        link_factory: LinkFactory = MqttLink,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed {speed} must be > 0 (1 = real time, 60 = an hour per minute)")
        self.site_id = site_id
        self.speed = float(speed)
        self.clock: Clock = clock or SystemClock()
        self.site = site or SimulatedSite(start=self.clock.now(), seed=seed, timezone=timezone)
        self.stamp_ts = (self.speed == 1.0) if stamp_ts is None else stamp_ts
        self._link_settings = link
        self._link_factory = link_factory
        self._links: dict[str, MqttLink] = {}
        self._seq: dict[str, int] = {}
        # set commands arrive on the MQTT thread; the simulation thread applies them before its next step
        self._commands: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0
        self.not_sent = 0

    # -- encoding (no broker needed) ------------------------------------------------------------
    def encode(self, obs: Observation) -> SimMessage:
        """The native message for one observation, with the device's next ``seq``."""
        seq = self._seq.get(obs.device, 0) + 1
        self._seq[obs.device] = seq
        ts = obs.ts if self.stamp_ts else None
        if isinstance(obs, StateObs):
            return SimMessage(obs.device, state_topic(self.site_id, obs.device), encode_state(obs.metrics, ts, seq))
        assert isinstance(obs, EventObs)
        return SimMessage(obs.device, event_topic(self.site_id, obs.device),
                          encode_event(obs.type, ts, seq, **dict(obs.data)))

    # -- links -----------------------------------------------------------------------------------
    def client_id(self, device: str) -> str:
        """The MQTT client id of one simulated device."""
        return f"houqin-sim-{self.site_id}-{device}"

    def connect(self, timeout: float = 10.0) -> bool:
        """Open one link per device (birth ``online``, will ``offline``, both retained); True if all connected."""
        for dev in self.site.devices:
            if dev.id in self._links:
                continue
            topic = availability_topic(self.site_id, dev.id)
            settings = dataclasses.replace(self._link_settings, client_id=self.client_id(dev.id),
                                           manual_ack=False, persistent=False)
            commands: dict[str, object] = {}
            if dev.id == self.site.gate.device and self.site.gate.relay:
                commands = {"on_message": self._on_command, "subscriptions": [set_topic(self.site_id, dev.id)]}
            lk = self._link_factory(settings, will=Will(topic, OFFLINE.encode()), birth=Will(topic, ONLINE.encode()),
                                    **commands)
            lk.start()
            self._links[dev.id] = lk
        return all(lk.wait_connected(timeout) for lk in self._links.values())

    def _on_command(self, msg: InboundMessage) -> None:
        self._commands.put((msg.topic, msg.payload))

    def _apply_commands(self) -> None:
        while True:
            try:
                topic, payload = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                body = json.loads(payload)
            except (ValueError, UnicodeDecodeError):
                body = None
            device = topic.rsplit("/", 2)[-2]
            if not isinstance(body, dict) or not self.site.command(device, body):
                log.warning("simulated %s ignored a command it does not understand: %r", device, payload[:200])

    def disconnect(self) -> None:
        """Close every link cleanly (each device publishes ``offline`` first)."""
        for lk in self._links.values():
            lk.stop()
        self._links.clear()

    def publish(self, messages: list[SimMessage]) -> None:
        """Send messages at QoS 1 on their devices' links (queued by paho while reconnecting)."""
        for m in messages:
            lk = self._links.get(m.device)
            if lk is not None and lk.publish(m.topic, m.payload, qos=1, retain=m.retain):
                self.published += 1
            else:
                self.not_sent += 1

    # -- driving ---------------------------------------------------------------------------------
    def advance(self, seconds: float) -> list[SimMessage]:
        """Simulate ``seconds`` of site time, publish what happened (if connected) and return it."""
        self._apply_commands()
        messages = [self.encode(o) for o in self.site.advance(seconds)]
        if self._links:
            self.publish(messages)
        return messages

    def run(self, stop: threading.Event | None = None, tick_s: float = 0.5) -> None:
        """Publish in real time × ``speed`` until ``stop`` is set (or ``stop()`` is called)."""
        stop = stop or self._stop
        last = self.clock.now()
        self.advance(0.0)
        while not stop.wait(tick_s) and not self._stop.is_set():
            now = self.clock.now()
            if now > last:
                try:
                    self.advance((now - last) * self.speed)
                except Exception:  # a model bug must not kill the demo; it is logged once per tick
                    log.exception("simulator step failed")
                last = now

    def start(self, timeout: float = 10.0) -> None:
        """Connect and run in a background thread."""
        if not self.connect(timeout):
            log.warning("simulated devices not all connected after %.0f s; publishing when they are", timeout)
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="houqin-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and disconnect (devices go ``offline``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.disconnect()

    def stats(self) -> Mapping[str, int]:
        """Messages published and not sent so far."""
        return {"published": self.published, "not_sent": self.not_sent}
