-- Alerts: one row per alert, its timeline, the pending conditions of rules (durations that must
-- survive a restart) and the notification progress of each alert (so a restart never re-sends).
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule        TEXT NOT NULL,
    device      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('active', 'acknowledged', 'cleared')),
    chain       TEXT,
    metric      TEXT,
    value       REAL,
    detail      TEXT NOT NULL DEFAULT '',
    since       REAL NOT NULL,
    opened_at   REAL NOT NULL,
    acked_by    TEXT,
    acked_at    REAL,
    ack_note    TEXT,
    ended_at    REAL,
    cleared_at  REAL,
    latch       INTEGER NOT NULL DEFAULT 0
);
-- One open alert per (rule, device).
CREATE UNIQUE INDEX alerts_open_one ON alerts (rule, device) WHERE state != 'cleared';
CREATE INDEX alerts_opened_at ON alerts (opened_at);

CREATE TABLE alert_timeline (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id  INTEGER NOT NULL REFERENCES alerts (id),
    ts        REAL NOT NULL,
    what      TEXT NOT NULL,
    by        TEXT,
    note      TEXT,
    value     REAL
);
CREATE INDEX alert_timeline_alert ON alert_timeline (alert_id, id);

CREATE TABLE rule_pending (
    rule    TEXT NOT NULL,
    device  TEXT NOT NULL,
    since   REAL NOT NULL,
    value   REAL,
    PRIMARY KEY (rule, device)
);

CREATE TABLE alert_notify (
    alert_id       INTEGER PRIMARY KEY REFERENCES alerts (id),
    steps_sent     INTEGER NOT NULL DEFAULT 0,
    last_sent_at   REAL,
    ack_handled    INTEGER NOT NULL DEFAULT 0,
    done           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_notify_pending ON alert_notify (done) WHERE done = 0;
