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
# "10000 100000"), RECORDS (expiring records, default 1000000), DUE
# (of those, already expired and due for prune, default 1000), RUNS (timed
# requests per figure, default 20), SKIP_BUILD=1.
#
# For each size it starts the app on an empty state dir and creates two real
# accounts through the API: `scale-template` (no grants), copied for the
# filler accounts, and `scale-key` (granted `orders`), which authorizes.
# (It lists once first: the app then indexes its empty store, `ix/version`.)
# It stops the app and writes the SQLite table that Spin 4.0.2 and the test
# host share (`spin_key_value`) directly, in the layout the app itself
# writes, key for key (docs/store.md, "Indexes"):
# - ACCOUNTS accounts: `acct/<id>` (the template's record under a fresh id
#   and name), `name/<name>`, `claim/account/<name>` (a counter at 1), an
#   account-index slot `ix/acct/s/<n>` and `ix/acct/at/<id>`, the counter
#   `ix/acct/n` raised to match (counters are i64 little-endian, as both
#   stores' increment writes them);
# - RECORDS expiring records, 60% `vtok/` entries (the JSON of
#   `flowgate::verified::Entry`), 20% `jti/<client>/<hash>` replay marks and
#   20% `revoked/<jti>` markers (decimal expiry), each filed in its expiry
#   hour's bucket (`ix/exp/<hour>/n` and `/s/<n>`) as
#   `flowgate::store::expiry::schedule` files them: slots, no pages (pages
#   are written by readers). Expiries spread over the next 24 hours; DUE of
#   them expired two to three hours ago, in buckets the prune cursor
#   (`ix/exp/next`, moved back 3 hours) has not passed yet.
# Then it starts the app again and times: the first prune (deletes the DUE
# records: the cost of what is due), then the median of RUNS requests of
# each figure. Every response is checked (status, and for the first prune
# the deleted counts), so a layout the app did not read would fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ACCOUNTS=${ACCOUNTS:-"10000 100000"}
RECORDS=${RECORDS:-1000000}
DUE=${DUE:-1000}
RUNS=${RUNS:-20}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/scale.sh: %s\n' "$*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
command -v curl >/dev/null || die "curl is needed"

# shellcheck source=bench/build.sh
. "$ROOT/bench/build.sh"
build_for_bench authorizer management
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
    status=$?
    if [ "$status" != 0 ] && [ -f "$WORK/app.log" ]; then
        say "failed; the app's log ends:"; tail -20 "$WORK/app.log" >&2
    fi
    if [ -n "$APP_PID" ]; then kill "$APP_PID" 2>/dev/null || true; wait "$APP_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
ADMIN_TOKEN="adm-$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
PEPPER=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
# The bound form `flowgate signing-key` prints (bench/build.sh builds the CLI).
SIGNING_KEY=$("${FLOWGATE_CLI_BIN:-$ROOT/target/host/flowgate}" signing-key)

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

