#!/usr/bin/env bash
# Load benchmark of flowgate against the floor Spin sets (a hello-world
# component built with the same SDK and profile), measured alternately in one
# run at a fixed concurrency with wrk. A benchmark, not a test: it is not part
# of scripts/test or CI. Results and how to read them: docs/benchmarks.md.
#
#   bench/load.sh                          # on the project's test host
#   FLOWGATE_SPIN=$(command -v spin) bench/load.sh   # on real Spin
#
# Knobs (environment): DURATION (seconds per wrk run, default 8), THREADS (2),
# CONNECTIONS (16), ROUNDS (1: each scenario is run ROUNDS times, each time
# right after a floor run), SKIP_BUILD=1 (use the built artifacts as they
# are), SCENARIOS (space-separated subset of the names below).
#
# Every scenario is paired with a floor run just before it, and its ratio is
# to that floor run: on a shared machine the load of other processes changes
# from minute to minute, so only figures from the same minute are compared.
# Total time: about 2 x DURATION x scenarios x ROUNDS, plus builds (about
# 3 minutes with the defaults once built).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DURATION=${DURATION:-8}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-1}
ALL_SCENARIOS="authorizer_404 api_key basic bearer_access_token denied_401 proxy_api_key upstream_direct token_endpoint"
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/load.sh: %s\n' "$*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing wrk from Debian"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        die "wrk is missing; install it (Debian: apt-get install wrk) or run as root"
    fi
fi
command -v python3 >/dev/null || die "python3 is needed for small helpers (JSON, key forging)"
command -v curl >/dev/null || die "curl is needed"

# --- build -------------------------------------------------------------------
if [ "${SKIP_BUILD:-}" != 1 ]; then
    say "building the components (wasm32-wasip2, release)"
    cargo build -q --target wasm32-wasip2 --release -p authorizer -p management -p hello
    if [ -z "${FLOWGATE_SPIN:-}" ]; then
        say "building the test host (profile host)"
        cargo build -q --profile host -p flowgate-host
    fi
fi
HOST_BIN=${FLOWGATE_HOST_BIN:-$ROOT/target/host/flowgate-host}
if [ -n "${FLOWGATE_SPIN:-}" ]; then
    RUNTIME=$FLOWGATE_SPIN
    RUNTIME_NAME="Spin ($("$FLOWGATE_SPIN" --version 2>/dev/null | head -1))"
else
    RUNTIME=$HOST_BIN
    RUNTIME_NAME="test host (target/host/flowgate-host)"
fi
[ -x "$RUNTIME" ] || die "$RUNTIME is missing or not executable"

# --- processes ---------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-load.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
    local port=$1 what=$2
    for _ in $(seq 1 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    die "$what did not come up on port $port (logs in $WORK)"
}

APP_PORT=$(free_port)
HELLO_PORT=$(free_port)
UPSTREAM_PORT=$(free_port)

# The upstream of proxy mode: a static nginx answer when nginx is installed
# (scripts/install-test-tools installs it), otherwise the hello app itself.
if command -v nginx >/dev/null; then
    mkdir -p "$WORK/nginx/logs"
    cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$UPSTREAM_PORT;
        location / { default_type text/plain; return 200 "upstream ok\n"; }
    }
}
EOF
    nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx.log" 2>&1 &
    PIDS+=($!)
    UPSTREAM_NAME="nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), static 200"
else
    UPSTREAM_PORT=$HELLO_PORT
    UPSTREAM_NAME="the hello app (no nginx installed)"
fi

ADMIN_TOKEN="adm-$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
PEPPER=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
SIGNING_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

say "starting flowgate ($RUNTIME_NAME) on 127.0.0.1:$APP_PORT"
mkdir -p "$WORK/state-app" "$WORK/state-hello"
SPIN_VARIABLE_ADMIN_TOKEN=$ADMIN_TOKEN \
SPIN_VARIABLE_HMAC_PEPPER=$PEPPER \
SPIN_VARIABLE_SIGNING_KEY=$SIGNING_KEY \
SPIN_VARIABLE_ISSUER="http://127.0.0.1:$APP_PORT" \
SPIN_VARIABLE_ORDERS_UPSTREAM="http://127.0.0.1:$UPSTREAM_PORT" \
SPIN_VARIABLE_REPORTS_UPSTREAM="http://127.0.0.1:$UPSTREAM_PORT" \
    "$RUNTIME" up --from "$ROOT/spin.toml" --listen "127.0.0.1:$APP_PORT" \
    --state-dir "$WORK/state-app" >"$WORK/app.log" 2>&1 </dev/null &
