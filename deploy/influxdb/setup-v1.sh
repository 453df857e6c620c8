#!/bin/sh
# Create the Houqin database, its retention policy and users on a local InfluxDB 1.x with auth enabled.
# Usage: sh deploy/influxdb/setup-v1.sh [DATABASE] [DURATION]   (defaults: houqin, 104w)
set -eu
DB="${1:-houqin}"
DURATION="${2:-104w}"
HOST="${INFLUX_HOST:-127.0.0.1}"
PORT="${INFLUX_PORT:-8086}"

command -v influx >/dev/null 2>&1 || { echo "the influx shell is missing: sudo apt install influxdb-client" >&2; exit 1; }

ask() {  # ask PROMPT -> a password read without echo
    printf '%s: ' "$1" >&2
    stty -echo 2>/dev/null || true
    read -r answer
    stty echo 2>/dev/null || true
    printf '\n' >&2
    [ -n "$answer" ] || { echo "a password is required" >&2; exit 1; }
    printf '%s' "$answer"
}

ADMIN_PW="$(ask "new password for the InfluxDB admin user 'admin'")"
HOUQIN_PW="$(ask "new password for the InfluxDB user 'houqin' (goes into houqin.toml)")"

# With auth enabled and no users yet, InfluxDB accepts exactly one statement: creating an admin.
influx -host "$HOST" -port "$PORT" -execute "CREATE USER admin WITH PASSWORD '$ADMIN_PW' WITH ALL PRIVILEGES"
run() { influx -host "$HOST" -port "$PORT" -username admin -password "$ADMIN_PW" -execute "$1"; }
run "CREATE DATABASE \"$DB\" WITH DURATION $DURATION NAME houqin_retention"
run "CREATE USER houqin WITH PASSWORD '$HOUQIN_PW'"
run "GRANT ALL ON \"$DB\" TO houqin"
echo "done: database $DB (retention $DURATION), user houqin; set [influxdb] database/username/password in houqin.toml"
