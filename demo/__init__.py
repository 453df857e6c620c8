"""The demo site: simulated sensors, simulated history and ``houqin demo``; nothing in production imports it."""
