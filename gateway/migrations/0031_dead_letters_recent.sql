-- Dashboard: the Devices page counts each device's dead letters of the last day; this index answers
-- it from the recent entries alone, without reading the table.
CREATE INDEX IF NOT EXISTS dead_letters_ts_device ON dead_letters (ts, device, reason);
