"""``houqin doctor``'s checks: broker logins, TLS, clock, disk, backups, services. Each returns a ``Check``.

The broker is probed with a bare MQTT 3.1.1 CONNECT over a socket (stdlib only, a throw-away client id with a
clean session), so the probe neither needs paho (``mqtt_link`` is its only importer) nor touches the gateway's
persistent session.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gateway.backup.snapshot import latest
from gateway.config import Config

if TYPE_CHECKING:
    from gateway.mqtt_link import InboundMessage

Status = Literal["ok", "warn", "fail", "unknown"]
#: Below this much free space in the data folder doctor warns; below LOW_FAIL it fails.
LOW_WARN = 1_000_000_000
LOW_FAIL = 200_000_000
#: A nightly backup older than this needs attention.
BACKUP_MAX_AGE = 2 * 86400.0
CERT_WARN_DAYS = 60
SERVICES = ("mosquitto.service", "houqin.service", "houqin-sensors.service")


@dataclass(frozen=True)
class Check:
    """One finding: a stable id, its status, and an English message with ``{named}`` values (translated later)."""

    id: str
    status: Status
    message: str
    values: dict[str, object] = field(default_factory=dict)


# -- MQTT probe ---------------------------------------------------------------------------------------------
CONNACK_TEXT = {0: "accepted", 1: "unacceptable protocol version", 2: "client id rejected",
                3: "server unavailable", 4: "bad user name or password", 5: "not authorised"}


def _utf8(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_connect(host: str, port: int, username: str | None, password: str | None, *,
                 tls_ca: Path | None = None, tls_host: str | None = None, timeout: float = 5.0) -> int:
    """The broker's CONNACK return code for a clean-session CONNECT (0: accepted); OSError when unreachable."""
    flags = 0x02  # clean session: the probe leaves nothing behind
    payload = _utf8(f"houqin-doctor-{secrets.token_hex(4)}")
    if username is not None:
        flags |= 0x80
        payload += _utf8(username)
        if password is not None:
            flags |= 0x40
            payload += _utf8(password)
    variable = _utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", 10)
    packet = b"\x10" + _remaining_length(len(variable) + len(payload)) + variable + payload
    raw = socket.create_connection((host, port), timeout=timeout)
    sock: socket.socket = raw
    try:
        if tls_ca is not None:
            ctx = ssl.create_default_context(cafile=str(tls_ca))
            sock = ctx.wrap_socket(raw, server_hostname=tls_host or host)
        sock.sendall(packet)
        head = b""
        while len(head) < 4:
            chunk = sock.recv(4 - len(head))
            if not chunk:
                raise ConnectionError("the broker closed the connection without a CONNACK")
            head += chunk
        if head[0] != 0x20:
            raise ConnectionError(f"not an MQTT broker (answered 0x{head[0]:02x})")
        if head[3] == 0:
            sock.sendall(b"\xe0\x00")  # DISCONNECT
        return head[3]
    finally:
        sock.close()


