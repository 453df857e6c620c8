"""The embedded MQTT broker (amqtt) for ``[mqtt] url = "embedded"``: the demo needs no Mosquitto.

Only this module imports amqtt, which comes with the ``demo`` extra (a production install uses Mosquitto
and does not carry it); the gateway imports this module only when the config asks for the embedded broker.
The broker runs its asyncio loop in a background thread, listens on 127.0.0.1 only, speaks MQTT 3.1.1 and
supports what the gateway relies on: QoS 1, retained messages,
persistent sessions (``clean_session=False``, queued QoS 1 messages kept while the client is away) and
last wills. Queued messages live in memory, and amqtt gives up on a QoS 1 delivery that is not
acknowledged within 5 s (the gateway acks after commit, normally in milliseconds): the embedded broker
is for the demo and small installs; production installs use Mosquitto.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from gateway.errors import ConfigError, HouqinError

#: Said when amqtt is not installed.
NEEDS_DEMO_EXTRA = ("[mqtt] url = \"embedded\" needs the demo extra: pip install 'houqin[demo]', "
                    "or use Mosquitto (url = \"mqtt://127.0.0.1\")")

try:
    from amqtt.broker import Broker
    from amqtt.plugins.base import BaseAuthPlugin
    from amqtt.session import Session
except ModuleNotFoundError as e:
    if (e.name or "").split(".")[0] != "amqtt":  # amqtt is there but misses a dependency: that says more
        raise
    raise ConfigError([NEEDS_DEMO_EXTRA]) from None

log = logging.getLogger(__name__)

#: How long a disconnected persistent session (and its queued QoS 1 messages) is kept.
SESSION_EXPIRY_S = 7 * 24 * 3600
#: How long ``start()`` waits for the listener before giving up.
START_TIMEOUT_S = 15.0


class BrokerStartError(HouqinError, OSError):
    """The embedded broker could not start (port in use, address not allowed)."""


class LocalClientsAuth(BaseAuthPlugin):  # type: ignore[misc]
    """Accept every client of the loopback listener without marking it anonymous.

    amqtt drops queued messages and sessions of *anonymous* clients, which would break the gateway's
    persistent session; the listener is bound to 127.0.0.1, so only local programs can connect.
    """

    async def authenticate(self, *, session: Session) -> bool | None:
        """Allow the (local) client."""
        return True

    @dataclass
    class Config:
        """No options."""


class _Broker(Broker):  # type: ignore[misc]
    """amqtt's broker with one fix: retained messages go only to sessions subscribed to a matching filter.

    On every connect amqtt replays retained messages for *every* filter any client holds, so a client
    would receive topics it never subscribed to.
    """

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int],
                                                          session: Session) -> None:
        holders = self._subscriptions.get(subscription[0], [])
        if any(s is session for s, _ in holders):
            await super()._publish_retained_messages_for_subscription(subscription, session)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmbeddedBroker:
    """An in-process MQTT 3.1.1 broker on 127.0.0.1, for the demo and small installs.

    ``port=0`` picks a free port; ``port`` tells which one after ``start()``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        if not _is_loopback(host):
            raise BrokerStartError(
                f"the embedded MQTT broker listens on the loopback address only, not {host!r}; "
                "use Mosquitto (set [mqtt] url = \"mqtt://...\") to accept other machines"
            )
        self.host = host
        self._requested_port = port
        self._port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The TCP port the broker listens on (the real one when started with ``port=0``)."""
        return self._port

    @property
    def running(self) -> bool:
        """Whether the broker thread is serving."""
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set() and not self._error

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start serving in a background thread; returns once the broker accepts connections.

        Raises BrokerStartError naming the address and the fix (e.g. the port is in use).
        """
        if self._thread is not None:
            raise BrokerStartError("the embedded MQTT broker is already started")
        _quiet_logs()
        self._check_port_free()
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._serve, name="houqin-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self.stop()
            raise BrokerStartError(f"the embedded MQTT broker did not start on {self._where()} within "
                                   f"{START_TIMEOUT_S:.0f} s")
        if self._error is not None:
            err = self._error
            self._thread.join(5)
            self._thread = None
            raise BrokerStartError(self._explain(err)) from err
        log.debug("embedded MQTT broker listening on %s", self._where())

    def stop(self) -> None:
        """Disconnect every client and stop the broker thread (idempotent)."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already finished
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(15)
        if thread.is_alive():
            log.warning("embedded MQTT broker did not stop within 15 s")
        self._thread = None
        self._loop = None
        self._stop_event = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------------------
    def _where(self) -> str:
        return f"{self.host}:{self._port}"

    def _explain(self, err: BaseException) -> str:
        cause: BaseException | None = err
        while cause is not None:
            if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
                return (f"cannot start the embedded MQTT broker on {self._where()}: the port is in use "
                        "(is Mosquitto or another Houqin already running?); set [mqtt] embedded_port to a free "
                        "port (or --mqtt-port for the demo), or stop the other program")
            cause = cause.__cause__ or cause.__context__
        return f"cannot start the embedded MQTT broker on {self._where()}: {err}"

    def _check_port_free(self) -> None:
        """Bind the port once ourselves: a port in use gets a clear error before amqtt logs a traceback."""
        if self._requested_port == 0:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # same as amqtt's listener
            try:
                s.bind((self.host, self._requested_port))
            except OSError as e:
                raise BrokerStartError(self._explain(e)) from e

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self._requested_port}"}},
            "session_expiry_interval": SESSION_EXPIRY_S,
            # No $SYS publisher and no packet logger: quiet; the auth plugin keeps sessions persistent.
            "plugins": {f"{__name__}.LocalClientsAuth": {}},
        }

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as e:  # reported to start(); the thread must end quietly
            if not self._ready.is_set():
                self._error = e
                self._ready.set()
            else:
                log.exception("embedded MQTT broker failed")
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        broker = _Broker(self._config())
        await broker.start()
        self._port = _bound_port(broker, self._requested_port)
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await broker.shutdown()


def _bound_port(broker: _Broker, requested: int) -> int:
    """The port the listener really bound (differs from ``requested`` only when that was 0)."""
    if requested:
        return requested
    servers: dict[str, Any] = getattr(broker, "_servers", {})
    for server in servers.values():
        for sock in getattr(server.instance, "sockets", ()) or ():
            return int(sock.getsockname()[1])
    return requested


def _quiet_logs() -> None:
    """amqtt and its state machine log every connection at INFO; keep only warnings and errors.

    amqtt's protocol handler also warns "Received PUBACK for unknown pending message" when a client
    acknowledges before amqtt registered its waiter (a harmless race under load): errors only there.
    """
    levels = {"amqtt": logging.WARNING, "transitions": logging.WARNING, "amqtt.mqtt.protocol.handler": logging.ERROR}
    for name, level in levels.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(level)
