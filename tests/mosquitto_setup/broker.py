"""A real Mosquitto run from the files ``houqin mqtt setup`` wrote, and plain paho clients to probe it."""

from __future__ import annotations

import json
import queue
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.mosquitto import free_port
from tests.processes import terminate, wait_ready


class SiteBroker:
    """mosquitto with a main config like Debian's that includes the generated ``houqin.conf``."""

    def __init__(self, workdir: Path, setup_dir: Path) -> None:
        self.workdir = workdir
        self.setup_dir = setup_dir
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.pid_file = workdir / "mosquitto.pid"
        self.conf.write_text(
            "user root\n"  # tests run as root; Debian's broker drops to its own user
            f"pid_file {self.pid_file}\n"
            f"persistence_location {workdir}/\n"
            f"log_dest file {self.log}\n"
            "log_type all\n"
            f"include_dir {setup_dir}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> None:
        """Start and wait until the loopback listener accepts connections."""
        import socket

        def accepts() -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True

        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_ready(self.proc, accepts, f"mosquitto on port {port}", self.log, timeout=10)

    def stop(self) -> None:
        """Stop it."""
        if self.proc is not None:
            terminate(self.proc, 10)
            self.proc = None


@dataclass
class Probe:
    """A connected paho client that records what it receives and whether it was disconnected."""

    client: mqtt.Client
    rc: int
    messages: queue.Queue[tuple[str, bytes]] = field(default_factory=queue.Queue)
    disconnects: int = 0

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK (which it sends even when the ACL drops it)."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def subscribe(self, topic: str) -> None:
        """Subscribe at QoS 1 and wait for the SUBACK."""
        done = threading.Event()
        self.client.on_subscribe = lambda *_a: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(5), f"no SUBACK for {topic}"

    def next(self, timeout: float = 5) -> tuple[str, bytes] | None:
        """The next message, or None when none came within ``timeout`` seconds."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None


@contextmanager
def connect(port: int, username: str | None = None, password: str | None = None, *, client_id: str = "",
            ca: Path | None = None, tls_host: str = "127.0.0.1", clean: bool = True) -> Iterator[Probe]:
    """A client connected (or refused: ``rc`` non-zero) to 127.0.0.1:``port``."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                         clean_session=clean)
    probe = Probe(client, -1)
    connected = threading.Event()

    def on_connect(_c: mqtt.Client, _u: object, _f: object, rc: mqtt.ReasonCode, _p: object) -> None:
        probe.rc = rc.value
        connected.set()

    def on_disconnect(*_a: object) -> None:
        probe.disconnects += 1
        connected.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = lambda _c, _u, m: probe.messages.put((m.topic, m.payload))
    client.reconnect_delay_set(60, 60)  # a refused probe must not retry inside the test
    if username is not None:
        client.username_pw_set(username, password)
    if ca is not None:
        client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
    try:
        client.connect(tls_host, port, keepalive=30)
    except (ssl.SSLError, OSError):
        probe.rc = -2
        yield probe
        return
    client.loop_start()
    connected.wait(5)
    try:
        yield probe
    finally:
        client.disconnect()
        client.loop_stop()


def logins(setup_dir: Path) -> dict[str, dict[str, str]]:
    """The flat view of credentials.json: role or device id -> {username, password}."""
    doc = json.loads((setup_dir / "credentials.json").read_text())
    out = {"gateway": doc["gateway"]}
    out.update(doc.get("agents", {}))
    out.update(doc.get("devices", {}))
    return out


__all__ = ["Probe", "SiteBroker", "connect", "free_port", "logins"]
