"""Meter totals to usage, and duplicate messages by ``seq``; state kept with the readings in the store.

Meters publish cumulative totals. Each accepted total newer than the last one yields a usage reading
(``usage_l``/``usage_wh``) of the difference at the same ``ts``. A total that drops by more than
``RESET_DROP_FRACTION`` of the last one is a counter reset (meter replaced or reflashed): usage is the
new total. A smaller drop is a glitch: refused as ``total_backwards``, the old total kept. A total not
newer than the last accepted one (a redelivery, or an old buffered value) is stored as is but yields
no usage, so a redelivered message can never double usage. Pulse counters become ``total_l`` or
``energy_wh`` first, with ``litres_per_pulse``/``wh_per_pulse`` from the device's config.

The state lives in memory; ``take_dirty()`` hands the changed rows to the store's ``write``, which
commits them in the same transaction as the batch's readings (``gateway.store.ingest_state``); after a
failed commit, ``restore`` puts the committed state back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.contract import METRICS
from gateway.model import Reading
from gateway.store import ingest_state
from gateway.store.ingest_state import IngestState, MeterRow, SeqRow
from gateway.validate import Refusal

if TYPE_CHECKING:
    from gateway.config import DeviceSettings
    from gateway.store.base import TimeSeriesStore

#: A total dropping by more than this fraction of the last total is a counter reset, not a glitch.
RESET_DROP_FRACTION = 0.10


@dataclass(slots=True)
class _Last:
    value: float
    ts: float


class Meters:
    """Turns meter totals into usage readings, remembering the last total per (device, metric)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], _Last] = {}
        self._dirty: set[tuple[str, str]] = set()

    def restore(self, rows: Iterable[MeterRow]) -> None:
        """(Re)load the committed state, dropping uncommitted changes."""
        self._last = {(d, m): _Last(t, ts) for d, m, t, ts in rows}
        self._dirty.clear()

    def take_dirty(self) -> tuple[MeterRow, ...]:
        """The rows changed since the last call, to commit with the batch that changed them."""
        rows = tuple((d, m, self._last[(d, m)].value, self._last[(d, m)].ts) for d, m in self._dirty)
        self._dirty.clear()
        return rows

    @property
    def dirty(self) -> bool:
        """Whether there is state not yet saved."""
        return bool(self._dirty)

    def last_total(self, device: str, metric: str) -> float | None:
        """The last accepted total of a meter series, if any."""
        last = self._last.get((device, metric))
        return None if last is None else last.value

    def apply(self, device: DeviceSettings | None, readings: list[Reading]) -> tuple[list[Reading], list[Refusal]]:
        """Return the readings to store (with derived totals and usage) and refusals (``total_backwards``)."""
        out: list[Reading] = []
        refusals: list[Refusal] = []
        for r in readings:
            spec = METRICS.get(r.metric)
            if spec is None or not spec.cumulative:
                out.append(r)
                continue
            if r.metric == "pulses":
                derived = self._from_pulses(device, r)
                if derived is None:
                    out.append(r)  # no conversion configured: keep the raw count, no usage
                    continue
                produced = self._total(derived, refusals)
                if produced:
                    out.append(r)
                    out.extend(produced)
                continue
            out.extend(self._total(r, refusals))
        return out, refusals

    @staticmethod
    def _from_pulses(device: DeviceSettings | None, r: Reading) -> Reading | None:
        if device is None:
            return None
        if device.litres_per_pulse is not None:
            return Reading(r.ts, r.device, "total_l", r.value * device.litres_per_pulse)
        if device.wh_per_pulse is not None:
            return Reading(r.ts, r.device, "energy_wh", r.value * device.wh_per_pulse)
        return None

    def _total(self, r: Reading, refusals: list[Refusal]) -> list[Reading]:
        usage_metric = METRICS[r.metric].usage_metric
        key = (r.device, r.metric)
        last = self._last.get(key)
        if last is None:
            self._last[key] = _Last(r.value, r.ts)
            self._dirty.add(key)
            return [r]
        if r.ts <= last.ts:
            return [r]  # redelivered or late: storing it again overwrites, usage was counted already
        delta = r.value - last.value
        if delta < 0:
            if -delta <= RESET_DROP_FRACTION * last.value:
                refusals.append(Refusal("total_backwards", f"{r.metric} {r.value:g} < last {last.value:g}; "
                                        "kept the last total"))
                return []
            delta = r.value  # counter reset: everything counted since the reset is usage
        last.value = r.value
        last.ts = r.ts
        self._dirty.add(key)
        if usage_metric is None:
            return [r]
        return [r, Reading(r.ts, r.device, usage_metric, delta)]


class SeqFilter:
    """Drops messages already seen, by the per-device ``seq``; a device restart (seq back, ts on) is new."""

    def __init__(self) -> None:
        self._last: dict[str, _Last] = {}
        self._dirty: set[str] = set()

    def restore(self, rows: Iterable[SeqRow]) -> None:
        """(Re)load the committed state, dropping uncommitted changes."""
        self._last = {d: _Last(float(s), ts) for d, s, ts in rows}
        self._dirty.clear()

    def take_dirty(self) -> tuple[SeqRow, ...]:
        """The rows changed since the last call, to commit with the batch that changed them."""
        rows = tuple((d, int(self._last[d].value), self._last[d].ts) for d in self._dirty)
        self._dirty.clear()
        return rows

    def keep_dirty(self, rows: Iterable[SeqRow]) -> None:
        """Mark the devices of ``rows`` (taken by ``take_dirty``, their save failed) as changed again."""
        self._dirty.update(d for d, _, _ in rows if d in self._last)

    @property
    def dirty(self) -> bool:
        """Whether there is state not yet saved."""
        return bool(self._dirty)

    def is_duplicate(self, device: str, seq: int, ts: float) -> bool:
        """True when this (seq, ts) was seen already; otherwise remember it and return False.

        A seq above the last is new. The same seq is a duplicate. A lower seq with a later ``ts`` is
        a device that restarted and counts from zero again; with a ``ts`` not later, a redelivery.
        """
        last = self._last.get(device)
        if last is not None and (seq == last.value or (seq < last.value and ts <= last.ts)):
            return True
        if last is None:
            self._last[device] = _Last(float(seq), ts)
        else:
            last.ts = max(ts, last.ts) if seq > last.value else ts
            last.value = float(seq)
        self._dirty.add(device)
        return False


def load_ingest_state(store: TimeSeriesStore, events_conn: sqlite3.Connection) -> IngestState:
    """The meter and seq state the store holds; at the first start after the upgrade, the events database's.

    The events database's copy is read once and committed to the store (empty or not), which from then
    on holds it: that copy is never written again.
    """
    state = store.load_state()
    if state is None:
        state = IngestState(ingest_state.read_meters(events_conn), ingest_state.read_seqs(events_conn))
        store.write([], state)
    return state
