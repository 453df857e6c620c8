-- The 48-hour food-sample ledger (留样). A sample row is written once; everything that happens to it
-- afterwards (flagged, reminded, discarded, corrected) is a new row in sample_events with who and why.
CREATE TABLE food_samples (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    meal_date      TEXT NOT NULL,          -- local date of the meal, YYYY-MM-DD
    meal           TEXT NOT NULL,          -- breakfast / lunch / snack / dinner
    dishes         TEXT NOT NULL,          -- JSON list of {"name": str, "grams": float}
    fridge         TEXT NOT NULL,          -- device id of the sample fridge
    staff          TEXT NOT NULL,          -- who took the sample
    taken_at       REAL NOT NULL,          -- when the sample went into the fridge (Unix s)
    registered_at  REAL NOT NULL,
    registered_by  TEXT NOT NULL           -- the account that registered it
);
CREATE INDEX food_samples_fridge ON food_samples (fridge, taken_at);
CREATE INDEX food_samples_taken ON food_samples (taken_at);

CREATE TABLE sample_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id  INTEGER NOT NULL REFERENCES food_samples (id) ON DELETE CASCADE,
    ts         REAL NOT NULL,
    what       TEXT NOT NULL CHECK (what IN ('flagged', 'due', 'discarded', 'corrected')),
    by         TEXT,
    field      TEXT,                       -- corrected: which field
    value      TEXT,                       -- corrected: the new value (JSON); flagged: the excursion
    note       TEXT                        -- corrected: why; discarded: remarks
);
CREATE INDEX sample_events_sample ON sample_events (sample_id, id);
CREATE UNIQUE INDEX sample_events_once ON sample_events (sample_id, what) WHERE what IN ('flagged', 'due', 'discarded');

-- Records are never edited silently: updates are refused; corrections are new sample_events rows.
CREATE TRIGGER food_samples_no_update BEFORE UPDATE ON food_samples
BEGIN
    SELECT RAISE(ABORT, 'food samples are never edited; add a correction (sample_events) with who and why');
END;
CREATE TRIGGER sample_events_no_update BEFORE UPDATE ON sample_events
BEGIN
    SELECT RAISE(ABORT, 'sample events are never edited; add a new one');
END;
