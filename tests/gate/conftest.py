"""Fixtures of the gate tests: gpiozero's MockFactory (shared with the agent tests)."""

from __future__ import annotations

from tests.sensors.conftest import mock_factory

__all__ = ["mock_factory"]