PIDS+=($!)
say "starting the floor (bench/hello.spin.toml) on 127.0.0.1:$HELLO_PORT"
"$RUNTIME" up --from "$ROOT/bench/hello.spin.toml" --listen "127.0.0.1:$HELLO_PORT" \
    --state-dir "$WORK/state-hello" >"$WORK/hello.log" 2>&1 </dev/null &
PIDS+=($!)
wait_port "$APP_PORT" flowgate
wait_port "$HELLO_PORT" "the hello app"
wait_port "$UPSTREAM_PORT" "the upstream"

# --- accounts and credentials -------------------------------------------------
APP="http://127.0.0.1:$APP_PORT"
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
create() {
    curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
        -d "$1" "$APP/admin/v1/accounts"
}
say "creating accounts through the management API"
KEY_JSON=$(create '{"name":"load-key","credential_type":"api_key","flows":["orders"]}')
API_KEY=$(json_field secret <<<"$KEY_JSON")
KEY_ID=$(json_field id <<<"$KEY_JSON")
PASSWORD=$(create '{"name":"load-basic","credential_type":"basic","flows":["orders"]}' | json_field secret)
BASIC="Basic $(printf 'load-basic:%s' "$PASSWORD" | base64 -w0)"
CLIENT_JSON=$(create '{"name":"load-client","credential_type":"client_secret","flows":["orders"]}')
CLIENT_ID=$(json_field client_id <<<"$CLIENT_JSON")
CLIENT_SECRET=$(json_field secret <<<"$CLIENT_JSON")
CLIENT_BASIC="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"
ACCESS_TOKEN=$(curl -sf -H "Authorization: $CLIENT_BASIC" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -d grant_type=client_credentials "$APP/oauth2/token" | json_field access_token)
# A well-formed key of the real account that was never issued (right prefix,
# id and checksum): the denied request pays the store read and the digest
# comparison, the most a refusal can cost.
WRONG_KEY=$(python3 - "$KEY_ID" <<'EOF'
import base64, hashlib, secrets, sys
b32 = lambda b: base64.b32encode(b).decode().lower().rstrip("=")
signed = f"fgak_{sys.argv[1]}_{b32(secrets.token_bytes(20))}"
print(signed + b32(hashlib.sha256(signed.encode()).digest()[:5])[:8])
EOF
)

cat >"$WORK/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "$CLIENT_BASIC"
EOF

# --- scenarios ----------------------------------------------------------------
# authorizer_404: a path outside every flow, answered 404 before any
# credential, variable or store access: the authorizer's own floor (its
# instantiation and request handling), to tell instantiation from work.
# name -> expected status, URL, wrk arguments (headers, script).
FWD=(-H "X-Forwarded-Method: GET" -H "X-Forwarded-Uri: /flows/orders/1")
scenario() {
    case $1 in
    floor) echo 200; echo "http://127.0.0.1:$HELLO_PORT/" ;;
    authorizer_404) echo 404; echo "$APP/no-flow-here" ;;
    api_key) echo 200; echo "$APP/authorize" ;;
    basic) echo 200; echo "$APP/authorize" ;;
    bearer_access_token) echo 200; echo "$APP/authorize" ;;
    denied_401) echo 401; echo "$APP/authorize" ;;
    proxy_api_key) echo 200; echo "$APP/flows/orders/1" ;;
    upstream_direct) echo 200; echo "http://127.0.0.1:$UPSTREAM_PORT/flows/orders/1" ;;
    token_endpoint) echo 200; echo "$APP/oauth2/token" ;;
    *) die "unknown scenario $1" ;;
    esac
}
scenario_args() {
    case $1 in
    floor | upstream_direct | authorizer_404) ;;
    api_key) printf '%s\0' "${FWD[@]}" -H "X-API-Key: $API_KEY" ;;
    basic) printf '%s\0' "${FWD[@]}" -H "Authorization: $BASIC" ;;
    bearer_access_token) printf '%s\0' "${FWD[@]}" -H "Authorization: Bearer $ACCESS_TOKEN" ;;
    denied_401) printf '%s\0' "${FWD[@]}" -H "X-API-Key: $WRONG_KEY" ;;
    proxy_api_key) printf '%s\0' -H "X-API-Key: $API_KEY" ;;
    token_endpoint) printf '%s\0' -s "$WORK/token.lua" ;;
    esac
}

