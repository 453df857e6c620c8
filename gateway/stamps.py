"""Arrival stamps that never collide: readings stamped on arrival get a strictly increasing millisecond per device.

Readings without a time of their own (plain topics, ESPHome, native payloads without ``ts``) are
stamped with the time the gateway received them, and every store keys a series on the millisecond
(SQLite's primary key, InfluxDB's point time at ``precision=ms``). A broker redelivering its queue after
an outage hands over hundreds of messages per millisecond; stamped alike they would overwrite one
another. So the second arrival of a device within a millisecond is stamped one millisecond after the
first, and so on: distinct messages stay distinct readings, a burst is spread by at most a few
milliseconds per message, and a device's readings of one message keep one stamp (one InfluxDB point).
"""

from __future__ import annotations

from gateway.model import Decoded, Event, Reading


class ArrivalStamps:
    """Per device, the last arrival stamp handed out (ms); used by the one ingest writer thread only.

    Keys are configured devices only (unknown ones are refused before), so the map stays small.
    """

    def __init__(self) -> None:
        self._last_ms: dict[str, int] = {}

    def restamp(self, decoded: Decoded, received: float) -> None:
        """Give the records of ``decoded`` stamped exactly ``received`` a millisecond no earlier message got.

        Records carrying their own time (``ts != received``) are left alone: the same record sent
        again must overwrite itself. Call once per message, not per commit attempt, so a retried
        commit writes the same stamps again.
        """
        readings = decoded.readings
        events = decoded.events
        for r in readings:  # plain loops, not any(): this runs once per message on the writer thread
            if r.ts == received:
                break
        else:
            for e in events:
                if e.ts == received:
                    break
            else:
                return
        ms = round(received * 1000)
        stamps: dict[str, float] = {}  # device -> this message's stamp (a message may carry several devices)
        last = self._last_ms

        def stamp(device: str) -> float:
            ts = stamps.get(device)
            if ts is None:
                prev = last.get(device)
                m = ms if prev is None or ms > prev else prev + 1
                last[device] = m
                ts = stamps[device] = m / 1000
            return ts

        decoded.readings = [Reading(stamp(r.device), r.device, r.metric, r.value) if r.ts == received else r
                            for r in readings]
        decoded.events = [Event(stamp(e.device), e.device, e.type, e.data) if e.ts == received else e
                          for e in events]
