"""The district service over a real central Mosquitto (from `houqin district mqtt-setup`) and a real store, and
sites that publish to it with their own logins over TLS, as their uplinks do."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from district.service import DistrictService
from gateway.alerts.model import Alert
from gateway.cli import main
from gateway.contract import gateway_availability_topic
from gateway.district_settings import load_district
from gateway.mqtt_link import LinkSettings, MqttLink, Will
from gateway.uplink import messages
from tests.dashboard.helpers import PASSWORD, cheap_hasher
from tests.uplink.central import CentralBroker
from tests.waiting import wait_for


def add_user(toml: Path, name: str, role: str, monkeypatch: Any) -> None:
    """``houqin district user add`` with the password on stdin (the one way to make an account)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["district", "user", "add", name, "--role", role, "--config", str(toml), "--password-stdin"]) == 0


def service_toml(central: CentralBroker, data: Path, store: dict[str, str] | None) -> Path:
    """``district.toml`` with the service's sections: the reader's login, the store, a free port on loopback."""
    reader = central.credentials["reader"]
    out = [f'data_dir = "{data}"', central.toml.read_text(encoding="utf-8"),
           "[broker]", f'url = "mqtt://127.0.0.1:{central.port}"', f'username = "{reader["username"]}"',
           f'password = "{reader["password"]}"', "",
           "[web]", 'bind = "127.0.0.1"', "port = 0", ""]
    if store:
        out += ["[store]", *(f'{k} = "{v}"' for k, v in store.items()), ""]
    path = central.toml.parent / "district-service.toml"
    path.write_text("\n".join(out), encoding="utf-8")
    return path


@contextmanager
def running_service(toml: Path) -> Iterator[DistrictService]:
    service = DistrictService(load_district(toml), hasher=cheap_hasher())
    service.start()
    try:
        yield service
    finally:
        service.stop()


def logged_in(service: DistrictService, user: str) -> httpx.Client:
    """A client logged in through the login form (its CSRF cookie and an Origin header, as a browser sends)."""
    client = httpx.Client(base_url=service.url, follow_redirects=False)
    token = client.get("/login").cookies["houqin_login_csrf"]
    r = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token},
                    headers={"Origin": service.url})
    assert r.status_code == 303, r.text
    return client


class SitePublisher:
    """One site's uplink to the central broker: its own login over TLS, its last will, its alert transitions."""

    def __init__(self, central: CentralBroker, site: str) -> None:
        self.site = site
        user, pw = central.login(site)
        will = Will(gateway_availability_topic(site), b"offline")
        self.link = MqttLink(LinkSettings("127.0.0.1", central.tls_port, f"uplink-{site}", tls=True, username=user,
                                          password=pw, ca_file=str(central.ca), manual_ack=False),
                             will=will, birth=Will(gateway_availability_topic(site), b"online"))
        self.link.start()
        wait_for(lambda: self.link.connected, f"{site} connected to the central broker")

    def status(self, offline_devices: tuple[str, ...] = (), calendar: dict[str, Any] | None = None) -> None:
        st = messages.SiteStatus(local_broker=True, store_writable=True, devices=5, offline=offline_devices,
                                 calendar=calendar)
        self._send(messages.status(self.site, st, time.time()))

    def alert(self, alert_id: int, severity: str, transition: messages.Transition = "opened",
              opened_at: float | None = None) -> None:
        opened = opened_at if opened_at is not None else time.time()
        a = Alert(id=alert_id, rule="fridge-warm", device="fridge-1", kind="threshold", severity=severity,
                  state="acknowledged" if transition == "acknowledged" else "active", chain=None,
                  metric="temperature", value=9.5, detail="", since=opened, opened_at=opened,
                  acked_at=time.time() if transition == "acknowledged" else None)
        self._send(messages.transition(self.site, transition, a, time.time()))

    def history(self, alert_id: int, device: str, opened_at: float, steps: list[tuple[messages.Transition, float]], *,
                device_kind: str = "", escalate_after: float | None = None, severity: str = "critical") -> None:
        """One alert's transitions as the site's uplink sends them: ``steps`` are (transition, seconds after it
        opened), e.g. ``[("opened", 0), ("escalated", 600), ("acknowledged", 900), ("cleared", 1000)]``."""
        facts = messages.AlertFacts(device_kind=device_kind, escalate_after=escalate_after)
        acked: float | None = None
        for kind, after in steps:
            at = opened_at + after
            if kind == "acknowledged":
                acked = at
            a = Alert(id=alert_id, rule="fridge-warm", device=device, kind="threshold", severity=severity,
                      state="cleared" if kind == "cleared" else "acknowledged" if acked is not None else "active",
                      chain="kitchen", metric="temperature", value=9.5, detail="", since=opened_at,
                      opened_at=opened_at, acked_at=acked, cleared_at=at if kind == "cleared" else None)
            self._send(messages.transition(self.site, kind, a, at, step=2 if kind == "escalated" else None,
                                           facts=facts))

    def open_alerts(self, alerts: list[tuple[Alert, messages.AlertFacts]], at: float) -> None:
        """The site's retained list of open alerts."""
        self._send(messages.open_alerts(self.site, alerts, at))

    def offline(self) -> None:
        """Published as the gateway stopping would (retained)."""
        assert self.link.publish(gateway_availability_topic(self.site), b"offline", retain=True, wait=5)

    def _send(self, out: messages.Outgoing) -> None:
        assert self.link.publish(out.topic, out.payload, retain=out.retain, wait=5)

    def close(self) -> None:
        self.link.stop()
