-- The hazard ledger (隐患台账) and repairs (维修登记). An entry is written once; what happens to it later is a
-- new event row with who and when, so the ledger keeps its whole history and nothing is edited.
CREATE TABLE hazards (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    year         INTEGER NOT NULL,          -- the ledger is per year
    place        TEXT NOT NULL,
    description  TEXT NOT NULL,
    level        TEXT NOT NULL,             -- general (一般) / major (重大)
    owner        TEXT NOT NULL,             -- user name of who rectifies it
    deadline     REAL NOT NULL,             -- rectified by (an immediate one: a day after it was reported)
    photo        TEXT,
    source       TEXT NOT NULL,             -- direct / checklist
    source_ref   TEXT,                      -- e.g. "kitchen-daily 2026-11-02 gas"
    reported_by  TEXT NOT NULL,
    reported_at  REAL NOT NULL
);
CREATE INDEX hazards_year ON hazards (year, id);

CREATE TABLE hazard_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id  INTEGER NOT NULL REFERENCES hazards (id),
    at         REAL NOT NULL,
    by         TEXT NOT NULL,
    what       TEXT NOT NULL,               -- started / close_requested / closed / reopened
    note       TEXT,
    photo      TEXT
);
CREATE INDEX hazard_events_hazard ON hazard_events (hazard_id, id);

CREATE TABLE repairs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    place        TEXT NOT NULL,
    what         TEXT NOT NULL,
    photo        TEXT,
    alert_id     INTEGER,                   -- the leak / left-on alert it was opened from
    reported_by  TEXT NOT NULL,
    reported_at  REAL NOT NULL
);

CREATE TABLE repair_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    repair_id  INTEGER NOT NULL REFERENCES repairs (id),
    at         REAL NOT NULL,
    by         TEXT NOT NULL,
    what       TEXT NOT NULL,               -- taken / done
    note       TEXT
);
CREATE INDEX repair_events_repair ON repair_events (repair_id, id);

CREATE TRIGGER hazards_no_update BEFORE UPDATE ON hazards
BEGIN
    SELECT RAISE(ABORT, 'the hazard ledger is never edited; add an event');
END;
CREATE TRIGGER hazard_events_no_update BEFORE UPDATE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'the hazard ledger is never edited; add an event');
END;
CREATE TRIGGER repairs_no_update BEFORE UPDATE ON repairs
BEGIN
    SELECT RAISE(ABORT, 'repairs are never edited; add an event');
END;
CREATE TRIGGER repair_events_no_update BEFORE UPDATE ON repair_events
BEGIN
    SELECT RAISE(ABORT, 'repairs are never edited; add an event');
END;
