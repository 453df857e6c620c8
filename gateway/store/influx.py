"""The InfluxDB time-series backend: writes through a durable outbox, reads in InfluxQL over ``/query``.

This is the one module that imports ``influxdb_client`` (the v2 write path); ``gateway.store.influx_http`` holds
the plain HTTP side (httpx). Writes go first to the
SQLite outbox (``gateway.store.outbox``) and return; a forwarder thread sends batches to InfluxDB,
through ``/write?db=&precision=ms`` for 1.x (Debian's 1.6) or influxdb-client's v2 write API for 2.x,
3.x, Cloud and 1.8+, chosen by ``[influxdb] api`` or detected from ``/ping``. Points leave the outbox
only after InfluxDB acknowledged them; a refused point (400) is bisected out of its batch and
dead-lettered; 401/403 mark the store degraded; other failures back off exponentially with jitter.
"""

from __future__ import annotations

import bisect
import fcntl
import logging
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gateway.backoff import Backoff
from gateway.clock import Clock, SystemClock
from gateway.errors import StoreError
from gateway.listeners import Listeners
from gateway.model import Reading
from gateway.store import influxql
from gateway.store.base import Aggregate, Bucket, OutboxHealth, SeriesInfo, StoreHealth
from gateway.store.influx_settings import InfluxSettings
from gateway.store.ingest_state import IngestState, SeenRow
from gateway.store.lineprotocol import LineProtocolError, line
from gateway.store.outbox import AUTH, OUTBOX_DB_NAME, Outbox, OutboxRow, QueuedPoint, SendResult, error_text
from gateway.store.windows import to_ms, window_edges

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.store.influx_http import InfluxHttp

log = logging.getLogger(__name__)

#: Topic and reasons under which refused points are dead-lettered.
DEAD_LETTER_TOPIC = "influxdb/write"
REASON_REJECTED = "influx_rejected"
REASON_UNWRITABLE = "influx_unwritable"
#: Statuses meaning "this content is bad": bisect the batch and dead-letter the culprit.
BAD_POINT = frozenset({400, 413, 422})
#: How long the forwarder sleeps with nothing to send (a write wakes it at once).
IDLE_WAIT = 5.0
#: Drops while the outbox is full are logged at most this often (seconds).
DROP_LOG_EVERY = 60.0
#: Batches a read sends first, so a read sees recent writes without waiting for the forwarder.
READ_CATCH_UP_BATCHES = 20


class DeadLetterSink(Protocol):
    """Where refused points go: ``gateway.deadletters.DeadLetters`` fits."""

    def record(self, topic: str, reason: str, payload: bytes, device: str | None = None,
               detail: str = "") -> None:
        """Store a refused payload with its reason."""
        ...


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The InfluxDB backend's health, for ``houqin storage status``, alerts and the dashboard."""

    backend: str
    url: str
    api: str
    version: str | None
    reachable: bool | None
    degraded: bool
    degraded_reason: str
    depth: int
    max_points: int
    oldest_queued_at: float | None
    oldest_age_s: float | None
    dropped: int
    rejected: int
    sent: int
    last_error: str
    last_error_at: float | None
    last_success_at: float | None
    next_attempt_at: float | None


StatusListener = Callable[[StoreStatus], None]


class InfluxV2Writer:
    """Writes through influxdb-client's synchronous v2 write API (``/api/v2/write``, bucket/org/token)."""

    def __init__(self, settings: InfluxSettings) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.settings = settings
        # retries=False: the outbox's forwarder owns retrying, with its own backoff and bisecting.
        self._client = InfluxDBClient(url=settings.url, token=settings.token, org=settings.org,
                                      timeout=int(settings.timeout * 1000), verify_ssl=settings.verify_tls,
                                      retries=False)
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: Sequence[str]) -> SendResult:
        """Write one batch with millisecond precision."""
        from influxdb_client.rest import ApiException

        try:
            self._api.write(bucket=self.settings.bucket, org=self.settings.org, record="\n".join(lines),
                            write_precision="ms")  # type: ignore[arg-type]
        except ApiException as e:
            body = e.body.decode("utf-8", "replace") if isinstance(e.body, bytes) else str(e.body or e.reason)
            return SendResult(int(e.status or 0), error_text(body))
        except Exception as e:  # urllib3 connection errors and timeouts: retry later
            return SendResult(0, f"unreachable: {e}")
        return SendResult(204)

    def close(self) -> None:
        """Close the client."""
        self._client.close()  # type: ignore[no-untyped-call]


