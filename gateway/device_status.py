"""When each device was last heard from and its availability, for people and the rules.

Availability is committed to the events database (``device_status``) with the message that says it. The
times are kept in memory by ingest and saved with the readings, in the store's file
(``gateway.store.ingest_state``): older releases saved them in the events database, so the later of the
two counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.eventsdb import EventsDB
    from gateway.store.base import TimeSeriesStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """When a device was last heard from and its last availability (None if it never said)."""

    device: str
    #: Receive time of its last message of any kind, availability included.
    last_seen: float
    online: bool | None
    online_since: float | None
    #: Receive time of its last real reading or event; None when none came (availability alone).
    last_data: float | None = None


def device_status(events_db: EventsDB | None, store: TimeSeriesStore | None = None) -> dict[str, DeviceStatus]:
    """Last-seen and availability of every device ingest has heard from (see the module docstring).

    Without ``store``, or when it cannot be read, the events database's times alone; without ``events_db``,
    no availability.
    """
    out: dict[str, DeviceStatus] = {}
    if events_db is not None:
        rows = events_db.conn().execute(
            "SELECT device, last_seen, online, online_since, last_data FROM device_status")
        out = {d: DeviceStatus(d, seen, None if on is None else bool(on), since, data)
               for d, seen, on, since, data in rows}
    if store is None:
        return out
    try:
        saved = store.seen()
    except Exception as e:  # a status page still shows availability
        log.warning("could not read the devices' last-seen times from the store: %s", e)
        return out
    for device, seen, data in saved:
        st = out.get(device)
        if st is None:
            out[device] = DeviceStatus(device, seen, None, None, data)
        else:
            out[device] = DeviceStatus(device, max(st.last_seen, seen), st.online, st.online_since,
                                       max((t for t in (st.last_data, data) if t is not None), default=None))
    return out
