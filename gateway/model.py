"""The records that flow through the gateway: readings, events and availability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Reading:
    """One numeric sample of one metric of one device, in canonical units.

    State metrics (``contact``, ``water_leak``) are stored as numbers; see ``contract.METRICS``.
    """

    ts: float
    device: str
    metric: str
    value: float


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened once at a device: a card read, a button press."""

    ts: float
    device: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Availability:
    """A device (or the agent behind it) went online or offline."""

    ts: float
    device: str
    online: bool


@dataclass(slots=True)
class Decoded:
    """What one MQTT message carried, after decoding and before validation."""

    readings: list[Reading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    availability: list[Availability] = field(default_factory=list)
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class CommittedBatch:
    """What ingest has just committed durably, handed to observers (rules, live dashboard).

    ``readings`` include the usage the gateway derived from meter totals (``usage_l``, ``usage_wh``).
    """

    readings: tuple[Reading, ...] = ()
    events: tuple[Event, ...] = ()
    availability: tuple[Availability, ...] = ()


class BatchObserver(Protocol):
    """Told of every committed batch, on the ingest writer thread: must be quick and must not raise."""

    def on_batch(self, batch: CommittedBatch) -> None:
        """Handle a committed batch."""
        ...
