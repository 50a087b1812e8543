#!/usr/bin/env bash
# Scale benchmark of management (issue 16, target 5): does listing,
# getting, pruning and authorizing cost the same with few or many accounts
# and with many expiring traffic records? A benchmark, not a test: not part
# of scripts/test or CI. Results: docs/benchmarks.md ("Scale").
#
#   bench/scale.sh                                  # test host
#   FLOWGATE_SPIN=$(command -v spin) bench/scale.sh # real Spin
#
# Knobs (environment): ACCOUNTS (space-separated sizes, default
# "10000 100000"), RECORDS (expiring `vtok/` records, default 1000000),
# RUNS (timed requests per figure, default 20), SKIP_BUILD=1.
#
# For each size it starts the app on an empty state dir, creates one real
# account through the API (the one that authorizes), stops the app, fills the
# SQLite store directly (the table both Spin and the test host use) with
# ACCOUNTS copies of that account's record under fresh ids and RECORDS
# verified-token records expiring in a day, in the layout written before the
# indexes existed, and starts the app again. The first listing migrates the
# store and the first prune examines the migration's backlog (each timed,
# once); then each figure is the median of RUNS requests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ACCOUNTS=${ACCOUNTS:-"10000 100000"}
RECORDS=${RECORDS:-1000000}
RUNS=${RUNS:-20}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/scale.sh: %s\n' "$*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
command -v curl >/dev/null || die "curl is needed"

if [ "${SKIP_BUILD:-}" != 1 ]; then
    say "building the components (wasm32-wasip2, release)"
    cargo build -q --target wasm32-wasip2 --release -p authorizer -p management
    if [ -z "${FLOWGATE_SPIN:-}" ]; then
        say "building the test host (profile host)"
        cargo build -q --profile host -p flowgate-host
    fi
fi
if [ -n "${FLOWGATE_SPIN:-}" ]; then
    RUNTIME=$FLOWGATE_SPIN
    RUNTIME_NAME="Spin ($("$FLOWGATE_SPIN" --version 2>/dev/null | head -1))"
else
    RUNTIME=${FLOWGATE_HOST_BIN:-$ROOT/target/host/flowgate-host}
    RUNTIME_NAME="test host"
fi
[ -x "$RUNTIME" ] || die "$RUNTIME is missing or not executable"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-scale.XXXXXX")
APP_PID=
cleanup() {
    if [ -n "$APP_PID" ]; then kill "$APP_PID" 2>/dev/null || true; wait "$APP_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
ADMIN_TOKEN="adm-$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
PEPPER=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
SIGNING_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

start_app() {
    SPIN_VARIABLE_ADMIN_TOKEN=$ADMIN_TOKEN \
    SPIN_VARIABLE_HMAC_PEPPER=$PEPPER \
    SPIN_VARIABLE_SIGNING_KEY=$SIGNING_KEY \
    SPIN_VARIABLE_ISSUER="http://127.0.0.1:$PORT" \
    SPIN_VARIABLE_ORDERS_UPSTREAM="http://127.0.0.1:9" \
    SPIN_VARIABLE_REPORTS_UPSTREAM="http://127.0.0.1:9" \
        "$RUNTIME" up --from "$ROOT/spin.toml" --listen "127.0.0.1:$PORT" \
        --state-dir "$1" >>"$WORK/app.log" 2>&1 </dev/null &
    APP_PID=$!
    for _ in $(seq 1 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    die "the app did not come up (log: $WORK/app.log)"
}
stop_app() {
    kill "$APP_PID" 2>/dev/null || true
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=
}

echo "| accounts | expiring records | first listing (migration) | first prune (backlog) | list (limit 50) | get | prune | authorize (API key) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $ACCOUNTS; do
    state="$WORK/state-$n"
    mkdir -p "$state"
    start_app "$state"
    created=$(curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
        -d '{"name":"scale-key","credential_type":"api_key","flows":["orders"]}' \
        "http://127.0.0.1:$PORT/admin/v1/accounts")
    stop_app
    say "filling the store: $n accounts, $RECORDS expiring records"
    db=$(find "$state" -name sqlite_key_value.db | head -1)
    [ -n "$db" ] || die "no sqlite_key_value.db under $state"
    python3 - "$db" "$n" "$RECORDS" "$created" <<'EOF'
import json, os, sqlite3, sys, time
db, n, records, created = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
conn = sqlite3.connect(db)
(template,) = conn.execute(
    "SELECT value FROM spin_key_value WHERE store='default' AND key=?",
    ("acct/" + created["id"],)).fetchone()
record = json.loads(template)
alphabet = "abcdefghijklmnopqrstuvwxyz234567"
def fresh_id(i):
    # Same length and alphabet as a generated id; unique per i.
    digits, x = [], i + 1
    while x:
        digits.append(alphabet[x % 32]); x //= 32
    return ("a" * len(created["id"]) + "".join(digits))[-len(created["id"]):]
now = int(time.time())
rows = []
for i in range(n):
    r = dict(record); r["id"] = fresh_id(i); r["name"] = f"scale-{i:07d}"
    r.pop("_rev", None)
    rows.append(("default", "acct/" + r["id"], json.dumps(r).encode()))
    rows.append(("default", "name/" + r["name"], r["id"].encode()))
conn.executemany("INSERT OR REPLACE INTO spin_key_value VALUES (?,?,?)", rows)
batch = []
for i in range(records):
    entry = {"sub": created["id"], "jti": f"j{i}", "iat": now, "exp": now + 86400, "scope": "orders", "revoked": False}
    batch.append(("default", f"vtok/scale{i:08d}", json.dumps(entry).encode()))
    if len(batch) == 100000:
        conn.executemany("INSERT OR REPLACE INTO spin_key_value VALUES (?,?,?)", batch); batch = []
conn.executemany("INSERT OR REPLACE INTO spin_key_value VALUES (?,?,?)", batch)
conn.commit()
EOF
    start_app "$state"
    python3 - "$PORT" "$ADMIN_TOKEN" "$n" "$RECORDS" "$RUNS" "$created" <<'EOF'
import json, statistics, sys, time, urllib.request
port, token, n, records, runs, created = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
base = f"http://127.0.0.1:{port}"
def call(method, path, headers):
    req = urllib.request.Request(base + path, method=method, headers=headers, data=b"" if method == "POST" else None)
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        r.read()
        status = r.status
    return (time.perf_counter() - t) * 1000, status
admin = {"Authorization": "Bearer " + token}
first, status = call("GET", "/admin/v1/accounts?limit=50", admin)
assert status == 200, status
backlog, status = call("POST", "/admin/v1/maintenance/prune", admin)
assert status == 200, status
def median(method, path, headers):
    times = []
    for _ in range(runs):
        ms, status = call(method, path, headers)
        assert status == 200, (path, status)
        times.append(ms)
    return statistics.median(times)
figures = [
    median("GET", "/admin/v1/accounts?limit=50", admin),
    median("GET", "/admin/v1/accounts/" + created["id"], admin),
    median("POST", "/admin/v1/maintenance/prune", admin),
    # Forward-auth, as bench/load.sh's api_key scenario: the full check, no upstream.
    median("GET", "/authorize", {"X-API-Key": created["secret"], "X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/flows/orders/1"}),
]
print(f"| {n:,} | {records:,} | {first:.0f} ms | {backlog:.0f} ms | " + " | ".join(f"{f:.1f} ms" for f in figures) + " |")
EOF
    stop_app
    rm -rf "$state"
done
echo
echo "Runtime: $RUNTIME_NAME; medians of $RUNS requests; $(nproc) cores; $(date -u +%Y-%m-%d)."
