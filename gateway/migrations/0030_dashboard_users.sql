-- Dashboard: people who log in, their server-side sessions, the audit log and login failures.
CREATE TABLE dashboard_users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('admin', 'guard', 'kitchen', 'facilities', 'viewer')),
    password_hash TEXT NOT NULL,
    locale TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    password_changed_at REAL NOT NULL
);

-- Only a SHA-256 of the session token is stored, so a copy of the database logs nobody in.
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES dashboard_users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions(user_id);

CREATE TABLE dashboard_audit (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dashboard_audit_ts ON dashboard_audit(ts);

CREATE TABLE dashboard_login_failures (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    username TEXT NOT NULL COLLATE NOCASE,
    address TEXT NOT NULL
);
CREATE INDEX dashboard_login_failures_user ON dashboard_login_failures(username, ts);
CREATE INDEX dashboard_login_failures_addr ON dashboard_login_failures(address, ts);
