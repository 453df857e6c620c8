"""Fixtures of the uplink tests: a real influxd and a real VictoriaMetrics of the test alone."""

from tests.influxdb import influxd  # noqa: F401  (fixture)
from tests.victoriametrics import victoriametrics  # noqa: F401  (fixture)
