-- The holiday duty roster (值班安排) as edited by an admin on a page: each save is a whole new version (the
-- latest replaces [inspections.holidays] duty). Append-only, so who changed the roster and when stays known.
CREATE TABLE duty_rosters (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    roster TEXT NOT NULL,                  -- JSON object: "YYYY-MM-DD" -> who is on duty
    by     TEXT NOT NULL,
    at     REAL NOT NULL
);

CREATE TRIGGER duty_rosters_no_update BEFORE UPDATE ON duty_rosters
BEGIN
    SELECT RAISE(ABORT, 'duty roster versions are never edited; save a new one');
END;
CREATE TRIGGER duty_rosters_no_delete BEFORE DELETE ON duty_rosters
BEGIN
    SELECT RAISE(ABORT, 'duty roster versions are never deleted');
END;
