"""What the agent sends: native messages with a per-device ``seq``, built only through ``gateway.contract``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway.clock import Clock
from gateway.contract import (
    OFFLINE,
    ONLINE,
    availability_topic,
    encode_event,
    encode_state,
    event_topic,
    state_topic,
)
from gateway.signing import SIGNED_EVENTS, Signer

#: How the spool treats a message when it is full: ``state`` goes first, ``total`` next, ``event`` last.
Kind = Literal["state", "total", "event", "availability"]

#: ``seq`` = epoch * SEQ_SPAN + counter: the epoch grows at every start, so seq only ever grows.
SEQ_SPAN = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for the broker."""

    topic: str
    payload: bytes
    kind: Kind
    retain: bool = False


Sink = Callable[[Outgoing], None]


class Emitter:
    """Builds native state/event/availability messages for devices and hands them to a sink (the outbox).

    Thread-safe: pin callbacks, card-reader threads and the tick loop all emit.
    """

    def __init__(self, site: str, sink: Sink, clock: Clock, seq_epoch: int = 0, signer: Signer | None = None) -> None:
        self.site = site
        #: Signs card and button events, so the gateway can tell them from forged ones (``gateway.signing``).
        self._signer = signer
        self._sink = sink
        self._clock = clock
        self._base = seq_epoch * SEQ_SPAN
        self._seq: dict[str, int] = {}
        self._lock = threading.Lock()

    def _next_seq(self, device: str) -> int:
        with self._lock:
            n = self._seq.get(device, 0) + 1
            self._seq[device] = n
            return self._base + n

    def state(self, device: str, metrics: Mapping[str, float | int | str | bool], *, total: bool = False,
              ts: float | None = None) -> None:
        """Publish a state payload; ``total=True`` marks a meter total the spool keeps longest."""
        when = self._clock.now() if ts is None else ts
        payload = encode_state(metrics, ts=when, seq=self._next_seq(device))
        self._sink(Outgoing(state_topic(self.site, device), payload, "total" if total else "state"))

    def event(self, device: str, type_: str, ts: float | None = None, **data: Any) -> None:
        """Publish a one-off event, e.g. ``event("gate", "card", uid="04A1B2C3")``."""
        when = self._clock.now() if ts is None else ts
        topic = event_topic(self.site, device)
        if self._signer is not None and type_ in SIGNED_EVENTS:
            data = {**data, **self._signer.event_fields(topic, type_, data, when)}
        payload = encode_event(type_, ts=when, seq=self._next_seq(device), **data)
        self._sink(Outgoing(topic, payload, "event"))

    def availability(self, device: str, online: bool) -> None:
        """Publish the retained ``online``/``offline`` of a device."""
        payload = (ONLINE if online else OFFLINE).encode()
        self._sink(Outgoing(availability_topic(self.site, device), payload, "availability", retain=True))
