"""The ``store`` fixture: one fresh time-series store per test, parametrized over every backend.

To add a backend, add a factory to ``BACKENDS``: it gets pytest's ``request`` and a temp dir and
returns a ``(store, cleanup)`` pair. The contract suite assumes read-after-write: what ``write``
returned from is visible to the next query (flush inside the backend's ``write`` if needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from gateway.model import Reading
from gateway.store.base import TimeSeriesStore
from gateway.store.ingest_state import IngestState
from gateway.store.sqlite import SqliteStore
from tests.influxdb import influxd, influxd_server, unique_database  # noqa: F401  (fixtures)

Factory = Callable[[pytest.FixtureRequest, Path], tuple[TimeSeriesStore, Callable[[], None]]]


def _sqlite(request: pytest.FixtureRequest, tmp: Path) -> tuple[TimeSeriesStore, Callable[[], None]]:
    store = SqliteStore(tmp / "timeseries.db")
    return store, store.close


def _sqlite_inbox(request: pytest.FixtureRequest, tmp: Path) -> tuple[TimeSeriesStore, Callable[[], None]]:
    # As the gateway runs it: every write goes to the inbox; no fold during the test.
    store = SqliteStore(tmp / "timeseries.db", fold_every=86400)
    return store, store.close


class _FoldingStore(SqliteStore):
    """Folds the inbox before each write: the last write is in the inbox, over the folded ones."""

    def write(self, readings: Sequence[Reading], state: IngestState | None = None) -> None:
        self.fold()
        super().write(readings, state)


def _sqlite_folding(request: pytest.FixtureRequest, tmp: Path) -> tuple[TimeSeriesStore, Callable[[], None]]:
    store = _FoldingStore(tmp / "timeseries.db", fold_every=86400)
    return store, store.close


def _influxdb(request: pytest.FixtureRequest, tmp: Path) -> tuple[TimeSeriesStore, Callable[[], None]]:
    # A real influxd 1.6 shared by the session; a database of its own per test; api detected from /ping.
    from gateway.store.influx import InfluxStore
    from gateway.store.influx_settings import InfluxSettings

    server = request.getfixturevalue("influxd_server")
    settings = InfluxSettings(url=server.url, database=unique_database())
    store = InfluxStore(settings, site="test-site", outbox_path=tmp / "outbox.db")
    return store, store.close


BACKENDS: dict[str, Factory] = {
    "sqlite": _sqlite,
    "sqlite-inbox": _sqlite_inbox,
    "sqlite-folding": _sqlite_folding,
    "influxdb": _influxdb,
}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    """A fresh, empty store of each backend."""
    s, cleanup = BACKENDS[request.param](request, tmp_path)
    yield s
    cleanup()