# -- checks ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BrokerFiles:
    """What ``houqin mqtt setup`` wrote: credentials, CA, server certificate and the listener ports."""

    dir: Path
    credentials: Path

    def gateway_login(self) -> tuple[str, str] | None:
        """The gateway's user and password from credentials.json (None when absent or unreadable)."""
        try:
            login = json.loads(self.credentials.read_text(encoding="utf-8"))["gateway"]
            return str(login["username"]), str(login["password"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def device_login(self) -> tuple[str, str] | None:
        """One device's user and password from credentials.json (for the ACL spot check), None when none."""
        try:
            devices = json.loads(self.credentials.read_text(encoding="utf-8")).get("devices", {})
            login = next(iter(devices.values()))
            return str(login["username"]), str(login["password"])
        except (OSError, ValueError, KeyError, TypeError, StopIteration, AttributeError):
            return None

    def listeners(self) -> list[int]:
        """Listener ports of houqin.conf, in order: loopback, TLS, optional plain LAN."""
        try:
            lines = (self.dir / "houqin.conf").read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [int(line.split()[1]) for line in lines if line.startswith("listener ")]


def check_broker(config: Config, files: BrokerFiles) -> list[Check]:
    """The gateway's login is accepted, an anonymous client refused, and (TLS listener) the certificate chain."""
    if config.mqtt.embedded:
        return [Check("broker", "warn", "[mqtt] url = \"embedded\": the in-process broker is for trying Houqin; "
                      "install Mosquitto (deploy/install.sh) for a locked broker")]
    addr = config.mqtt.address()
    user, password = addr.username, addr.password
    if user is None and (login := files.gateway_login()) is not None:
        user, password = login
    ca = Path(config.mqtt.ca_file) if config.mqtt.ca_file else (files.dir / "ca.crt" if addr.tls else None)
    out: list[Check] = []
    where = {"host": addr.host, "port": addr.port}
    try:
        rc = mqtt_connect(addr.host, addr.port, user, password, tls_ca=ca)
    except OSError as e:
        return [Check("broker", "fail", "broker {host}:{port} not reachable ({error}); is Mosquitto running? "
                      "sudo systemctl status mosquitto", {**where, "error": str(e)})]
    if rc == 0:
        out.append(Check("broker", "ok", "broker {host}:{port} accepts the gateway's login {user}",
                         {**where, "user": user or "-"}))
    else:
        out.append(Check("broker", "fail", "broker {host}:{port} refuses the gateway's login ({reason}); check "
                         "[mqtt] url against credentials.json", {**where, "reason": CONNACK_TEXT.get(rc, str(rc))}))
    try:
        anon = mqtt_connect(addr.host, addr.port, None, None, tls_ca=ca)
    except OSError:
        anon = -1
    if anon == 0:
        out.append(Check("anonymous", "fail", "broker {host}:{port} lets anonymous clients in: anyone on the "
                         "network could open the gate; run houqin mqtt setup and restart Mosquitto", where))
    else:
        out.append(Check("anonymous", "ok", "anonymous clients are refused", where))
    ports = files.listeners()
    if len(ports) >= 3:
        out.append(Check("lan_plain", "warn", "port {port} takes passwords in clear text on the LAN; keep it only "
                         "for devices that cannot do TLS", {"port": ports[2]}))
    return out


def check_acl(config: Config, files: BrokerFiles, *, wait_s: float = 2.0) -> list[Check]:
    """Spot-check the ACL: a device's login cannot publish a command (``set``) or another device's topics.

    The probes go to topics no part of Houqin listens to (a ``set`` of a device that does not exist, a
    five-level topic), so a broken ACL shows here without opening anything or storing a reading.
    """
    from gateway.mqtt_link import LinkSettings, MqttLink

    if config.mqtt.embedded:
        return []
    gateway, device = files.gateway_login(), files.device_login()
    addr = config.mqtt.address()
    if gateway is None or device is None:
        return [Check("acl", "unknown", "no device login in {file} to check the ACL with",
                      {"file": str(files.credentials)})]
    ca = config.mqtt.ca_file or (str(files.dir / "ca.crt") if addr.tls else None)
    site = config.site.id
    probes = [f"houqin/{site}/doctor-probe/set", f"houqin/{site}/doctor-probe/state/x"]
    got: list[str] = []
    arrived = threading.Event()

    def seen(message: InboundMessage) -> None:
        got.append(message.topic)
        arrived.set()

    def link(user: tuple[str, str], name: str, **kw: Any) -> MqttLink:
        return MqttLink(LinkSettings(addr.host, addr.port, f"houqin-doctor-{name}", protocol=config.mqtt.protocol,
                                     tls=addr.tls, username=user[0], password=user[1], ca_file=ca,
                                     persistent=False, manual_ack=False, quiet=True), **kw)

    listener = link(gateway, "listen", on_message=seen, subscriptions=probes)
    prober = link(device, "probe")
    try:
        listener.start()
        prober.start()
        if not (listener.wait_connected(5) and prober.wait_connected(5)):
            return [Check("acl", "unknown", "could not connect to check the ACL")]
        # The gateway may write there: the probe must arrive, or the check proves nothing.
        listener.publish(probes[1], b"doctor", wait=wait_s)
        if not arrived.wait(wait_s):
            return [Check("acl", "unknown", "the broker did not deliver the gateway's own probe")]
        got.clear()
        arrived.clear()
        for topic in probes:
            prober.publish(topic, b"doctor", wait=wait_s)
        leaked = arrived.wait(wait_s) and bool(got)
    finally:
        prober.stop()
        listener.stop()
    if leaked:
        return [Check("acl", "fail", "a device's login could publish {topic}: the ACL lets devices send commands; "
                      "run houqin mqtt setup and reload Mosquitto", {"topic": got[0]})]
    return [Check("acl", "ok", "a device's login cannot send commands or speak for other devices")]


def check_certificate(files: BrokerFiles, now: dt.datetime) -> list[Check]:
    """The server certificate's expiry, and a TLS handshake with the site's CA on the TLS listener."""
    from gateway.mosquitto.tls import expires

    try:
        cert = (files.dir / "server.crt").read_bytes()
    except OSError:
        return [Check("tls", "unknown", "no broker certificate in {dir} (houqin mqtt setup writes it)",
                      {"dir": str(files.dir)})]
    until = expires(cert)
    days = (until - now).days
    values: dict[str, object] = {"days": days, "date": until.date().isoformat()}
    if days < 0:
        out = [Check("tls", "fail", "the broker's certificate expired on {date}; run houqin mqtt setup", values)]
    elif days < CERT_WARN_DAYS:
        out = [Check("tls", "warn", "the broker's certificate expires in {days} days ({date}); run houqin mqtt "
                     "setup", values)]
    else:
        out = [Check("tls", "ok", "the broker's certificate is valid until {date} ({days} days)", values)]
    ports = files.listeners()
    if len(ports) >= 2:
        try:
            mqtt_connect("127.0.0.1", ports[1], None, None, tls_ca=files.dir / "ca.crt", tls_host="localhost")
        except ssl.SSLError as e:
            out.append(Check("tls_handshake", "fail", "TLS on port {port} fails with the site's CA: {error}",
                             {"port": ports[1], "error": str(e)}))
        except OSError:
            out.append(Check("tls_handshake", "unknown", "TLS port {port} not reachable", {"port": ports[1]}))
        else:
            out.append(Check("tls_handshake", "ok", "TLS on port {port} works with the site's CA",
                             {"port": ports[1]}))
    return out


Run = Callable[[list[str]], "subprocess.CompletedProcess[str] | None"]


def run_command(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    """Run a system tool; None when it is missing or does not answer."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_clock(run: Run = run_command) -> Check:
    """Whether systemd says the clock is synchronised (NTP)."""
    r = run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    answer = r.stdout.strip() if r is not None and r.returncode == 0 else ""
    if answer == "yes":
        return Check("clock", "ok", "the clock is synchronised")
    if answer == "no":
        return Check("clock", "warn", "the clock is not synchronised: readings wait for it; check the network "
                     "and timedatectl timesync-status")
    return Check("clock", "unknown", "whether the clock is synchronised is unknown (no timedatectl)")


#: Bytes a second the gateway may write before doctor warns: 50 kB/s is about 1.6 TB a year, which wears
#: out a cheap SD card within a few years (the gateway writes a few hundred bytes per reading).
WRITE_RATE_WARN = 50_000


def write_bytes(pid: int) -> int | None:
    """Bytes the process has written to storage so far (``/proc/PID/io``), None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def check_write_rate(storage: Path, *, sample_s: float = 3.0, sleep: Callable[[float], None] = time.sleep) -> Check:
    """How fast the running gateway writes to the card, measured over ``sample_s`` seconds."""
    from gateway.runlock import holder

    pid = holder(storage)
    if not pid:
        return Check("write_rate", "unknown", "the gateway is not running on {dir}: no write rate to measure",
                     {"dir": str(storage)})
    first = write_bytes(pid)
    sleep(sample_s)
    second = write_bytes(pid)
    if first is None or second is None:
        return Check("write_rate", "unknown", "cannot read the gateway's writes (/proc/{pid}/io); run doctor as root",
                     {"pid": pid})
    rate = max(0, second - first) / sample_s
    values: dict[str, object] = {"rate": f"{rate / 1000:.1f} kB/s", "year": f"{rate * 365 * 86400 / 1e9:.0f} GB"}
    if rate > WRITE_RATE_WARN:
        return Check("write_rate", "warn", "the gateway writes {rate} (about {year} a year): check "
                     "[storage] commit_interval and the log level", values)
    return Check("write_rate", "ok", "the gateway writes {rate} (about {year} a year)", values)


def check_disk(storage: Path) -> Check:
    """Free space where the databases live."""
    try:
        free = shutil.disk_usage(storage).free
    except OSError as e:
        return Check("disk", "fail", "the data folder {dir} cannot be read ({error})",
                     {"dir": str(storage), "error": str(e)})
    values: dict[str, object] = {"dir": str(storage), "free": f"{free / 1e9:.1f} GB"}
    if free < LOW_FAIL:
        return Check("disk", "fail", "only {free} free in {dir}: the stores stop writing soon", values)
    if free < LOW_WARN:
        return Check("disk", "warn", "only {free} free in {dir}", values)
    return Check("disk", "ok", "{free} free in {dir}", values)


def check_backup(config: Config, now: float) -> Check:
    """The nightly backup is configured, its folder is there, and the newest one is recent."""
    if not config.backup.dir:
        return Check("backup", "warn", "no nightly backup: set [backup] dir (e.g. a USB stick)")
    target = Path(config.backup.dir)
    if not target.is_dir():
        return Check("backup", "fail", "the backup folder {dir} is missing (USB stick not plugged in?)",
                     {"dir": str(target)})
    last = latest(target)
    if last is None:
        return Check("backup", "warn", "no backup in {dir} yet; make one: houqin backup", {"dir": str(target)})
    hours = (now - last.created) / 3600
    values: dict[str, object] = {"hours": f"{hours:.0f}", "dir": str(target)}
    if now - last.created > BACKUP_MAX_AGE:
        return Check("backup", "warn", "the last backup in {dir} is {hours} hours old", values)
    return Check("backup", "ok", "the last backup in {dir} is {hours} hours old", values)


def check_services(run: Run = run_command) -> list[Check]:
    """``systemctl is-active`` of the broker, the gateway and the agent (unknown without systemd)."""
    out = []
    for unit in SERVICES:
        r = run(["systemctl", "is-active", unit])
        state = r.stdout.strip() if r is not None else ""
        if state == "active":
            out.append(Check(f"service:{unit}", "ok", "{unit} is running", {"unit": unit}))
        elif state in ("inactive", "failed", "activating", "deactivating"):
            out.append(Check(f"service:{unit}", "fail", "{unit} is {state}: journalctl -u {unit}",
                             {"unit": unit, "state": state}))
        else:
            out.append(Check(f"service:{unit}", "unknown", "{unit}: systemd is not available", {"unit": unit}))
    return out


def run_all(config: Config, files: BrokerFiles, *, now: float, run: Run = run_command) -> list[Check]:
    """Every check, in the order they are shown."""
    return [
        *check_broker(config, files),
        *check_acl(config, files),
        *check_certificate(files, dt.datetime.fromtimestamp(now, dt.UTC)),
        check_clock(run),
        check_disk(config.storage.path),
        check_write_rate(config.storage.path),
        check_backup(config, now),
        *check_services(run),
    ]


def needs_attention(checks: list[Check]) -> bool:
    """True when a check warns or fails (``unknown`` is not something the installer can fix here)."""
    return any(c.status in ("warn", "fail") for c in checks)
