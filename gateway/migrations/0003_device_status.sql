-- Last time each device was heard from and its last availability, for `houqin query` and the dashboard.
CREATE TABLE device_status (
    device       TEXT PRIMARY KEY,
    last_seen    REAL NOT NULL,     -- receive time of its last message (gateway clock)
    online       INTEGER,           -- 1/0 from its availability topic, NULL if never told
    online_since REAL               -- when that availability was received
) WITHOUT ROWID;

-- One-off events of devices (card reads, button presses), as ingested; idempotent on redelivery.
CREATE TABLE device_events (
    id     INTEGER PRIMARY KEY,
    ts     REAL NOT NULL,
    device TEXT NOT NULL,
    type   TEXT NOT NULL,
    data   TEXT NOT NULL DEFAULT '{}',  -- JSON object of the event's other fields
    UNIQUE (device, ts, type, data)
);
CREATE INDEX device_events_ts ON device_events (ts);
