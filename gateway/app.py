"""The composition root: builds the gateway's parts from the config and starts/stops them in order.

``build_gateway`` builds every part explicitly, in the order they depend on each other, and returns a
``Site`` whose fields are the parts. Order of ``start()``: embedded broker (if configured) -> events DB
and time-series store (built in the constructor) -> ingest writer -> components (rules, reports, gate,
dashboard, ...) -> MQTT link. ``stop()`` stops components, then ingest (acking its last batch while
still connected), then the link.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from gateway import contract
from gateway.alerting import Alerting, last_seen_from
from gateway.backup.job import NightlyBackup
from gateway.clock import Clock, SystemClock
from gateway.config import Config
from gateway.deadletters import DeadLetters
from gateway.errors import ConfigError
from gateway.eventsdb import EVENTS_DB_NAME, EventsDB
from gateway.file_modes import make_private
from gateway.gate.service import Gate
from gateway.homeassistant import HomeAssistantDiscovery
from gateway.ingest import Ingest
from gateway.inspections.build import build_disinfection
from gateway.inspections.checklist_watch import ChecklistWatch
from gateway.inspections.checklists import Checklists
from gateway.inspections.duty import DutyRoster, DutyRouter
from gateway.inspections.hazard_watch import HazardWatch
from gateway.inspections.holiday_watch import HolidayWatch
from gateway.inspections.ledger import Ledger
from gateway.inspections.watch import DisinfectionWatch
from gateway.link_settings import link_settings
from gateway.model import BatchObserver
from gateway.mqtt_link import MqttLink, Will
from gateway.reports.samples import SampleWatch
from gateway.reports.scheduler import ReportScheduler
from gateway.reports.service import Reports
from gateway.signed_link import SealingPublisher
from gateway.signing import KeyFileError, Signer, ensure_key, key_path
from gateway.storage_alerts import StorageAlerts
from gateway.store.base import TimeSeriesStore
from gateway.store.influx import InfluxStore
from gateway.store.nightly import NightlyMaintenance
from gateway.store.sqlite import TIMESERIES_DB_NAME, SqliteStore
from gateway.timesync import ClockGate, ClockWatch
from gateway.uplink.messages import SiteStatus, offline_devices
from gateway.uplink.service import Uplink
from gateway.uplink.store import UplinkedStore, central_store

log = logging.getLogger(__name__)

ONLINE_PAYLOAD = b"online"


class Component(Protocol):
    """Anything the gateway starts after ingest and stops before it (rules, dashboard, scheduler)."""

    def start(self) -> None:
        """Start (may spawn threads); must return."""
        ...

    def stop(self) -> None:
        """Stop and release resources."""
        ...


def build_store(config: Config, *, clock: Clock | None = None,
                dead_letters: DeadLetters | None = None) -> TimeSeriesStore:
    """The time-series backend named by ``[storage] timeseries``."""
    if config.storage.timeseries == "sqlite":
        # Opening an existing store takes no write lock, and creating one waits for a running writer
        # (BEGIN IMMEDIATE with a busy timeout), so a CLI beside the service needs no retry here.
        return SqliteStore(config.storage.path / TIMESERIES_DB_NAME, retention=config.storage.retention.retention(),
                           fold_every=config.storage.fold_interval)
    # Imported lazily: the InfluxDB client is heavy and not needed with SQLite.
    from gateway.store.influx import InfluxStore

    return InfluxStore.from_config(config, clock=clock, dead_letters=dead_letters)


@dataclass(frozen=True)
class Site:
    """Every part of one site's gateway, as built by ``build_gateway`` (what ``houqin run`` starts).

    ``core`` holds the stores, ingest and the MQTT link and starts/stops the parts it was given; the
    other fields are the features on top of it. The dashboard, which sits above this layer, is built
    from these fields (``dashboard.component``).
    """

    core: Gateway
    alerting: Alerting
    #: Alerts about the InfluxDB backend itself; None with the SQLite store.
    storage_alerts: StorageAlerts | None
    reports: Reports
    gate: Gate
    #: The SQLite store's nightly retention and optimisation; None with InfluxDB (it keeps its own).
    nightly: NightlyMaintenance | None
    #: The nightly backup to ``[backup] dir``; None when no backup folder is configured.
    backup: NightlyBackup | None
    #: Home Assistant MQTT discovery; None unless ``[homeassistant] discovery = true``.
    discovery: HomeAssistantDiscovery | None
    #: The disinfection record's watch over the rooms' UV lamp plugs (``[inspections.disinfection]``).
    disinfection: DisinfectionWatch
    #: The checklists' overdue alerts (``[[inspections.checklists]]``).
    checklists: ChecklistWatch
    #: The hazard ledger's overdue alerts.
    hazards: HazardWatch
    #: Water or power used during a holiday (``[inspections.holidays]``).
    holidays: HolidayWatch
    #: Alert transitions and status to the district's central broker; None unless ``[uplink]`` is set.
    uplink: Uplink | None = None

    @property
    def config(self) -> Config:
        """The site's config."""
        return self.core.config

    @property
    def clock(self) -> Clock:
        """The clock every part runs on."""
        return self.core.clock

    @property
    def events_db(self) -> EventsDB:
        """The gateway's own records."""
        return self.core.events_db

    @property
    def store(self) -> TimeSeriesStore:
        """The time-series store."""
        return self.core.store

    @property
    def ingest(self) -> Ingest:
        """MQTT messages to stored readings and events."""
        return self.core.ingest

    @property
    def link(self) -> MqttLink:
        """The gateway's MQTT connection."""
        return self.core.link

    def add_component(self, component: Component) -> None:
        """Start ``component`` with the site, after every part built here (the dashboard)."""
        self.core.add_component(component)

    def start(self) -> None:
        """Narrow the data directory to the service's user (0700, files 0600), then start every part
        (see ``Gateway.start``)."""
        make_private(self.core.config.storage.path)
        self.core.start()

    def stop(self) -> None:
        """Stop every part (see ``Gateway.stop``)."""
        self.core.stop()

    def close(self) -> None:
        """Release the databases of a site that was built but never started."""
        self.core.close()

    def stats(self) -> dict[str, Any]:
        """Ingest counters and whether MQTT is connected."""
        return self.core.stats()

    def __enter__(self) -> Site:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def build_gateway(config: Config, *, clock: Clock | None = None, clock_watch: ClockWatch | None = None) -> Site:
    """Build every part of the site's gateway, each after the parts it needs; nothing is started yet.

    Ingest observers are told of a batch, and components start, in the order they are added here:
    alerting first (rules see a reading before anything else reacts), the dashboard last.
    """
    core = Gateway(config, clock=clock, clock_watch=clock_watch)
    try:
        return _build_parts(core)
    except BaseException:
        core.close()
        raise


