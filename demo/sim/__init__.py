"""Device models of the simulated site: physics and behaviour only, no MQTT (see ``demo.simulator``)."""
