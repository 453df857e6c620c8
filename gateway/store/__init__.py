"""Time-series stores: one protocol, SQLite (embedded default) and InfluxDB backends."""