def _build_parts(core: Gateway) -> Site:
    config, clock, store = core.config, core.clock, core.store
    alerting = Alerting(config, core.events_db, clock, publisher=core.commands,
                        last_seen=last_seen_from(store, core.events_db))
    core.add_observer(alerting)
    core.add_component(alerting)

    storage_alerts = None
    if isinstance(store, InfluxStore):
        storage_alerts = StorageAlerts(alerting.service, clock, store.settings.alert_chain,
                                       dropped_so_far=store.status().dropped)
        store.add_listener(storage_alerts.on_status)

    # Reports and visitor approvals send through the same channel objects as the alerts.
    channels = alerting.dispatcher.channels
    reports = Reports(config, store, core.events_db, clock, alerting.service, channels=channels)
    core.add_observer(SampleWatch(reports.ledger, alerting.service, reports.locale))
    core.add_component(ReportScheduler(reports, clock))

    gate = Gate(config, core.events_db, clock, publisher=core.commands, alerts=alerting.service, store=store,
                channels=channels, command_key=core.command_key)
    # Rules judging forced openings ask the card registry about reads that carry no decision.
    alerting.engine.add_card_decider(gate.access.verdict)
    # ... and whether a card or exit-button event is the agent's (signed), so a forged one excuses nothing.
    alerting.engine.add_event_check(gate.authenticity.authentic)
    core.add_observer(gate)
    core.add_component(gate)

    nightly = None
    if isinstance(store, SqliteStore):
        nightly = NightlyMaintenance(store, clock, config.site.tz)
        core.add_component(nightly)

    backup = None
    if config.backup.dir:
        backup = NightlyBackup(config, clock, config.site.tz, alerting.service)
        core.add_component(backup)

    discovery = None
    if config.homeassistant.discovery:
        service = alerting.service
        discovery = HomeAssistantDiscovery(config, core.link, open_alerts=lambda: service.list(open_only=True))
        service.add_listener(discovery.on_alert_change)
        core.add_observer(discovery)
        core.add_component(discovery)

    # Inspections: UV lamp sessions, the disinfection schedule and the "lamp on in class" alarm.
    disinfection = DisinfectionWatch(build_disinfection(config, core.events_db, clock), store, alerting.service,
                                     clock, config.site.locale)
    core.add_observer(disinfection)
    core.add_component(disinfection)
    checklists = ChecklistWatch(Checklists(config, core.events_db, clock, store), alerting.service, clock,
                                config.site.locale)
    core.add_component(checklists)
    hazards = HazardWatch(Ledger(config, core.events_db, clock), alerting.service, clock, config.site.locale)
    core.add_component(hazards)
    roster = DutyRoster(config, core.events_db, clock)  # the config's, or the latest saved on the page
    holidays = HolidayWatch(config, store, alerting.service, clock, roster=roster)
    core.add_component(holidays)
    if config.inspections.holidays.duty_chains:  # on a roster day, the person on duty is told first
        alerting.escalator.route_with(DutyRouter(config, roster).chain_for)

    uplink = None
    if config.uplink.enabled:
        uplink = Uplink(config, clock, alerting.service, central_store=core.central_store,
                        site_status=lambda: _site_status(core))
        alerting.service.add_listener(uplink.on_alert_change)
        alerting.escalator.add_listener(uplink.on_escalated)
        core.add_component(uplink)

    return Site(core=core, alerting=alerting, storage_alerts=storage_alerts, reports=reports, gate=gate,
                nightly=nightly, backup=backup, discovery=discovery, disinfection=disinfection,
                checklists=checklists, hazards=hazards, holidays=holidays, uplink=uplink)


