-- Checklists defined or edited by an admin on a page: each save is a new version (the latest per checklist
-- counts, over one of the same id in the config). Append-only like the runs, so who changed what stays known.
CREATE TABLE checklist_defs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    checklist  TEXT NOT NULL,
    definition TEXT NOT NULL,              -- JSON of a [[inspections.checklists]] entry
    by         TEXT NOT NULL,
    at         REAL NOT NULL
);
CREATE INDEX checklist_defs_latest ON checklist_defs (checklist, id);

CREATE TRIGGER checklist_defs_no_update BEFORE UPDATE ON checklist_defs
BEGIN
    SELECT RAISE(ABORT, 'checklist versions are never edited; save a new one');
END;
CREATE TRIGGER checklist_defs_no_delete BEFORE DELETE ON checklist_defs
BEGIN
    SELECT RAISE(ABORT, 'checklist versions are never deleted');
END;
