-- The inspections' records are append-only in full: 0061/0062/0060 refused edits to these tables but not
-- deletes, so a hazard, a repair, a checklist's answers or a lamp replacement could vanish without a trace.
CREATE TRIGGER checklist_results_no_delete BEFORE DELETE ON checklist_results
BEGIN
    SELECT RAISE(ABORT, 'checklist records are never deleted');
END;
CREATE TRIGGER hazards_no_delete BEFORE DELETE ON hazards
BEGIN
    SELECT RAISE(ABORT, 'the hazard ledger is never deleted from; add an event');
END;
CREATE TRIGGER hazard_events_no_delete BEFORE DELETE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'the hazard ledger is never deleted from; add an event');
END;
CREATE TRIGGER repairs_no_delete BEFORE DELETE ON repairs
BEGIN
    SELECT RAISE(ABORT, 'repairs are never deleted; add an event');
END;
CREATE TRIGGER repair_events_no_delete BEFORE DELETE ON repair_events
BEGIN
    SELECT RAISE(ABORT, 'repairs are never deleted; add an event');
END;
CREATE TRIGGER uv_lamp_changes_no_delete BEFORE DELETE ON uv_lamp_changes
BEGIN
    SELECT RAISE(ABORT, 'lamp replacements are never deleted; add a new one');
END;