def _site_status(core: Gateway) -> SiteStatus:
    """What the district is told of the site's health (no people's data: flags and device ids)."""
    from gateway.device_status import device_status

    devices = [d.id for d in core.config.devices]
    online = {d: s.online for d, s in device_status(core.events_db).items()}
    return SiteStatus(local_broker=core.link.connected, store_writable=core.store.health().writable,
                      devices=len(devices), offline=offline_devices(devices, online),
                      calendar={"timezone": core.config.site.timezone,
                                **core.config.calendar.model_dump(mode="json")})


class Gateway:
    """One site's gateway: events DB, time-series store, ingest, MQTT link and plugged-in components."""

    def __init__(self, config: Config, *, clock: Clock | None = None, store: TimeSeriesStore | None = None,
                 clock_watch: ClockWatch | None = None) -> None:
        """``clock_watch``: whether the wall clock can be trusted (default: ask systemd and the kernel)."""
        self.config = config
        self.clock: Clock = clock or SystemClock()
        storage = config.storage.path
        try:
            storage.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError([f"[storage] dir = {str(storage)!r}: cannot be created ({e}); choose a writable "
                               "directory"]) from None
        try:
            #: The site's gate command key: relay commands, the card list and the heartbeat are signed with it.
            self.command_key = ensure_key(key_path(config.gate.command_key_file, storage))
        except KeyFileError as e:
            raise ConfigError([f"[gate] command_key_file: {e}"]) from None
        self.events_db = EventsDB(Path(storage) / EVENTS_DB_NAME)
        self.dead_letters = DeadLetters(self.events_db, self.clock)
        try:
            self.store: TimeSeriesStore = (store if store is not None
                                           else build_store(config, clock=self.clock, dead_letters=self.dead_letters))
        except BaseException:
            self.events_db.close()
            raise
        try:
            #: The district's central store (``[uplink.store]``): ingest writes to it and to the site's store.
            self.central_store = central_store(config, clock=self.clock, dead_letters=self.dead_letters)
        except BaseException:
            self.store.close()
            self.events_db.close()
            raise
        writes = self.store if self.central_store is None else UplinkedStore(self.store, self.central_store)
        self.ingest = Ingest(config, writes, self.events_db, self.dead_letters, self.clock)
        # Messages wait (unacked) in front of ingest until the clock is synchronised after boot.
        watch = clock_watch or ClockWatch(self.clock, storage, boot_wait=config.site.clock_wait)
        self.clock_gate = ClockGate(watch, self.ingest.on_message)
        site = config.site.id
        status = contract.gateway_availability_topic(site)
        self.link = MqttLink(
            link_settings(config),
            on_message=self.clock_gate.on_message,
            will=Will(status, b"offline"),
            birth=Will(status, ONLINE_PAYLOAD),
            subscriptions=self.ingest.subscriptions(),
        )
        #: Where commands leave: ``set`` commands, the card list and the heartbeat are signed on the way.
        self.commands = SealingPublisher(self.link, Signer(self.command_key), self.clock, site)
        self.broker: Any = None
        self._components: list[Component] = []
        self._started: list[Component] = []
        self._running = False
        self.add_component(self.clock_gate)

    # -- plugging in -------------------------------------------------------------------------------
    def add_observer(self, observer: BatchObserver) -> None:
        """Be told of every committed batch of readings/events (see ``Ingest.add_observer``)."""
        self.ingest.add_observer(observer)

    def add_component(self, component: Component) -> None:
        """Start ``component`` with the gateway (after ingest, before MQTT) and stop it before ingest."""
        self._components.append(component)
        if self._running:
            component.start()
            self._started.append(component)

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start everything; on failure, stop what was started and re-raise."""
        try:
            if self.config.mqtt.embedded:
                from gateway.broker import EmbeddedBroker

                addr = self.config.mqtt.address()
                self.broker = EmbeddedBroker(addr.host, addr.port)
                self.broker.start()
                if self.broker.port != self.link.settings.port:  # embedded_port = 0: it picked a free one
                    self.link.settings = dataclasses.replace(self.link.settings, port=self.broker.port)
                log.info("embedded MQTT broker listening on %s:%s", addr.host, self.broker.port)
            self.ingest.start()
            for c in self._components:
                c.start()
                self._started.append(c)
            self._running = True
            self.link.start()
            log.info("gateway for site %s: MQTT %s:%s, storage %s (%s)", self.config.site.id,
                     self.link.settings.host, self.link.settings.port, self.config.storage.path,
                     self.config.storage.timeseries)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse order: components, ingest (committing a last batch), MQTT, stores, broker."""
        self._running = False
        for c in reversed(self._started):
            try:
                c.stop()
            except Exception:
                log.exception("stopping %r failed", c)
        self._started.clear()
        # Ingest before the link, so the last batch is acked while connected; what arrives after
        # stays unacked and the broker delivers it again next start.
        self.ingest.stop()
        try:
            self.link.stop()
        except Exception:
            log.exception("stopping the MQTT link failed")
        self._close_stores()
        self.events_db.close()
        if self.broker is not None:
            try:
                self.broker.stop()
            except Exception:
                log.exception("stopping the embedded broker failed")
            self.broker = None

    def close(self) -> None:
        """Release the databases of a gateway that was built but never started."""
        try:
            self._close_stores()
        finally:
            self.events_db.close()

    def _close_stores(self) -> None:
        for store in (self.store, self.central_store):
            try:
                if store is not None:
                    store.close()
            except Exception:
                log.exception("closing the time-series store failed")

    def stats(self) -> dict[str, Any]:
        """Ingest counters and whether MQTT is connected."""
        return {"mqtt_connected": self.link.connected, **self.ingest.stats()}

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
