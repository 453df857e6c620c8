-- The last real reading or event of each device, apart from its last message of any kind: an
-- availability message (a retained "online" redelivered at every restart) says nothing about whether
-- the sensor still measures, so silence is judged by this column alone. NULL: no data since upgrade.
ALTER TABLE device_status ADD COLUMN last_data REAL;
