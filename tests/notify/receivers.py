"""Real receivers for notification tests: an HTTP webhook server, an SMTP server and an MQTT subscriber,
on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.mosquitto import free_port


@dataclass
class Received:
    """One POST the webhook server got."""

    path: str
    query: dict[str, list[str]]
    body: Any
    at: float


@dataclass
class WebhookServer:
    """``http.server`` in a thread; records POSTs; ``reply`` and ``status`` are what it answers."""

    reply: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    status: int = 200
    received: list[Received] = field(default_factory=list)
    on_post: Callable[[Received], None] | None = None

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                rec = Received(parts.path, parse_qs(parts.query), json.loads(raw), time.perf_counter())
                outer.received.append(rec)
                if outer.on_post is not None:
                    outer.on_post(rec)
                data = json.dumps(outer.reply).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in list(self.received) if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 collecting messages; ``options`` go to aiosmtpd's ``Controller``
    (``tls_context``/``require_starttls`` for STARTTLS, ``ssl_context`` for SSL, ``authenticator``)."""

    def __init__(self, **options: Any) -> None:
        self.sink = _Sink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    @property
    def messages(self) -> list[Message]:
        return self.sink.messages

    def close(self) -> None:
        self.controller.stop()


class Collector:
    """An MQTT subscriber on the real broker keeping (topic, raw payload, retained) in arrival order."""

    def __init__(self, port: int, topic: str, name: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.link = MqttLink(LinkSettings("127.0.0.1", port, name, persistent=False, manual_ack=False),
                             on_message=self._on, subscriptions=[topic])
        self.link.start()
        assert self.link.wait_connected(10)

    def _on(self, m: InboundMessage) -> None:
        with self._lock:
            self.messages.append((m.topic, m.payload, m.retain))

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [p for t, p, _ in self.messages if t == topic]

    def close(self) -> None:
        self.link.stop()


def gateway_link(port: int) -> MqttLink:
    """A connected MqttLink for the gateway's side (publishing output commands and alert states)."""
    link = MqttLink(LinkSettings("127.0.0.1", port, "gw-notify-test", persistent=False, manual_ack=False))
    link.start()
    assert link.wait_connected(10)
    return link
