"""A local HTTP receiver (stdlib http.server on 127.0.0.1) that answers like InfluxDB and records requests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request as received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def lines(self) -> list[str]:
        """The body as line-protocol lines."""
        return [ln for ln in self.body.decode().split("\n") if ln]


#: Decides the answer to a write: (status, JSON error message or "").
Responder = Callable[[Request], tuple[int, str]]


class InfluxReceiver:
    """Answers ``/ping`` with a version header and writes with what ``responder`` says (204 by default)."""

    def __init__(self, version: str = "2.7.4") -> None:
        self.version = version
        self.requests: list[Request] = []
        self.responder: Responder = lambda _req: (204, "")
        #: Body of every ``/query`` answer (JSON text).
        self.query_answer = '{"results":[{"statement_id":0}]}'
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                              {k.lower(): v for k, v in self.headers.items()}, body)
                if parts.path == "/ping":
                    self.send_response(204)
                    self.send_header("X-Influxdb-Version", receiver.version)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.requests.append(req)
                if parts.path == "/query":
                    answer = receiver.query_answer.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                status, message = receiver.responder(req)
                payload = (f'{{"error":"{message}"}}' if message else "").encode()
                self.send_response(status)
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def queries(self) -> list[Request]:
        """``/query`` requests received so far (form fields in ``query``)."""
        with self._lock:
            return [r for r in self.requests if r.path == "/query"]

    def writes(self) -> list[Request]:
        """Write requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.path in ("/write", "/api/v2/write")]

    def __enter__(self) -> InfluxReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
