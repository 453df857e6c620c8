-- The district service (district/) keeps its users in a database of this schema: its role district-admin is
-- allowed too. SQLite cannot change a CHECK, so the table is rebuilt; its sessions are kept (the DROP's
-- implicit DELETE would cascade to them).
CREATE TEMP TABLE keep_sessions AS SELECT * FROM dashboard_sessions;
CREATE TABLE dashboard_users_new (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('admin', 'guard', 'kitchen', 'facilities', 'viewer', 'district-admin')),
    password_hash TEXT NOT NULL,
    locale TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    password_changed_at REAL NOT NULL
);
INSERT INTO dashboard_users_new SELECT id, username, display_name, role, password_hash, locale, disabled, created_at,
    password_changed_at FROM dashboard_users;
DROP TABLE dashboard_users;
ALTER TABLE dashboard_users_new RENAME TO dashboard_users;
INSERT INTO dashboard_sessions SELECT * FROM keep_sessions;
DROP TABLE keep_sessions;
