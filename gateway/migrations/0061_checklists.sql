-- Checklists (日查 / 周查 / 月查 / 放假前): each submission is a run for one due day with a result per item,
-- the evidence shown when it was saved and whether a "pass" contradicted it. Append-only: a correction is a
-- new run for the same due day (the latest counts), never an edit.
CREATE TABLE checklist_runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    checklist  TEXT NOT NULL,
    due_day    TEXT NOT NULL,              -- local date the run is for, YYYY-MM-DD
    by         TEXT NOT NULL,
    at         REAL NOT NULL,
    note       TEXT,
    late       INTEGER NOT NULL DEFAULT 0  -- saved after the end of its window
);
CREATE INDEX checklist_runs_due ON checklist_runs (checklist, due_day, id);

CREATE TABLE checklist_results (
    run_id    INTEGER NOT NULL REFERENCES checklist_runs (id),
    item      TEXT NOT NULL,
    passed    INTEGER NOT NULL,
    note      TEXT,
    photo     TEXT,                        -- file name under <storage>/photos
    evidence  TEXT,                        -- JSON of what the devices showed when it was saved
    warned    INTEGER NOT NULL DEFAULT 0,  -- a "pass" the evidence contradicted, saved after the warning
    PRIMARY KEY (run_id, item)
);

CREATE TRIGGER checklist_runs_no_update BEFORE UPDATE ON checklist_runs
BEGIN
    SELECT RAISE(ABORT, 'checklist records are never edited; save the checklist again');
END;
CREATE TRIGGER checklist_runs_no_delete BEFORE DELETE ON checklist_runs
BEGIN
    SELECT RAISE(ABORT, 'checklist records are never deleted');
END;
CREATE TRIGGER checklist_results_no_update BEFORE UPDATE ON checklist_results
BEGIN
    SELECT RAISE(ABORT, 'checklist records are never edited; save the checklist again');
END;
