"""The dashboard as a gateway component: uvicorn serving the app in a thread, with start()/stop()."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import uvicorn
from fastapi import FastAPI

from dashboard.app import create_app
from dashboard.context import DashboardContext
from dashboard.services import DashboardServices
from dashboard.settings import DashboardSettings
from gateway.errors import HouqinError

log = logging.getLogger(__name__)


class DashboardStartError(HouqinError, OSError):
    """The web server could not listen (port in use, address not on this machine, bad TLS files)."""

#: How long start() waits for the socket to listen.
START_TIMEOUT_S = 15.0


class DashboardServer:
    """Runs uvicorn on ``[dashboard] bind:port`` in a daemon thread (``dashboard.component`` starts it)."""

    def __init__(self, app: FastAPI, settings: DashboardSettings) -> None:
        self.app = app
        self.settings = settings
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = settings.port

    @classmethod
    def for_services(cls, services: DashboardServices, settings: DashboardSettings | None = None) -> DashboardServer:
        """Build the app on ``services`` (the config's ``[dashboard]`` unless ``settings`` are given)."""
        settings = settings or services.config.dashboard
        return cls(create_app(services, settings), settings)

    @property
    def context(self) -> DashboardContext:
        """The app's context (accounts, sessions, live hub)."""
        ctx: DashboardContext = self.app.state.ctx
        return ctx

    @property
    def url(self) -> str:
        """Base URL to reach the server from this machine."""
        host = self.settings.bind
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        scheme = "https" if self.settings.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> None:
        """Start serving; returns once the socket listens (raises if it cannot)."""
        s = self.settings
        config = uvicorn.Config(
            self.app,
            host=s.bind,
            port=s.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="none",  # live updates are server-sent events: no WebSocket stack loaded (memory)
            proxy_headers=bool(s.trusted_proxies),
            forwarded_allow_ips=",".join(s.trusted_proxies) if s.trusted_proxies else None,
            ssl_certfile=s.tls_cert,
            ssl_keyfile=s.tls_key,
            timeout_graceful_shutdown=3,
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(self._server,), name="dashboard", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive():
                raise DashboardStartError(f"dashboard could not listen on {s.bind}:{s.port}; is the port in use? "
                              "Change [dashboard] port or bind")
            if time.monotonic() > deadline:
                raise DashboardStartError(
                    f"dashboard did not start on {s.bind}:{s.port} within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.05)
        for server in self._server.servers:
            for sock in server.sockets:
                self.port = int(sock.getsockname()[1])
                break
        log.info("dashboard listening on %s", self.url)

    @staticmethod
    def _run(server: uvicorn.Server) -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind; start() reports it
            server.run()

    def stop(self) -> None:
        """End live streams, stop accepting and wait for the thread."""
        if self._server is None:
            return
        self.context.hub.close()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
