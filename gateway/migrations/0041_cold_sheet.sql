-- The daily cold-storage sheet: one frozen snapshot per (device, local day) once the day is over, so
-- the sheet outlives the raw readings (kept 12 months or more); corrections are new rows with who and why.
CREATE TABLE cold_sheet_days (
    device      TEXT NOT NULL,
    day         TEXT NOT NULL,             -- local date, YYYY-MM-DD
    data        TEXT NOT NULL,             -- JSON of the day's row (check readings, min/max, minutes out, alerts)
    frozen_at   REAL NOT NULL,
    PRIMARY KEY (device, day)
);
CREATE INDEX cold_sheet_days_day ON cold_sheet_days (day);

CREATE TABLE cold_sheet_corrections (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    device   TEXT NOT NULL,
    day      TEXT NOT NULL,
    field    TEXT NOT NULL,                -- e.g. "check 08:00", "corrective action", "note"
    value    TEXT NOT NULL,
    reason   TEXT NOT NULL,
    by       TEXT NOT NULL,
    at       REAL NOT NULL
);
CREATE INDEX cold_sheet_corrections_day ON cold_sheet_corrections (day, device, id);

CREATE TRIGGER cold_sheet_days_no_update BEFORE UPDATE ON cold_sheet_days
BEGIN
    SELECT RAISE(ABORT, 'the cold-storage sheet is never edited; add a correction with who and why');
END;
CREATE TRIGGER cold_sheet_corrections_no_update BEFORE UPDATE ON cold_sheet_corrections
BEGIN
    SELECT RAISE(ABORT, 'corrections are never edited; add a new one');
END;

-- When each weekly report was delivered, so a restart neither skips nor repeats one.
CREATE TABLE report_deliveries (
    report  TEXT NOT NULL,                 -- e.g. "weekly"
    period  TEXT NOT NULL,                 -- e.g. "2026-W47"
    at      REAL NOT NULL,
    result  TEXT NOT NULL,
    PRIMARY KEY (report, period)
);