# Checks one request of each scenario before measuring: a benchmark of the
# wrong answer is worthless.
say "checking each scenario once"
for name in floor $SCENARIOS; do
    { read -r expected; read -r url; } < <(scenario "$name")
    mapfile -d '' args < <(scenario_args "$name")
    curl_args=()
    for ((i = 0; i < ${#args[@]}; i += 2)); do
        case ${args[i]} in
        -H) curl_args+=(-H "${args[i + 1]}") ;;
        -s) curl_args+=(-X POST -H "Authorization: $CLIENT_BASIC"
            -H 'Content-Type: application/x-www-form-urlencoded' -d grant_type=client_credentials) ;;
        esac
    done
    got=$(curl -s -o /dev/null -w '%{http_code}' "${curl_args[@]}" "$url")
    [ "$got" = "$expected" ] || die "$name: expected $expected, got $got ($url); logs in $WORK"
done

# Runs wrk once; prints "rps p50_ms p99_ms requests non2xx".
measure() {
    local name=$1
    { read -r _; read -r url; } < <(scenario "$name")
    mapfile -d '' args < <(scenario_args "$name")
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency \
        "${args[@]}" "$url" 2>&1) || die "wrk failed for $name: $out"
    printf '%s\n' "$out" >>"$WORK/wrk-raw.log"
    python3 - "$out" <<'EOF'
import re, sys
out = sys.argv[1]
def ms(v):
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
total = int(re.search(r"(\d+) requests in", out).group(1))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
errors = re.search(r"Socket errors: (.*)", out)
print(rps, p50, p99, total, int(m.group(1)) if m else 0, "errors" if errors else "-")
EOF
}

say "measuring: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, each scenario right after a floor run"
RESULTS="$WORK/results.txt"
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
    for name in $SCENARIOS; do
        read -r f_rps f_p50 f_p99 _ _ _ < <(measure floor)
        read -r rps p50 p99 total non2xx errs < <(measure "$name")
        { read -r expected; read -r _; } < <(scenario "$name")
        if [ "$expected" = 200 ] && [ "$non2xx" != 0 ]; then
            say "WARNING: $name: $non2xx of $total answers were not 2xx"
        elif [ "$expected" != 200 ] && [ "$non2xx" != "$total" ]; then
            say "WARNING: $name: only $non2xx of $total answers were refusals"
        fi
        [ "$errs" = "-" ] || say "WARNING: $name: wrk reported socket errors (see raw log)"
        echo "$round $name $rps $p50 $p99 $f_rps $f_p50 $f_p99" >>"$RESULTS"
        printf '  round %s %-20s %9.0f req/s (floor %9.0f)\n' "$round" "$name" "$rps" "$f_rps" >&2
    done
done

# --- report -------------------------------------------------------------------
python3 - "$RESULTS" "$RUNTIME_NAME" "$UPSTREAM_NAME" "$THREADS" "$CONNECTIONS" "$DURATION" <<'EOF'
import sys
from collections import defaultdict
path, runtime, upstream, threads, conns, duration = sys.argv[1:]
rows = defaultdict(list)
order = []
for line in open(path):
    _, name, *v = line.split()
    if name not in rows:
        order.append(name)
    rows[name].append([float(x) for x in v])
avg = lambda xs: sum(xs) / len(xs)
print(f"\nflowgate load benchmark on {runtime}; upstream: {upstream}")
print(f"wrk -t{threads} -c{conns} -d{duration}s --latency; each row is paired with a floor run just before it")
print("ratios: throughput = rps / floor rps (higher is better); latency = p / floor p (lower is better)\n")
print("| scenario | req/s | p50 ms | p99 ms | floor req/s | floor p50 ms | floor p99 ms | req/s ratio | p50 ratio | p99 ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in order:
    r = rows[name]
    rps, p50, p99, frps, fp50, fp99 = (avg([x[i] for x in r]) for i in range(6))
    ratio = avg([x[0] / x[3] for x in r])
    label = name + (" (tokens/s)" if name == "token_endpoint" else "")
    print(f"| {label} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {frps:.0f} | {fp50:.2f} | {fp99:.2f} "
          f"| {ratio:.2f} | {avg([x[1] / x[4] for x in r]):.2f} | {avg([x[2] / x[5] for x in r]):.2f} |")
if "proxy_api_key" in rows and "upstream_direct" in rows:
    p = avg([x[0] for x in rows["proxy_api_key"]])
    d = avg([x[0] for x in rows["upstream_direct"]])
    print(f"\nproxy mode / upstream direct throughput: {p / d:.3f}")
EOF
