-- The gate guard's records (gateway/gate/): cards, access decisions, visitors, watch list, patrols, handover.

-- Cards admins manage: who holds each, which days and hours it opens, and whether it is disabled.
CREATE TABLE gate_cards (
    id          INTEGER PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,       -- card number as the reader sends it (upper case)
    holder      TEXT NOT NULL,
    kind        TEXT NOT NULL,              -- staff | guard | contractor
    days        TEXT NOT NULL DEFAULT '1234567',  -- ISO weekdays the card opens
    hours       TEXT NOT NULL DEFAULT '',   -- "HH:MM-HH:MM" local, '' = any time
    valid_from  TEXT,                       -- YYYY-MM-DD local, inclusive
    valid_until TEXT,                       -- YYYY-MM-DD local, inclusive
    disabled    INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    updated_at  REAL NOT NULL
);

-- Every decision on a card read, by the gateway or (offline) by the agent on its cached list.
CREATE TABLE gate_access (
    id        INTEGER PRIMARY KEY,
    ts        REAL NOT NULL,
    reader    TEXT NOT NULL,
    uid       TEXT NOT NULL,
    card_id   INTEGER,
    holder    TEXT NOT NULL DEFAULT '',
    kind      TEXT NOT NULL DEFAULT '',
    accepted  INTEGER NOT NULL,
    reason    TEXT NOT NULL,               -- accepted | unknown | disabled | out_of_hours | expired | late | refused
    direction TEXT NOT NULL DEFAULT 'in',
    decided   TEXT NOT NULL,               -- gateway | agent (offline) | reader (decided by itself)
    relay     TEXT,                        -- device pulsed, if any
    UNIQUE (reader, ts, uid)
);
CREATE INDEX gate_access_ts ON gate_access (ts);

CREATE TABLE gate_visitors (
    id            INTEGER PRIMARY KEY,
    created_at    REAL NOT NULL,
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    organisation  TEXT NOT NULL DEFAULT '',
    purpose       TEXT NOT NULL DEFAULT '',
    host          TEXT NOT NULL,            -- person visited
    id_masked     TEXT NOT NULL DEFAULT '', -- what screens show
    id_cipher     BLOB,                     -- AES-GCM nonce+ciphertext, NULL unless [gate] id_numbers = "encrypted"
    photo         BLOB,
    status        TEXT NOT NULL,            -- pending | approved | refused | on_site | left
    watch_id      INTEGER,                  -- watch-list entry matched at registration
    registered_by TEXT NOT NULL DEFAULT '',
    decided_by    TEXT,
    decided_at    REAL,
    decision_note TEXT NOT NULL DEFAULT '',
    signed_in_at  REAL,
    signed_out_at REAL
);
CREATE INDEX gate_visitors_status ON gate_visitors (status);
CREATE INDEX gate_visitors_created ON gate_visitors (created_at);

-- Persons refused entry; matched on name, phone or a keyed hash of the ID number.
CREATE TABLE gate_watch (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    phone     TEXT NOT NULL DEFAULT '',
    id_hash   TEXT NOT NULL DEFAULT '',
    reason    TEXT NOT NULL DEFAULT '',
    added_by  TEXT NOT NULL DEFAULT '',
    added_at  REAL NOT NULL
);

CREATE TABLE gate_checkins (
    id         INTEGER PRIMARY KEY,
    ts         REAL NOT NULL,
    route      TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    by_holder  TEXT NOT NULL DEFAULT '',
    uid        TEXT NOT NULL DEFAULT '',
    readings   TEXT NOT NULL DEFAULT '[]',  -- JSON: nearby readings at that moment
    UNIQUE (route, checkpoint, ts)
);
CREATE INDEX gate_checkins_ts ON gate_checkins (ts);

-- Each round judged once its window ended.
CREATE TABLE gate_rounds (
    route      TEXT NOT NULL,
    start_ts   REAL NOT NULL,
    end_ts     REAL NOT NULL,
    visited    INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    status     TEXT NOT NULL,              -- complete | incomplete | missed
    alert_id   INTEGER,
    PRIMARY KEY (route, start_ts)
);

CREATE TABLE gate_handovers (
    id          INTEGER PRIMARY KEY,
    created_at  REAL NOT NULL,
    shift_start REAL NOT NULL,
    by_user     TEXT NOT NULL,
    note        TEXT NOT NULL,
    open_issues TEXT NOT NULL DEFAULT '',
    snapshot    TEXT NOT NULL DEFAULT '{}', -- JSON: the pre-filled alerts, visitors and events
    acked_by    TEXT,
    acked_at    REAL
);

-- Small persistent values: the approval-link signing key, when patrol judging began.
CREATE TABLE gate_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