def choose_api(settings: InfluxSettings, version: str) -> str:
    """``v1`` or ``v2`` for this server version (from ``/ping``) and the configured credentials."""
    if settings.api != "auto":
        return settings.api
    major, minor = _version(version)
    if major == 1 and (minor < 8 or not settings.has_v2_credentials):
        return "v1"
    if major >= 2 or major == 0:  # 0: unknown (e.g. Cloud hides it): v2 if we can, else v1
        return "v2" if settings.has_v2_credentials else "v1"
    return "v2"


def _version(text: str) -> tuple[int, int]:
    digits = text.lstrip("v").split(".")
    try:
        return int(digits[0]), int(digits[1].split("~")[0].split("-")[0]) if len(digits) > 1 else 0
    except ValueError:
        return 0, 0


class Forwarder:
    """Moves points from the outbox to InfluxDB; ``pump()`` does the work, a thread calls it."""

    def __init__(
        self,
        outbox: Outbox,
        send: Callable[[Sequence[str]], SendResult],
        clock: Clock,
        *,
        batch_size: int,
        backoff_initial: float,
        backoff_max: float,
        rng: random.Random,
        on_reject: Callable[[OutboxRow, SendResult], None],
        on_change: Callable[[], None],
        on_pump: Callable[[], None] = lambda: None,
        target: str = "InfluxDB",
    ) -> None:
        self._outbox = outbox
        #: What the log lines call the receiver (the same forwarder feeds the uplink's central store and broker).
        self.target = target
        self._on_pump = on_pump
        self._send = send
        self._clock = clock
        self._batch = batch_size
        # jitter: several gateways do not retry in step
        self._backoff = Backoff(backoff_initial, backoff_max, jitter=0.5, rng=rng)
        self._on_reject = on_reject
        self._on_change = on_change
        self._lock = threading.Lock()
        self.failures = 0
        self.next_attempt = 0.0
        self.reachable: bool | None = None
        self.degraded_reason = ""
        self.last_error = ""
        self.last_error_at: float | None = None
        self.last_success_at: float | None = None

    @property
    def backing_off(self) -> bool:
        """True while waiting after a failure."""
        return self.failures > 0 and self._clock.now() < self.next_attempt

    def pump(self, max_batches: int | None = None) -> float:
        """Send due batches until the outbox is empty or a send fails; returns seconds until the next try."""
        with self._lock:
            self._on_pump()
            now = self._clock.now()
            if now < self.next_attempt:
                return self.next_attempt - now
            sent = 0
            while max_batches is None or sent < max_batches:
                rows = self._outbox.peek(self._batch)
                if not rows:
                    return IDLE_WAIT
                failed = self._deliver(rows)
                if failed is not None:
                    return self._failed(failed)
                sent += 1
            return 0.0

    def _deliver(self, rows: list[OutboxRow]) -> SendResult | None:
        """Send rows; bisect on a bad point. None when all were handled, else the failure to back off on."""
        res = self._send([r.line for r in rows])
        if res.ok:
            self._outbox.remove(rows)
            self._succeeded()
            return None
        if res.status in BAD_POINT:
            self._succeeded()  # InfluxDB is there and listening; it only disliked some content
            if len(rows) == 1:
                self._on_reject(rows[0], res)
                return None
            mid = len(rows) // 2
            return self._deliver(rows[:mid]) or self._deliver(rows[mid:])
        return res

    def _succeeded(self) -> None:
        changed = self.failures > 0 or self.degraded_reason != "" or self.reachable is not True
        self.failures = 0
        self.next_attempt = 0.0
        self.reachable = True
        self.degraded_reason = ""
        self.last_success_at = self._clock.now()
        if changed:
            log.info("%s accepts writes again", self.target)
            self._on_change()

    def _failed(self, res: SendResult) -> float:
        now = self._clock.now()
        self.failures += 1
        delay = self._backoff.delay(self.failures)
        self.next_attempt = now + delay
        was_degraded, was_reachable = self.degraded_reason, self.reachable
        self.reachable = res.status != 0
        self.last_error = f"{res.status or 'no answer'}: {res.detail}"[:500]
        self.last_error_at = now
        if res.status in AUTH:
            self.degraded_reason = (f"InfluxDB refused the credentials ({res.status}: {res.detail}); "
                                    "check [influxdb] token or username/password")
        if self.degraded_reason != was_degraded or self.reachable != was_reachable or self.failures == 1:
            log.warning("%s write failed (%s); the outbox keeps them, next try in %.0f s",
                        self.target, self.last_error, delay)
            self._on_change()
        return delay


