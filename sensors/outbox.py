"""Sends the agent's messages in order over QoS 1, spooling to disk whenever the broker is away."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Protocol

from gateway.backoff import Backoff
from sensors.messages import Outgoing
from sensors.spool import Spool

log = logging.getLogger(__name__)

#: First and longest wait after a failed send (seconds).
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0


class Publisher(Protocol):
    """What the outbox needs from the MQTT link (``gateway.mqtt_link.MqttLink`` fits)."""

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        ...

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Publish; with ``wait`` block for the broker's ack and return whether it came."""
        ...


class Outbox:
    """One sender thread: spooled messages first (oldest first), then new ones, each acked before the next.

    New messages wait in memory only while the broker is up and the spool is empty; otherwise they go to
    the spool at once. A spooled message is deleted only after the broker acknowledged it, so a cut at
    any point can repeat a message (the gateway drops repeats by ``seq``) but never loses one.
    """

    def __init__(self, link: Publisher, spool: Spool, ack_timeout: float = 10.0, memory_max: int = 1000,
                 batch: int = 200) -> None:
        self._link = link
        self.spool = spool
        self.ack_timeout = ack_timeout
        self.memory_max = memory_max
        self.batch = batch
        self._memory: deque[Outgoing] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._deadline = 0.0
        self._thread: threading.Thread | None = None
        #: Waits after a failed send, longer while the broker keeps failing (a new message still wakes it).
        self._retry = Backoff(RETRY_MIN_S, RETRY_MAX_S)
        self.sent = 0

    def put(self, msg: Outgoing) -> None:
        """Queue a message (thread-safe, never blocks on the network)."""
        with self._cond:
            self._memory.append(msg)
            self._cond.notify()

    @property
    def pending(self) -> int:
        """Messages not yet acknowledged by the broker (memory + spool)."""
        with self._cond:
            return len(self._memory) + len(self.spool)

    def start(self) -> None:
        """Start the sender thread."""
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def stop(self, flush_timeout: float = 5.0) -> None:
        """Try to send what is queued for up to ``flush_timeout`` s, spool the rest, stop the thread."""
        with self._cond:
            self._stopping = True
            self._deadline = time.monotonic() + flush_timeout
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(flush_timeout + self.ack_timeout + 1.0)
            self._thread = None
        self._spill()

    def _take_memory(self) -> list[Outgoing]:
        with self._cond:
            out = list(self._memory)
            self._memory.clear()
            return out

    def _spill(self) -> None:
        msgs = self._take_memory()
        if msgs:
            self.spool.append(msgs)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping and (time.monotonic() > self._deadline or (not self._memory and (
                        not len(self.spool) or not self._link.connected))):
                    break
                if not self._memory and not len(self.spool):
                    self._cond.wait(0.5)
                    continue
            try:
                if not self._link.connected:
                    self._spill()
                    with self._cond:
                        if self._stopping:
                            break
                        self._cond.wait(0.2)
                    continue
                if len(self.spool):
                    if len(self._memory) > self.memory_max:
                        self._spill()
                    if self._drain_spool():
                        self._retry.reset()
                    else:
                        self._backoff()
                    continue
                if self._send_memory():
                    self._retry.reset()
                else:
                    self._backoff()
            except Exception:  # disk full, a bug: log, keep the agent reading, try again
                log.exception("outbox failed; retrying")
                self._backoff()

    def _backoff(self) -> None:
        self._spill()
        with self._cond:
            if not self._stopping:
                self._cond.wait(self._retry.next_delay())

    def _publish(self, msg: Outgoing) -> bool:
        if not self._link.connected:
            return False
        ok = self._link.publish(msg.topic, msg.payload, qos=1, retain=msg.retain, wait=self.ack_timeout)
        if ok:
            self.sent += 1
        return ok

    def _drain_spool(self) -> bool:
        """Send the oldest spooled messages; False when the broker stopped acknowledging."""
        acked: list[int] = []
        ok = True
        for mid, msg in self.spool.head(self.batch):
            if not self._publish(msg):
                ok = False
                break
            acked.append(mid)
        self.spool.remove(acked)
        if acked:
            log.info("sent %d spooled message(s); %d left", len(acked), len(self.spool))
        return ok

    def _send_memory(self) -> bool:
        """Send queued messages in order; on failure the unsent ones go to the spool."""
        while True:
            with self._cond:
                if not self._memory:
                    return True
                msg = self._memory[0]
            if not self._publish(msg):
                return False
            with self._cond:
                self._memory.popleft()
