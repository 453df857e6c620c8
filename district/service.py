"""``houqin district serve``: the district service's parts, built and started in order, stopped in reverse."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

from argon2 import PasswordHasher

from dashboard.server import DashboardServer
from district.alert_log import DB_NAME as ALERTS_DB
from district.alert_log import AlertLog
from district.app import DistrictView, create_district_app
from district.board import SUBSCRIPTIONS, SiteBoard
from district.central_store import CentralStore, open_store
from district.summary import DistrictSummary
from gateway.clock import Clock, SystemClock
from gateway.district_settings import DistrictSettings
from gateway.errors import HouqinError
from gateway.eventsdb import EventsDB
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink

log = logging.getLogger(__name__)

#: The district service's database (users, sessions, audit log, login throttle) in ``data_dir``.
DB_NAME = "district.db"


def open_db(settings: DistrictSettings) -> EventsDB:
    """The district's own database in ``data_dir`` (created when missing)."""
    path = Path(settings.data_dir)
    path.mkdir(parents=True, exist_ok=True)
    return EventsDB(path / DB_NAME)


def reader_link_settings(settings: DistrictSettings) -> LinkSettings:
    """The reader's link to the central broker: a persistent session, so transitions sent while the service was
    down wait for it."""
    b = settings.broker
    return LinkSettings(host=b.host, port=b.port, client_id=b.client_id, tls=b.tls, username=b.username or None,
                        password=b.password or None, ca_file=b.ca_file, persistent=True, manual_ack=False)


#: After the last retained message, ``read_retained`` waits this long for more before it stops listening.
QUIET_S = 0.5


def read_retained(settings: DistrictSettings, board: SiteBoard, timeout: float = 5.0) -> None:
    """Feed ``board`` the sites' retained messages (availability, status, open alerts) with a client of its own: a
    clean session under another client id, so the running service's session and its queue are left alone."""
    heard = threading.Event()

    def on_message(msg: InboundMessage) -> None:
        board.on_message(msg.topic, msg.payload, msg.retain)
        heard.set()

    link_settings = replace(reader_link_settings(settings), client_id=f"{settings.broker.client_id}-read-{os.getpid()}",
                            persistent=False)
    link = MqttLink(link_settings, on_message=on_message, subscriptions=list(SUBSCRIPTIONS))
    link.start()
    try:
        if not link.wait_connected(timeout):
            raise HouqinError(f"could not reach the central broker at {settings.broker.host}:{settings.broker.port}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            heard.clear()
            if not heard.wait(QUIET_S):
                break
    finally:
        link.stop()


class DistrictService:
    """The board fed by the central broker, the central store, the web server and the weekly summary."""

    def __init__(self, settings: DistrictSettings, *, clock: Clock | None = None,
                 hasher: PasswordHasher | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = open_db(settings)
        self.alerts = AlertLog(Path(settings.data_dir) / ALERTS_DB)
        self.board = SiteBoard(self.clock.now, on_alert=self.alerts.record)
        self.store: CentralStore | None = open_store(settings.store) if settings.store is not None else None
        self.view = DistrictView(settings, self.board, self.store, self.clock, self.alerts)
        self.server = DashboardServer(create_district_app(settings, self.view, self.db, hasher=hasher), settings.web)
        self.link = MqttLink(reader_link_settings(settings), on_message=self._on_message,
                             subscriptions=list(SUBSCRIPTIONS))
        self.summary = DistrictSummary(self.view, self.db)

    def _on_message(self, msg: InboundMessage) -> None:
        self.board.on_message(msg.topic, msg.payload, msg.retain)

    @property
    def url(self) -> str:
        """The web server's base URL."""
        return self.server.url

    def start(self) -> None:
        """Connect to the central broker, serve, and check whether the weekly summary is due."""
        self.link.start()
        self.server.start()
        self.summary.start()

    def stop(self) -> None:
        """Stop the summary's checks and serving, leave the broker, close the store and the database."""
        self.summary.stop()
        self.server.stop()
        self.link.stop()
        if self.store is not None:
            self.store.close()
        self.alerts.close()
        self.db.close()