class InfluxStore:
    """``TimeSeriesStore`` on InfluxDB with a durable SQLite outbox in front of it."""

    def __init__(
        self,
        settings: InfluxSettings,
        *,
        site: str,
        outbox_path: Path | str,
        kinds: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        dead_letters: DeadLetterSink | None = None,
        rng: random.Random | None = None,
        start: bool = True,
        target: str = "InfluxDB",
    ) -> None:
        self.settings = settings
        self.site = site
        self._kinds = dict(kinds or {})
        self._clock = clock or SystemClock()
        self._dead_letters = dead_letters
        self._listeners: Listeners[[StoreStatus]] = Listeners("storage status listener")
        self.outbox = Outbox(outbox_path, max_points=settings.outbox_max_points, clock=self._clock)
        #: Only one process forwards a given outbox (the gateway); others (``houqin query``) only read.
        self._lock_fd = _lock_forwarding(Path(outbox_path))
        self.forwarding = self._lock_fd is not None
        # httpx (and the CLI parts it brings) only for a site that uses InfluxDB: a Pi's memory pays for each module.
        from gateway.store.influx_http import InfluxHttp

        self.http: InfluxHttp = InfluxHttp(settings)
        self._v2: InfluxV2Writer | None = None
        self.api: str | None = None if settings.api == "auto" else settings.api
        self.version: str | None = None
        self._api_lock = threading.Lock()
        self.forwarder = Forwarder(
            self.outbox, self._send, self._clock,
            batch_size=settings.batch_size, backoff_initial=settings.backoff_initial,
            backoff_max=settings.backoff_max, rng=rng or random.Random(),
            on_reject=self._reject, on_change=self._notify, on_pump=self._report_drops, target=target,
        )
        self._drop_logged_at = -DROP_LOG_EVERY
        self._dropped_unlogged = 0
        self._drops_unreported = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    @classmethod
    def from_config(cls, config: Config, *, clock: Clock | None = None,
                    dead_letters: DeadLetterSink | None = None, start: bool = True) -> InfluxStore:
        """The store ``[storage] timeseries = "influxdb"`` asks for: outbox in ``storage.dir/outbox.db``."""
        settings: InfluxSettings | None = getattr(config, "influxdb", None)
        if settings is None:
            raise StoreError('[storage] timeseries = "influxdb" needs an [influxdb] section (url and database, '
                             "or url, org, bucket and token)")
        return cls(settings, site=config.site.id, outbox_path=config.storage.path / OUTBOX_DB_NAME,
                   kinds={d.id: d.kind for d in config.devices}, clock=clock, dead_letters=dead_letters,
                   start=start)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the forwarder thread (the constructor does unless ``start=False``)."""
        if not self.forwarding:
            log.info("another process forwards %s; this one only reads InfluxDB", self.outbox.path)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="influx-forwarder", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.forwarder.pump()
            except Exception:  # a bug or a broken outbox must not kill the thread silently
                log.exception("InfluxDB forwarder failed; trying again")
                delay = self.settings.backoff_max
            self._wake.wait(max(0.0, delay))
            self._wake.clear()

    def kick(self) -> None:
        """Wake the forwarder now (after a write, or after a test moved its clock)."""
        self._wake.set()

    def close(self) -> None:
        """Stop the forwarder and close files and connections; queued points stay in the outbox."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout * 2 + 5)
            self._thread = None
        self.http.close()
        if self._v2 is not None:
            self._v2.close()
        self.outbox.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    # -- writes ---------------------------------------------------------------------------------

    def write(self, readings: Sequence[Reading], state: IngestState | None = None) -> None:
        """Commit to the outbox with ingest's ``state`` (durable on return) and wake the forwarder."""
        points = []
        for r in readings:
            tags = {"site": self.site, "device": r.device, "kind": self._kinds.get(r.device, "")}
            try:
                ts = to_ms(r.ts)
                points.append(QueuedPoint(line(self.settings.measurement, tags, {r.metric: r.value}, ts),
                                          r.device, ts))
            except LineProtocolError as e:
                self._dead_letter(REASON_UNWRITABLE, repr(r).encode(), r.device, str(e))
        dropped = self.outbox.put(points, state)
        if dropped:
            self._dropped_unlogged += dropped
            # Listeners hear of it from the forwarder thread: ingest calls write() inside its events-DB
            # transaction, where a listener writing an alert to the same database would wait on itself.
            self._drops_unreported = True
        self.kick()

    def load_state(self) -> IngestState | None:
        """Ingest's meter and seq state, kept in the outbox file (see ``gateway.store.ingest_state``)."""
        return self.outbox.load_state()

    def seen(self) -> tuple[SeenRow, ...]:
        """The devices' last-seen times, kept in the outbox file with ingest's state (readable in an outage)."""
        return self.outbox.seen()

    def _report_drops(self) -> None:
        if not self._drops_unreported:
            return
        self._drops_unreported = False
        now = self._clock.now()
        if now - self._drop_logged_at >= DROP_LOG_EVERY:  # once a minute, not once per batch
            log.warning("InfluxDB outbox full (%d points): dropped the %d oldest point(s)",
                        self.outbox.max_points, self._dropped_unlogged)
            self._drop_logged_at, self._dropped_unlogged = now, 0
        self._notify()

    def _send(self, lines: Sequence[str]) -> SendResult:
        api = self._resolve_api()
        if api is None:
            return SendResult(0, f"unreachable: no answer from {self.settings.safe_url}/ping")
        if api == "v2":
            with self._api_lock:
                if self._v2 is None:
                    self._v2 = InfluxV2Writer(self.settings)
            return self._v2.write(lines)
        res = self.http.write_v1(lines)
        if res.status == 404 and "database not found" in res.detail and self.settings.database:
            try:
                self.http.create_database()
            except StoreError as e:
                return SendResult(404, f"{res.detail}; creating it failed: {e}")
            res = self.http.write_v1(lines)
        return res

    def _resolve_api(self) -> str | None:
        with self._api_lock:
            if self.api is not None and (self.version is not None or self.settings.api != "auto"):
                return self.api
        try:
            version = self.http.ping()
        except StoreError:
            return self.api
        with self._api_lock:
            self.version = version
            self.api = choose_api(self.settings, version)
            log.info("InfluxDB %s at %s: writing through the %s API", version or "(version hidden)",
                     self.settings.safe_url, self.api)
            return self.api

    def _reject(self, row: OutboxRow, res: SendResult) -> None:
        log.warning("InfluxDB refused a point of %s (%s): dead-lettered", row.device, res.detail)
        recorded = self._dead_letter(REASON_REJECTED, row.line.encode(), row.device, f"{res.status}: {res.detail}")
        # Kept in the outbox's own table when there is no dead-letter table or it failed: never lost silently.
        self.outbox.reject(row, res.status, res.detail, keep=not recorded)
        self._notify()

    def _dead_letter(self, reason: str, payload: bytes, device: str, detail: str) -> bool:
        if self._dead_letters is None:
            return False
        try:
            self._dead_letters.record(DEAD_LETTER_TOPIC, reason, payload, device=device, detail=detail)
        except Exception:
            log.exception("could not record a dead letter for %s", device)
            return False
        return True

    # -- status ---------------------------------------------------------------------------------

    def add_listener(self, listener: StatusListener) -> None:
        """Call ``listener(status)`` when degraded/reachable changes, points are dropped or refused.

        Called on the forwarder thread (or a reading thread catching up), never inside ``write()``.
        """
        self._listeners.add(listener)

    def _notify(self) -> None:
        f = self.forwarder
        self.outbox.set_state(last_error=f.last_error, last_error_at=str(f.last_error_at or ""),
                              last_success_at=str(f.last_success_at or ""), degraded_reason=f.degraded_reason)
        if not self._listeners:
            return
        self._listeners.tell(self.status())

    def status(self) -> StoreStatus:
        """Backend health now: reachability, outbox depth and age, drops, refusals, last error."""
        c = self.outbox.counts()
        f = self.forwarder
        now = self._clock.now()
        return StoreStatus(
            backend="influxdb", url=self.settings.safe_url, api=self.api or "auto", version=self.version,
            reachable=f.reachable, degraded=bool(f.degraded_reason), degraded_reason=f.degraded_reason,
            depth=c.depth, max_points=self.outbox.max_points, oldest_queued_at=c.oldest_queued_at,
            oldest_age_s=None if c.oldest_queued_at is None else max(0.0, now - c.oldest_queued_at),
            dropped=c.dropped, rejected=c.rejected, sent=c.sent, last_error=f.last_error,
            last_error_at=f.last_error_at, last_success_at=f.last_success_at,
            next_attempt_at=f.next_attempt if f.failures else None,
        )

    def health(self) -> StoreHealth:
        """Writable when the durable outbox (every write goes through it first) is; the outbox and server state."""
        st = self.status()
        return StoreHealth(st.backend, os.access(self.outbox.path, os.W_OK),
                           OutboxHealth(depth=st.depth, dropped=st.dropped, oldest_age_s=st.oldest_age_s,
                                        reachable=st.reachable, degraded=st.degraded))

    # -- reads ----------------------------------------------------------------------------------

    def _catch_up(self) -> None:
        # Reads should see what was just written; send a bounded amount first unless backing off.
        if self.forwarding and self.outbox.depth() and not self.forwarder.backing_off:
            self.forwarder.pump(max_batches=READ_CATCH_UP_BATCHES)

    def query(self, device: str, metric: str, start: float, end: float) -> list[Reading]:
        """Raw readings with ``start <= ts < end``, oldest first."""
        if end <= start:
            return []
        self._catch_up()
        q = influxql.range_query(self.settings.measurement, self.site, device, metric, start, end)
        out = []
        for s in self.http.query(q)[0]:
            for t, v in s.values:
                if isinstance(v, int | float) and not isinstance(v, bool):
                    out.append(Reading(t / 1000, device, metric, float(v)))
        return out

    def aggregate(
        self,
        device: str,
        metric: str,
        start: float,
        end: float,
        every: float,
        fn: Aggregate,
        tz: tzinfo | None = None,
    ) -> list[Bucket]:
        """Aggregates per window (``GROUP BY time(every) tz(...)``); windows are the shared ``window_edges``."""
        s, e = to_ms(start), to_ms(end)
        if e <= s:
            return []
        edges = window_edges(s, e, to_ms(every), tz)
        self._catch_up()
        q = influxql.aggregate_query(self.settings.measurement, self.site, device, metric, start, end, every, fn, tz)
        out = []
        for series in self.http.query(q)[0]:
            for row in series.values:
                t, value, count = int(row[0]), row[1], row[2]
                if value is None or not count:
                    continue
                lo, hi = _window_of(edges, max(t, s))
                out.append(Bucket(lo / 1000, hi / 1000, float(value), int(count)))
        return out

    def series(self, device: str | None = None) -> list[SeriesInfo]:
        """Every stored series (of one device when given) with its latest sample."""
        self._catch_up()
        m = self.settings.measurement
        fields = sorted({str(v[0]) for s in self.http.query(influxql.field_keys_query(m))[0] for v in s.values})
        if not fields:
            return []
        q = ";".join(influxql.last_per_device_query(m, self.site, f, device) for f in fields)
        out = []
        for metric, answer in zip(fields, self.http.query(q, len(fields)), strict=False):
            for s in answer:
                for t, v in s.values:
                    if isinstance(v, int | float) and not isinstance(v, bool):
                        out.append(SeriesInfo(s.tags.get("device", device or ""), metric, t / 1000, float(v)))
        return sorted(out, key=lambda i: (i.device, i.metric))


def _lock_forwarding(outbox_path: Path) -> int | None:
    """An exclusive lock on ``outbox.db.lock``: the fd when this process got it, None when another holds it."""
    fd = os.open(outbox_path.with_name(outbox_path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _window_of(edges: list[int], t: int) -> tuple[int, int]:
    """The shared window ``[edges[i], edges[i+1])`` holding ``t``."""
    i = max(0, min(bisect.bisect_right(edges, t) - 1, len(edges) - 2))
    return edges[i], edges[i + 1]
