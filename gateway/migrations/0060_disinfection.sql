-- The disinfection record (消毒记录): UV lamp sessions derived from the rooms' plugs and manual entries,
-- each day's verdict once judged (so a restart neither skips nor repeats an alert) and lamp replacements.
-- Append-only: a wrong entry is answered by a new one, never edited.
CREATE TABLE disinfection_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room         TEXT NOT NULL,
    source       TEXT NOT NULL,            -- "plug" (derived from power readings) or "manual"
    method       TEXT NOT NULL,            -- uv / spray / wipe / disinfectant
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    on_s         REAL NOT NULL,            -- seconds on (plug) or the duration written down (manual)
    effective_s  REAL NOT NULL,            -- seconds that count: after the warm-up for a plug
    peak_w       REAL,
    by           TEXT,                     -- who wrote a manual entry
    note         TEXT,
    recorded_at  REAL NOT NULL,
    UNIQUE (room, source, start)
);
CREATE INDEX disinfection_sessions_start ON disinfection_sessions (room, start);

CREATE TABLE disinfection_days (
    room       TEXT NOT NULL,
    day        TEXT NOT NULL,              -- local date, YYYY-MM-DD
    result     TEXT NOT NULL,              -- ok / short / missed
    judged_at  REAL NOT NULL,
    PRIMARY KEY (room, day)
);

CREATE TABLE uv_lamp_changes (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    room  TEXT NOT NULL,
    at    REAL NOT NULL,
    by    TEXT NOT NULL,
    note  TEXT
);

CREATE TRIGGER disinfection_sessions_no_update BEFORE UPDATE ON disinfection_sessions
BEGIN
    SELECT RAISE(ABORT, 'the disinfection record is never edited; add a new entry');
END;
CREATE TRIGGER disinfection_sessions_no_delete BEFORE DELETE ON disinfection_sessions
BEGIN
    SELECT RAISE(ABORT, 'the disinfection record is never deleted');
END;
CREATE TRIGGER uv_lamp_changes_no_update BEFORE UPDATE ON uv_lamp_changes
BEGIN
    SELECT RAISE(ABORT, 'lamp replacements are never edited; add a new one');
END;
