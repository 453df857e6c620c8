"""Fixtures of the district service's tests: a real VictoriaMetrics and influxd of the test alone, a central broker."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.influxdb import influxd  # noqa: F401  (fixture)
from tests.uplink.central import CentralBroker
from tests.victoriametrics import victoriametrics  # noqa: F401  (fixture)


@pytest.fixture
def central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CentralBroker]:
    """The real central Mosquitto (TLS, the generated ACL) with a login for each of the test module's ``SITES``."""
    c = CentralBroker(tmp_path, request.module.SITES)
    c.start()
    yield c
    c.stop()