echo "| accounts | expiring records | first prune ($DUE due) | list (limit 50) | list (page in the middle) | audit (limit 50) | flow access | get | prune | authorize (API key) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $ACCOUNTS; do
    state="$WORK/state-$n"
    mkdir -p "$state"
    start_app "$state"
    api() {
        curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
            -d "$1" "http://127.0.0.1:$PORT/admin/v1/accounts"
    }
    # The first listing indexes the new store (sets `ix/version`, the audit
    # index's first day and the prune cursor), as on any store.
    curl -sf -o /dev/null -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/admin/v1/accounts"
    template=$(api '{"name":"scale-template","credential_type":"api_key"}')
    created=$(api '{"name":"scale-key","credential_type":"api_key","flows":["orders"]}')
    stop_app
    say "filling the store: $n accounts, $RECORDS expiring records ($DUE due)"
    db=$(find "$state" -name sqlite_key_value.db | head -1)
    [ -n "$db" ] || die "no sqlite_key_value.db under $state"
    middle=$(python3 - "$db" "$n" "$RECORDS" "$DUE" "$template" <<'EOF'
import base64, hashlib, json, random, sqlite3, struct, sys, time
db, n, records, due, template = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
conn = sqlite3.connect(db)
def get(key):
    row = conn.execute("SELECT value FROM spin_key_value WHERE store='default' AND key=?", (key,)).fetchone()
    return row[0] if row else None
def counter(value):
    return struct.pack("<q", value)
def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()
rows = []
def put(key, value):
    rows.append(("default", key, value if isinstance(value, bytes) else value.encode()))
    if len(rows) >= 100000:
        flush()
def flush():
    conn.executemany("INSERT OR REPLACE INTO spin_key_value VALUES (?,?,?)", rows)
    rows.clear()

record = json.loads(get("acct/" + template["id"]))
id_len = len(template["id"])
alphabet = "abcdefghijklmnopqrstuvwxyz234567"
def fresh_id(i):
    # Same length and alphabet as a generated id; unique per i (i in base
    # 32, most significant digit first, padded with the zero digit "a").
    digits, x = [], i + 1
    while x:
        digits.append(alphabet[x % 32]); x //= 32
    return ("a" * id_len + "".join(reversed(digits)))[-id_len:]
(slots,) = struct.unpack("<q", get("ix/acct/n"))
middle = None
for i in range(n):
    r = dict(record); r["id"] = fresh_id(i); r["name"] = f"scale-{i:07d}"
    slot = slots + 1 + i
    put("acct/" + r["id"], compact(r))
    put("name/" + r["name"], r["id"])
    put("claim/account/" + r["name"], counter(1))
    put(f"ix/acct/s/{slot}", r["id"])
    put("ix/acct/at/" + r["id"], str(slot))
    if i == n // 2:
        middle = r["id"]
put("ix/acct/n", counter(slots + n))

now = int(time.time())
rng = random.Random(16)
def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
buckets = {}
for i in range(records):
    exp = now - 7200 - rng.randrange(3600) if i < due else now + 60 + rng.randrange(86400)
    kind = i % 5
    if kind < 3:
        key = "vtok/" + b64(hashlib.sha256(b"vtok%d" % i).digest())
        value = compact({"sub": template["id"], "jti": b64(hashlib.sha256(b"jti%d" % i).digest()[:16]),
                         "iat": exp - 300, "exp": exp, "scope": "orders"})
    elif kind == 3:
        key = "jti/" + template["id"] + "/" + b64(hashlib.sha256(b"assertion%d" % i).digest())
        value = str(exp).encode()
    else:
        key = "revoked/" + b64(hashlib.sha256(b"revoked%d" % i).digest()[:16])
        value = str(exp).encode()
    put(key, value)
    buckets.setdefault(exp // 3600, []).append(key)
for bucket, keys in buckets.items():
    (drawn,) = struct.unpack("<q", get(f"ix/exp/{bucket}/n") or counter(0))
    for j, key in enumerate(keys):
        put(f"ix/exp/{bucket}/s/{drawn + 1 + j}", key)
    put(f"ix/exp/{bucket}/n", counter(drawn + len(keys)))
# A store whose prune last ran three hours ago.
put("ix/exp/next", str(now // 3600 - 3))
flush()
conn.commit()
print(middle)
EOF
)
    start_app "$state"
    python3 - "$PORT" "$ADMIN_TOKEN" "$n" "$RECORDS" "$DUE" "$RUNS" "$created" "$middle" <<'EOF'
import json, statistics, sys, time, urllib.request
port, token, n, records, due, runs, created, middle = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), json.loads(sys.argv[7]), sys.argv[8]
base = f"http://127.0.0.1:{port}"
def call(method, path, headers):
    req = urllib.request.Request(base + path, method=method, headers=headers, data=b"" if method == "POST" else None)
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        body = r.read()
        status = r.status
    return (time.perf_counter() - t) * 1000, status, body
admin = {"Authorization": "Bearer " + token}
first, status, body = call("POST", "/admin/v1/maintenance/prune", admin)
assert status == 200, status
pruned = json.loads(body)
assert sum(pruned["deleted"].values()) == due, pruned
_, _, body = call("GET", "/admin/v1/accounts?limit=50", admin)
page = json.loads(body)
assert [a["name"] for a in page["items"][:2]] == ["scale-template", "scale-key"], page["items"][:2]
assert len(page["items"]) == 50 and page["next"], len(page["items"])
_, _, body = call("GET", f"/admin/v1/accounts?limit=50&after={middle}", admin)
assert json.loads(body)["items"][0]["name"] == f"scale-{n // 2 + 1:07d}"
def median(method, path, headers):
    times = []
    for _ in range(runs):
        ms, status, _ = call(method, path, headers)
        assert status == 200, (path, status)
        times.append(ms)
    return statistics.median(times)
figures = [
    median("GET", "/admin/v1/accounts?limit=50", admin),
    median("GET", f"/admin/v1/accounts?limit=50&after={middle}", admin),
    median("GET", "/admin/v1/audit?limit=50", admin),
    median("GET", "/admin/v1/flows/orders/access", admin),
    median("GET", "/admin/v1/accounts/" + created["id"], admin),
    median("POST", "/admin/v1/maintenance/prune", admin),
    # Forward-auth, as bench/load.sh's api_key scenario: the full check, no upstream.
    median("GET", "/authorize", {"X-API-Key": created["secret"], "X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/flows/orders/1"}),
]
print(f"| {n:,} | {records:,} | {first:.0f} ms | " + " | ".join(f"{f:.1f} ms" for f in figures) + " |", flush=True)
EOF
    stop_app
    if [ -n "${KEEP:-}" ]; then cp -r "$state" "$KEEP"; fi
    rm -rf "$state"
done
echo
echo "Runtime: $RUNTIME_NAME; medians of $RUNS requests; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)."
