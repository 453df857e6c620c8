"""Fixtures of the district service's tests: a real VictoriaMetrics and influxd of the test alone."""

from tests.influxdb import influxd  # noqa: F401  (fixture)
from tests.victoriametrics import victoriametrics  # noqa: F401  (fixture)
