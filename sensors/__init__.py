"""Houqin sensor agent: hardware on the Pi (and the simulator) publishing native MQTT payloads."""
