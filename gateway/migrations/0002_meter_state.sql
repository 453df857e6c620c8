-- Last accepted total per meter series, committed with the batch that moved it, so usage is never doubled.
CREATE TABLE meter_state (
    device TEXT NOT NULL,
    metric TEXT NOT NULL,           -- the cumulative metric, e.g. total_l, energy_wh
    total  REAL NOT NULL,
    ts     REAL NOT NULL,
    PRIMARY KEY (device, metric)
) WITHOUT ROWID;

-- Last sequence number seen per device, to drop duplicates after reconnects.
CREATE TABLE device_seq (
    device TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,
    ts     REAL NOT NULL
) WITHOUT ROWID;
