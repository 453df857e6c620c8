"""Houqin sensor agent: hardware on the Pi (or the demo's simulated site) publishing native MQTT payloads."""
