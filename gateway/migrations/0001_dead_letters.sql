-- Messages ingest refused: what, where from, why, and a bounded excerpt (never the whole payload).
CREATE TABLE dead_letters (
    id      INTEGER PRIMARY KEY,
    ts      REAL NOT NULL,          -- when the gateway refused it (Unix s, UTC)
    topic   TEXT NOT NULL,
    device  TEXT,                   -- NULL when the topic names no known device
    reason  TEXT NOT NULL,          -- short stable key, e.g. not_json, out_of_range
    detail  TEXT NOT NULL DEFAULT '',
    excerpt TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dead_letters_ts ON dead_letters (ts);
CREATE INDEX dead_letters_reason ON dead_letters (reason, ts);
