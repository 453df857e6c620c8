"""Houqin gateway: MQTT ingest, storage, rules, alerts, notifications and reports."""

__version__ = "0.1.0"
