#!/usr/bin/env bash
# Install (or upgrade in place) Houqin on Raspberry Pi OS bookworm / Debian 12, from a clone of the repository:
#     sudo deploy/install.sh [--with-influxdb]
# Staging (tests, packagers): every file under DIR; no apt, useradd, chown or systemctl (printed instead):
#     deploy/install.sh --root DIR [--skip-venv] [--houqin PATH]
# Running it again upgrades Houqin, keeps /etc/houqin and /var/lib/houqin, and prints what it changed.
# Walk-through: docs/install-pi.md.
set -euo pipefail
umask 022

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=""
WITH_INFLUXDB=0
SKIP_VENV=0
HOUQIN=""

usage() {
    sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while (($#)); do
    case "$1" in
        --with-influxdb) WITH_INFLUXDB=1 ;;
        --root) ROOT=${2:?--root needs a directory}; shift ;;
        --root=*) ROOT=${1#--root=} ;;
        --skip-venv) SKIP_VENV=1 ;;
        --houqin) HOUQIN=${2:?--houqin needs a path}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

STAGING=0
if [[ -n $ROOT ]]; then
    STAGING=1
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
elif [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: run it as root (sudo deploy/install.sh), or stage it with --root DIR" >&2
    exit 1
fi

# Paths on the installed system; R() puts one under the staging root.
ETC=/etc/houqin
DATA=/var/lib/houqin
OPT=/opt/houqin
BROKER_DIR=/etc/mosquitto/houqin
CONFIG=$ETC/houqin.toml
R() { printf '%s%s' "$ROOT" "$1"; }
VENV=$(R "$OPT/venv")
[[ -n $HOUQIN ]] || HOUQIN=$VENV/bin/houqin

CHANGED=()
changed() { CHANGED+=("$1"); echo "  changed: $1"; }
step() { echo "== $1"; }
# A command that changes the system: run it, or in staging mode only say it.
sys() {
    if ((STAGING)); then
        echo "  would run: $*"
    else
        "$@"
    fi
}

# install_file SRC DEST MODE: copy when the content differs; records the change.
install_file() {
    local src=$1 dest=$2 mode=$3
    if [[ -f $dest ]] && cmp -s "$src" "$dest"; then
        chmod "$mode" "$dest"
        return 0
    fi
    install -D -m "$mode" "$src" "$dest"
    changed "${dest#"$ROOT"}"
}

# make_dir DIR MODE OWNER:GROUP
make_dir() {
    local dir=$1 mode=$2 owner=$3
    if [[ ! -d $(R "$dir") ]]; then
        changed "$dir (created)"
    fi
    install -d -m "$mode" "$(R "$dir")"
    sys chown "$owner" "$dir"
}

step "Debian packages"
PACKAGES=(mosquitto mosquitto-clients python3-venv)
((WITH_INFLUXDB)) && PACKAGES+=(influxdb)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if ((STAGING)); then
        echo "  would run: apt-get install -y ${missing[*]}"
    else
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
        changed "packages ${missing[*]}"
    fi
else
    echo "  ${PACKAGES[*]}: installed"
fi

step "the houqin user"
GROUPS_WANTED=()
for g in gpio dialout input; do
    getent group "$g" >/dev/null && GROUPS_WANTED+=("$g")
done
if ! getent passwd houqin >/dev/null; then
    sys useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin houqin
    ((STAGING)) || changed "user houqin"
fi
for g in "${GROUPS_WANTED[@]}"; do
    if ! id -nG houqin 2>/dev/null | tr ' ' '\n' | grep -qx "$g"; then
        sys usermod -a -G "$g" houqin
        ((STAGING)) || changed "houqin in group $g"
    fi
done
echo "  groups for the sensors: ${GROUPS_WANTED[*]:-none on this machine}"

step "folders"
make_dir "$ETC" 0750 root:houqin
make_dir "$DATA" 0750 houqin:houqin
make_dir "$OPT" 0755 root:root

step "Houqin in $OPT/venv"
if ((SKIP_VENV)); then
    echo "  would run: python3 -m venv $OPT/venv && $OPT/venv/bin/pip install $REPO"
else
    before=""
    if [[ -x $VENV/bin/python ]]; then
        before=$("$VENV/bin/python" -m pip show houqin 2>/dev/null | sed -n 's/^Version: //p' || true)
    else
        python3 -m venv "$VENV"
    fi
    # The agent's hardware libraries only on a Raspberry Pi; never the demo extra.
    target=$REPO
    if grep -qs "Raspberry Pi" /proc/device-tree/model; then
        target="${REPO}[pi]"
    fi
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q --upgrade --force-reinstall --no-deps "$target"
    "$VENV/bin/python" -m pip install -q "$target"
    after=$("$VENV/bin/python" -m pip show houqin | sed -n 's/^Version: //p')
    changed "houqin ${before:-(new)} -> $after (reinstalled from $REPO)"
fi

step "config in $ETC"
FRESH_CONFIG=0
if [[ -e $(R "$CONFIG") ]]; then
    echo "  $CONFIG: kept"
else
    install -m 0640 "$REPO/deploy/houqin.example.toml" "$(R "$CONFIG")"
    FRESH_CONFIG=1
    changed "$CONFIG (the example: edit it)"
fi
chmod 0640 "$(R "$CONFIG")"
sys chown root:houqin "$CONFIG"

step "the gate command key"
# Relay commands, the card list and the gateway's heartbeat are signed with it; the agent obeys nothing else.
# Readable by the services, writable by root only; never replaced (every agent would refuse the gateway).
GATE_KEY=$ETC/gate.key
if [[ -e $(R "$GATE_KEY") ]]; then
    echo "  $GATE_KEY: kept"
else
    "$HOUQIN" gate keygen --file "$(R "$GATE_KEY")" >/dev/null
    changed "$GATE_KEY (new: signs the gate's commands)"
fi
chmod 0640 "$(R "$GATE_KEY")"
sys chown root:houqin "$GATE_KEY"

step "the broker: users, ACL, TLS ($BROKER_DIR)"
setup_out=$("$HOUQIN" mqtt setup --config "$(R "$CONFIG")" --dir "$(R "$BROKER_DIR")" \
    --pid-file "$(R /run/mosquitto/mosquitto.pid)")
while IFS= read -r line; do echo "  $line"; done <<<"$setup_out"
broker_changed=$(sed -n 's/^.*: [0-9]* client(s); changed: //p' <<<"$setup_out")
[[ -z $broker_changed ]] || changed "$BROKER_DIR: $broker_changed"
sys chgrp mosquitto "$BROKER_DIR"
if ((FRESH_CONFIG)); then
    # The gateway's and the agent's logins go into the fresh config's [mqtt] url and agent_url, and the gate
    # command key into [gate] (the file is readable by root and houqin only).
    python3 - "$(R "$BROKER_DIR")/credentials.json" "$(R "$CONFIG")" "$GATE_KEY" <<'EOF'
import json, re, sys, urllib.parse
logins = json.load(open(sys.argv[1]))
text = open(sys.argv[2], encoding="utf-8").read()
def url(login):
    user, pw = (urllib.parse.quote(login[k], safe="") for k in ("username", "password"))
    return f"mqtt://{user}:{pw}@127.0.0.1:1883"
new = re.sub(r'^url = "mqtt://127\.0\.0\.1:1883"', f'url = "{url(logins["gateway"])}"', text, count=1, flags=re.M)
print("[mqtt] url: the gateway's login from credentials.json" if new != text else
      "[mqtt] url: not the example's; put the gateway's login from credentials.json into it")
agent = logins.get("agents", {}).get("local")
if agent:
    text, new = new, re.sub(r'^# agent_url = .*$', f'agent_url = "{url(agent)}"', new, count=1, flags=re.M)
    print("[mqtt] agent_url: the agent's login (agents.local)" if new != text else
          "[mqtt] agent_url: add the agent's login (agents.local in credentials.json)")
text, new = new, re.sub(r'^# command_key_file = .*$', f'command_key_file = "{sys.argv[3]}"', new, count=1,
                        flags=re.M)
print(f"[gate] command_key_file: {sys.argv[3]}" if new != text else
      f"[gate] command_key_file: set it to {sys.argv[3]}")
open(sys.argv[2], "w", encoding="utf-8").write(new)
EOF
fi
LINK=$(R /etc/mosquitto/conf.d/houqin.conf)
if [[ $(readlink "$LINK" 2>/dev/null || true) != "$BROKER_DIR/houqin.conf" ]]; then
    mkdir -p "$(dirname "$LINK")"
    ln -sfn "$BROKER_DIR/houqin.conf" "$LINK"
    changed "/etc/mosquitto/conf.d/houqin.conf -> $BROKER_DIR/houqin.conf"
fi

step "systemd units and a bounded journal"
UNITS_BEFORE=${#CHANGED[@]}
for unit in houqin.service houqin-sensors.service; do
    install_file "$REPO/deploy/systemd/$unit" "$(R "/etc/systemd/system/$unit")" 0644
done
UNITS_CHANGED=$((${#CHANGED[@]} - UNITS_BEFORE))
JOURNAL_BEFORE=${#CHANGED[@]}
install_file "$REPO/deploy/systemd/journald-houqin.conf" "$(R /etc/systemd/journald.conf.d/houqin.conf)" 0644
if ((${#CHANGED[@]} > JOURNAL_BEFORE)); then
    sys systemctl restart systemd-journald
fi
if ((UNITS_CHANGED)); then
    sys systemctl daemon-reload
fi
# Ordering after time-sync.target only waits for a synchronised clock when this service is enabled.
if ((STAGING)) || systemctl list-unit-files systemd-time-wait-sync.service >/dev/null 2>&1; then
    sys systemctl enable systemd-time-wait-sync.service
fi
sys systemctl enable mosquitto.service houqin.service houqin-sensors.service
# A restart picks up the new broker files, the new Houqin (its migrations run at start) and the units.
sys systemctl restart mosquitto.service
sys systemctl restart houqin.service houqin-sensors.service

step "doctor"
if ((STAGING)); then
    echo "  would run: houqin doctor --config $CONFIG"
else
    sleep 3  # the gateway connects to the broker
    "$HOUQIN" doctor --config "$CONFIG" || echo "  doctor found something to look at (above)"
fi

echo
if ((${#CHANGED[@]})); then
    echo "changed:"
    printf '  %s\n' "${CHANGED[@]}"
else
    echo "nothing changed: Houqin was installed and up to date"
fi
PORT=$(sed -n 's/^port *= *\([0-9]*\).*/\1/p' "$(R "$CONFIG")" | head -n 1)
ADDR=$(hostname -I 2>/dev/null | awk '{print $1}')
cat <<EOF

Dashboard: http://${ADDR:-$(hostname)}:${PORT:-8080}/
Next steps:
  1. edit $CONFIG (site, devices, rules), then: sudo $OPT/venv/bin/houqin check-config $CONFIG
     and: sudo $OPT/venv/bin/houqin mqtt setup --config $CONFIG --dir $BROKER_DIR
  2. the first admin: sudo -u houqin $OPT/venv/bin/houqin user add NAME --role admin
  3. wiring: docs/wiring.md; device logins: $BROKER_DIR/credentials.json (root only)
  4. sudo systemctl restart houqin houqin-sensors; sudo $OPT/venv/bin/houqin doctor
EOF
