"""InfluxDB's plain HTTP side, ``/ping``, ``/query`` and the v1 ``/write``: the one module that imports httpx."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from gateway.errors import StoreError
from gateway.store import influxql
from gateway.store.influx_settings import InfluxSettings
from gateway.store.outbox import AUTH, SendResult, error_text


class InfluxHttp:
    """The plain HTTP side: ``/ping``, ``/query`` and the v1 ``/write`` (httpx, thread-safe)."""

    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = settings
        headers = {"User-Agent": "houqin"}
        auth: tuple[str, str] | None = None
        if settings.token:
            headers["Authorization"] = f"Token {settings.token}"
        elif settings.username:
            auth = (settings.username, settings.password)
        self._client = httpx.Client(base_url=settings.url, timeout=settings.timeout, verify=settings.verify_tls,
                                    headers=headers, auth=auth)

    def ping(self) -> str:
        """The server's version from ``/ping``; raises StoreError when it does not answer."""
        try:
            r = self._client.get("/ping")
        except httpx.HTTPError as e:
            raise StoreError(f"InfluxDB at {self.settings.safe_url} is unreachable: {e}") from None
        if r.status_code >= 400 and r.status_code not in AUTH:
            raise StoreError(f"InfluxDB at {self.settings.safe_url} answered /ping with {r.status_code}")
        return str(r.headers.get("X-Influxdb-Version", ""))

    def query(self, q: str, statements: int = 1, *, database: bool = True) -> list[list[influxql.Series]]:
        """Run InfluxQL (POST, chunked answers merged); raises StoreError naming the server's message."""
        params = {"q": q, "epoch": "ms", "chunked": "true", "chunk_size": "10000"}
        if database:
            params["db"] = self.settings.query_database
            if self.settings.retention_policy:
                params["rp"] = self.settings.retention_policy
        try:
            r = self._client.post("/query", data=params)
        except httpx.HTTPError as e:
            raise StoreError(f"InfluxDB at {self.settings.safe_url} is unreachable: {e}") from None
        if r.status_code in AUTH:
            raise StoreError(f"InfluxDB refused the credentials ({r.status_code}); check [influxdb] token or "
                             "username/password")
        if r.status_code >= 300 and not r.content:
            raise StoreError(f"InfluxDB answered the query with {r.status_code}")
        try:
            return influxql.parse_response(r.content, statements)
        except StoreError as e:
            if "database not found" in str(e):
                return [[] for _ in range(statements)]  # nothing was ever written: an empty answer
            raise

    def write_v1(self, lines: Sequence[str]) -> SendResult:
        """POST line protocol to ``/write?db=&precision=ms``."""
        params = {"db": self.settings.database or self.settings.bucket, "precision": "ms"}
        if self.settings.retention_policy:
            params["rp"] = self.settings.retention_policy
        try:
            r = self._client.post("/write", params=params, content="\n".join(lines).encode())
        except httpx.HTTPError as e:
            return SendResult(0, f"unreachable: {e}")
        return SendResult(r.status_code, error_text(r.text))

    def create_database(self) -> None:
        """``CREATE DATABASE`` (idempotent); 1.x answers 404 on writes to a database that is missing."""
        self.query(f"CREATE DATABASE {influxql.ident(self.settings.database)}", database=False)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
